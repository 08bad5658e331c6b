"""``tier0 cluster``: start, stop and inspect the single-node Kubernetes cluster."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tier0.cluster.images_cli import images_app
from tier0.setup.steps import console
from tier0.stack.base import StartupError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(images_app, name="images")


def _root_required() -> None:
    if os.geteuid() != 0:
        console.print("[red]the node needs root (bridge, iptables, containerd, kubelet)[/red]")
        raise typer.Exit(1)


def _progress(step: str, seconds: float) -> None:
    console.print(f"[green]ok[/green] {step} ({seconds:.1f} s)")


@app.command()
def up() -> None:
    """Start the node (building missing images first) and print the KUBECONFIG to export."""
    from tier0.cluster.node import Cluster

    _root_required()
    cluster = Cluster(progress=_progress)
    try:
        with console.status("[bold]starting the node[/bold] ..."):
            cluster.up()
    except (StartupError, RuntimeError) as exc:
        console.print(f"[red]cluster up failed:[/red] {exc}")
        console.print(f"logs: {cluster.paths.logs}; `tier0 cluster down` cleans up")
        raise typer.Exit(1) from exc
    seconds = cluster.timings.get("up")
    if seconds is not None:
        console.print(f"node Ready with CoreDNS and storage in {seconds:.1f} s")
    typer.echo(f"export KUBECONFIG={cluster.kubeconfig}")


@app.command()
def down() -> None:
    """Stop every component and remove all the node made (images stay imported)."""
    from tier0.cluster.node import Cluster

    _root_required()
    cluster = Cluster(progress=_progress)
    with console.status("[bold]stopping the node[/bold] ..."):
        cluster.down()
    left = cluster.leftovers()
    if left:
        console.print("[red]left behind:[/red]\n  " + "\n  ".join(left))
        raise typer.Exit(1)
    console.print("[green]node removed[/green]: no process, mount, link or rule left")


@app.command()
def status(
    kubeconfig: Annotated[bool, typer.Option(help="Print only the KUBECONFIG path.")] = False,
) -> None:
    """Each component's PID and the node's pods; exits 1 when the node is not fully up."""
    from tier0.cluster.node import Cluster

    cluster = Cluster()
    if kubeconfig:
        typer.echo(cluster.kubeconfig)
        return
    table = Table("component", "pid", "log")
    for name, daemon in cluster.daemons().items():
        pid = daemon.pid() if daemon.running() else None
        table.add_row(name, str(pid) if pid else "[red]stopped[/red]", str(daemon.log_path))
    console.print(table)
    if not cluster.is_up():
        raise typer.Exit(1)
    console.print(cluster.kubectl("get", "nodes,pods", "-A", "-o", "wide"))
    typer.echo(f"export KUBECONFIG={cluster.kubeconfig}")


system_app = typer.Typer(no_args_is_help=True, add_completion=False)


@system_app.command("up")
def system_up(
    chart: Annotated[Path, typer.Option(help="The chart to install.")] = Path("charts/tier0"),
) -> None:
    """The whole system: the node, the chart installed and Ready, and the dashboard, the API and
    Prometheus port-forwarded to 127.0.0.1."""
    from tier0.cluster import deploy
    from tier0.cluster.node import Cluster

    _root_required()
    if not (chart / "Chart.yaml").exists():
        console.print(f"[red]no chart at {chart}[/red]; run from the repository root")
        raise typer.Exit(1)
    cluster = Cluster(progress=_progress)
    try:
        with console.status("[bold]starting the node[/bold] ..."):
            cluster.up()
        with console.status("[bold]helm upgrade --install (every pod Ready)[/bold] ..."):
            started = time.monotonic()
            deploy.install(cluster, chart)
            _progress("chart installed and Ready", time.monotonic() - started)
        forwards = deploy.start_forwards(cluster)
    except (StartupError, RuntimeError) as exc:
        console.print(f"[red]make up failed:[/red] {exc}")
        console.print(f"node logs: {cluster.paths.logs}; `make down` cleans up")
        raise typer.Exit(1) from exc
    console.print("[green]Tier-0 is up[/green]")
    for forward in forwards:
        typer.echo(f"{forward.name}: {forward.url}  (port-forward of service/{forward.service})")
    for scope in deploy.API_KEYS:
        typer.echo(f"{scope} API key: {deploy.api_key_command(scope)}")
    typer.echo(f"export KUBECONFIG={cluster.kubeconfig}")


@system_app.command("down")
def system_down() -> None:
    """Stop the port-forwards and remove the node with everything on it."""
    from tier0.cluster import deploy
    from tier0.cluster.node import Cluster

    _root_required()
    deploy.stop_forwards(Cluster())
    down()
