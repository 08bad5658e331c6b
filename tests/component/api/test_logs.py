"""Access-log files into system_logs (idempotent, gzip too), and /api/logs/summary on them."""

from __future__ import annotations

import gzip
from pathlib import Path

import asyncpg
import httpx
import pytest

from tier0.accesslogs.load import load_files
from tier0.stack.postgres import wait_replayed
from tier0_simulators.logs import write_log

from .conftest import Database

pytestmark = pytest.mark.component

GOOD = [
    '10.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /api/sites HTTP/1.1" 200 512 "-" "curl/8" 1500',
    '10.0.0.2 - - [25/Nov/2026:10:00:01 +0000] "GET /.env HTTP/1.1" 404 12 "-" "scan" 300',
    '10.0.0.2 - - [25/Nov/2026:10:00:01 +0000] "GET /.env HTTP/1.1" 404 12 "-" "scan" 300',
    '10.0.0.3 - - [25/Nov/2026:10:00:02 +0000] "POST /api/devices HTTP/1.1" 503 - "-" "x" 90000',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
]
BROKEN = {
    "this is not a log line": "unparseable",
    '10.0.0.9 - - [25/Nov/2026:10:00:03 +0000] "GET /cut': "unparseable",
    '999.0.0.1 - - [25/Nov/2026:10:00:03 +0000] "GET / HTTP/1.1" 200 1': "bad_ip",
    '10.0.0.9 - - [31/Foo/2026:10:00:03 +0000] "GET / HTTP/1.1" 200 1': "bad_timestamp",
    '10.0.0.9 - - [25/Nov/2026:10:00:03 +0000] "-" 408 -': "bad_request_line",
}


async def test_good_lines_load_once_and_broken_ones_are_dead_lettered(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "access.log.gz"
    with gzip.open(path, "wt") as stream:
        stream.write("\n".join([*GOOD[:2], *BROKEN, *GOOD[2:]]) + "\n")
    async with asyncpg.create_pool(database.primary, min_size=1, max_size=2) as pool:
        await pool.execute("TRUNCATE system_logs")
        first = await load_files(pool, paths=[path])
        second = await load_files(pool, paths=[path])
        rows = await pool.fetch("SELECT host(ip) AS ip, status, latency_ms FROM system_logs")
        letters = await pool.fetch(
            "SELECT convert_from(raw, 'UTF8') AS line, reason, topic FROM dead_letters"
            " WHERE source = 'logs' AND topic LIKE $1 || '%'",
            str(path),
        )
    assert (first.inserted, first.dead_lettered, first.lines) == (5, 5, 10)
    assert (second.inserted, second.already_loaded) == (0, 5)
    assert len(rows) == 5  # the twin /.env lines stay two requests
    assert sorted(r["latency_ms"] or 0 for r in rows) == [0, 0.3, 0.3, 1.5, 90.0]
    reasons = {r["line"]: r["reason"].split(":")[0] for r in letters}
    assert reasons == BROKEN  # once each, even after the second load
    assert {r["topic"] for r in letters} == {f"{path}:{n}" for n in range(3, 8)}


async def test_summary_of_simulated_traffic(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "traffic.log"
    write_log(lines=3000, output=path, seed=5, broken=0.01)
    async with asyncpg.create_pool(database.primary, min_size=1, max_size=2) as pool:
        await pool.execute("TRUNCATE system_logs")
        report = await load_files(pool, paths=[path])
        errors_by_ip = await pool.fetch(
            "SELECT host(ip) AS ip, count(*) AS n FROM system_logs WHERE status >= 400"
            " GROUP BY ip ORDER BY n DESC, ip LIMIT 3"
        )
    assert report.inserted + report.dead_lettered == 3000
    assert report.dead_lettered > 0
    await wait_replayed(database.primary, database.replica)  # the API reads from the replica

    summary = (await client.get("/api/logs/summary", params={"top": 3})).json()
    assert summary["requests"] == report.inserted
    assert sum(summary["status_codes"].values()) == report.inserted
    assert summary["status_codes"]["200"] > report.inserted / 2
    assert [(i["ip"], i["errors"]) for i in summary["top_error_ips"]] == [
        (r["ip"], r["n"]) for r in errors_by_ip
    ]
    assert 0 < summary["error_rate"] < 1
    assert summary["latency_ms"]["p50"] < summary["latency_ms"]["p99"]
