"""Commands that must run where a region's PostgreSQL data lives (stop, rewind, clone, start).

``NodeAgent`` is what the engine needs; ``HttpNodeAgent`` asks the region's instance manager
(``tier0 pg-instance``, PID 1 of its PostgreSQL pod, or a local process in local mode) over its
authenticated HTTP API (``tier0_operator.instance.api``). Each call returns the node's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

# Long enough for a pg_basebackup of a small database; a stop or start takes seconds.
COMMAND_TIMEOUT_SECONDS = 300.0
CONNECT_TIMEOUT_SECONDS = 1.0

NodeState = dict[str, Any]


class AgentError(RuntimeError):
    """A node command failed or its manager could not be reached."""


@dataclass(frozen=True)
class SourceServer:
    """The new primary, as the old one dials it."""

    host: str
    port: int


class NodeAgent(Protocol):
    async def status(self, region: str) -> NodeState:
        """The node's state (role, running, fenced, control data when stopped)."""

    async def stop(self, region: str) -> NodeState:
        """Fence: PostgreSQL stopped (fast shutdown) and kept down; ``checkpointLsn`` is the
        shutdown checkpoint, which every streaming standby has received."""

    async def rewind(self, region: str, source: SourceServer) -> NodeState:
        """pg_rewind the stopped node onto ``source``'s timeline; AgentError when impossible."""

    async def clone(self, region: str, source: SourceServer) -> NodeState:
        """Replace the node's data with a fresh pg_basebackup of ``source``."""

    async def follow(self, region: str, source: SourceServer, slot: str) -> NodeState:
        """Configure the stopped node as a standby of ``source`` through ``slot``."""

    async def start(self, region: str) -> NodeState:
        """Start the node and wait until it accepts connections."""


class HttpNodeAgent:
    """NodeAgent over the instance managers' HTTP APIs (``urls``: region -> base URL)."""

    def __init__(self, urls: dict[str, str], token: str) -> None:
        self.urls = urls
        self.headers = {"Authorization": f"Bearer {token}"}

    async def status(self, region: str) -> NodeState:
        return await self._call(region, "GET", "/status")

    async def stop(self, region: str) -> NodeState:
        return await self._call(region, "POST", "/fence")

    async def rewind(self, region: str, source: SourceServer) -> NodeState:
        return await self._call(region, "POST", "/rewind", _body(source))

    async def clone(self, region: str, source: SourceServer) -> NodeState:
        return await self._call(region, "POST", "/clone", _body(source))

    async def follow(self, region: str, source: SourceServer, slot: str) -> NodeState:
        return await self._call(region, "POST", "/follow", {**_body(source), "slot": slot})

    async def start(self, region: str) -> NodeState:
        return await self._call(region, "POST", "/start")

    async def _call(
        self, region: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> NodeState:
        timeout = httpx.Timeout(COMMAND_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                response = await http.request(
                    method, self.urls[region] + path, json=body, headers=self.headers
                )
        except httpx.HTTPError as exc:
            raise AgentError(f"{region}'s instance manager unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise AgentError(f"{region} {path}: {response.status_code} {response.text[-1500:]}")
        found: NodeState = response.json()
        return found


def _body(source: SourceServer) -> dict[str, Any]:
    return {"host": source.host, "port": source.port}
