"""Redelivery is harmless, and nothing the broker acknowledged is lost across its restart."""

from __future__ import annotations

import asyncio
import socket
import threading

import asyncpg
import paho.mqtt.client as paho
import pytest

from component.ingest.helpers import Consumers, count, wait_for, wait_for_rows
from tier0.common.mqtt import MqttEndpoint, connect_properties, new_client
from tier0.consumers.telemetry import Accepted, validate
from tier0.consumers.telemetry_store import write_batch
from tier0.stack.harness import Harness
from tier0_simulators.devices import SimulationConfig, run_simulation
from tier0_simulators.fleet import Fleet
from tier0_simulators.publisher import WindowedPublisher

pytestmark = pytest.mark.component


def receive_without_acking(
    endpoint: MqttEndpoint,
    client_id: str,
    topic: str,
    expected: int,
    subscribed: threading.Event,
) -> list[paho.MQTTMessage]:
    """A consumer that crashes after its commit but before its PUBACKs: it never acks.

    ``subscribed`` is set once the broker acknowledged the subscription: what is published
    before that reaches no session.
    """
    got: list[paho.MQTTMessage] = []
    done = threading.Event()
    client = new_client(endpoint, client_id, manual_ack=True)

    def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        got.append(message)
        if len(got) == expected:
            done.set()

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.connect(endpoint.host, endpoint.port, clean_start=False, properties=connect_properties())
    client.subscribe(topic, qos=1)
    client.loop_start()
    return_value = got
    assert done.wait(20), f"received {len(got)} of {expected}"
    # Crash: drop the TCP connection without DISCONNECT, so the session keeps the messages.
    sock = client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    client.loop_stop()
    return return_value


async def test_redelivered_messages_do_not_double_rows(
    consumers: Consumers, publisher: WindowedPublisher, pool: asyncpg.Pool, endpoint: MqttEndpoint
) -> None:
    config = consumers.config("crashy")
    # Create the session, then publish while it is subscribed.
    subscribed = threading.Event()
    messages_task = asyncio.create_task(
        asyncio.to_thread(
            receive_without_acking, endpoint, config.client_id, config.subscription, 500, subscribed
        )
    )
    assert await asyncio.to_thread(subscribed.wait, 30), "the subscription was not acknowledged"
    await asyncio.to_thread(
        run_simulation, Fleet(seed=3), publisher, SimulationConfig(500, 0, cycles=1)
    )
    messages = await messages_task
    records = []
    for message in messages:
        outcome = validate(message.topic, message.payload)
        assert isinstance(outcome, Accepted)
        records.append(outcome.record)
    async with pool.acquire() as conn:
        assert await write_batch(conn, records=records) == 500  # committed, never acked

    consumer = await consumers.start("crashy")  # same client id: the session's messages return
    await wait_for(lambda: _received(consumer, 500), what="redelivery")
    assert await count(pool, "device_telemetry") == 500
    assert consumer.stats.duplicates == 500

    for message in messages:  # a publisher retrying the same readings is harmless too
        publisher.publish(message.topic, message.payload)
    publisher.wait_acked(10)
    await wait_for(lambda: _received(consumer, 1000), what="republished")
    assert await count(pool, "device_telemetry") == 500


async def _received(consumer: object, n: int) -> bool:
    return consumer.stats.received >= n


async def test_broker_restart_mid_stream_loses_no_acknowledged_message(
    stack: Harness, consumers: Consumers, publisher: WindowedPublisher, pool: asyncpg.Pool
) -> None:
    consumer = await consumers.start(batch_size=500)
    config = SimulationConfig(devices_per_cycle=500, interval_seconds=0.05, cycles=30)
    simulation = asyncio.create_task(
        asyncio.to_thread(run_simulation, Fleet(seed=4), publisher, config)
    )
    await wait_for(lambda: _received(consumer, 3000), what="stream under way")
    assert not simulation.done()
    await asyncio.to_thread(stack.mosquitto.restart)
    await simulation
    await asyncio.to_thread(publisher.wait_acked, 60)

    assert publisher.acked == publisher.published == 15000
    await wait_for_rows(pool, publisher.acked, seconds=60)
    assert await count(pool, "device_telemetry") == 15000
    assert consumer.stats.connections >= 2  # it really lost the broker mid-stream
