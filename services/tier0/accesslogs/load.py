"""Bulk, idempotent loads of access-log files (plain or gzip) into ``system_logs``.

Lines are COPYed into a temporary table and moved with ``ON CONFLICT (line_key) DO NOTHING``,
one transaction per batch, so a re-run (or a crash half-way and a re-run) inserts each line
exactly once. Lines that do not parse go to ``dead_letters`` with the reason and ``file:line``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tier0.common.logging import get_logger
from tier0.common.schemas.accesslog import AccessLogEntry, parse_line
from tier0.db.dead_letters import DeadLetter, record_dead_letters

log = get_logger(__name__)

SOURCE = "logs"
BATCH_LINES = 5000
GZIP_MAGIC = b"\x1f\x8b"
COLUMNS = (
    "line_key", "ip", "ts", "method", "path", "protocol", "status", "bytes",
    "referrer", "user_agent", "latency_ms", "source",
)  # fmt: skip
STAGE_SQL = """
CREATE TEMP TABLE system_logs_stage (
    line_key bytea, ip inet, ts timestamptz, method text, path text, protocol text,
    status smallint, bytes bigint, referrer text, user_agent text, latency_ms double precision,
    source text
) ON COMMIT DROP
"""
MOVE_SQL = f"""
INSERT INTO system_logs ({", ".join(COLUMNS)})
SELECT {", ".join(COLUMNS)} FROM system_logs_stage
ON CONFLICT (line_key) DO NOTHING
"""


@dataclass
class LoadReport:
    lines: int = 0
    inserted: int = 0
    already_loaded: int = 0
    dead_lettered: int = 0
    files: list[str] = field(default_factory=list)

    def add(self, other: LoadReport) -> None:
        self.lines += other.lines
        self.inserted += other.inserted
        self.already_loaded += other.already_loaded
        self.dead_lettered += other.dead_lettered
        self.files += other.files


def line_key(line: str, occurrence: int) -> bytes:
    """Same line, same place among its identical twins in the file → same key."""
    return hashlib.sha256(f"{occurrence}\0{line}".encode()).digest()


def read_lines(path: Path) -> Iterator[bytes]:
    """Raw lines of a plain or gzip file (detected by content, not by name)."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    with gzip.open(path, "rb") if compressed else path.open("rb") as stream:
        for raw in stream:
            yield raw.rstrip(b"\r\n")


@dataclass
class _Batch:
    rows: list[tuple[object, ...]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + len(self.letters)


def _row(entry: AccessLogEntry, key: bytes, source: str) -> tuple[object, ...]:
    return (
        key, entry.ip, entry.ts, entry.method, entry.path, entry.protocol, entry.status,
        entry.bytes, entry.referrer, entry.user_agent, entry.latency_ms, source,
    )  # fmt: skip


async def _flush(pool: asyncpg.Pool, batch: _Batch, report: LoadReport) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(STAGE_SQL)
        await conn.copy_records_to_table("system_logs_stage", records=batch.rows, columns=COLUMNS)
        status = await conn.execute(MOVE_SQL)
        await record_dead_letters(conn, letters=batch.letters, skip_known=True)
    inserted = int(status.split()[-1])
    report.inserted += inserted
    report.already_loaded += len(batch.rows) - inserted
    report.dead_lettered += len(batch.letters)


async def load_file(
    pool: asyncpg.Pool, *, path: Path, batch_lines: int = BATCH_LINES
) -> LoadReport:
    """Load one file; returns what happened to its lines."""
    report = LoadReport(files=[str(path)])
    seen: Counter[str] = Counter()
    batch = _Batch()
    for number, raw in enumerate(read_lines(path), start=1):
        if not raw.strip():
            continue
        report.lines += 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            parsed: AccessLogEntry | str = f"bad_encoding: {exc.reason} at byte {exc.start}"
        else:
            parsed = parse_line(line)
        if isinstance(parsed, str):
            batch.letters.append(DeadLetter(SOURCE, raw, parsed, f"{path}:{number}"))
        else:
            seen[line] += 1
            batch.rows.append(_row(parsed, line_key(line, seen[line]), str(path)))
        if len(batch) >= batch_lines:
            await _flush(pool, batch, report)
            batch = _Batch()
    if len(batch):
        await _flush(pool, batch, report)
    log.info("access log loaded", path=str(path), lines=report.lines, inserted=report.inserted,
             already_loaded=report.already_loaded, dead_lettered=report.dead_lettered)  # fmt: skip
    return report


async def load_files(pool: asyncpg.Pool, *, paths: list[Path]) -> LoadReport:
    total = LoadReport()
    for path in paths:
        total.add(await load_file(pool, path=path))
    return total
