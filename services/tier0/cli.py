"""The ``tier0`` command: one entry point that starts any Tier-0 component."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from tier0.accesslogs.cli import app as logs_app
from tier0.api.cli import serve_api
from tier0.cluster.cli import app as cluster_app
from tier0.cluster.cli import system_app
from tier0.consumers.cli import app as consume_app
from tier0.dashboard.cli import serve_dashboard
from tier0.images.cli import app as images_app
from tier0.rag.cli import app as rag_app
from tier0.sessions.cli import consume_rabbitmq
from tier0.setup.steps import SetupError, console
from tier0_simulators.cli import app as simulate_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(rag_app, name="rag")
app.add_typer(images_app, name="images")
app.add_typer(consume_app, name="consume")
# The one place under tier0 that imports the simulators: they are clients of the services, so
# only this entry point may know them (tests/unit/test_import_direction.py).
app.add_typer(simulate_app, name="simulate")
app.add_typer(logs_app, name="logs")
app.add_typer(cluster_app, name="cluster")
app.add_typer(system_app, name="system", help="The whole system on the node: `make up`/`down`.")
app.command("api")(serve_api)
app.command("dashboard")(serve_dashboard)
consume_app.command("rabbitmq")(consume_rabbitmq)


@app.callback()
def main() -> None:
    """Tier-0: multi-region failover, telemetry at scale and an AI ops assistant."""


@app.command()
def setup(
    apt: Annotated[bool, typer.Option(help="Install missing Debian packages.")] = True,
) -> None:
    """Install what tests and local runs need (Debian packages, pinned Go tools); idempotent."""
    from tier0.setup.run import run_setup

    try:
        run_setup(with_apt=apt)
    except SetupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Apply pending PostgreSQL migrations (TIER0_POSTGRES_DSN); safe to run repeatedly."""
    import asyncio

    from tier0.common.logging import configure_logging
    from tier0.common.settings import get_settings
    from tier0.db.migrate import migrate_database

    settings = get_settings()
    configure_logging(settings.log_level)
    applied = asyncio.run(migrate_database(settings.postgres_dsn))
    console.print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


@app.command()
def stack(
    keep: Annotated[bool, typer.Option(help="Keep data and logs after stopping.")] = False,
) -> None:
    """Start every data store as a local process, print how to reach them, stop on Ctrl-C."""
    from tier0.stack.harness import Harness

    with Harness(keep=keep) as harness:
        console.print(f"stores up in {harness.startup_seconds:.1f} s; logs in {harness.root}")
        for name, value in harness.environment().items():
            typer.echo(f"export {name}={value!r}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


def _wait_until_stopped() -> None:
    """Block until Ctrl-C or SIGTERM (what `kill PID` and process supervisors send)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


@app.command()
def operator(
    namespace: Annotated[
        list[str] | None, typer.Option(help="Namespace to watch (repeat); all when omitted.")
    ] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve Prometheus metrics.")] = None,
    leader_namespace: Annotated[
        str | None, typer.Option(help="Namespace of the tier0-operator leader Lease.")
    ] = None,
    leader_lease_seconds: Annotated[
        float, typer.Option(help="Leader Lease duration: how soon a standby replica takes over.")
    ] = 10.0,
    health_port: Annotated[
        int | None, typer.Option(help="Serve the liveness endpoint /healthz on this port.")
    ] = None,
) -> None:
    """Run the Tier0Region operator (kopf) against $KUBECONFIG or the in-cluster API."""
    import tier0.common.metrics  # noqa: F401  (tier0_uptime_seconds on --metrics-port)
    from tier0.common.logging import configure_logging
    from tier0_operator.main import run_operator

    configure_logging("INFO")
    run_operator(
        namespaces=namespace or [],
        metrics_port=metrics_port,
        leader_namespace=leader_namespace,
        leader_lease_seconds=leader_lease_seconds,
        health_port=health_port,
    )


@app.command("pg-instance")
def pg_instance(
    region: Annotated[str, typer.Option(envvar="TIER0_REGION", help="This node's region.")],
    datadir: Annotated[Path, typer.Option(envvar="PGDATA", help="PostgreSQL data directory.")],
    port: Annotated[int, typer.Option(envvar="TIER0_PG_PORT", help="PostgreSQL port.")] = 5432,
    listen: Annotated[str, typer.Option(envvar="TIER0_PG_LISTEN")] = "*",
    socket_dir: Annotated[
        Path | None, typer.Option(envvar="TIER0_PG_SOCKET_DIR", help="Default: beside datadir.")
    ] = None,
    run_as: Annotated[
        str | None, typer.Option(envvar="TIER0_PG_RUN_AS", help="Account for PostgreSQL if root.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(envvar="TIER0_NAMESPACE", help="Default: the pod's namespace.")
    ] = None,
    resource: Annotated[str, typer.Option(envvar="TIER0_RESOURCE", help="Tier0Region name.")] = (
        "tier0"
    ),
    http_port: Annotated[int, typer.Option(envvar="TIER0_INSTANCE_HTTP_PORT")] = 8008,
) -> None:
    """Instance manager: run PostgreSQL as a child and serve fence/rewind/follow/start."""
    import asyncio

    from tier0.common.logging import configure_logging
    from tier0_operator.instance.config import (
        InstanceConfig,
        Passwords,
        default_namespace,
        env_secret,
    )
    from tier0_operator.instance.main import serve

    configure_logging("INFO")
    token = env_secret("TIER0_INSTANCE_TOKEN")
    assert token is not None
    config = InstanceConfig(
        region=region,
        datadir=datadir.resolve(),
        port=port,
        listen=listen,
        socket_dir=(socket_dir or datadir.resolve().parent / "sock"),
        run_as=run_as,
        passwords=Passwords.from_env(),
        namespace=namespace or default_namespace(),
        resource=resource,
        http_port=http_port,
        token=token,
    )
    asyncio.run(serve(config))


@app.command()
def controlplane(
    keep: Annotated[bool, typer.Option(help="Keep certificates, data and logs.")] = False,
) -> None:
    """Start etcd, kube-apiserver and kube-controller-manager; print KUBECONFIG; stop on Ctrl-C."""
    from tier0.stack.base import StartupError
    from tier0.stack.controlplane import ControlPlane

    try:
        with ControlPlane(keep=keep) as plane:
            console.print(f"control plane up in {plane.startup_seconds:.1f} s in {plane.root}")
            console.print(
                f"kubectl {plane.binaries.kubectl}, helm {plane.binaries.helm}", soft_wrap=True
            )
            typer.echo(f"export KUBECONFIG={str(plane.kubeconfig)!r}")
            _wait_until_stopped()
    except StartupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
