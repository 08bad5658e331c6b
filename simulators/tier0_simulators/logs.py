"""Access-log simulator: realistic combined-format traffic with error bursts.

Clients follow a Zipf-like popularity (a few busy IPs, a long tail); requests hit the Tier-0
API's paths with per-path latency (log-normal); most answers are 2xx/3xx. Now and then a burst
starts: a scanner probing for well-known files (404s), a credential-stuffing client (401s), or a
backend outage during which most requests fail with 502/503 and take longer.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from tier0.common.schemas.accesslog import AccessLogEntry, format_combined

SITES = ("WY-ALPHA", "TX-EAGLE", "ND-RAVEN", "CA-DELTA", "OK-BRAVO")
TYPES = ("turbine", "thermal_engine", "electrical_rotor", "oil_gas")
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "python-httpx/0.28.1",
    "Prometheus/3.1.0",
    "kube-probe/1.34",
    "curl/8.11.1",
)
SCANNER_PATHS = ("/.env", "/wp-login.php", "/admin", "/phpmyadmin/", "/.git/config", "/cgi-bin/")
# (weight, method, path template, typical latency ms)
ROUTES = (
    (30, "GET", "/api/devices?site={site}&type={type}", 12.0),
    (15, "GET", "/api/devices/{device}/telemetry", 25.0),
    (10, "GET", "/api/sites", 40.0),
    (8, "GET", "/api/users", 18.0),
    (5, "GET", "/api/logs/summary", 90.0),
    (12, "GET", "/health", 2.0),
    (12, "GET", "/metrics", 4.0),
    (4, "GET", "/docs", 3.0),
    (4, "GET", "/static/app.js", 1.5),
)


@dataclass
class Burst:
    kind: str  # "scanner" | "stuffing" | "outage"
    ip: str
    remaining: int


class TrafficGenerator:
    """Deterministic for a seed: entries with increasing timestamps at about ``rps``."""

    def __init__(
        self, *, seed: int | None = None, rps: float = 50.0, start: datetime | None = None
    ):
        self._rng = random.Random(seed)
        self.rps = rps
        self.now = start or datetime.now(UTC) - timedelta(hours=1)
        self._clients = [self._random_ip() for _ in range(400)]
        self._weights = [1.0 / (rank + 1) for rank in range(len(self._clients))]
        self._burst: Burst | None = None

    def _random_ip(self) -> str:
        rng = self._rng
        prefix = rng.choice(("10.20", "10.44", "172.16", "192.168", "203.0", "198.51"))
        return f"{prefix}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def _maybe_start_burst(self) -> None:
        if self._burst is None and self._rng.random() < 0.002:
            kind = self._rng.choice(("scanner", "stuffing", "outage"))
            self._burst = Burst(kind, self._random_ip(), self._rng.randint(40, 200))

    def _normal(self, ip: str) -> tuple[str, str, int, float]:
        rng = self._rng
        _, method, template, typical = rng.choices(ROUTES, [r[0] for r in ROUTES])[0]
        path = template.format(
            site=rng.choice(SITES),
            type=rng.choice(TYPES),
            device=f"dev-{rng.randint(0, 99999):05d}",
        )
        if rng.random() < 0.03:
            return "POST", "/api/devices", rng.choice((201, 201, 201, 409, 422, 401)), 30.0
        status = rng.choices((200, 304, 400, 404, 500), (90, 5, 2, 2.5, 0.5))[0]
        return method, path, status, typical

    def next_entry(self) -> AccessLogEntry:
        rng = self._rng
        self.now += timedelta(seconds=rng.expovariate(self.rps))
        self._maybe_start_burst()
        ip = rng.choices(self._clients, self._weights)[0]
        method, path, status, typical = self._normal(ip)
        burst = self._burst
        if burst is not None:
            if burst.kind == "scanner" and rng.random() < 0.7:
                ip, method, path, status, typical = (
                    burst.ip,
                    "GET",
                    rng.choice(SCANNER_PATHS),
                    404,
                    1.0,
                )
            elif burst.kind == "stuffing" and rng.random() < 0.6:
                ip, method, path, status, typical = burst.ip, "POST", "/api/devices", 401, 2.0
            elif burst.kind == "outage" and rng.random() < 0.8:
                status, typical = rng.choice((502, 503, 503, 504)), typical * 20
            burst.remaining -= 1
            if burst.remaining <= 0:
                self._burst = None
        latency = typical * rng.lognormvariate(0, 0.6)
        size = 0 if status in (304, 204) else int(rng.lognormvariate(7, 1))
        return AccessLogEntry(
            ip=ip, ts=self.now, method=method, path=path, protocol="HTTP/1.1", status=status,
            bytes=size, referrer=None if rng.random() < 0.7 else "http://localhost:8000/",
            user_agent=rng.choice(AGENTS), latency_ms=round(latency, 3),
        )  # fmt: skip

    def lines(self, count: int, *, broken: float = 0.0) -> Iterator[str]:
        """``count`` lines; a ``broken`` share of them cut short (as a torn write would)."""
        for _ in range(count):
            line = format_combined(self.next_entry())
            if broken and self._rng.random() < broken:
                line = line[: self._rng.randint(5, len(line) // 2)]
            yield line


def write_log(
    *, lines: int, output: Path | None, seed: int | None = None, rps: float = 50.0,
    broken: float = 0.0, out: TextIO | None = None,
) -> int:  # fmt: skip
    """Write ``lines`` lines to ``output`` (gzip when it ends in .gz) or to ``out``."""
    generator = TrafficGenerator(seed=seed, rps=rps)
    if output is None:
        assert out is not None
        for line in generator.lines(lines, broken=broken):
            out.write(line + "\n")
        return lines
    opener = gzip.open if output.suffix == ".gz" else open
    with opener(output, "wt", encoding="utf-8") as stream:
        for line in generator.lines(lines, broken=broken):
            stream.write(line + "\n")
    return lines
