"""User-activity events as published by the user simulator and read by the RabbitMQ consumer."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    APAC = "APAC"


class SessionState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    DISCONNECTED = "disconnected"


class UserAction(StrEnum):
    LOGIN = "login"
    ACTIVE = "active"
    IDLE = "idle"
    LOGOUT = "logout"


STATE_AFTER = {
    UserAction.LOGIN: SessionState.ACTIVE,
    UserAction.ACTIVE: SessionState.ACTIVE,
    UserAction.IDLE: SessionState.IDLE,
    UserAction.LOGOUT: SessionState.DISCONNECTED,
}


class UserEvent(BaseModel):
    """One step of a session. ``seq`` counts the session's events from 0 (the login)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID
    session_id: UUID
    user_id: Annotated[str, Field(min_length=1, max_length=64)]
    region: Region
    event: UserAction
    seq: Annotated[int, Field(ge=0, lt=2**31)]
    timestamp: AwareDatetime

    @property
    def state(self) -> SessionState:
        return STATE_AFTER[self.event]
