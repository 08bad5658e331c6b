"""Command-line options shared by long-running components (typer ``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

import typer

# The /health + /metrics endpoint every consumer serves (tier0.common.http.OpsServer); each
# command picks its own default port.
OpsPort = Annotated[
    int, typer.Option(envvar="TIER0_OPS_PORT", help="Port of /health and /metrics.")
]
OpsHost = Annotated[str, typer.Option(help="Address of /health and /metrics.")]
