"""Code every Tier-0 service shares: settings, logging, storage clients, metrics and health,
and the message schemas (``tier0.common.schemas``) that producers and consumers agree on."""
