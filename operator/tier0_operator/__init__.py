"""The Tier0Region operator: a kopf controller (``handlers``) around a kopf-free failover engine."""
