"""Seed ``sites`` and ``device_registry`` with the simulated fleet (COPY, idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from tier0.common.fleet import DEVICE_TYPES
from tier0_simulators.fleet import DEVICES_PER_TYPE, device_id, site_of

# site_id: (name, region, latitude, longitude)
SITE_DETAILS: dict[str, tuple[str, str, float, float]] = {
    "WY-ALPHA": ("Wyoming Alpha", "us-mountain", 42.87, -106.31),
    "TX-EAGLE": ("Texas Eagle Ford", "us-south", 28.75, -98.25),
    "ND-RAVEN": ("North Dakota Raven", "us-central", 47.92, -103.62),
    "CA-DELTA": ("California Delta", "us-west", 38.05, -121.73),
    "OK-BRAVO": ("Oklahoma Bravo", "us-south", 35.47, -97.52),
    "CO-SIERRA": ("Colorado Sierra", "us-mountain", 40.42, -104.71),
    "LA-GULF": ("Louisiana Gulf", "us-south", 29.95, -90.07),
    "NM-MESA": ("New Mexico Mesa", "us-mountain", 32.42, -104.23),
    "AK-NORTH": ("Alaska North Slope", "us-alaska", 70.25, -148.34),
    "MT-PEAK": ("Montana Peak", "us-mountain", 47.05, -109.63),
}
MODELS = {
    "turbine": "GT-12 Aeroderivative",
    "thermal_engine": "TE-1500 Reciprocating",
    "electrical_rotor": "ER-4160 Induction",
    "oil_gas": "OG-ESP Wellhead Pump",
}
STAGING = "device_registry_staging"
INSTALL_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)


def registry_rows(per_type: int = DEVICES_PER_TYPE) -> list[tuple[str, str, str, str, datetime]]:
    """(device_id, device_type, site_id, model, installed_at) for every simulated device."""
    return [
        (
            device_id(kind, n),
            kind,
            site_of(n, per_type),
            MODELS[kind],
            INSTALL_EPOCH + timedelta(days=(n * 7919) % 3650),
        )
        for kind in DEVICE_TYPES
        for n in range(per_type)
    ]


async def seed_registry(conn: asyncpg.Connection, per_type: int = DEVICES_PER_TYPE) -> int:
    """Insert missing sites and devices; returns how many devices were new."""
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO sites (site_id, name, region, latitude, longitude)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (site_id) DO NOTHING",
            [(site, *details) for site, details in SITE_DETAILS.items()],
        )
        await conn.execute(
            f"CREATE TEMP TABLE {STAGING} (LIKE device_registry INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        columns = ["device_id", "device_type", "site_id", "model", "installed_at"]
        await conn.copy_records_to_table(STAGING, records=registry_rows(per_type), columns=columns)
        status = await conn.execute(
            f"INSERT INTO device_registry ({', '.join(columns)})"
            f" SELECT {', '.join(columns)} FROM {STAGING} ON CONFLICT (device_id) DO NOTHING"
        )
    return int(status.rsplit(" ", 1)[-1])
