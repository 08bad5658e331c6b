"""Helpers for the ingest tests: consumers that clean up after themselves, and row counting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from tier0.common.mqtt import MqttEndpoint, forget_session
from tier0.common.schemas.telemetry import TOPIC_PREFIX
from tier0.consumers.mqtt import ConsumerConfig, MqttConsumer

WAIT_SECONDS = 30.0


@dataclass
class Consumers:
    """Starts consumers in this test's own shared group; stops them and forgets their sessions."""

    endpoint: MqttEndpoint
    pool: asyncpg.Pool
    group: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}")
    running: list[tuple[MqttConsumer, asyncio.Event, asyncio.Task[None]]] = field(
        default_factory=list
    )
    client_ids: set[str] = field(default_factory=set)

    def config(self, name: str = "a", **options: float) -> ConsumerConfig:
        client_id = f"{self.group}-{name}"
        self.client_ids.add(client_id)
        subscription = f"$share/{self.group}/{TOPIC_PREFIX}/#"
        return ConsumerConfig(client_id=client_id, subscription=subscription, **options)  # type: ignore[arg-type]

    async def start(self, name: str = "a", **options: float) -> MqttConsumer:
        consumer = MqttConsumer(
            endpoint=self.endpoint, pool=self.pool, config=self.config(name, **options)
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        self.running.append((consumer, stop, task))
        await wait_for(lambda: _connected(consumer), what="consumer connected")
        return consumer

    async def stop(self, consumer: MqttConsumer) -> None:
        for entry in list(self.running):
            if entry[0] is consumer:
                entry[1].set()
                await entry[2]
                self.running.remove(entry)

    async def close(self) -> None:
        for consumer, *_ in list(self.running):
            await self.stop(consumer)
        for client_id in self.client_ids:
            await asyncio.to_thread(forget_session, self.endpoint, client_id)


async def _connected(consumer: MqttConsumer) -> bool:
    return consumer.heartbeat.status().healthy


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, what: str, seconds: float = WAIT_SECONDS
) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not await condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds} s waiting for {what}") from None


async def count(pool: asyncpg.Pool, table: str) -> int:
    value = await pool.fetchval(f"SELECT count(*) FROM {table}")
    return int(value)


async def wait_for_rows(pool: asyncpg.Pool, expected: int, seconds: float = WAIT_SECONDS) -> None:
    """Until device_telemetry + dead_letters hold ``expected`` rows (fails if it overshoots)."""

    async def done() -> bool:
        total = await count(pool, "device_telemetry") + await count(pool, "dead_letters")
        assert total <= expected, f"{total} rows for {expected} messages"
        return total == expected

    await wait_for(done, what=f"{expected} rows", seconds=seconds)
