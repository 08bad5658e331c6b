"""Request and response models, one Base / Create / Public family per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from tier0.images.model import Gear

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


class SeriesPoint(BaseModel):
    t: Annotated[datetime, Field(description="Start of the bucket")]
    avg: float
    min: float
    max: float
    readings: int


class SeriesPublic(BaseModel):
    site_id: str
    device_type: str
    metric: str
    points: list[SeriesPoint]


class TelemetryStatusPublic(BaseModel):
    devices: int
    offline: Annotated[int, Field(description="No reading for offline_after_seconds (or none)")]
    offline_after_seconds: int
    by_state: Annotated[dict[str, int], Field(description="The others, by latest state")]


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


# --- site images ------------------------------------------------------------------------------
class ImageBase(BaseModel):
    """Where and when an image was taken, and what its detections say about gear."""

    site_id: str
    device_type: str
    device_id: str
    camera_id: str
    captured_at: datetime
    workers: int
    compliance_score: Annotated[float | None, Field(description="0-100; null without workers")]
    missing: Annotated[list[Gear], Field(description="Gear not covered for every worker")]


class ImagePublic(ImageBase):
    image_id: Annotated[str, Field(description="sha256 of the image bytes")]
    file_name: str
    format: str
    width: int
    height: int
    size_bytes: int
    detector: Annotated[str, Field(description="name/version of the detector")]
    detections: int
    safety: dict[str, bool]
    gear_counts: dict[str, int]
    description: str | None = None
    embedding_model: str | None = None
    processed_at: datetime | None = None


class SiteCompliancePublic(BaseModel):
    site_id: Annotated[str, Field(description='The site, or "*" for all matching images')]
    images: int
    images_with_workers: int
    workers: int
    fully_compliant: int
    average_score: float | None
    missing: Annotated[dict[str, int], Field(description="Images missing each kind of gear")]


class ComplianceSummaryPublic(BaseModel):
    overall: SiteCompliancePublic
    sites: Annotated[list[SiteCompliancePublic], Field(description="Worst average score first")]


# --- failover (the Tier0Region) ----------------------------------------------------------------
class FromResource(BaseModel):
    """Read from the resource's camelCase fields; served in this API's snake_case."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True
    )


class ConditionPublic(FromResource):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_transition_time: datetime | None = None


class FailoverRunPublic(FromResource):
    """A switchover or failover: in progress (``step`` set) or the last one (``total_seconds``)."""

    from_region: Annotated[str | None, Field(validation_alias="from")] = None
    to_region: Annotated[str | None, Field(validation_alias="to")] = None
    reason: Annotated[str | None, Field(description="planned or primary-lost")] = None
    started_at: datetime | None = None
    epoch: int | None = None
    step: Annotated[str | None, Field(description="Next step to run (in progress only)")] = None
    total_seconds: Annotated[float | None, Field(description="RTO: start to validated write")] = (
        None
    )
    steps: Annotated[dict[str, float], Field(description="Seconds each finished step took")] = {}


class RegionStatusPublic(FromResource):
    """The Tier0Region: what is asked (``desired_region``) and what is (``active_region``)."""

    name: str
    namespace: str
    regions: list[str]
    desired_region: Annotated[str, Field(description="spec.activeRegion")]
    active_region: Annotated[str | None, Field(description="status.activeRegion")] = None
    phase: str | None = None
    epoch: int | None = None
    generation: int | None = None
    observed_generation: int | None = None
    replication_lag_bytes: int | None = None
    primary_lsn: str | None = None
    conditions: list[ConditionPublic] = []
    failover: Annotated[FailoverRunPublic | None, Field(description="In progress, if any")] = None
    last_failover: FailoverRunPublic | None = None


class FailoverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: Annotated[
        str,
        Field(
            min_length=1,
            max_length=63,
            pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
            description="The region to make active",
        ),
    ]


class FailoverAccepted(BaseModel):
    from_region: str | None
    to_region: str
    epoch: Annotated[
        int,
        Field(description="status.epoch once this switchover is done; poll GET /api/failover"),
    ]


class RegionEventPublic(BaseModel):
    type: str | None
    reason: str | None
    message: str | None
    count: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    source: str | None


# --- health ----------------------------------------------------------------------------------
class DependencyStatus(BaseModel):
    status: Literal["up", "down", "disabled"]
    latency_ms: float | None = None
    error: str | None = None


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded", "down"]
    dependencies: dict[str, DependencyStatus]
