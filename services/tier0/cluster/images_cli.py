"""Build the single-node cluster's offline images, and import them into a containerd."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tier0.cluster.images import IMAGE_NAMES, archive_ref, ensure_images, import_images
from tier0.setup.steps import SetupError, console

images_app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@images_app.callback()
def images_group() -> None:
    """Offline container images: OCI archives built without a registry or Docker."""


@images_app.command()
def build(
    names: Annotated[
        list[str] | None,
        typer.Argument(help=f"Images to build (default: {' '.join(IMAGE_NAMES)})."),
    ] = None,
    import_into: Annotated[
        Path | None, typer.Option(help="Import them into the containerd at this socket.")
    ] = None,
    ctr: Annotated[str, typer.Option(help="The ctr client to import with.")] = "ctr",
    namespace: Annotated[
        str, typer.Option(help="containerd namespace (CRI's is k8s.io).")
    ] = "k8s.io",
) -> None:
    """Build every image whose cached archive is missing; print each ref and archive."""
    try:
        archives = ensure_images(console=console, names=tuple(names or IMAGE_NAMES))
        if import_into is not None:
            import_images(
                archives, ctr=ctr, address=import_into, namespace=namespace, console=console
            )
    except (SetupError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for archive in archives.values():
        typer.echo(f"{archive_ref(archive)}\t{archive}")
