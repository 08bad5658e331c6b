"""Data for the dashboard to show: simulated devices and readings, user sessions, processed site
images, and a Tier0Region after a switchover, all written the way the real components write."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
from pymongo import AsyncMongoClient

from tier0.common.schemas.sessions import Region, UserAction, UserEvent
from tier0.images.process import process_directory
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.sessions.store import upsert_sessions
from tier0_simulators.fleet import FAULT, WARNING, Fleet
from tier0_simulators.registry import seed_registry

PER_TYPE = 40  # 4 devices per site and type
READINGS = 20
EVERY_SECONDS = 30
SILENT = 6  # devices whose readings stopped long ago: offline


async def seed_fleet(dsn: str) -> int:
    """Registry, then READINGS readings per device over the last minutes; returns the rows."""
    fleet = Fleet(per_type=PER_TYPE, seed=7)
    fleet.health[::9], fleet.health[4::11] = FAULT, WARNING
    now = datetime.now(UTC)
    rows = []
    for step in range(READINGS):
        at = now - timedelta(seconds=EVERY_SECONDS * (READINGS - step))
        devices = np.arange(fleet.size)
        if step > 2:  # the first SILENT devices stop reporting early on
            devices = devices[SILENT:]
        stamp = at.isoformat().replace("+00:00", "Z")
        for _, payload in fleet.readings(devices, stamp):
            m = json.loads(payload)
            status = m["status"]
            rows.append((m["device_id"], m["device_type"], m["site_id"], at,
                         json.dumps(m["metrics"]), status["state"], status["code"]))  # fmt: skip
    conn = await asyncpg.connect(dsn)
    try:
        await seed_registry(conn, per_type=PER_TYPE)
        await conn.copy_records_to_table(
            "device_telemetry",
            records=rows,
            columns=["device_id", "device_type", "site_id", "timestamp_utc", "metrics", "state",
                     "status_code"],
        )  # fmt: skip
        await upsert_sessions(conn, events=session_events(now))
    finally:
        await conn.close()
    return len(rows)


def session_events(now: datetime) -> list[UserEvent]:
    plans = [[UserAction.LOGIN], [UserAction.LOGIN, UserAction.IDLE],
             [UserAction.LOGIN, UserAction.LOGOUT]]  # fmt: skip
    events = []
    for n in range(60):
        session, region = uuid.uuid4(), list(Region)[n % len(Region)]
        for seq, action in enumerate(plans[n % 3 if n % 5 else 0]):
            events.append(
                UserEvent(event_id=uuid.uuid4(), session_id=session, user_id=f"user_{n:04d}",
                          region=region, event=action, seq=seq, timestamp=now)
            )  # fmt: skip
    return events


async def seed_images(url: str, database: str, images: Path, embedder: LocalOnnxEmbedder) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        await process_directory(images, collection=client[database]["images"], embedder=embedder)
    finally:
        await client.close()


async def drop_images(url: str, database: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        await client.drop_database(database)
    finally:
        await client.close()
