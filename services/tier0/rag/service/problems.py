"""RFC 9457 problem details (``application/problem+json``) for every client error."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

PROBLEM_JSON = "application/problem+json"
M = TypeVar("M", bound=BaseModel)


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem_response(
    status: int, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body |= {"instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _errors(exc: ValidationError | RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Map ``ProblemError`` and validation errors to problem documents."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            "Invalid request",
            "the body does not match the schema",
            request.url.path,
            errors=_errors(exc),
        )


async def parse_json_body(request: Request, model: type[M], max_bytes: int) -> M:
    """Read, bound, decode (strict UTF-8) and validate a JSON body, or raise ``ProblemError``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ProblemError(415, "Unsupported media type", "send the body as application/json")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ProblemError(413, "Body too large", f"the body must be at most {max_bytes} bytes")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > max_bytes:
            raise ProblemError(413, "Body too large", f"the body must be at most {max_bytes} bytes")
    try:
        payload = json.loads(bytes(body).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProblemError(
            400, "Body is not UTF-8", f"invalid byte at position {exc.start}"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ProblemError(400, "Body is not JSON", exc.msg) from exc
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ProblemError(
            422, "Invalid request", "the body does not match the schema", errors=_errors(exc)
        ) from exc
