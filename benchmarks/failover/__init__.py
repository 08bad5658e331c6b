"""Client-observed write outage and lost writes across switchover, failover and a bare floor."""
