"""User simulator → RabbitMQ → consumer → PostgreSQL, on the real broker and database."""

from __future__ import annotations

import asyncio
import json

import aio_pika
import asyncpg
import pytest

from tier0.common.schemas.session_queue import dead_letter_queue
from tier0.stack.harness import Harness
from tier0_simulators.users import ActivityPublisher, UserPopulation, simulate_users

from .conftest import Runner, wait_for_counts


async def wait_for_rows(pool: asyncpg.Pool, simulation: asyncio.Task[UserPopulation]) -> None:
    """Until the consumer has written sessions, so the stream is under way (not merely about
    to start) when the broker restarts."""
    async with asyncio.timeout(60):
        while not await pool.fetchval("SELECT count(*) > 0 FROM user_sessions"):
            assert not simulation.done(), "the simulation ended before any session was written"
            await asyncio.sleep(0.05)


pytestmark = pytest.mark.component


async def queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        assert declared.declaration_result.message_count is not None
        return declared.declaration_result.message_count


async def test_every_simulated_session_lands_with_its_last_state(
    stack: Harness, pool: asyncpg.Pool, queue_name: str, run_consumer: Runner
) -> None:
    await pool.execute("TRUNCATE user_sessions")
    await run_consumer(queue_name)
    population = await simulate_users(
        amqp_url=stack.rabbitmq.url, users=1000, events=4000, rate=0, seed=7, queue=queue_name
    )
    expected = population.expected_counts()
    assert sum(expected.values()) == len(population.sessions) > 1000  # some logged in again
    assert {state for _, state in expected} == {"active", "idle", "disconnected"}
    assert await wait_for_counts(pool, expected) == expected
    assert await queue_depth(stack.rabbitmq.url, dead_letter_queue(queue_name)) == 0


async def test_malformed_events_are_dead_lettered_with_a_reason_and_consuming_continues(
    stack: Harness, pool: asyncpg.Pool, queue_name: str, run_consumer: Runner
) -> None:
    await pool.execute("TRUNCATE user_sessions")
    population = UserPopulation(users=50, seed=3)
    good = [population.next_event() for _ in range(200)]
    wrong_region = json.loads(good[0].model_dump_json()) | {"region": "MARS"}
    poison = [b"{not json", b"[]", json.dumps(wrong_region).encode()]
    connection = await aio_pika.connect(stack.rabbitmq.url)
    async with connection, ActivityPublisher(amqp_url=stack.rabbitmq.url, queue=queue_name) as pub:
        await pub.publish(good[:100])
        channel = await connection.channel(publisher_confirms=True)
        for body in poison:
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue_name,
            )
        await pub.publish(good[100:])
        await run_consumer(queue_name)
        expected = population.expected_counts()
        assert await wait_for_counts(pool, expected) == expected

    letters = await pool.fetch(
        "SELECT raw, reason FROM dead_letters WHERE source = 'rabbitmq' AND topic = $1", queue_name
    )
    reasons = {bytes(r["raw"]): r["reason"] for r in letters}
    assert set(reasons) == set(poison)
    assert reasons[b"{not json"].startswith("invalid_json:")
    assert reasons[b"[]"].startswith("schema:")
    assert "region" in reasons[poison[2]]
    assert await queue_depth(stack.rabbitmq.url, dead_letter_queue(queue_name)) == len(poison)
    assert await queue_depth(stack.rabbitmq.url, queue_name) == 0


async def test_broker_restart_mid_stream_loses_no_acknowledged_event(
    stack: Harness, pool: asyncpg.Pool, queue_name: str, run_consumer: Runner
) -> None:
    await pool.execute("TRUNCATE user_sessions")
    await run_consumer(queue_name)
    simulation = asyncio.create_task(
        simulate_users(
            amqp_url=stack.rabbitmq.url, users=1000, events=6000, rate=1500, seed=11,
            queue=queue_name,
        )
    )  # fmt: skip
    await wait_for_rows(pool, simulation)
    assert not simulation.done(), "the simulation must still be publishing during the restart"
    await asyncio.to_thread(stack.rabbitmq.restart)
    population = await asyncio.wait_for(simulation, 120)
    expected = population.expected_counts()
    assert await wait_for_counts(pool, expected, within=90) == expected
