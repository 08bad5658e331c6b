"""kopf handlers: thin. Two timers per Tier0Region call the kopf-free reconcile functions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import kopf

from tier0_operator.engine.agent import NodeAgent
from tier0_operator.engine.runner import EngineContext
from tier0_operator.kube import KubeApi, KubeRouter, ObjectRef
from tier0_operator.model import FORCE_ANNOTATION, GROUP, PLURAL, VERSION, Tier0RegionSpec
from tier0_operator.reconcile import RegionMemory, observe, reconcile
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
    agent: NodeAgent


@kopf.on.startup()
def configure_kopf(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Keep kopf's bookkeeping in tier0.io annotations (status is ours) and Events to warnings."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="tier0.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="tier0.io")
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 120


@kopf.timer(GROUP, VERSION, PLURAL, interval=RECONCILE_INTERVAL, backoff=UNEXPECTED_ERROR_DELAY)
async def reconcile_region(
    spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, memo: kopf.Memo, retry: int = 0, **_: Any
) -> None:
    """Finish/start switchovers and watch the primary (level-triggered from status)."""
    ctx, api, ref, memory = await _prepare(spec, status, meta, memo)
    generation = int(meta.get("generation", 0))
    await _guarded(memory, reconcile(ctx, api, ref, memory, generation), retry)


@kopf.timer(GROUP, VERSION, PLURAL, interval=OBSERVE_INTERVAL, backoff=UNEXPECTED_ERROR_DELAY)
async def observe_region(
    spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, memo: kopf.Memo, retry: int = 0, **_: Any
) -> None:
    """Replication lag, synchronous replication and the Ready/Replicating conditions."""
    ctx, _api, ref, memory = await _prepare(spec, status, meta, memo)
    await _guarded(memory, observe(ctx, ref, memory), retry)


async def _guarded(memory: RegionMemory, work: Awaitable[None], retry: int) -> None:
    """Any failure: Ready=False/StepFailed, a Warning Event, and a retry that backs off.

    ``retry`` is kopf's count of this handler's consecutive failures (0 after a success), so
    the delay doubles per failure up to ``waiting.MAX_RETRY_DELAY``: never a hot loop.
    """
    try:
        await work
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


async def _prepare(
    spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, memo: kopf.Memo
) -> tuple[EngineContext, KubeApi, ObjectRef, RegionMemory]:
    config: OperatorConfig = memo["config"]
    ref = ObjectRef(str(meta["namespace"]), str(meta["name"]), str(meta["uid"]))
    if "region" not in memo:
        memo["region"] = RegionMemory(StatusWriter(config.api, ref, dict(status)))
    parsed = Tier0RegionSpec.parse(spec)
    credentials = await config.api.credentials(ref.namespace, parsed.credentials_secret)
    addresses = {
        r.name: f"{r.postgres.address(ref.namespace)}:{r.postgres.port}" for r in parsed.regions
    }
    router = KubeRouter(config.api, ref.namespace, parsed.rw_service, addresses)
    forced = meta.get("annotations", {}).get(FORCE_ANNOTATION) == "true"
    ctx = EngineContext(ref.namespace, parsed, credentials, config.agent, router, forced)
    return ctx, config.api, ref, memo["region"]
