"""App factory of the query service; the lifespan opens and closes the store clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tier0.common.settings import Settings, get_settings
from tier0.rag.cohere_backend import CohereSettings
from tier0.rag.service.problems import ProblemError, install_problem_handlers, problem_response
from tier0.rag.service.resources import Resources, open_resources
from tier0.rag.service.routes import router
from tier0.rag.service.settings import ServiceSettings


def create_app(
    settings: ServiceSettings | None = None,
    *,
    stores: Settings | None = None,
    cohere: CohereSettings | None = None,
) -> FastAPI:
    """The FastAPI app; settings default to the environment (read when it starts)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(
            settings or ServiceSettings(), stores or get_settings(), cohere or CohereSettings()
        )
        app.state.resources = resources
        try:
            yield
        finally:
            await resources.close()

    app = FastAPI(title="Tier-0 query service", version="1", lifespan=lifespan)
    install_problem_handlers(app)

    @app.exception_handler(ProblemError)
    async def _counted_problem(request: Request, exc: ProblemError) -> JSONResponse:
        resources: Resources | None = getattr(request.app.state, "resources", None)
        if resources is not None:
            resources.metrics.rejected.labels(str(exc.status)).inc()
        return problem_response(exc.status, exc.title, exc.detail, request.url.path, **exc.extra)

    app.include_router(router)
    return app
