"""The Kubernetes API calls the operator makes outside kopf's own: status, Events, spec, Secret,
and the routing labels. The kubernetes client is synchronous, so each call runs in a thread.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tier0_operator.model import GROUP, KIND, PLURAL, RW_SERVICE_PORT, VERSION, Credentials

T = TypeVar("T")
ROLE_LABEL = "tier0.io/role"
REGION_LABEL = "tier0.io/region"
COMPONENT_SELECTOR = "app.kubernetes.io/component=postgres"
PRIMARY_REGION_ANNOTATION = "tier0.io/primary-region"
PRIMARY_ADDRESS_ANNOTATION = "tier0.io/primary-address"


def load_api_client() -> client.ApiClient:
    """In-cluster credentials when running in a pod, else $KUBECONFIG (local mode, tests)."""
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


def _labels(obj: Any) -> dict[str, str]:
    return dict(obj.metadata.labels or {})


async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


@dataclass(frozen=True)
class ObjectRef:
    """The Tier0Region being reconciled."""

    namespace: str
    name: str
    uid: str


class KubeApi:
    """Thin async wrappers over the kubernetes client for one operator process."""

    def __init__(self, api: client.ApiClient) -> None:
        self.client = api
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)

    async def patch_status(self, ref: ObjectRef, patch: Mapping[str, Any]) -> None:
        await _call(
            self.custom.patch_namespaced_custom_object_status,
            GROUP, VERSION, ref.namespace, PLURAL, ref.name, {"status": dict(patch)},
        )  # fmt: skip

    async def patch_spec(self, ref: ObjectRef, patch: Mapping[str, Any]) -> None:
        await _call(
            self.custom.patch_namespaced_custom_object,
            GROUP, VERSION, ref.namespace, PLURAL, ref.name, {"spec": dict(patch)},
        )  # fmt: skip

    async def remove_annotation(self, ref: ObjectRef, key: str) -> None:
        await _call(
            self.custom.patch_namespaced_custom_object,
            GROUP, VERSION, ref.namespace, PLURAL, ref.name,
            {"metadata": {"annotations": {key: None}}},
        )  # fmt: skip

    async def event(self, ref: ObjectRef, reason: str, message: str, warning: bool = False) -> None:
        now = datetime.now(UTC)
        body = {
            "metadata": {"generateName": f"{ref.name}.", "namespace": ref.namespace},
            "involvedObject": {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": KIND,
                "name": ref.name,
                "namespace": ref.namespace,
                "uid": ref.uid,
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": "tier0-operator"},
        }
        await _call(self.core.create_namespaced_event, ref.namespace, body)

    async def credentials(self, namespace: str, secret: str) -> Credentials:
        found = await _call(self.core.read_namespaced_secret, secret, namespace)
        data = {k: base64.b64decode(v).decode() for k, v in (found.data or {}).items()}
        return Credentials(
            superuser=data.get("superuser-username", "postgres"),
            superuser_password=data["superuser-password"],
            replication_user=data.get("replication-username", "replicator"),
            replication_password=data["replication-password"],
            redis_password=data.get("redis-password"),
            instance_token=data["instance-token"],
        )


class KubeRouter:
    """Moves ``tier0.io/role`` between the regions' pods and Services; keeps the -rw Service.

    Pods and Services of a region carry ``tier0.io/region=<name>`` and
    ``app.kubernetes.io/component=postgres``. The -rw Service selects
    ``tier0.io/role=primary`` pods; in local mode (servers are processes, no pods) the labelled
    objects are selectorless Services, and the -rw Service's annotations name the primary.
    """

    def __init__(self, api: KubeApi, namespace: str, rw_service: str, addresses: dict[str, str]):
        self.api, self.namespace, self.rw_service, self.addresses = (
            api, namespace, rw_service, addresses,
        )  # fmt: skip
        self._seen: list[Any] | None = None  # the pods as last listed or patched in this plan

    async def demote(self, regions: Sequence[str]) -> None:
        """The fence step takes the role off the fenced primary's pods while it stops, so that
        routing (while clients wait) has only the new primary's label left to set."""
        self._seen = await self._relabel(await self._pods(), self.api.core.patch_namespaced_pod,
                                         [("replica", regions)])  # fmt: skip

    async def promote(self, region: str) -> None:
        """The promote step labels the target's pods primary while the server finishes
        promoting, from the pods as the fence's ``demote`` left them; only if none of another
        region is labelled primary there (else ``route`` does it, in order)."""
        if self._seen is None or any(
            _labels(p).get(ROLE_LABEL) == "primary" and _labels(p).get(REGION_LABEL) != region
            for p in self._seen
        ):
            return
        self._seen = await self._relabel(self._seen, self.api.core.patch_namespaced_pod,
                                         [("primary", [region])])  # fmt: skip

    async def route(self, *, primary: str, replicas: Sequence[str]) -> None:
        roles = [("replica", replicas), ("primary", [primary])]
        # step 6a: the pods first (-rw selects them), demoted before promoted, so the -rw
        # Service never selects two servers.
        await self._relabel(await self._pods(), self.api.core.patch_namespaced_pod, roles)
        # step 6b: the regions' Services carry the role too.
        services = await _call(
            self.api.core.list_namespaced_service,
            self.namespace,
            label_selector=COMPONENT_SELECTOR,
        )
        await self._relabel(services.items, self.api.core.patch_namespaced_service, roles)
        # step 6c: the -rw Service selects the role, and says where the primary is.
        await self._ensure_rw_service(primary)

    async def _pods(self) -> list[Any]:
        pods = await _call(
            self.api.core.list_namespaced_pod, self.namespace, label_selector=COMPONENT_SELECTOR
        )
        return list(pods.items)

    async def _relabel(
        self,
        items: Sequence[Any],
        patch: Callable[..., Any],
        roles: Sequence[tuple[str, Sequence[str]]],
    ) -> list[Any]:
        """Give each of ``roles``' regions' objects among ``items`` that role, in order; the
        objects as they are afterwards (a vanished one dropped)."""
        after = {_name(obj): obj for obj in items}
        for role, regions in roles:
            for name, obj in list(after.items()):
                labels = _labels(obj)
                if labels.get(REGION_LABEL) in regions and labels.get(ROLE_LABEL) != role:
                    body = {"metadata": {"labels": {ROLE_LABEL: role}}}
                    try:
                        after[name] = await _call(patch, name, self.namespace, body)
                    except ApiException as exc:
                        if exc.status != 404:
                            raise
                        del after[name]  # gone since the list: a recreated pod is labelled on sight
        return list(after.values())

    async def _ensure_rw_service(self, primary: str) -> None:
        annotations = {
            PRIMARY_REGION_ANNOTATION: primary,
            PRIMARY_ADDRESS_ANNOTATION: self.addresses[primary],
        }
        body = {
            "metadata": {"name": self.rw_service, "annotations": annotations},
            "spec": {
                "selector": {"app.kubernetes.io/component": "postgres", ROLE_LABEL: "primary"},
                "ports": [{"name": "postgres", "port": RW_SERVICE_PORT, "targetPort": 5432}],
            },
        }
        try:
            await _call(
                self.api.core.patch_namespaced_service, self.rw_service, self.namespace, body
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            await _call(self.api.core.create_namespaced_service, self.namespace, body)
