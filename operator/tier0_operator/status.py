"""The one way the operator writes ``status``: skip no-op writes, an Event per transition."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tier0_operator.conditions import FALSE, TRUE, ConditionType, Phase, Reason
from tier0_operator.engine.plan import now_iso
from tier0_operator.kube import KubeApi, ObjectRef


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
        merged, transitions = self._merge_conditions(conditions)
        if transitions:
            patch["conditions"] = merged
        if phase is not None and self.current.get("phase") != phase.value:
            patch["phase"] = phase.value
        if not patch:
            return
        await self.api.patch_status(self.ref, patch)
        self._remember(patch)
        await self._announce(patch, transitions)

    def _merge_conditions(
        self, wanted: tuple[Condition, ...]
    ) -> tuple[list[dict[str, Any]], list[Condition]]:
        """The conditions list with ``wanted`` applied, and which of them changed."""
        existing = {c["type"]: c for c in self.current.get("conditions") or []}
        changed = []
        for condition in wanted:
            status = TRUE if condition.status else FALSE
            old = existing.get(condition.type.value)
            if old and (old["status"], old["reason"]) == (status, condition.reason.value):
                continue
            changed.append(condition)
            existing[condition.type.value] = {
                "type": condition.type.value,
                "status": status,
                "reason": condition.reason.value,
                "message": condition.message,
                "lastTransitionTime": now_iso(),
            }
        return sorted(existing.values(), key=lambda c: str(c["type"])), changed

    def _remember(self, patch: Mapping[str, Any]) -> None:
        for key, value in patch.items():
            if value is None:
                self.current.pop(key, None)
            else:
                self.current[key] = copy.deepcopy(value)

    async def _announce(self, patch: Mapping[str, Any], transitions: list[Condition]) -> None:
        if "phase" in patch:
            await self.api.event(self.ref, "Phase", f"phase is now {patch['phase']}")
        for c in transitions:
            text = f"{c.type.value}={TRUE if c.status else FALSE} ({c.reason.value}) {c.message}"
            warning = c.reason in (Reason.STEP_FAILED, Reason.PRIMARY_UNREACHABLE)
            await self.api.event(self.ref, c.type.value, text.strip(), warning=warning)

    async def warn(self, reason: str, message: str) -> None:
        """An Event without a status change (a step that must be retried)."""
        await self.api.event(self.ref, reason, message, warning=True)
