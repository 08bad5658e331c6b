"""The failover engine: plain async functions, no kopf; each step is small and idempotent."""
