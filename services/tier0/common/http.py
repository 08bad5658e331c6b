"""A small HTTP endpoint for workers: ``GET /health`` and ``GET /metrics`` (Prometheus).

Consumers are not web services, so a full framework would be dead weight; this serves the two
paths Kubernetes probes and Prometheus scrape, on asyncio, next to the worker's own tasks::

    heartbeat = Heartbeat(ttl_seconds=30)
    async with OpsServer(health=heartbeat.status, port=9108) as server:
        ...  # call heartbeat.beat() whenever the worker makes progress

``health`` is any callable returning a ``HealthStatus``; 200 when healthy, 503 otherwise, with
its details as JSON either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request

import tier0.common.metrics  # noqa: F401  (registers tier0_uptime_seconds)
from tier0.common.logging import get_logger

log = get_logger(__name__)

HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"
REQUEST_TIMEOUT_SECONDS = 5.0
MAX_REQUEST_LINE = 8192


@dataclass(frozen=True)
class HealthStatus:
    healthy: bool
    details: dict[str, object] = field(default_factory=dict)


class HealthCheck(Protocol):
    def __call__(self) -> HealthStatus: ...


class Heartbeat:
    """A health signal with a TTL: healthy while ``beat()`` was called within ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._last = time.monotonic()
        self._reason = "starting"

    def beat(self) -> None:
        self._last = time.monotonic()
        self._reason = ""

    def fail(self, reason: str) -> None:
        """Report unhealthy now (for example: the broker connection is down)."""
        self._reason = reason

    def status(self) -> HealthStatus:
        age = time.monotonic() - self._last
        healthy = age <= self.ttl_seconds and not self._reason
        details: dict[str, object] = {"last_beat_seconds_ago": round(age, 3)}
        if self._reason:
            details["reason"] = self._reason
        return HealthStatus(healthy, details)


class OpsServer:
    """``/health`` and ``/metrics`` on ``host:port`` (port 0 picks a free one; see ``.port``)."""

    def __init__(
        self,
        *,
        health: HealthCheck,
        host: str = "0.0.0.0",
        port: int = 0,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._health = health
        self._host = host
        self._port = port
        self._registry = registry
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("OpsServer is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        log.info("ops endpoint listening", host=self._host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> OpsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                request_line = await reader.readuntil(b"\r\n")
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # headers are not needed
            status, content_type, body = self._respond(request_line[:MAX_REQUEST_LINE])
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a client that went away or sent garbage; nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _respond(self, request_line: bytes) -> tuple[str, str, bytes]:
        parts = request_line.decode("latin-1").split()
        if len(parts) < 2 or parts[0] not in {"GET", "HEAD"}:
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        path = parts[1].split("?", 1)[0]
        if path == METRICS_PATH:
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        if path == HEALTH_PATH:
            status = self._health()
            body = json.dumps({"healthy": status.healthy, **status.details}).encode()
            code = "200 OK" if status.healthy else "503 Service Unavailable"
            return code, "application/json", body
        return "404 Not Found", "text/plain", b"not found\n"


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it (or the length it declares) exceeds ``limit`` bytes;
    read in parts, so an oversized body is never held whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            return None
    return bytes(body)
