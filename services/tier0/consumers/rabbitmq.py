"""RabbitMQ consumer: user-activity events from ``user_activity_queue`` into ``user_sessions``.

Messages are taken in small batches (up to the prefetch window), validated, and written in one
PostgreSQL transaction; only after the commit are they acknowledged. Messages that can never be
used are recorded in ``dead_letters`` (same transaction) and then rejected without requeue, so
RabbitMQ routes them through the dead-letter exchange. When PostgreSQL is unavailable the batch
is returned to the queue and the consumer backs off; the upsert makes re-delivery harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError

from tier0.common.http import Heartbeat
from tier0.common.logging import get_logger
from tier0.common.postgres import DATA_ERRORS, TRANSIENT_ERRORS
from tier0.common.schemas.session_queue import QUEUE, declare_topology
from tier0.common.schemas.sessions import UserEvent
from tier0.db.dead_letters import DeadLetter, record_dead_letters
from tier0.sessions.store import upsert_sessions

log = get_logger(__name__)

SOURCE = "rabbitmq"
# Any other PostgreSQL error than DATA_ERRORS (where the message is at fault and a retry would
# fail forever) requeues the batch, as do the transient client-side errors of a failover.
REQUEUE_ERRORS = (asyncpg.PostgresError, *TRANSIENT_ERRORS)
RETRY_BACKOFF_MAX = 5.0
IDLE_BEAT_SECONDS = 5.0  # an idle consumer still reports itself alive this often

MESSAGES = Counter(
    "tier0_rabbitmq_messages_total",
    "User-activity messages by outcome (committed, dead_lettered, requeued, ack_lost)",
    ["outcome"],
)
# Every outcome exported from the start: a panel of lost acks reads 0 until one happens.
for _outcome in ("committed", "dead_lettered", "requeued", "ack_lost"):
    MESSAGES.labels(outcome=_outcome)
SESSIONS_CHANGED = Counter(
    "tier0_rabbitmq_sessions_changed_total", "user_sessions rows inserted or moved forward"
)
BATCH_SECONDS = Histogram(
    "tier0_rabbitmq_batch_seconds",
    "Time from a batch's first message to its acknowledgement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CONNECTED = Gauge("tier0_rabbitmq_consuming", "1 while the consumer holds a consuming channel")


@dataclass(frozen=True)
class Rejected:
    message: AbstractIncomingMessage
    reason: str


def parse_event(body: bytes) -> UserEvent | str:
    """The event in ``body``, or the reason it cannot be one."""
    try:
        return UserEvent.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
        if errors[0]["type"] == "json_invalid":
            return f"invalid_json: {errors[0]['msg']}"
        detail = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in errors[:3]
        )
        return f"schema: {detail}"


class SessionConsumer:
    """Consumes one queue until ``stop`` is set, then drains what it already received."""

    def __init__(
        self,
        *,
        amqp_url: str,
        pool: asyncpg.Pool,
        queue: str = QUEUE,
        prefetch: int = 200,
        batch_size: int = 100,
        batch_wait: float = 0.05,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.amqp_url = amqp_url
        self.pool = pool
        self.queue_name = queue
        self.prefetch = prefetch
        self.batch_size = min(batch_size, prefetch)
        self.batch_wait = batch_wait
        self.ready = asyncio.Event()
        self.heartbeat = heartbeat or Heartbeat(ttl_seconds=3 * IDLE_BEAT_SECONDS)
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        # connect_robust reconnects with its own backoff and re-declares the queue and the
        # consumer on the new channel; messages of the old channel simply come again.
        connection = await aio_pika.connect_robust(self.amqp_url, reconnect_interval=1.0)
        connection.close_callbacks.add(self._on_connection_lost)
        connection.reconnect_callbacks.add(self._on_reconnected)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            queue = await declare_topology(channel, self.queue_name)
            tag = await queue.consume(self._inbox.put)
            self._on_reconnected(connection)
            self.ready.set()
            log.info("consuming", queue=self.queue_name, prefetch=self.prefetch)
            while not stop.is_set():
                batch = await self._collect(stop)
                if batch:
                    await self.process(batch)
                elif not connection.is_closed:
                    self.heartbeat.beat()
            with contextlib.suppress(aio_pika.exceptions.AMQPError, RuntimeError):
                await queue.cancel(tag)
            await self._drain()
        finally:
            CONNECTED.set(0)
            await connection.close()

    def _on_connection_lost(self, _: object, exc: BaseException | None = None) -> None:
        CONNECTED.set(0)
        self.heartbeat.fail(f"broker connection lost: {exc!r}")

    def _on_reconnected(self, _: object) -> None:
        CONNECTED.set(1)
        self.heartbeat.beat()

    async def _collect(self, stop: asyncio.Event) -> list[AbstractIncomingMessage]:
        """Wait for a first message (or ``stop``, or the idle beat), then fill the batch."""
        getter = asyncio.ensure_future(self._inbox.get())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait(
            {getter, stopper}, timeout=IDLE_BEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        stopper.cancel()
        if not getter.done():
            getter.cancel()
            return []
        batch = [getter.result()]
        deadline = asyncio.get_running_loop().time() + self.batch_wait
        while len(batch) < self.batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                batch.append(await asyncio.wait_for(self._inbox.get(), max(remaining, 0)))
            except TimeoutError:
                break
        return batch

    async def _drain(self) -> None:
        """Process what was delivered before the consumer was cancelled (SIGTERM path)."""
        pending: list[AbstractIncomingMessage] = []
        while not self._inbox.empty():
            pending.append(self._inbox.get_nowait())
        for start in range(0, len(pending), self.batch_size):
            await self.process(pending[start : start + self.batch_size])

    async def process(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        """Commit a batch to PostgreSQL, then acknowledge (or reject) every message of it."""
        started = asyncio.get_running_loop().time()
        good: list[tuple[AbstractIncomingMessage, UserEvent]] = []
        bad: list[Rejected] = []
        for message in messages:
            parsed = parse_event(message.body)
            if isinstance(parsed, str):
                bad.append(Rejected(message, parsed))
            else:
                good.append((message, parsed))
        try:
            await self._commit([e for _, e in good], bad)
        except DATA_ERRORS as exc:
            await self._isolate(messages, exc)
            return
        except REQUEUE_ERRORS as exc:
            await self._requeue(messages, exc)
            return
        self._failures = 0
        self.heartbeat.beat()
        for message, _ in good:
            await self._settle(message, "committed")
        for rejected in bad:
            log.warning(
                "dead-lettered", reason=rejected.reason, message_id=rejected.message.message_id
            )
            await self._settle(rejected.message, "dead_lettered")
        BATCH_SECONDS.observe(asyncio.get_running_loop().time() - started)

    async def _commit(self, events: list[UserEvent], bad: list[Rejected]) -> None:
        letters = [DeadLetter(SOURCE, r.message.body, r.reason, self.queue_name) for r in bad]
        async with self.pool.acquire() as conn, conn.transaction():
            changed = await upsert_sessions(conn, events=events)
            await record_dead_letters(conn, letters=letters)
        SESSIONS_CHANGED.inc(changed)

    async def _isolate(self, messages: Sequence[AbstractIncomingMessage], exc: Exception) -> None:
        """A valid-looking message the database refused: find it by retrying one at a time."""
        if len(messages) > 1:
            for message in messages:
                await self.process([message])
            return
        reason = f"refused by PostgreSQL: {exc.__class__.__name__}: {exc}"
        try:
            await self._commit([], [Rejected(messages[0], reason)])
        except REQUEUE_ERRORS as again:
            await self._requeue(messages, again)
            return
        await self._settle(messages[0], "dead_lettered")

    async def _requeue(self, messages: Sequence[AbstractIncomingMessage], exc: Exception) -> None:
        self._failures += 1
        self.heartbeat.fail(f"postgres unavailable: {exc.__class__.__name__}")
        delay = min(RETRY_BACKOFF_MAX, 0.1 * 2**self._failures)
        log.warning("postgres unavailable; requeueing", error=str(exc), retry_in=delay)
        for message in messages:
            await self._settle(message, "requeued")
        await asyncio.sleep(delay)

    async def _settle(self, message: AbstractIncomingMessage, outcome: str) -> None:
        """Ack, reject or requeue; a closed channel means RabbitMQ will deliver it again."""
        try:
            if outcome == "committed":
                await message.ack()
            elif outcome == "dead_lettered":
                await message.reject(requeue=False)
            else:
                await message.nack(requeue=True)
        except (aio_pika.exceptions.AMQPError, OSError, RuntimeError) as exc:
            MESSAGES.labels(outcome="ack_lost").inc()
            log.info("settle failed; message will be redelivered", error=str(exc))
            return
        MESSAGES.labels(outcome=outcome).inc()
