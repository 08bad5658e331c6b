"""``tier0 dashboard``: serve the static dashboard and proxy ``/api/*`` to the API.

Proxying keeps the page and the API on one origin, so a single ``kubectl port-forward`` to the
dashboard is enough and the API needs no CORS. The proxy passes the request through unchanged
(method, path, query, body, ``X-API-Key``) and the API's answer back, problem documents included;
only when the API cannot be reached does it answer itself, with a 502/504 problem the page shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tier0.common.http import read_limited
from tier0.common.logging import get_logger
from tier0.dashboard.settings import DashboardSettings

log = get_logger(__name__)

STATIC = Path(__file__).parent / "static"
PROBLEM_JSON = "application/problem+json"
# Request headers the API acts on, and answer headers the page reads; nothing else crosses.
FORWARDED_REQUEST = ("accept", "content-type", "x-api-key")
FORWARDED_RESPONSE = ("content-type", "x-cache", "location", "www-authenticate")


def _problem(status: int, title: str, detail: str, instance: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": instance}  # fmt: skip
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def create_app(settings: DashboardSettings | None = None) -> Starlette:
    settings = settings or DashboardSettings()
    api_url = str(settings.api_url).rstrip("/")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.api_timeout_seconds, connect=3.0)
        async with httpx.AsyncClient(base_url=api_url, timeout=timeout) as upstream:
            app.state.upstream = upstream
            log.info("dashboard ready", api=api_url)
            yield

    async def proxy(request: Request) -> Response:
        path = request.url.path
        body = await read_limited(request, settings.max_body_bytes)
        if body is None:
            return _problem(413, "Content Too Large", "the request body is too large", path)
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED_REQUEST}
        upstream: httpx.AsyncClient = request.app.state.upstream
        try:
            answer = await upstream.request(
                request.method, path, params=str(request.query_params),
                content=body, headers=headers,
            )  # fmt: skip
        except httpx.TimeoutException:
            detail = f"the API at {api_url} did not answer in {settings.api_timeout_seconds:g} s"
            return _problem(504, "Gateway Timeout", detail, path)
        except httpx.TransportError as exc:
            log.warning("API unreachable", api=api_url, error=repr(exc)[:200])
            detail = f"the API at {api_url} is unreachable ({type(exc).__name__})"
            return _problem(502, "Bad Gateway", detail, path)
        passed = {k: answer.headers[k] for k in FORWARDED_RESPONSE if k in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=passed)

    async def page_config(request: Request) -> JSONResponse:
        return JSONResponse({"refresh_seconds": settings.refresh_seconds, "api_url": api_url})

    async def healthz(request: Request) -> JSONResponse:
        # Liveness of this server only: an API outage must not restart the dashboard.
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/api/{path:path}", proxy, methods=["GET", "POST"]),
            Route("/config.json", page_config),
            Route("/healthz", healthz),
            Mount("/", StaticFiles(directory=STATIC, html=True), name="static"),
        ],
        lifespan=lifespan,
    )
