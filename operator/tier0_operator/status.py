"""The one way the operator writes ``status``: skip no-op writes, an Event per transition."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tier0_operator.conditions import FALSE, TRUE, ConditionType, Phase, Reason
from tier0_operator.engine.plan import now_iso
from tier0_operator.kube import KubeApi, ObjectRef

# Event reason of a finished failover step; the message names the step and its seconds.
STEP_COMPLETED = "StepCompleted"


@dataclass(frozen=True)
class Condition:
    type: ConditionType
    status: bool
    reason: Reason
    message: str = ""


class StatusWriter:
    """Holds the last status written (seeded from the object) and patches only differences."""

    def __init__(self, api: KubeApi, ref: ObjectRef, current: Mapping[str, Any]) -> None:
        self.api = api
        self.ref = ref
        self.current: dict[str, Any] = copy.deepcopy(dict(current))

    async def write(
        self,
        *,
        phase: Phase | None = None,
        conditions: tuple[Condition, ...] = (),
        **fields: Any,
    ) -> None:
        """Set ``phase``, ``conditions`` and any other status ``fields`` (None deletes one)."""
        patch = {k: v for k, v in fields.items() if self.current.get(k) != v}
        merged, transitions, touched = self._merge_conditions(conditions)
        if transitions or touched:
            patch["conditions"] = merged
        if phase is not None and self.current.get("phase") != phase.value:
            patch["phase"] = phase.value
        if not patch:
            return
        completed = finished_steps(self.current.get("failover"), patch.get("failover"))
        await self.api.patch_status(self.ref, patch)
        self._remember(patch)
        await self._announce(patch, transitions, completed)

    async def step_failed(self, reason: str, message: str) -> None:
        """A step failed: Ready=False/StepFailed with ``message``, and one Warning Event."""
        failed = Condition(ConditionType.READY, False, Reason.STEP_FAILED, message)
        await self.write(conditions=(failed,))
        await self.api.event(self.ref, reason, message, warning=True)

    def _merge_conditions(
        self, wanted: tuple[Condition, ...]
    ) -> tuple[list[dict[str, Any]], list[Condition], bool]:
        """The conditions with ``wanted`` applied, which of them transitioned (status or reason
        changed), and whether only a message changed (no new lastTransitionTime then)."""
        existing = {c["type"]: c for c in self.current.get("conditions") or []}
        changed, touched = [], False
        for condition in wanted:
            status = TRUE if condition.status else FALSE
            old = existing.get(condition.type.value)
            if old and (old["status"], old["reason"]) == (status, condition.reason.value):
                if old.get("message", "") != condition.message:
                    existing[condition.type.value] = {**old, "message": condition.message}
                    touched = True
                continue
            changed.append(condition)
            existing[condition.type.value] = {
                "type": condition.type.value,
                "status": status,
                "reason": condition.reason.value,
                "message": condition.message,
                "lastTransitionTime": now_iso(),
            }
        return sorted(existing.values(), key=lambda c: str(c["type"])), changed, touched

    def _remember(self, patch: Mapping[str, Any]) -> None:
        for key, value in patch.items():
            if value is None:
                self.current.pop(key, None)
            else:
                self.current[key] = copy.deepcopy(value)

    async def _announce(
        self, patch: Mapping[str, Any], transitions: list[Condition], completed: list[str]
    ) -> None:
        """An Event per phase change, condition transition and completed step."""
        if "phase" in patch:
            await self.api.event(self.ref, "Phase", f"phase is now {patch['phase']}")
        for c in transitions:
            if c.reason is Reason.STEP_FAILED:
                continue  # step_failed() sends its own Warning, named after the failure
            text = f"{c.type.value}={TRUE if c.status else FALSE} ({c.reason.value}) {c.message}"
            warning = c.reason is Reason.PRIMARY_UNREACHABLE
            await self.api.event(self.ref, c.type.value, text.strip(), warning=warning)
        for text in completed:
            await self.api.event(self.ref, STEP_COMPLETED, text)


def finished_steps(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """One line per step ``after`` (status.failover) records that ``before`` did not, in order."""
    if not after:
        return []
    same_plan = before is not None and before.get("epoch") == after.get("epoch")
    known = (before or {}).get("steps") or {} if same_plan else {}
    plan = f"{after['from']} -> {after['to']}, epoch {after['epoch']}"
    return [
        f"{step} completed in {seconds:g} s ({plan})"
        for step, seconds in (after.get("steps") or {}).items()
        if step not in known
    ]
