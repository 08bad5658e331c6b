"""Validation of telemetry messages: what is accepted, and the reason for everything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tier0.common.schemas.telemetry import MAX_PAYLOAD_BYTES, topic_for
from tier0.consumers.telemetry import (
    MAX_FUTURE_SKEW,
    SHARED_SUBSCRIPTION,
    Accepted,
    Rejected,
    RejectReason,
    validate,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TOPIC = topic_for("WY-ALPHA", "turbine", "TURB-00912")


def payload(**changes: object) -> bytes:
    message: dict[str, object] = {
        "device_id": "TURB-00912",
        "device_type": "turbine",
        "site_id": "WY-ALPHA",
        "timestamp_utc": "2026-01-01T11:59:59.500Z",
        "metrics": {"rpm": 3487, "inlet_temp_c": 412.6, "vibration_mm": 0.08},
        "status": {"state": "OK", "code": "TURB-OK"},
    }
    message.update(changes)
    return json.dumps({k: v for k, v in message.items() if v is not None}).encode()


def rejected(topic: str, raw: bytes) -> Rejected:
    outcome = validate(topic, raw, now=NOW)
    assert isinstance(outcome, Rejected), outcome
    return outcome


def test_a_valid_reading_becomes_a_row() -> None:
    outcome = validate(TOPIC, payload(), now=NOW)
    assert isinstance(outcome, Accepted)
    device, kind, site, stamp, metrics, state, code = outcome.record
    assert (device, kind, site, state, code) == (
        "TURB-00912",
        "turbine",
        "WY-ALPHA",
        "OK",
        "TURB-OK",
    )
    assert stamp == datetime(2026, 1, 1, 11, 59, 59, 500000, tzinfo=UTC)
    assert json.loads(metrics) == {"rpm": 3487, "inlet_temp_c": 412.6, "vibration_mm": 0.08}


def test_topic_layout_and_subscription() -> None:
    assert TOPIC == "og/field/WY-ALPHA/turbine/TURB-00912"
    assert SHARED_SUBSCRIPTION == "$share/tier0/og/field/#"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", RejectReason.INVALID_JSON),
        (b"", RejectReason.INVALID_JSON),
        (b"\xff\xfe", RejectReason.INVALID_JSON),
        (b"42", RejectReason.SCHEMA),
        (payload(device_id=None), RejectReason.SCHEMA),
        (payload(metrics={}), RejectReason.SCHEMA),
        (payload(metrics={"rpm": "3487"}), RejectReason.SCHEMA),
        (payload(metrics={"rpm": True}), RejectReason.SCHEMA),
        (payload(metrics={"rpm": None}), RejectReason.SCHEMA),
        (payload(metrics={"RPM!": 1.0}), RejectReason.SCHEMA),
        (payload(metrics={f"m{i}": 1.0 for i in range(65)}), RejectReason.SCHEMA),
        (payload(status={"state": "OK"}), RejectReason.SCHEMA),
        (payload(status={"state": "BROKEN", "code": "X"}), RejectReason.SCHEMA),
        (payload(status={"state": "OK", "code": "bad code"}), RejectReason.SCHEMA),
        (payload(timestamp_utc="2026-01-01T11:00:00"), RejectReason.SCHEMA),
        (payload(timestamp_utc="yesterday"), RejectReason.SCHEMA),
        (payload(device_id="../../etc"), RejectReason.SCHEMA),
        (payload(extra=1), RejectReason.SCHEMA),
        (payload(device_type="windmill"), RejectReason.UNKNOWN_DEVICE_TYPE),
        (payload(device_type=7), RejectReason.UNKNOWN_DEVICE_TYPE),
        (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", RejectReason.OVERSIZED),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(raw: bytes, reason: RejectReason) -> None:
    outcome = rejected(TOPIC, raw)
    assert outcome.reason is reason
    assert outcome.text.startswith(f"{reason.value}: ")
    assert outcome.detail


def test_non_finite_metrics_are_rejected() -> None:
    assert rejected(TOPIC, payload().replace(b"412.6", b"NaN")).reason is RejectReason.SCHEMA


def test_timestamps_beyond_the_allowed_skew_are_rejected() -> None:
    within = (NOW + MAX_FUTURE_SKEW - timedelta(seconds=1)).isoformat()
    beyond = (NOW + MAX_FUTURE_SKEW + timedelta(seconds=1)).isoformat()
    assert isinstance(validate(TOPIC, payload(timestamp_utc=within), now=NOW), Accepted)
    assert rejected(TOPIC, payload(timestamp_utc=beyond)).reason is RejectReason.FUTURE_TIMESTAMP


def test_the_topic_must_name_the_same_device() -> None:
    other = topic_for("TX-EAGLE", "turbine", "TURB-00912")
    assert rejected(other, payload()).reason is RejectReason.TOPIC_MISMATCH


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(validate(TOPIC, raw, now=NOW), Accepted | Rejected)


@given(st.dictionaries(st.text(max_size=8), st.none() | st.integers() | st.text(max_size=8)))
def test_arbitrary_json_objects_never_raise(document: dict[str, object]) -> None:
    assert isinstance(validate(TOPIC, json.dumps(document).encode(), now=NOW), Rejected)
