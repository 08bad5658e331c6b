"""Request and response models, one Base / Create / Public family per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

DeviceType = Literal["turbine", "thermal_engine", "electrical_rotor", "oil_gas"]
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- devices ---------------------------------------------------------------------------------
class DeviceBase(BaseModel):
    device_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    device_type: DeviceType
    site_id: Annotated[str, Field(min_length=1, max_length=32)]
    model: Annotated[str | None, Field(max_length=64)] = None
    installed_at: datetime | None = None


class DeviceCreate(DeviceBase):
    model_config = ConfigDict(extra="forbid")


class Reading(BaseModel):
    timestamp_utc: datetime
    state: str
    status_code: str
    metrics: dict[str, Any]


class DevicePublic(DeviceBase):
    latest: Reading | None = None


class TelemetryPublic(BaseModel):
    device_id: str
    start: datetime
    end: datetime
    readings: list[Reading]


# --- sites -----------------------------------------------------------------------------------
class SiteBase(BaseModel):
    site_id: str
    name: str
    region: str


class SitePublic(SiteBase):
    devices: int
    devices_by_type: dict[str, int]
    devices_by_state: dict[str, int]
    last_reading_at: datetime | None


# --- user sessions ---------------------------------------------------------------------------
class SessionBase(BaseModel):
    session_id: UUID
    user_id: str
    region: str
    state: str


class SessionPublic(SessionBase):
    login_at: datetime | None
    logout_at: datetime | None
    last_event_at: datetime


class SessionCounts(BaseModel):
    total: int
    by_state: dict[str, int]
    by_region: dict[str, int]
    by_region_state: dict[str, dict[str, int]]


class UsersPublic(BaseModel):
    counts: SessionCounts
    sessions: Page[SessionPublic]


# --- access logs -----------------------------------------------------------------------------
class IpErrors(BaseModel):
    ip: str
    errors: int
    requests: int


class PathErrors(BaseModel):
    path: str
    errors: int


class LogSummaryPublic(BaseModel):
    start: datetime | None
    end: datetime | None
    requests: int
    error_rate: float
    status_codes: dict[str, int]
    top_error_ips: list[IpErrors]
    top_error_paths: list[PathErrors]
    latency_ms: dict[str, float | None]


# --- health ----------------------------------------------------------------------------------
class DependencyStatus(BaseModel):
    status: Literal["up", "down", "disabled"]
    latency_ms: float | None = None
    error: str | None = None


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded", "down"]
    dependencies: dict[str, DependencyStatus]
