"""``tier0 api``: serve the API with uvicorn (registered in tier0.cli)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer


def serve_api(
    host: Annotated[str, typer.Option(help="Listen address.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Listen port.")] = 8000,
    access_log: Annotated[
        str, typer.Option(help="Combined-format access log: a file path, or - for stdout.")
    ] = "-",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); settings from TIER0_* variables."""
    import uvicorn

    from tier0.api.main import create_app
    from tier0.common.logging import configure_logging
    from tier0.common.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)
    with contextlib.ExitStack() as stack:
        stream = (
            sys.stdout
            if access_log == "-"
            else stack.enter_context(Path(access_log).open("a", encoding="utf-8", buffering=1))
        )
        app = create_app(settings, access_log=stream)
        uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)
