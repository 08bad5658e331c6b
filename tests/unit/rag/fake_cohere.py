"""A local HTTP server that speaks Cohere's v2 embed, rerank and chat JSON.

The tests point the official SDK's ``base_url`` at it, so the SDK's own request building and
response parsing run for real. Vectors are deterministic: each word hashes to one of the
dimensions (a hashed bag of words), so passages sharing words with a query score higher, as a
real model's would, and every run gives the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DIMENSION = 1024
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case word tokens."""
    return _WORD.findall(text.lower())


def hashed_vector(text: str, dimension: int = DIMENSION) -> list[float]:
    """A deterministic bag-of-words vector (not normalised: the client must do that)."""
    vector = [0.0] * dimension
    for word in words(text):
        digest = hashlib.sha256(word.encode()).digest()
        slot = int.from_bytes(digest[:4], "big") % dimension
        vector[slot] += 1.0 if digest[4] % 2 else -1.0
    return vector


def overlap(query: str, document: str) -> float:
    """Share of the query's distinct words found in the document (0..1)."""
    wanted = set(words(query))
    return len(wanted & set(words(document))) / len(wanted) if wanted else 0.0


@dataclass
class Recorded:
    """One request the fake received."""

    path: str
    body: dict[str, Any]
    authorization: str


@dataclass
class FakeCohere:
    """Run with ``with FakeCohere() as fake:``; ``fake.url`` is the SDK's ``base_url``."""

    requests: list[Recorded] = field(default_factory=list)
    chat_answer: str = "Synthesised answer"
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def calls(self, path: str) -> list[Recorded]:
        """Requests received on ``path`` (e.g. ``/v2/embed``), oldest first."""
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> FakeCohere:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    Recorded(self.path, body, self.headers.get("authorization", ""))
                )
                status, payload = fake.respond(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The JSON Cohere's API would answer with (shapes as in the SDK's response types)."""
        if path == "/v2/embed":
            return 200, self._embed(body)
        if path == "/v2/rerank":
            return 200, self._rerank(body)
        if path == "/v2/chat":
            return 200, self._chat(body)
        return 404, {"message": f"no route {path}"}

    def _embed(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body.get("texts") or []
        return {
            "id": f"embed-{len(self.requests)}",
            "response_type": "embeddings_by_type",
            "embeddings": {"float": [hashed_vector(t) for t in texts]},
            "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 1}},
        }

    def _rerank(self, body: dict[str, Any]) -> dict[str, Any]:
        query, documents = body["query"], body["documents"]
        scored = sorted(
            ((overlap(query, doc), i) for i, doc in enumerate(documents)),
            key=lambda p: (-p[0], p[1]),
        )
        top = scored[: body.get("top_n") or len(scored)]
        return {
            "id": f"rerank-{len(self.requests)}",
            "results": [{"index": i, "relevance_score": score} for score, i in top],
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
        }

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        documents = body.get("documents") or []
        ids = [d["id"] for d in documents if isinstance(d, dict) and "id" in d]
        text = f"{self.chat_answer} from {len(ids)} documents."
        return {
            "id": f"chat-{len(self.requests)}",
            "finish_reason": "COMPLETE",
            "message": {
                "role": "assistant",
                "content": [{"type": "text", "text": text}],
                "citations": [
                    {
                        "start": 0,
                        "end": len(self.chat_answer),
                        "text": self.chat_answer,
                        "sources": [{"type": "document", "id": i, "document": {}} for i in ids[:1]],
                    }
                ],
            },
            "usage": {"billed_units": {"input_tokens": 10, "output_tokens": 5}},
        }
