"""Real PostgreSQL (one instance manager per region, as the pods run it) and Redis + Sentinels
for one test module, in a tmp dir, behind a Tier0Region on the real API server.

Failovers mutate them (promotions, rewinds), so these tests never share the session ``stack``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from controlplane.kube import Namespace
from tier0.stack.base import LOOPBACK, free_port, generate_password
from tier0.stack.redis import RedisGroup
from tier0_operator.instance.config import APP_DATABASE, APP_USER
from tier0_operator.instance.local import LocalInstance, Secrets
from tier0_operator.model import Credentials

GROUP, VERSION, PLURAL, NAME = "tier0.io", "v1alpha1", "tier0regions", "tier0"
REGIONS = ("region1", "region2")


@dataclass
class LocalStores:
    nodes: dict[str, LocalInstance]
    redis: RedisGroup
    secrets: Secrets

    @property
    def credentials(self) -> Credentials:
        s = self.secrets
        return Credentials(
            "postgres", s.superuser, "replicator", s.replication, self.redis.password, s.token
        )

    def secret_data(self) -> dict[str, str]:
        s = self.secrets
        return {
            "superuser-password": s.superuser,
            "replication-password": s.replication,
            "redis-password": self.redis.password,
            "instance-token": s.token,
        }

    def spec(self, active: str = "region1", **failover: Any) -> dict[str, Any]:
        """A Tier0Region spec for these processes (local mode: hosts, not Services)."""
        redis_ports = {"region1": self.redis.master_port, "region2": self.redis.replica_port}
        regions = [
            {
                "name": name,
                "postgres": {"host": LOOPBACK, "port": node.port, "agentPort": node.http_port},
                "redis": {"host": LOOPBACK, "port": redis_ports[name]},
            }
            for name, node in self.nodes.items()
        ]
        sentinels = [f"{LOOPBACK}:{port}" for port in self.redis.sentinel_ports]
        return {
            "activeRegion": active,
            "regions": regions,
            "sentinel": {"hosts": sentinels, "masterName": "tier0"},
            "failover": {"unhealthyAfterSeconds": 2, **failover},
        }

    def dsn(self, region: str, database: str = APP_DATABASE) -> str:
        node = self.nodes[region]
        return f"postgresql://{APP_USER}:{self.secrets.app}@{LOOPBACK}:{node.port}/{database}"

    def multihost_dsn(self, database: str = APP_DATABASE) -> str:
        """DSN listing every node; asyncpg picks the writable one."""
        hosts = ",".join(f"{LOOPBACK}:{n.port}" for n in self.nodes.values())
        return (
            f"postgresql://{APP_USER}:{self.secrets.app}@{hosts}/{database}"
            "?target_session_attrs=read-write"
        )

    def crash(self, region: str) -> None:
        """kill -9 the region's manager and PostgreSQL together (the pod vanishes)."""
        self.nodes[region].kill()

    def writable(self, region: str) -> bool:
        return self.nodes[region].answers("SELECT pg_is_in_recovery()") == "f"


def start_stores(root: Path, ns: Namespace) -> LocalStores:
    """Redis + Sentinels, the Secret, region objects and Tier0Region, then one instance manager
    per region: region1 initialises the database, region2 clones it."""
    secrets = Secrets(generate_password(), generate_password(), generate_password(),
                      generate_password())  # fmt: skip
    group = RedisGroup(root / "redis")
    group.start()
    nodes = {
        region: LocalInstance(
            region,
            root / region,
            free_port(),
            free_port(),
            ns.name,
            ns.kubeconfig,
            secrets,
            resource=NAME,
        )
        for region in REGIONS
    }
    stores = LocalStores(nodes, group, secrets)
    try:
        create_region_objects(ns, stores)
        for node in nodes.values():
            node.start()
        nodes["region1"].wait_role("primary")
        nodes["region2"].wait_role("replica")
    except BaseException:
        stop_stores(stores)
        raise
    return stores


def create_region_objects(ns: Namespace, stores: LocalStores) -> None:
    """The Secret, one Pod and one selectorless Service per region, and the Tier0Region."""
    core, custom = client.CoreV1Api(ns.api), client.CustomObjectsApi(ns.api)
    secret = {"metadata": {"name": "tier0-credentials"}, "stringData": stores.secret_data()}
    core.create_namespaced_secret(ns.name, secret)
    for region in REGIONS:
        labels = {"tier0.io/region": region, "app.kubernetes.io/component": "postgres"}
        meta = {"name": f"tier0-postgres-{region}", "labels": labels}
        core.create_namespaced_service(
            ns.name, {"metadata": meta, "spec": {"ports": [{"port": 5432}]}}
        )
        pod = {"name": f"postgres-{region}-0", "labels": labels}
        container = {"name": "postgres", "image": "postgres:15"}
        core.create_namespaced_pod(ns.name, {"metadata": pod, "spec": {"containers": [container]}})
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Tier0Region"}
    body |= {"metadata": {"name": NAME}, "spec": stores.spec()}
    custom.create_namespaced_custom_object(GROUP, VERSION, ns.name, PLURAL, body)


def stop_stores(stores: LocalStores) -> None:
    for node in stores.nodes.values():
        with contextlib.suppress(Exception):
            node.kill()
    stores.redis.stop()


class RecordingRouter:
    """The engine's Router for local stores (no pods): records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.demoted: list[list[str]] = []
        self.promoted: list[str] = []

    async def route(self, *, primary: str, replicas: Sequence[str]) -> None:
        self.calls.append((primary, list(replicas)))

    async def demote(self, regions: Sequence[str]) -> None:
        self.demoted.append(list(regions))

    async def promote(self, region: str) -> None:
        self.promoted.append(region)
