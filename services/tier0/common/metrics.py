"""Metrics every Tier-0 process exports from the default registry.

``tier0_uptime_seconds`` is computed at scrape time. Importing this module registers it, so
each component's metrics server imports it (the API, the consumers, the operator).
"""

from __future__ import annotations

import time

from prometheus_client import Gauge

STARTED = time.monotonic()

UPTIME = Gauge("tier0_uptime_seconds", "Seconds since this process started serving")
# Computed when scraped, so nothing has to tick it.
UPTIME.set_function(lambda: time.monotonic() - STARTED)
