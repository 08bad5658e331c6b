"""``tier0 operator``: run the kopf operator in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import kopf
from prometheus_client import start_http_server

from tier0_operator.engine.agent import AgentError, LocalNodeAgent, NodeAgent, SourceServer
from tier0_operator.kube import KubeApi, load_api_client


class NoAgent:
    """In a cluster without a node agent configured: rejoin and shutdown-fencing are refused."""

    async def _refuse(self, region: str) -> None:
        raise AgentError(f"no node agent configured: cannot act on {region}'s data directory")

    async def stop(self, region: str) -> None:
        await self._refuse(region)

    async def rewind(self, region: str, source: SourceServer) -> None:
        await self._refuse(region)

    async def clone(self, region: str, source: SourceServer) -> None:
        await self._refuse(region)

    async def follow(self, region: str, source: SourceServer, slot: str) -> None:
        await self._refuse(region)

    async def start(self, region: str) -> None:
        await self._refuse(region)


def run_operator(
    *, namespaces: list[str], local_agent: Path | None, metrics_port: int | None
) -> None:
    """Watch Tier0Regions in ``namespaces`` (all when empty) until interrupted."""
    from tier0_operator import handlers  # registers the handlers with kopf

    agent: NodeAgent = LocalNodeAgent.from_file(local_agent) if local_agent else NoAgent()
    config = handlers.OperatorConfig(KubeApi(load_api_client()), agent)
    if metrics_port is not None:
        start_http_server(metrics_port)
    asyncio.run(
        kopf.operator(
            standalone=True,
            clusterwide=not namespaces,
            namespaces=namespaces,
            memo=kopf.Memo(config=config),
        )
    )
