"""``tier0 images``: process site camera images (with detector sidecars) into MongoDB."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from tier0.images.settings import ImageSettings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Process site camera images and their detector annotations into MongoDB.",
)
console = Console(highlight=False)


@app.command()
def process(
    directory: Annotated[Path, typer.Argument(help="Directory of images with .json sidecars.")],
) -> None:
    """Store metadata, safety fields, compliance score and an embedding per image; print the
    per-site aggregates. Needs TIER0_MONGO_URL."""
    import asyncio

    from tier0.images.settings import ImageSettings

    if not directory.is_dir():
        console.print(f"[red]not a directory: {directory}[/red]")
        raise typer.Exit(1)
    asyncio.run(_process(directory, ImageSettings()))  # type: ignore[call-arg]


async def _process(directory: Path, settings: ImageSettings) -> None:
    from pymongo import AsyncMongoClient

    from tier0.images.aggregate import compliance_summary
    from tier0.images.process import process_directory
    from tier0.rag.backends import make_embedder

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
    try:
        collection = client[settings.mongo_database][settings.images_collection]
        report = await process_directory(directory, collection=collection, embedder=make_embedder())
        summary = await compliance_summary(collection)
    finally:
        await client.close()
    console.print(
        f"stored {report.stored}, unchanged {report.unchanged}, rejected {len(report.rejected)}"
    )
    for name, reason in report.rejected:
        console.print(f"  [yellow]rejected[/yellow] {name}: {reason}")
    for site in summary.sites:
        console.print(
            f"  {site.site_id}: {site.images} images, average score {site.average_score}, "
            f"missing {site.missing}"
        )


@app.command()
def samples(
    directory: Annotated[Path, typer.Argument(help="Where to write the sample images.")],
    count: Annotated[int, typer.Option(min=1, help="How many images.")] = 40,
) -> None:
    """Write drawn site scenes (PNG/JPEG) with detector sidecars, for offline runs."""
    from tier0.images.samples import write_sample_images

    paths = write_sample_images(directory, count)
    console.print(f"wrote {len(paths)} images with sidecars to {directory}")
