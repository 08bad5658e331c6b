"""ASGI middleware: one Apache combined-format line per request, plus request metrics.

The line ends with the latency in microseconds (Apache's ``%D``), the format ``tier0 logs
load`` reads, so the API's own traffic can be loaded into ``system_logs``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TextIO

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tier0.common.schemas.accesslog import AccessLogEntry, format_combined

REQUESTS = Counter(
    "tier0_api_requests_total", "API requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "tier0_api_request_seconds",
    "API request latency by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, stream: TextIO | None) -> None:
        self.app = app
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        when = datetime.now(UTC)
        status, size = 500, 0

        async def capture(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(route).observe(elapsed)
            if self.stream is not None:
                self._write(scope, when, status, size, elapsed)

    def _write(self, scope: Scope, when: datetime, status: int, size: int, elapsed: float) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        client = scope.get("client")
        entry = AccessLogEntry(
            ip=client[0] if client else "0.0.0.0",
            ts=when,
            method=scope["method"],
            path=f"{path}?{query}" if query else path,
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            status=status,
            bytes=size,
            referrer=headers.get("referer"),
            user_agent=headers.get("user-agent"),
            latency_ms=elapsed * 1000,
        )
        assert self.stream is not None
        self.stream.write(format_combined(entry) + "\n")
        self.stream.flush()
