"""The instance manager's HTTP API: the NodeAgent operations, each returning the node's state.

Every route but ``/healthz``, ``/ready`` and ``/metrics`` needs ``Authorization: Bearer <token>``
(the token from the credentials Secret). Bodies and answers are JSON.

    GET  /healthz                         200 while the manager runs (liveness; no auth)
    GET  /ready                           200 while PostgreSQL answers queries, else 503
                                          (readiness; no auth)
    GET  /metrics                         Prometheus metrics (no auth)
    GET  /status                          the node's state
    POST /fence                           stop PostgreSQL (fast) and stay down
    POST /rewind  {"host", "port"}        pg_rewind onto that server (409 unless fenced)
    POST /clone   {"host", "port"}        fresh pg_basebackup of it (409 unless fenced)
    POST /follow  {"host", "port", "slot"} standby configuration (409 unless fenced)
    POST /start                           start; as a primary only if allowed (else 409)

A failed command answers 500 with ``{"error": ...}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tier0_operator.instance import metrics
from tier0_operator.instance.manager import InstanceManager, Refused
from tier0_operator.instance.postgres import CommandFailed, Source

Handler = Callable[[Request], Awaitable[dict[str, Any]]]


def guarded(token: str, handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
    """``handler`` behind the bearer token; its errors as 409 (refused) or 500 (failed)."""

    async def endpoint(request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        try:
            return JSONResponse(await handler(request))
        except Refused as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except (CommandFailed, OSError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=500)

    return endpoint


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def prometheus(_: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def _source(request: Request) -> Source:
    body = await request.json()
    return Source(str(body["host"]), int(body["port"]))


def build_app(manager: InstanceManager, token: str) -> Starlette:
    async def status(_: Request) -> dict[str, Any]:
        return await manager.status()

    async def fence(_: Request) -> dict[str, Any]:
        return await manager.fence()

    async def rewind(request: Request) -> dict[str, Any]:
        return await manager.rewind(await _source(request))

    async def clone(request: Request) -> dict[str, Any]:
        return await manager.clone(await _source(request))

    async def follow(request: Request) -> dict[str, Any]:
        slot = str((await request.json())["slot"])
        return await manager.follow(await _source(request), slot)

    async def start(_: Request) -> dict[str, Any]:
        return await manager.start()

    async def ready(_: Request) -> JSONResponse:
        # An HTTP probe the kubelet can run every second, unlike an exec of pg_isready.
        answers = await manager.pg.in_recovery() is not None
        return JSONResponse({"ready": answers}, status_code=200 if answers else 503)

    metrics.watch(manager)
    routes = [
        Route("/healthz", healthz),
        Route("/ready", ready),
        Route("/metrics", prometheus),
        Route("/status", guarded(token, status)),
    ]
    for path, handler in (("/fence", fence), ("/rewind", rewind), ("/clone", clone),
                          ("/follow", follow), ("/start", start)):  # fmt: skip
        routes.append(Route(path, guarded(token, handler), methods=["POST"]))
    return Starlette(routes=routes)
