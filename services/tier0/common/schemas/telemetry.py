"""The telemetry message: its MQTT topic layout and its JSON payload.

Field devices (and the device simulator) publish one ``TelemetryMessage`` per reading on
``topic_for(site, type, device)``; the MQTT consumer parses it with the same model, so a
payload the model accepts is one the consumer stores.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from tier0.common.fleet import DeviceType

TOPIC_PREFIX = "og/field"

STATES = ("OK", "WARNING", "FAULT", "OFFLINE")

# Limits: a device reading is a few hundred bytes; anything near these is a bug or an attack.
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_METRICS = 64

IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
METRIC_NAME = r"^[a-z][a-z0-9_]{0,63}$"
STATUS_CODE = r"^[A-Z0-9][A-Z0-9_-]{0,63}$"


def topic_for(site_id: str, device_type: str, device_id: str) -> str:
    """``og/field/{site_id}/{device_type}/{device_id}``."""
    return f"{TOPIC_PREFIX}/{site_id}/{device_type}/{device_id}"


# Integers stay integers (an rpm of 3487 is stored as 3487); booleans and strings are refused.
MetricName = Annotated[str, Field(pattern=METRIC_NAME)]
Metric = StrictInt | Annotated[float, Field(strict=True, allow_inf_nan=False)]


class Status(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["OK", "WARNING", "FAULT", "OFFLINE"]
    code: Annotated[str, Field(pattern=STATUS_CODE)]


class TelemetryMessage(BaseModel):
    """One reading of one device, as published on ``og/field/{site}/{type}/{device}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: Annotated[str, Field(pattern=IDENTIFIER)]
    device_type: DeviceType
    site_id: Annotated[str, Field(pattern=IDENTIFIER)]
    timestamp_utc: AwareDatetime
    metrics: Annotated[dict[MetricName, Metric], Field(min_length=1, max_length=MAX_METRICS)]
    status: Status
