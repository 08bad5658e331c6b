"""A switchover or failover in progress: what status.failover holds, so a restart resumes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tier0_operator.conditions import FailoverReason

PRECHECK = "precheck"
FENCE = "fence"
CATCH_UP = "catchUp"
PROMOTE = "promote"
SENTINEL = "sentinel"
ROUTING = "routing"
VALIDATE = "validate"
REJOIN = "rejoin"
DONE = "done"

# A planned switchover waits for the target to replay everything the fenced primary wrote; an
# unplanned failover cannot ask a dead primary, so it promotes what the candidate has.
# Routing before Sentinel: a Redis fault must not leave the -rw Service on the fenced primary.
PLANNED_CHAIN = (PRECHECK, FENCE, CATCH_UP, PROMOTE, ROUTING, SENTINEL, VALIDATE, REJOIN)
UNPLANNED_CHAIN = (PRECHECK, FENCE, PROMOTE, ROUTING, SENTINEL, VALIDATE, REJOIN)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Plan:
    """Move the primary from ``source`` to ``target``; ``step`` is the next step to run."""

    epoch: int
    source: str
    target: str
    reason: FailoverReason
    started_at: str = field(default_factory=now_iso)
    step: str = PRECHECK
    final_lsn: str | None = None
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def chain(self) -> tuple[str, ...]:
        return PLANNED_CHAIN if self.reason is FailoverReason.PLANNED else UNPLANNED_CHAIN

    @property
    def remaining(self) -> tuple[str, ...]:
        if self.step == DONE:
            return ()
        return self.chain[self.chain.index(self.step) :]

    def passed(self, step: str) -> bool:
        """Whether ``step`` has finished (the chain is ordered)."""
        return self.step == DONE or self.chain.index(self.step) > self.chain.index(step)

    def finished(self, step: str, seconds: float) -> Plan:
        """This plan with ``step`` recorded and the next one pending."""
        index = self.chain.index(step)
        following = self.chain[index + 1] if index + 1 < len(self.chain) else DONE
        return dataclasses.replace(
            self, step=following, steps={**self.steps, step: round(seconds, 3)}
        )

    def seconds_since_start(self) -> float:
        return (datetime.now(UTC) - parse_time(self.started_at)).total_seconds()

    def to_status(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "from": self.source,
            "to": self.target,
            "reason": self.reason.value,
            "startedAt": self.started_at,
            "step": self.step,
            "finalLsn": self.final_lsn,
            "steps": dict(self.steps),
        }

    @classmethod
    def from_status(cls, raw: Mapping[str, Any]) -> Plan:
        return cls(
            epoch=int(raw["epoch"]),
            source=raw["from"],
            target=raw["to"],
            reason=FailoverReason(raw["reason"]),
            started_at=raw["startedAt"],
            step=raw.get("step", PRECHECK),
            final_lsn=raw.get("finalLsn"),
            steps={k: float(v) for k, v in (raw.get("steps") or {}).items()},
        )
