"""Tier0Region operator: the kopf controller and its failover engine."""
