"""kopf handlers: thin. Two timers per Tier0Region call the kopf-free reconcile functions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import kopf

from tier0_operator.engine.agent import HttpNodeAgent
from tier0_operator.engine.lease import KubePrimaryLease
from tier0_operator.engine.runner import EngineContext
from tier0_operator.kube import (
    COMPONENT_SELECTOR,
    REGION_LABEL,
    ROLE_LABEL,
    KubeApi,
    KubeRouter,
    ObjectRef,
)
from tier0_operator.leader import Leadership
from tier0_operator.leases import Leases, primary_lease_name
from tier0_operator.model import FORCE_ANNOTATION, GROUP, PLURAL, VERSION, Tier0RegionSpec
from tier0_operator.reconcile import RegionMemory, label_recreated_pod, observe, reconcile
from tier0_operator.status import StatusWriter
from tier0_operator.waiting import NotYet, backoff_delay

RECONCILE_INTERVAL = 0.5
OBSERVE_INTERVAL = 2.0
# First retry after an unexpected error (an outage, a bug); doubled per consecutive failure.
UNEXPECTED_ERROR_DELAY = 3.0


@dataclass(frozen=True)
class OperatorConfig:
    """What ``tier0 operator`` hands every handler through kopf's memo."""

    api: KubeApi
    leadership: Leadership
    # Every Tier0Region the timers have seen, with its spec, metadata and memory (for the
    # pod handler, which kopf calls without them).
    regions: dict[ObjectRef, tuple[kopf.Spec, kopf.Meta, RegionMemory]] = field(
        default_factory=dict
    )


@kopf.on.startup()
def configure_kopf(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Keep kopf's bookkeeping in tier0.io annotations (status is ours) and Events to warnings."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="tier0.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="tier0.io")
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 120


@kopf.timer(GROUP, VERSION, PLURAL, interval=RECONCILE_INTERVAL, backoff=UNEXPECTED_ERROR_DELAY)
async def reconcile_region(
    spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, memo: kopf.Memo, retry: int = 0,
    **_: Any,
) -> None:  # fmt: skip
    """Finish/start switchovers and watch the primary (level-triggered from status)."""
    generation = int(meta.get("generation", 0))

    async def work(ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory) -> None:
        await reconcile(ctx, api, ref, memory, generation)

    await _guarded(spec, meta, status, memo, retry, work)


@kopf.timer(GROUP, VERSION, PLURAL, interval=OBSERVE_INTERVAL, backoff=UNEXPECTED_ERROR_DELAY)
async def observe_region(
    spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, memo: kopf.Memo, retry: int = 0,
    **_: Any,
) -> None:  # fmt: skip
    """Replication lag, synchronous replication, role labels and the Ready/Replicating
    conditions."""

    async def work(ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory) -> None:
        await observe(ctx, ref, memory)

    await _guarded(spec, meta, status, memo, retry, work)


COMPONENT_KEY, COMPONENT_VALUE = COMPONENT_SELECTOR.split("=")


@kopf.on.event(
    "", "v1", "pods",
    labels={COMPONENT_KEY: COMPONENT_VALUE, REGION_LABEL: kopf.PRESENT, ROLE_LABEL: kopf.ABSENT},
)  # fmt: skip
async def label_new_postgres_pod(
    type: str | None, meta: kopf.Meta, memo: kopf.Memo, **_: Any
) -> None:
    """A PostgreSQL pod without a role label (recreated by its StatefulSet) is labelled as soon
    as it appears; the observe timer would do it only at its next run."""
    config: OperatorConfig = memo["config"]
    if type == "DELETED" or meta.get("deletionTimestamp") or not config.leadership.leading:
        return
    region = str(meta["labels"][REGION_LABEL])
    for ref, (spec, region_meta, memory) in list(config.regions.items()):
        if ref.namespace == meta["namespace"]:
            ctx = await _context(config, ref, spec, region_meta, memory)
            await label_recreated_pod(ctx, memory, region)


Work = Callable[[EngineContext, KubeApi, ObjectRef, RegionMemory], Awaitable[None]]


async def _guarded(
    spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, memo: kopf.Memo, retry: int, work: Work
) -> None:
    """Run ``work`` if this operator leads; any failure (a missing Secret included) becomes
    Ready=False/StepFailed, a Warning Event, and a retry that backs off.

    ``retry`` is kopf's count of this handler's consecutive failures (0 after a success), so
    the delay doubles per failure up to ``waiting.MAX_RETRY_DELAY``: never a hot loop.
    """
    config: OperatorConfig = memo["config"]
    if not config.leadership.leading:
        return  # another replica leads: it drives every plan
    ref = ObjectRef(str(meta["namespace"]), str(meta["name"]), str(meta["uid"]))
    if "region" not in memo:
        leases = Leases(config.api.client, ref.namespace)
        lease = KubePrimaryLease(leases, primary_lease_name(ref.name))
        memo["region"] = RegionMemory(StatusWriter(config.api, ref, dict(status)), lease)
    memory: RegionMemory = memo["region"]
    memory.annotations = dict(meta.get("annotations", {}))
    config.regions[ref] = (spec, meta, memory)
    try:
        ctx = await _context(config, ref, spec, meta, memory)
        await work(ctx, config.api, ref, memory)
    except kopf.TemporaryError:
        raise
    except Exception as exc:
        if isinstance(exc, NotYet):
            base, reason = exc.delay, type(exc).__name__
        else:
            base, reason = UNEXPECTED_ERROR_DELAY, "StepFailed"
        delay = backoff_delay(base, retry)
        message = f"{type(exc).__name__}: {exc} (retry {retry + 1} in {delay:g} s)"
        await memory.writer.step_failed(reason, message)
        raise kopf.TemporaryError(message, delay=delay) from exc


async def _context(
    config: OperatorConfig, ref: ObjectRef, spec: kopf.Spec, meta: kopf.Meta, memory: RegionMemory
) -> EngineContext:
    parsed = Tier0RegionSpec.parse(spec)
    credentials = await config.api.credentials(ref.namespace, parsed.credentials_secret)
    addresses = {
        r.name: f"{r.postgres.address(ref.namespace)}:{r.postgres.port}" for r in parsed.regions
    }
    router = KubeRouter(config.api, ref.namespace, parsed.rw_service, addresses)
    urls = {r.name: r.postgres.agent_url(ref.namespace) for r in parsed.regions}
    agent = HttpNodeAgent(urls, credentials.instance_token)
    forced = meta.get("annotations", {}).get(FORCE_ANNOTATION) == "true"
    return EngineContext(
        ref.namespace, parsed, credentials, agent, router, memory.lease, forced,
        leading=config.leadership.check,
    )  # fmt: skip
