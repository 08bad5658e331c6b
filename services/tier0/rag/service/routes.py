"""``POST /query``, ``GET /health`` and ``GET /metrics``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tier0.rag.service.answer import EXTRACTIVE, number_citations, synthesise
from tier0.rag.service.cache import cache_key
from tier0.rag.service.models import QueryRequest, QueryResponse, Source
from tier0.rag.service.problems import ProblemError, parse_json_body
from tier0.rag.service.resources import Resources
from tier0.rag.service.routing import Route, route
from tier0.rag.service.sources import SourceResult
from tier0.rag.service.sources.devices import answer_from_devices
from tier0.rag.service.sources.documents import answer_from_documents
from tier0.rag.service.sources.images import answer_from_images
from tier0.rag.service.sources.logs import answer_from_logs

router = APIRouter()


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def _validate(query: QueryRequest, resources: Resources) -> tuple[str, int]:
    settings = resources.settings
    question = query.question.strip()
    if not question:
        raise ProblemError(422, "Empty question", "the question has no text")
    if len(question) > settings.max_question_chars:
        raise ProblemError(
            422, "Question too long", f"at most {settings.max_question_chars} characters"
        )
    top_k = query.top_k or settings.default_top_k
    if top_k > settings.max_top_k:
        raise ProblemError(422, "top_k too large", f"top_k must be at most {settings.max_top_k}")
    return question, top_k


async def _ask(
    source: Source, resources: Resources, question: str, plan: Route, top_k: int
) -> SourceResult:
    if source is Source.DOCUMENTS:
        if resources.retriever is None:
            raise ProblemError(503, "No document index", "run 'tier0 rag ingest' first")
        return await answer_from_documents(resources.retriever, question, top_k)
    if source is Source.LOGS:
        return await answer_from_logs(resources.pool)
    if source is Source.IMAGES:
        return await answer_from_images(resources.images, plan)
    window = resources.settings.device_window_minutes
    return await answer_from_devices(resources.pool, plan, window)


async def answer_question(
    resources: Resources, question: str, query: QueryRequest, top_k: int
) -> QueryResponse:
    """Route, ask every chosen source concurrently, and write the cited answer."""
    plan = route(question, query.sources)
    results = await asyncio.gather(
        *(_ask(s, resources, question, plan, top_k) for s in plan.sources)
    )
    statements, citations = number_citations(list(results))
    answer, mode = await synthesise(question, statements, resources.answerer)
    for source in plan.sources:
        resources.metrics.queries.labels(source.value).inc()
    return QueryResponse(
        question=question,
        answer=answer,
        answer_mode=mode,
        sources=plan.sources,
        citations=citations,
        figures={r.source.value: r.figures for r in results},
    )


@router.post("/query", response_model=QueryResponse)
async def query(request: Request) -> JSONResponse:
    """Answer a question with citations; identical questions come from the cache."""
    resources = _resources(request)
    body = await parse_json_body(request, QueryRequest, resources.settings.max_body_bytes)
    question, top_k = _validate(body, resources)
    mode = f"cohere:{resources.answerer.model}" if resources.answerer else EXTRACTIVE
    sources = [s.value for s in body.sources or []]
    key = cache_key(question, top_k, sources, mode, resources.settings.cache_scope)
    cached = await resources.cache.get(key)
    if cached is not None:
        resources.metrics.cache.labels("hit").inc()
        cached.cached = True
        return JSONResponse(cached.model_dump(mode="json"), headers={"X-Cache": "hit"})
    resources.metrics.cache.labels("miss").inc()
    started = time.perf_counter()
    response = await answer_question(resources, question, body, top_k)
    resources.metrics.latency.observe(time.perf_counter() - started)
    await resources.cache.put(key, response)
    return JSONResponse(response.model_dump(mode="json"), headers={"X-Cache": "miss"})


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """200 when PostgreSQL, Redis and MongoDB answer; 503 with the failing checks otherwise."""
    checks = await _resources(request).check()
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry = _resources(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
