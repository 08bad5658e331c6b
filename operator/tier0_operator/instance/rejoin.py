"""A data directory that cannot follow its primary as it is: pg_rewind it, else clone it.

The instance manager's own rewind-or-clone, for a former primary the Tier0Region tells to
follow another region and for a standby whose history diverged from its primary's (found
before it starts, or in the server log when PostgreSQL finds out first). The same operations
as the NodeAgent's ``rewind`` and ``clone``. Every attempt is logged and kept for the status:
a node that cannot rejoin says so instead of restarting PostgreSQL forever.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from tier0_operator.engine import pg
from tier0_operator.instance import metrics
from tier0_operator.instance.history import divergence, read_primary_history
from tier0_operator.instance.postgres import CommandFailed, Following, Postgres, Source

log = structlog.get_logger(__name__)

SOURCE_ERRORS = (*pg.UNREACHABLE, asyncpg.PostgresError)


@dataclass
class RejoinAttempt:
    """One rewind-or-clone, as the status shows it."""

    reason: str  # why the data directory could not follow as it was
    method: str  # rewind | clone: what made it follow (or was being tried)
    started_at: str
    outcome: str = "running"  # running | done | failed
    error: str = ""  # why pg_rewind, or then the clone, failed


class Rejoiner:
    def __init__(self, postgres: Postgres) -> None:
        self.pg = postgres
        self.attempts = 0
        self.last: RejoinAttempt | None = None

    def status(self) -> dict[str, Any]:
        return {"rejoins": self.attempts, "lastRejoin": asdict(self.last) if self.last else None}

    async def divergence(self, source: Source) -> str | None:
        """Why the stopped data directory cannot follow ``source``; None when it can, or when
        ``source`` cannot tell (unreachable: a standby is safe to start, the log check stays)."""
        try:
            control = await self.pg.control()
        except CommandFailed as exc:
            return f"pg_controldata failed: {str(exc)[-300:]}"
        if control is None:
            return None
        try:
            conn = await self.pg.connect_source(source)
            try:
                primary = await read_primary_history(conn)
            finally:
                await conn.close()
        except SOURCE_ERRORS as exc:
            log.info("cannot compare histories with the primary", error=repr(exc)[:300])
            return None
        return divergence(control.wal, primary)

    async def rejoin(self, following: Following, reason: str, *, clone: bool = False) -> str:
        """Make the stopped data directory a standby of ``following``: pg_rewind (quick, only
        changed blocks) checked again, else a fresh pg_basebackup. The method that did it."""
        self.attempts += 1
        now = datetime.now(UTC).isoformat(timespec="seconds")
        attempt = self.last = RejoinAttempt(reason, "clone" if clone else "rewind", now)
        log.warning("cannot follow the primary as it is: rejoining", reason=reason,
                    attempt=self.attempts, method=attempt.method)  # fmt: skip
        try:
            await self._prepare_source(following)
            if attempt.method == "rewind":
                attempt.error = await self._rewind(following.source)
                attempt.method = "clone" if attempt.error else "rewind"
            if attempt.method == "clone":
                await self.pg.clone(following.source)
            self.pg.follow(following.source, following.slot)
        except (CommandFailed, *SOURCE_ERRORS) as exc:
            attempt.outcome, attempt.error = "failed", str(exc)[-500:]
            log.error("rejoin failed", attempt=self.attempts, error=attempt.error)
            raise CommandFailed(f"rejoin failed: {attempt.error}") from exc
        attempt.outcome = "done"
        log.info("rejoined", attempt=self.attempts, method=attempt.method)
        metrics.REJOINS.labels(attempt.method).inc()
        return attempt.method

    async def _prepare_source(self, following: Following) -> None:
        """A slot that keeps the WAL this node will stream; a checkpoint writes a promotion's
        timeline into pg_control, where pg_rewind reads it (else: "no rewind required")."""
        conn = await self.pg.connect_source(following.source)
        try:
            await pg.ensure_slot(conn, following.slot)
            await conn.execute("CHECKPOINT")
        finally:
            await conn.close()

    async def _rewind(self, source: Source) -> str:
        """pg_rewind onto ``source``: '' when the data directory follows it now, else why not."""
        try:
            await self.pg.rewind(source)
        except CommandFailed as exc:
            log.warning("pg_rewind failed, cloning instead", error=str(exc)[-300:])
            return str(exc)[-500:]
        still = await self.divergence(source)
        if still is not None:
            log.warning("diverged after pg_rewind, cloning instead", reason=still)
            return f"diverged after pg_rewind: {still}"
        return ""
