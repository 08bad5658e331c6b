"""``/api/query``: a cited answer from the query service (``tier0 rag serve``), passed through.

The query service owns the contract (``tier0.rag.service.models``): it validates the question
and answers errors as problem+json, which are returned as they are. Here the body is only
bounded, so a client cannot make the API buffer more than the service would accept.
Read-only, so no API key.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request, Response

from tier0.api.deps import RagDep
from tier0.common.http import read_limited
from tier0.common.logging import get_logger
from tier0.rag.service.models import QueryRequest, QueryResponse

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["query"])
# The query service's default limit (TIER0_RAG_MAX_BODY_BYTES).
MAX_BODY_BYTES = 8192
# Headers of the service's answer that mean something to the client.
PASSED_HEADERS = ("content-type", "x-cache")
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _request_schema() -> dict[str, Any]:
    schema = QueryRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # Source is in the components already: the response uses it
    return schema


async def read_bounded_body(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or 413 as soon as it exceeds ``max_bytes``."""
    body = await read_limited(request, max_bytes)
    if body is None:
        raise HTTPException(413, f"the body must be at most {max_bytes} bytes")
    return body


@router.post(
    "/query",
    response_model=QueryResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _request_schema()}},
        }
    },
    responses={
        400: {"description": "Body not UTF-8 or not JSON", **PROBLEM},
        413: {"description": "Body larger than 8 KiB", **PROBLEM},
        415: {"description": "Body not application/json", **PROBLEM},
        422: {"description": "Question empty or too long, top_k too large, bad field", **PROBLEM},
        502: {"description": "The query service is unreachable", **PROBLEM},
        503: {"description": "Query service not configured, or no document index", **PROBLEM},
        504: {"description": "The query service did not answer in time", **PROBLEM},
    },
)
async def query(request: Request, rag: RagDep) -> Response:
    """Answer a question with citations (``X-Cache: hit|miss`` from the query service)."""
    body = await read_bounded_body(request)
    content_type = request.headers.get("content-type")
    headers = {"content-type": content_type} if content_type else {}
    try:
        answer = await rag.post("/query", content=body, headers=headers)
    except (httpx.ConnectTimeout, httpx.ConnectError) as exc:
        log.warning("query service unreachable", error=repr(exc)[:200])
        detail = f"the query service is unreachable ({type(exc).__name__})"
        raise HTTPException(502, detail) from exc
    except httpx.TimeoutException as exc:
        raise HTTPException(504, "the query service did not answer in time") from exc
    except httpx.TransportError as exc:
        log.warning("query service failed", error=repr(exc)[:200])
        raise HTTPException(502, f"the query service failed ({type(exc).__name__})") from exc
    passed = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
    return Response(answer.content, status_code=answer.status_code, headers=passed)
