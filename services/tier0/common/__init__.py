"""Code every Tier-0 service shares: settings, logging, storage clients, metrics and health."""
