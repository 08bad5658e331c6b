"""``tier0 logs load`` (registered in tier0.cli)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    no_args_is_help=True, help="Access logs: load Apache-style files into PostgreSQL."
)


@app.command("load")
def load(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Load Apache common/combined files (plain or gzip) into system_logs; safe to repeat."""
    from tier0.accesslogs.load import load_files
    from tier0.common.logging import configure_logging
    from tier0.common.postgres import create_pool
    from tier0.common.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)

    async def run() -> None:
        pool = await create_pool(settings.postgres_dsn, min_size=1, max_size=2)
        try:
            report = await load_files(pool, paths=files)
        finally:
            await pool.close()
        typer.echo(
            f"{report.lines} lines in {len(report.files)} file(s): {report.inserted} inserted, "
            f"{report.already_loaded} already loaded, {report.dead_lettered} dead-lettered"
        )

    asyncio.run(run())
