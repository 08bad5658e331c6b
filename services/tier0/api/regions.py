"""The API's view of the Tier0Region: read it, its Events, and patch ``spec.activeRegion``.

The API acts with its own credentials (its ServiceAccount in a cluster), which may get and patch
tier0regions and list Events, nothing else. The kubernetes client is synchronous, so each call
runs in a worker thread. The operator's package is not imported: the API only needs the
resource's coordinates and field names, which the CRD (crds/tier0region.yaml) fixes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tier0.common.logging import get_logger
from tier0.common.settings import Settings

log = get_logger(__name__)

GROUP, VERSION, PLURAL, KIND = "tier0.io", "v1alpha1", "tier0regions", "Tier0Region"
# A slow API server must not hold a dashboard request (or a worker thread) for long.
REQUEST_TIMEOUT_SECONDS = 5.0


class RegionError(Exception):
    """A request on the Tier0Region the API should answer with ``status``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def load_configuration(settings: Settings) -> client.Configuration | None:
    """``TIER0_KUBECONFIG``, else in-cluster credentials, else $KUBECONFIG; None if none works.

    A Configuration of its own (not the client's global default), so two apps in one process
    (tests) can talk to different clusters as different users.
    """
    configuration = client.Configuration()
    loaders: list[Callable[[], None]] = []
    if settings.kubeconfig:
        loaders.append(
            lambda: config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=settings.kubeconfig, client_configuration=configuration
            )
        )
    else:
        loaders.append(
            lambda: config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        )
        loaders.append(
            lambda: config.load_kube_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        )
    for load in loaders:
        try:
            load()
        except (config.ConfigException, OSError) as exc:
            log.debug("no kubernetes credentials here", error=str(exc)[:200])
            continue
        return configuration
    return None


def _translate(exc: ApiException, what: str) -> RegionError:
    """The API server's answer as the status this API gives its own client."""
    if exc.status == 404:
        return RegionError(404, f"{what} not found")
    if exc.status == 409:
        return RegionError(409, f"{what} changed meanwhile; read it again and retry")
    if exc.status == 422:
        return RegionError(422, f"the API server refused the change: {exc.reason}")
    if exc.status in (401, 403):
        # Our ServiceAccount lacks a permission: the deployment's fault, not the caller's.
        return RegionError(502, f"the API's ServiceAccount may not do this ({exc.status})")
    return RegionError(502, f"the Kubernetes API answered {exc.status} {exc.reason}")


class RegionClient:
    """Reads and switches one Tier0Region (``settings.region_namespace/region_name``)."""

    def __init__(self, configuration: client.Configuration, *, namespace: str, name: str) -> None:
        self.api = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(self.api)
        self.core = client.CoreV1Api(self.api)
        self.namespace, self.name = namespace, name

    @classmethod
    def from_settings(cls, settings: Settings) -> RegionClient | None:
        configuration = load_configuration(settings)
        if configuration is None:
            return None
        return cls(configuration, namespace=settings.region_namespace, name=settings.region_name)

    @property
    def what(self) -> str:
        return f"{KIND} {self.namespace}/{self.name}"

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(
                fn, *args, _request_timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
            )
        except ApiException as exc:
            raise _translate(exc, self.what) from exc
        except OSError as exc:  # urllib3's connection errors derive from it
            raise RegionError(502, f"the Kubernetes API is unreachable: {exc}"[:300]) from exc

    async def get(self) -> dict[str, Any]:
        found: dict[str, Any] = await self._call(
            self.custom.get_namespaced_custom_object,
            GROUP, VERSION, self.namespace, PLURAL, self.name,
        )  # fmt: skip
        return found

    async def set_active_region(self, region: str, *, resource_version: str) -> dict[str, Any]:
        """Patch ``spec.activeRegion``; 409 if the resource changed since ``resource_version``.

        The resourceVersion in a merge patch is a precondition: two clients switching at once
        cannot both believe they won.
        """
        body = {"metadata": {"resourceVersion": resource_version}, "spec": {"activeRegion": region}}
        patched: dict[str, Any] = await self._call(
            self.custom.patch_namespaced_custom_object,
            GROUP, VERSION, self.namespace, PLURAL, self.name, body,
        )  # fmt: skip
        return patched

    async def events(self, *, limit: int) -> list[client.CoreV1Event]:
        """The resource's Events (the operator's step transitions), newest first."""
        selector = f"involvedObject.kind={KIND},involvedObject.name={self.name}"
        found = await self._call(
            self.core.list_namespaced_event, self.namespace, field_selector=selector
        )
        items: list[client.CoreV1Event] = list(found.items)
        items.sort(key=_event_time, reverse=True)
        return items[:limit]

    async def close(self) -> None:
        await asyncio.to_thread(self.api.close)


def _event_time(event: client.CoreV1Event) -> float:
    when = event.last_timestamp or event.event_time or event.first_timestamp
    if when is None and event.metadata is not None:
        when = event.metadata.creation_timestamp
    return when.timestamp() if when is not None else 0.0
