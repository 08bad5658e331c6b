"""Telemetry ingest benchmark: sustained MQTT -> PostgreSQL at QoS 1, against two baselines.

Run from the repository root: ``.venv/bin/python -m benchmarks.ingest [--seconds 60]``.

It starts its own PostgreSQL (primary + streaming replica) and Mosquitto with ``tier0.stack``,
then runs three phases, each with the real ``tier0 simulate devices`` (100,000 devices, as fast
as its QoS 1 window allows) as a separate process:

* ours: ``tier0 consume mqtt`` (shared subscription, COPY batches, PUBACK after commit). The
  run ends when device_telemetry + dead_letters hold exactly the messages the broker acked;
  msg/s is that count over first publish -> last row written. Publish-to-queryable is
  ``received_at - timestamp_utc`` per row (the reading's timestamp is taken just before publish).
* bare: the same publisher and broker, a QoS 1 subscriber that only parses JSON;
* naive: a consumer that INSERTs each message on its own (autocommit); it cannot keep up, so
  its rate is the rows it wrote during a shorter publish window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table

from tier0.common.mqtt import MqttEndpoint, forget_session
from tier0.db.migrate import migrate
from tier0.stack.base import free_port
from tier0.stack.mosquitto import Mosquitto
from tier0.stack.postgres import PostgresCluster

console = Console(highlight=False)
TIER0 = str(Path(sys.executable).parent / "tier0")
OURS_CLIENT = "bench-ours"
BARE_SUBSCRIPTION = "$share/bench-bare/og/field/#"
NAIVE_TOPIC = "og/field/#"
DRAIN_TIMEOUT = 300.0
GOAL_VS_BARE = 0.8
GOAL_VS_NAIVE = 20.0


@dataclass
class Phase:
    name: str
    messages: int
    seconds: float
    simulator: dict[str, float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


@dataclass
class Stores:
    root: Path
    postgres: PostgresCluster
    mosquitto: Mosquitto

    def env(self, database: str) -> dict[str, str]:
        return {
            **os.environ,
            "TIER0_POSTGRES_DSN": self.postgres.dsn(self.postgres.primary, database),
            "TIER0_MQTT_URL": self.mosquitto.url,
            "TIER0_LOG_LEVEL": "WARNING",
        }

    def dsn(self, database: str) -> str:
        return self.postgres.dsn(self.postgres.primary, database)


def start_stores() -> Stores:
    root = Path(tempfile.mkdtemp(prefix="tier0-bench-ingest-"))
    stores = Stores(root, PostgresCluster(root / "postgres"), Mosquitto(root / "mosquitto"))
    stores.mosquitto.start()
    stores.postgres.start()
    for database in ("bench_ours", "bench_naive"):
        stores.postgres.primary.psql(f"CREATE DATABASE {database} OWNER tier0")
        asyncio.run(_migrate(stores.dsn(database)))
    return stores


async def _migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


def simulate(env: dict[str, str], seconds: float, client_id: str) -> dict[str, float]:
    """Run ``tier0 simulate devices`` for ``seconds``; its JSON totals."""
    argv = [TIER0, "simulate", "devices", "--devices-per-cycle", "100000", "--interval", "0"]
    argv += ["--duration", str(seconds), "--no-live", "--json-summary", "--client-id", client_id]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    summary: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if summary["acked"] != summary["published"]:
        raise RuntimeError(f"simulator: not everything was acked: {summary}")
    return summary


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DRAIN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _fetch(dsn: str, sql: str) -> asyncpg.Record:
    conn = await asyncpg.connect(dsn)
    try:
        row: asyncpg.Record = await conn.fetchrow(sql)
        return row
    finally:
        await conn.close()


STORED_SQL = (
    "SELECT (SELECT count(*) FROM device_telemetry) + (SELECT count(*) FROM dead_letters) AS n,"
    " extract(epoch FROM (SELECT max(received_at) FROM device_telemetry)) AS last"
)
LATENCY_SQL = (
    "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP"
    " (ORDER BY extract(epoch FROM received_at - timestamp_utc)) AS p FROM device_telemetry"
)


def run_ours(stores: Stores, seconds: float, batch_size: int) -> tuple[Phase, list[float]]:
    env, port = stores.env("bench_ours"), free_port()
    argv = [TIER0, "consume", "mqtt", "--client-id", OURS_CLIENT, "--ops-host", "127.0.0.1"]
    argv += ["--ops-port", str(port), "--batch-size", str(batch_size)]
    consumer = subprocess.Popen(argv, env=env)
    try:
        wait_until(lambda: _healthy(port), "the consumer to connect", 30)
        sim = simulate(env, seconds, "bench-pub-ours")
        dsn = stores.dsn("bench_ours")
        stored = lambda: asyncio.run(_fetch(dsn, STORED_SQL))  # noqa: E731
        wait_until(lambda: stored()["n"] >= sim["published"], "every message to be stored")
        row = stored()
        if row["n"] != sim["published"]:
            raise RuntimeError(f"{row['n']} rows for {sim['published']} messages")
        latency = list(asyncio.run(_fetch(dsn, LATENCY_SQL))["p"])
        sim.update(_batch_figures(port))
    finally:
        stop(consumer)
        forget_session(MqttEndpoint.from_url(stores.mosquitto.url), OURS_CLIENT)
    return Phase("ours", row["n"], float(row["last"]) - sim["started_at"], sim), latency


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _batch_figures(port: int) -> dict[str, float]:
    """Mean batch size and write time from the consumer's own /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(("tier0_mqtt_batch_size_", "tier0_mqtt_batch_write_seconds_")):
            values[name] = float(value)
    batches = max(values.get("tier0_mqtt_batch_size_count", 0.0), 1.0)
    return {
        "mean_batch": values.get("tier0_mqtt_batch_size_sum", 0.0) / batches,
        "mean_write_ms": 1000 * values.get("tier0_mqtt_batch_write_seconds_sum", 0.0) / batches,
    }


def run_bare(stores: Stores, seconds: float) -> Phase:
    env, status = stores.env("bench_ours"), stores.root / "bare-status.json"
    argv = [sys.executable, "-m", "benchmarks.ingest.bare", "bench-bare", BARE_SUBSCRIPTION]
    subscriber = subprocess.Popen([*argv, str(status)], env=env)
    read = lambda: json.loads(status.read_text()) if status.exists() else {"count": -1}  # noqa: E731
    try:
        wait_until(lambda: read()["count"] >= 0, "the bare subscriber", 30)
        time.sleep(1.0)  # let its SUBSCRIBE land
        sim = simulate(env, seconds, "bench-pub-bare")
        wait_until(lambda: read()["count"] >= sim["published"], "the bare subscriber to finish")
        final = read()
    finally:
        stop(subscriber)
        forget_session(MqttEndpoint.from_url(stores.mosquitto.url), "bench-bare")
    return Phase("bare", final["count"], final["last"] - sim["started_at"], sim)


def run_naive(stores: Stores, seconds: float) -> Phase:
    env = stores.env("bench_naive")
    argv = [sys.executable, "-m", "benchmarks.ingest.naive", "bench-naive", NAIVE_TOPIC]
    consumer = subprocess.Popen(argv, env=env)
    try:
        time.sleep(2.0)  # connect and subscribe
        sim = simulate(env, seconds, "bench-pub-naive")
        rows = asyncio.run(_fetch(stores.dsn("bench_naive"), STORED_SQL))["n"]
        elapsed = time.time() - sim["started_at"]
    finally:
        stop(consumer)
    return Phase("naive", rows, elapsed, sim)


def report(ours: Phase, bare: Phase, naive: Phase, latency: list[float]) -> None:
    table = Table(title="MQTT -> PostgreSQL ingest, QoS 1 (same run, same machine)")
    for column in ("pipeline", "messages", "seconds", "msg/s", "ours ÷ this", "goal"):
        table.add_column(column, justify="right" if column != "pipeline" else "left")
    goals = {"ours": "", "bare": f"≥ {GOAL_VS_BARE}", "naive": f"≥ {GOAL_VS_NAIVE:.0f}"}
    labels = {
        "ours": "ours: COPY batches, PUBACK after commit",
        "bare": "(a) bare: subscriber only parses JSON",
        "naive": "(b) naive: one INSERT per message",
    }
    for phase in (ours, bare, naive):
        ratio = ours.rate / phase.rate
        table.add_row(
            labels[phase.name],
            f"{phase.messages:,}",
            f"{phase.seconds:.1f}",
            f"{phase.rate:,.0f}",
            f"{ratio:.2f}",
            goals[phase.name],
        )
    console.print(table)
    figures = Table(title="ours: latency, accounting, simulator")
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    figures.add_row("publish -> queryable p50", f"{latency[0] * 1000:.0f} ms")
    figures.add_row("publish -> queryable p99", f"{latency[1] * 1000:.0f} ms")
    figures.add_row("messages acked by broker", f"{int(ours.simulator['published']):,}")
    figures.add_row("rows + dead letters", f"{ours.messages:,} (every message accounted for)")
    sim = ours.simulator
    publish_rate = sim["published"] / (sim["finished_at"] - sim["started_at"])
    figures.add_row("simulator publish rate", f"{publish_rate:,.0f} msg/s")
    figures.add_row("mean batch (rows per COPY)", f"{sim['mean_batch']:,.0f}")
    figures.add_row("mean batch write + commit", f"{sim['mean_write_ms']:.1f} ms")
    figures.add_row("simulator peak RSS (100K devices)", f"{ours.simulator['peak_rss_mb']:.0f} MB")
    console.print(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="publish time per phase")
    parser.add_argument("--naive-seconds", type=float, default=15.0)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the stores' data and logs")
    args = parser.parse_args()
    stores = start_stores()
    try:
        ours, latency = run_ours(stores, args.seconds, args.batch_size)
        console.print(f"ours: {ours.rate:,.0f} msg/s")
        bare = run_bare(stores, args.seconds)
        console.print(f"bare: {bare.rate:,.0f} msg/s")
        naive = run_naive(stores, min(args.naive_seconds, args.seconds))
    finally:
        stores.mosquitto.stop()
        stores.postgres.stop()
        if not args.keep:
            shutil.rmtree(stores.root, ignore_errors=True)
    report(ours, bare, naive, latency)


if __name__ == "__main__":
    main()
