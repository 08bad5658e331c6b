"""Apply ``migrations/NNN_name.sql`` in order, once each, under an advisory lock.

Each file runs in its own transaction together with its row in ``schema_migrations``, so a
failed migration leaves nothing half-applied and a re-run applies only what is missing. The
lock makes concurrent runs (several replicas starting at once) wait instead of racing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import asyncpg

from tier0.common.logging import get_logger

log = get_logger(__name__)

# pg_advisory_lock key: any constant unique to this purpose.
MIGRATION_LOCK_KEY = 0x7131E0


@dataclass(frozen=True)
class Migration:
    """One SQL file: ``version`` is its numeric prefix, ``checksum`` guards against edits."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    """The packaged migrations, sorted by version; names must look like ``001_name.sql``."""
    found = []
    for entry in resources.files("tier0.db.migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        prefix, _, rest = entry.name.partition("_")
        if not prefix.isdigit() or not rest:
            raise ValueError(f"migration file {entry.name!r} must be named NNN_description.sql")
        found.append(Migration(int(prefix), entry.name, entry.read_text()))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise ValueError(f"duplicate migration versions in {sorted(versions)}")
    return sorted(found, key=lambda m: m.version)


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply every pending migration on ``conn``; returns the names applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"]: r for r in await conn.fetch("SELECT * FROM schema_migrations")}
        for migration in load_migrations():
            if migration.version in done:
                _check_unchanged(migration, done[migration.version]["checksum"])
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("migration applied", migration=migration.name)
            applied_now.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now


async def migrate_database(dsn: str) -> list[str]:
    """Connect to ``dsn``, apply every pending migration, disconnect; the names applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def _check_unchanged(migration: Migration, recorded: str) -> None:
    if recorded != migration.checksum:
        raise RuntimeError(
            f"migration {migration.name} changed after it was applied; add a new migration instead"
        )
