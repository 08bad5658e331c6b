"""MQTT telemetry consumer: `$share/tier0/og/field/#` into device_telemetry, acked on commit.

Delivery guarantee. paho runs with ``manual_ack``: a QoS 1 PUBACK is sent only after the batch
holding that message (its row, or its dead letter) is committed. A crash before the commit
leaves the message unacknowledged in our persistent session, so the broker delivers it again;
a crash between commit and PUBACK causes a redelivery that ``ON CONFLICT DO NOTHING`` absorbs.

Acks are tied to the connection that delivered the message: packet ids are per connection, so
after a reconnect an old id could name a different, uncommitted message. Every delivery records
the connection generation; the disconnect callback bumps it under the same lock that sends
acks, and acks of an older generation are dropped (the broker redelivers those messages).

Flow control: the MQTT 5 Receive Maximum bounds unacknowledged deliveries, so memory stays
bounded however far PostgreSQL falls behind.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import paho.mqtt.client as paho
from prometheus_client import Counter, Gauge, Histogram

from tier0.common import mqtt
from tier0.common.http import Heartbeat
from tier0.common.logging import get_logger
from tier0.common.postgres import DATA_ERRORS, TRANSIENT_ERRORS
from tier0.consumers.telemetry import (
    SHARED_SUBSCRIPTION,
    Accepted,
    Rejected,
    RejectReason,
    TelemetryRecord,
    validate,
)
from tier0.consumers.telemetry_store import write_batch
from tier0.db.dead_letters import DeadLetter

log = get_logger(__name__)

SOURCE = "mqtt"
QOS = 1
RETRY_BACKOFF_MAX_SECONDS = 5.0
STOP_DRAIN_SECONDS = 10.0
DEAD_LETTER_RAW_LIMIT = 64 * 1024
BAD_TOPIC = Rejected(RejectReason.BAD_TOPIC, "topic is not UTF-8")

RECEIVED = Counter("tier0_mqtt_messages_received_total", "Telemetry messages delivered")
INSERTED = Counter("tier0_mqtt_rows_inserted_total", "New device_telemetry rows committed")
DUPLICATES = Counter("tier0_mqtt_duplicates_total", "Valid messages already stored (redelivery)")
REJECTED = Counter("tier0_mqtt_messages_rejected_total", "Messages dead-lettered", ["reason"])
STALE_ACKS = Counter(
    "tier0_mqtt_stale_acks_total", "Committed messages not acked: their connection was lost"
)
BATCH_SIZE = Histogram(
    "tier0_mqtt_batch_size",
    "Messages per committed batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
)
BATCH_SECONDS = Histogram(
    "tier0_mqtt_batch_write_seconds",
    "COPY + INSERT + commit time per batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMIT_LAG = Histogram(
    "tier0_mqtt_publish_to_commit_seconds",
    "From a reading's timestamp_utc to its commit",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONNECTED = Gauge("tier0_mqtt_connected", "1 while connected to the broker")


@dataclass(frozen=True)
class ConsumerConfig:
    """``client_id`` must be stable across restarts: it names the persistent session."""

    client_id: str
    subscription: str = SHARED_SUBSCRIPTION
    batch_size: int = 2000
    flush_seconds: float = 0.2
    session_expiry: int = mqtt.SESSION_EXPIRY_SECONDS

    @property
    def receive_maximum(self) -> int:
        # Room for the batch being written plus the next one filling up; MQTT caps it at 65535.
        return min(2 * self.batch_size, 65535)


@dataclass
class Batch:
    records: list[TelemetryRecord] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    acks: list[tuple[int, int]] = field(default_factory=list)  # (generation, mid)
    sources: list[tuple[bytes, str]] = field(default_factory=list)  # raw and topic per record

    def __len__(self) -> int:
        return len(self.records) + len(self.dead_letters)


@dataclass
class ConsumerStats:
    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    connections: int = 0


class MqttConsumer:
    """Receives on paho's network thread, writes and acks from the asyncio task ``run``."""

    def __init__(
        self, *, endpoint: mqtt.MqttEndpoint, pool: asyncpg.Pool, config: ConsumerConfig
    ) -> None:
        self.config = config
        self.stats = ConsumerStats()
        self.heartbeat = Heartbeat(ttl_seconds=max(30.0, 10 * config.flush_seconds))
        self._endpoint = endpoint
        self._pool = pool
        self._batch = Batch()
        self._batch_lock = threading.Lock()
        self._ack_lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._full = asyncio.Event()
        self._client = mqtt.new_client(endpoint, config.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then write and ack what was received, and disconnect."""
        self._loop = asyncio.get_running_loop()
        properties = mqtt.connect_properties(
            session_expiry=self.config.session_expiry,
            receive_maximum=self.config.receive_maximum,
        )
        mqtt.start(self._client, self._endpoint, properties)
        log.info("mqtt consumer started", client_id=self.config.client_id)
        try:
            while not stop.is_set():
                await self._wait_for_work(stop)
                await self._flush(stop_deadline=None)
            await self._drain()
        finally:
            self._stopping = True
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            CONNECTED.set(0)
            log.info("mqtt consumer stopped", client_id=self.config.client_id, **vars(self.stats))

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._full)]
        try:
            await asyncio.wait(
                waiters, timeout=self.config.flush_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._full.clear()

    async def _drain(self) -> None:
        """On stop: keep flushing until nothing new arrives (SIGTERM grace period)."""
        deadline = time.monotonic() + STOP_DRAIN_SECONDS
        while await self._flush(stop_deadline=deadline) and time.monotonic() < deadline:
            await asyncio.sleep(self.config.flush_seconds / 4)

    # -- paho network thread -------------------------------------------------------------

    def _on_connect(
        self, client: paho.Client, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.warning("mqtt connect refused", reason=str(reason))
            return
        self._connected = True
        self.stats.connections += 1
        CONNECTED.set(1)
        self.heartbeat.beat()
        client.subscribe(self.config.subscription, qos=QOS)
        log.info("mqtt connected", session_present=bool(flags.session_present))

    def _on_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._ack_lock:
            self._generation += 1
            self._connected = False
        CONNECTED.set(0)
        self.heartbeat.fail("mqtt disconnected")
        if not self._stopping:
            log.warning("mqtt disconnected; reconnecting with backoff", reason=str(reason))

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = None
        payload = bytes(message.payload)
        outcome = validate(topic, payload) if topic is not None else BAD_TOPIC
        with self._batch_lock:
            batch = self._batch
            if isinstance(outcome, Accepted):
                batch.records.append(outcome.record)
                batch.sources.append((payload, message.topic))
            else:
                raw = payload[:DEAD_LETTER_RAW_LIMIT]
                batch.dead_letters.append(DeadLetter(SOURCE, raw, outcome.text, topic))
            if message.qos > 0:
                batch.acks.append((self._generation, message.mid))
            # Signal once per batch (it grows by one under this lock), not once per message
            # until the asyncio side takes it: each signal is a system call on that loop.
            full = len(batch) == self.config.batch_size
        if full and self._loop is not None:
            self._loop.call_soon_threadsafe(self._full.set)

    # -- asyncio side --------------------------------------------------------------------

    def _take_batch(self) -> Batch:
        with self._batch_lock:
            batch, self._batch = self._batch, Batch()
        return batch

    async def _flush(self, *, stop_deadline: float | None) -> bool:
        """Write and ack the current batch; False when there was nothing to write."""
        batch = self._take_batch()
        if not batch:
            if self._connected:
                self.heartbeat.beat()
            return False
        if await self._commit(batch, stop_deadline):
            self._ack(batch)
            self._account(batch)
        return True

    async def _commit(self, batch: Batch, stop_deadline: float | None) -> bool:
        """Commit ``batch``, retrying transient failures; False if the stop deadline passed."""
        delay = 0.1
        while True:
            started = time.perf_counter()
            try:
                async with self._pool.acquire() as conn:
                    inserted = await write_batch(
                        conn, records=batch.records, dead_letters=batch.dead_letters
                    )
            except TRANSIENT_ERRORS as exc:
                if stop_deadline is not None and time.monotonic() + delay > stop_deadline:
                    log.error("giving up on a batch at shutdown; broker will redeliver it")
                    return False
                self.heartbeat.fail(f"postgres: {exc.__class__.__name__}")
                log.warning("batch write failed; retrying", error=str(exc), delay=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_BACKOFF_MAX_SECONDS)
                continue
            except DATA_ERRORS as exc:
                log.error("batch refused by PostgreSQL; isolating the bad rows", error=str(exc))
                inserted = await self._commit_row_by_row(batch)
            BATCH_SECONDS.observe(time.perf_counter() - started)
            self.stats.inserted += inserted
            self.stats.duplicates += len(batch.records) - inserted
            INSERTED.inc(inserted)
            DUPLICATES.inc(len(batch.records) - inserted)
            return True

    async def _commit_row_by_row(self, batch: Batch) -> int:
        """Write rows one by one; those PostgreSQL refuses become dead letters. Rare and slow."""
        inserted = 0
        good: list[TelemetryRecord] = []
        async with self._pool.acquire() as conn:
            for record, (raw, topic) in zip(batch.records, batch.sources, strict=True):
                try:
                    inserted += await write_batch(conn, records=[record])
                    good.append(record)
                except DATA_ERRORS as exc:
                    reason = f"{RejectReason.DATABASE}: {exc}"
                    batch.dead_letters.append(DeadLetter(SOURCE, raw, reason, topic))
            await write_batch(conn, records=[], dead_letters=batch.dead_letters)
        batch.records = good
        return inserted

    def _ack(self, batch: Batch) -> None:
        with self._ack_lock:
            current = [mid for generation, mid in batch.acks if generation == self._generation]
            self._client.ack_many(current)
        stale = len(batch.acks) - len(current)
        if stale:
            STALE_ACKS.inc(stale)
            log.info("not acking messages of a lost connection", count=stale)

    def _account(self, batch: Batch) -> None:
        now = time.time()
        for record in batch.records:
            COMMIT_LAG.observe(max(0.0, now - record[3].timestamp()))
        for letter in batch.dead_letters:
            REJECTED.labels(letter.reason.split(":", 1)[0]).inc()
        BATCH_SIZE.observe(len(batch))
        RECEIVED.inc(len(batch))
        self.stats.received += len(batch)
        self.stats.rejected += len(batch.dead_letters)
        self.stats.batches += 1
        self.heartbeat.beat()
