"""``tier0 dashboard``'s server: assets as files, ``/api/*`` passed to a real upstream server and
back unchanged, and a visible problem when the API cannot be reached."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tier0.dashboard.server import STATIC, create_app
from tier0.dashboard.settings import DashboardSettings
from tier0.stack.base import LOOPBACK, free_port


async def echo(request: Request) -> JSONResponse:
    """Says what reached it, as the real API's problem answers do for a wrong key."""
    body = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "key": request.headers.get("x-api-key"),
        "cookie": request.headers.get("cookie"),
        "body": (await request.body()).decode(),
    }
    status = 403 if request.headers.get("x-api-key") == "wrong" else 200
    media = "application/problem+json" if status == 403 else "application/json"
    return JSONResponse(body, status_code=status, media_type=media, headers={"X-Cache": "hit"})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """A stand-in API on a real socket, in its own thread."""
    app = Starlette(routes=[Route("/api/{path:path}", echo, methods=["GET", "POST"])])
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "upstream did not start"
        time.sleep(0.02)
    yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


async def _dashboard(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(DashboardSettings(api_url=AnyHttpUrl(api_url), refresh_seconds=2))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dash.test") as client:
            yield client


@pytest.fixture
async def dashboard(upstream: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _dashboard(upstream):
        yield client


async def test_assets_and_page_config_are_served(dashboard: httpx.AsyncClient) -> None:
    page = await dashboard.get("/")
    assert page.status_code == 200
    assert '<script type="module" src="js/main.js">' in page.text
    script = await dashboard.get("/js/main.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert script.text == (STATIC / "js" / "main.js").read_text()
    config = (await dashboard.get("/config.json")).json()
    assert config["refresh_seconds"] == 2
    assert (await dashboard.get("/healthz")).json() == {"status": "ok"}


async def test_api_requests_pass_through_unchanged(dashboard: httpx.AsyncClient) -> None:
    response = await dashboard.post(
        "/api/failover",
        params=[("metric", "rpm"), ("metric", "pump_speed_rpm")],
        json={"region": "region2"},
        headers={"X-API-Key": "k" * 20, "Cookie": "session=secret"},
    )
    assert response.status_code == 200
    assert response.headers["x-cache"] == "hit"
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/api/failover"
    assert echoed["query"] == "metric=rpm&metric=pump_speed_rpm"
    assert echoed["key"] == "k" * 20
    assert echoed["body"] == '{"region":"region2"}'
    assert echoed["cookie"] is None  # the dashboard's own cookies never reach the API


async def test_api_problems_come_back_as_they_are(dashboard: httpx.AsyncClient) -> None:
    response = await dashboard.get("/api/devices", headers={"X-API-Key": "wrong"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unreachable_api_is_a_502_problem() -> None:
    nowhere = f"http://{LOOPBACK}:{free_port()}"
    async for client in _dashboard(nowhere):
        response = await client.get("/api/sites")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert f"the API at {nowhere} is unreachable" in response.json()["detail"]


async def test_a_body_larger_than_the_limit_is_refused(dashboard: httpx.AsyncClient) -> None:
    response = await dashboard.post("/api/query", content=b"x" * 20_000)
    assert response.status_code == 413
