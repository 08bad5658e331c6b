"""Phases, condition types and reasons: every string the operator writes into ``status``."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    SWITCHING_OVER = "SwitchingOver"
    FAILING_OVER = "FailingOver"
    DEGRADED = "Degraded"


class ConditionType(StrEnum):
    READY = "Ready"
    REPLICATING = "Replicating"
    FENCED = "Fenced"
    FAILOVER_IN_PROGRESS = "FailoverInProgress"


class Reason(StrEnum):
    PRIMARY_WRITABLE = "PrimaryWritable"
    PRIMARY_UNREACHABLE = "PrimaryUnreachable"
    STREAMING = "Streaming"
    NOT_STREAMING = "NotStreaming"
    FENCED = "OldPrimaryFenced"
    NOT_FENCED = "NotFenced"
    SWITCHOVER = "Switchover"
    FAILOVER = "Failover"
    IDLE = "Idle"
    STEP_FAILED = "StepFailed"
    WAITING = "Waiting"
    SWITCHOVER_CANCELLED = "SwitchoverCancelled"
    SWITCHOVER_TIMED_OUT = "SwitchoverTimedOut"
    SPLIT_BRAIN = "MoreThanOneWritable"


class FailoverReason(StrEnum):
    """``lastFailover.reason``: why the primary moved."""

    PLANNED = "planned"
    PRIMARY_LOST = "primary-lost"


TRUE, FALSE = "True", "False"
