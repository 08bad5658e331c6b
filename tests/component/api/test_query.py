"""``/api/query`` through a real query service (``tier0 rag serve``'s app under uvicorn).

The service reads this module's API database (the seeded devices) and the shared document
index; its answers, headers and problem documents must reach the client unchanged.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tier0.common.settings import Settings
from tier0.rag.cohere_backend import CohereSettings
from tier0.rag.service.main import create_app as create_rag_app
from tier0.rag.service.settings import ServiceSettings
from tier0.stack.base import LOOPBACK, free_port
from tier0.stack.harness import Harness

from .conftest import Database, serve, settings_for

pytestmark = pytest.mark.component

STARTUP_SECONDS = 60.0
DOCUMENT_QUESTION = "What was the ambient temperature when the AK-NORTH standby engine failed?"
PROBLEM_JSON = "application/problem+json"


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


@pytest.fixture(scope="module")
def rag_url(stack: Harness, database: Database, local_index: Path) -> Iterator[str]:
    """The query service on a free port, in its own thread and event loop, until the module ends."""
    stores = settings_for(stack, database).model_copy(
        update={
            "mongo_url": stack.environment()["TIER0_MONGO_URL"],
            "mongo_database": f"apiq_{uuid.uuid4().hex[:8]}",
        }
    )
    app = create_rag_app(
        ServiceSettings(index_dir=local_index, cache_scope=uuid.uuid4().hex[:8]),
        stores=stores,
        cohere=CohereSettings(api_key=None),
    )
    config = uvicorn.Config(app, lifespan="on", ws="none", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    sock = _listening_socket()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            assert thread.is_alive(), "the query service did not start"
            assert time.monotonic() < deadline, "the query service took too long to start"
            time.sleep(0.05)
        yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "the query service did not stop"


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    """A body without Content-Length, sent in parts."""
    for part in parts:
        yield part


def _with_rag(stack: Harness, database: Database, url: str) -> Settings:
    return settings_for(stack, database).model_copy(update={"rag_url": url})


async def test_answer_and_cache_header_come_from_the_query_service(
    stack: Harness, database: Database, rag_url: str
) -> None:
    async with serve(_with_rag(stack, database, rag_url)) as api:
        first = await api.post("/api/query", json={"question": DOCUMENT_QUESTION, "top_k": 3})
        again = await api.post("/api/query", json={"question": DOCUMENT_QUESTION, "top_k": 3})
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/json"
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    body = first.json()
    assert body["question"] == DOCUMENT_QUESTION
    assert body["answer_mode"] == "extractive"
    assert body["sources"] == ["documents"]
    assert body["cached"] is False
    assert any(c["document"].startswith("INC-2026-022") for c in body["citations"])
    assert again.json() == body | {"cached": True}
    async with httpx.AsyncClient(base_url=rag_url) as direct:
        served = await direct.post("/query", json={"question": DOCUMENT_QUESTION, "top_k": 3})
    assert served.headers["x-cache"] == "hit"
    assert served.json() == again.json()


async def test_device_question_is_answered_from_the_api_database(
    stack: Harness, database: Database, rag_url: str
) -> None:
    question = {"question": "What are the latest turbine readings at WY-ALPHA?"}
    async with serve(_with_rag(stack, database, rag_url)) as api:
        response = await api.post("/api/query", json=question)
    assert response.status_code == 200, response.text
    devices = response.json()["figures"]["devices"]
    # Seeded: five WY-ALPHA turbines; device 0's latest state is alarm, the others run.
    assert devices["devices"] == 5
    assert devices["states"] == {"alarm": 1, "running": 4}
    assert devices["metric_means"]["rpm"] == pytest.approx(1002.0)


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"question": ""}', "application/json", 422),
        (b'{"question": "   "}', "application/json", 422),
        (b'{"question": "ok", "top_k": 21}', "application/json", 422),
        (b'{"question": "ok", "sources": ["tea leaves"]}', "application/json", 422),
        (b'{"question": ', "application/json", 400),
        (b'{"question": "ok"}', "text/plain", 415),
    ],
)
async def test_problems_of_the_query_service_pass_through_unchanged(
    stack: Harness,
    database: Database,
    rag_url: str,
    content: bytes,
    content_type: str,
    status: int,
) -> None:
    headers = {"content-type": content_type}
    async with serve(_with_rag(stack, database, rag_url)) as api:
        response = await api.post("/api/query", content=content, headers=headers)
    async with httpx.AsyncClient(base_url=rag_url) as direct:
        expected = await direct.post("/query", content=content, headers=headers)
    assert response.status_code == expected.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == expected.json()
    assert response.json()["status"] == status


async def test_a_body_over_8_kib_is_refused_before_forwarding(
    stack: Harness, database: Database
) -> None:
    # Nothing listens at rag_url: a forwarded body would answer 502, not 413.
    settings = _with_rag(stack, database, f"http://{LOOPBACK}:{free_port()}")
    question = {"question": "x" * 9000}
    async with serve(settings) as api:
        response = await api.post("/api/query", json=question)
        chunked = await api.post(
            "/api/query",
            content=_chunks(b'{"question": "', b"y" * 9000, b'"}'),
            headers={"content-type": "application/json"},
        )
    for refused in (response, chunked):
        assert refused.status_code == 413
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert refused.json()["instance"] == "/api/query"


async def test_query_service_down_is_a_502_problem(stack: Harness, database: Database) -> None:
    settings = _with_rag(stack, database, f"http://{LOOPBACK}:{free_port()}")
    async with serve(settings) as api:
        response = await api.post("/api/query", json={"question": DOCUMENT_QUESTION})
    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert (problem["title"], problem["instance"]) == ("Bad Gateway", "/api/query")
    assert "unreachable" in problem["detail"]


async def test_query_without_a_configured_service_is_a_503_problem(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/query", json={"question": DOCUMENT_QUESTION})
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "TIER0_RAG_URL" in response.json()["detail"]
