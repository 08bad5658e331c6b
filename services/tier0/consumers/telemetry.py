"""What the MQTT consumer does with a telemetry message: the checks it must pass, and its row.

The message itself (topic layout, payload model) is the contract in
``tier0.common.schemas.telemetry``. Validation turns raw MQTT bytes into either an ``Accepted``
row or a ``Rejected`` reason; it never raises, so one bad message cannot stop a consumer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import ValidationError
from pydantic_core import to_json

from tier0.common.fleet import DEVICE_TYPES
from tier0.common.schemas.telemetry import (
    MAX_PAYLOAD_BYTES,
    TOPIC_PREFIX,
    TelemetryMessage,
    topic_for,
)

SHARED_GROUP = "tier0"
SHARED_SUBSCRIPTION = f"$share/{SHARED_GROUP}/{TOPIC_PREFIX}/#"

MAX_FUTURE_SKEW = timedelta(minutes=5)
_MAX_FUTURE_SKEW_SECONDS = MAX_FUTURE_SKEW.total_seconds()


class RejectReason(StrEnum):
    """Why a message went to dead_letters (also the ``reason`` label of the rejected counter)."""

    OVERSIZED = "oversized"
    INVALID_JSON = "invalid_json"
    UNKNOWN_DEVICE_TYPE = "unknown_device_type"
    SCHEMA = "schema"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOPIC_MISMATCH = "topic_mismatch"
    BAD_TOPIC = "bad_topic"
    DATABASE = "database"


TelemetryRecord = tuple[str, str, str, datetime, str, str, str]
"""A ``device_telemetry`` row: device_id, device_type, site_id, timestamp_utc, metrics (JSON
text), state, status_code; the order of ``RECORD_COLUMNS``."""

RECORD_COLUMNS = (
    "device_id",
    "device_type",
    "site_id",
    "timestamp_utc",
    "metrics",
    "state",
    "status_code",
)


@dataclass(frozen=True, slots=True)
class Accepted:
    record: TelemetryRecord


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: RejectReason
    detail: str

    @property
    def text(self) -> str:
        """``"<reason>: <detail>"``, what dead_letters.reason holds."""
        return f"{self.reason.value}: {self.detail}"


def validate(topic: str, payload: bytes, *, now: datetime | None = None) -> Accepted | Rejected:
    """Check one MQTT message; the topic must name the same site, type and device as the body."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Rejected(RejectReason.OVERSIZED, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        message = TelemetryMessage.model_validate_json(payload)
    except ValidationError as exc:
        return _rejection(exc)
    now_seconds = now.timestamp() if now is not None else time.time()
    if message.timestamp_utc.timestamp() > now_seconds + _MAX_FUTURE_SKEW_SECONDS:
        return Rejected(
            RejectReason.FUTURE_TIMESTAMP,
            f"{message.timestamp_utc.isoformat()} is more than {MAX_FUTURE_SKEW} ahead",
        )
    expected = topic_for(message.site_id, message.device_type, message.device_id)
    if topic != expected:
        return Rejected(RejectReason.TOPIC_MISMATCH, f"topic {topic[:200]!r} != {expected!r}")
    return Accepted(_record(message))


def _record(message: TelemetryMessage) -> TelemetryRecord:
    return (
        message.device_id,
        message.device_type,
        message.site_id,
        message.timestamp_utc,
        to_json(message.metrics).decode(),
        message.status.state,
        message.status.code,
    )


def _rejection(exc: ValidationError) -> Rejected:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] in {"json_invalid", "json_type"}:
        return Rejected(RejectReason.INVALID_JSON, first["msg"])
    if any(e["loc"] == ("device_type",) and e["type"] == "literal_error" for e in errors):
        return Rejected(
            RejectReason.UNKNOWN_DEVICE_TYPE, "device_type is not one of " + "|".join(DEVICE_TYPES)
        )
    detail = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in errors[:3]
    )
    return Rejected(RejectReason.SCHEMA, detail)
