"""``tier0 dashboard``: serve the web dashboard (registered in tier0.cli)."""

from __future__ import annotations

from typing import Annotated

import typer


def serve_dashboard(
    host: Annotated[str, typer.Option(help="Listen address.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Listen port.")] = 8080,
) -> None:
    """Serve the dashboard and proxy /api/* to TIER0_DASHBOARD_API_URL."""
    import uvicorn

    from tier0.common.logging import configure_logging
    from tier0.dashboard.server import create_app
    from tier0.dashboard.settings import DashboardSettings

    configure_logging("INFO")
    app = create_app(DashboardSettings())
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)
