"""``tier0 operator``: run the kopf operator in this process."""

from __future__ import annotations

import asyncio

import kopf
from prometheus_client import start_http_server

from tier0_operator.instance.config import default_namespace
from tier0_operator.kube import KubeApi, load_api_client
from tier0_operator.leader import Leadership
from tier0_operator.leases import Leases


def run_operator(
    *,
    namespaces: list[str],
    metrics_port: int | None,
    leader_namespace: str | None = None,
    leader_lease_seconds: float = 10.0,
    health_port: int | None = None,
) -> None:
    """Watch Tier0Regions in ``namespaces`` (all when empty) until interrupted.

    Replicas elect a leader through the Lease ``tier0-operator`` in ``leader_namespace`` (the
    pod's namespace, else the first watched one); only the leader reconciles. ``health_port``
    serves kopf's liveness endpoint, ``/healthz``: it answers from the operator's own event
    loop, so unlike /metrics (a thread of its own) it stops answering when that loop is stuck.
    """
    from tier0_operator import handlers  # registers the handlers with kopf

    api_client = load_api_client()
    election_ns = leader_namespace or (namespaces[0] if namespaces else default_namespace())
    leadership = Leadership(Leases(api_client, election_ns), leader_lease_seconds)
    config = handlers.OperatorConfig(KubeApi(api_client), leadership)
    if metrics_port is not None:
        start_http_server(metrics_port)

    async def main() -> None:
        election = asyncio.create_task(leadership.run())
        try:
            await kopf.operator(
                standalone=True,
                clusterwide=not namespaces,
                namespaces=namespaces,
                memo=kopf.Memo(config=config),
                liveness_endpoint=(
                    None if health_port is None else f"http://0.0.0.0:{health_port}/healthz"
                ),
            )
        finally:
            election.cancel()

    asyncio.run(main())
