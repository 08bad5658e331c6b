"""Mosquitto: QoS 1 delivery to persistent sessions, across a broker restart."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tier0.stack.harness import Harness

pytestmark = pytest.mark.component


def _client(stack: Harness, identifier: str, protocol: aiomqtt.ProtocolVersion) -> aiomqtt.Client:
    url = urlsplit(stack.mosquitto.url)
    assert url.hostname is not None
    assert url.port is not None
    options: dict[str, object] = {}
    if protocol is aiomqtt.ProtocolVersion.V5:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600
        options = {"clean_start": False, "properties": properties}
    else:
        options = {"clean_session": False}
    return aiomqtt.Client(
        url.hostname,
        url.port,
        username=url.username,
        password=url.password,
        identifier=identifier,
        protocol=protocol,
        **options,  # type: ignore[arg-type]
    )


async def _first_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(10):
        async for message in client.messages:
            return message
    raise AssertionError("no message")


@pytest.mark.parametrize("protocol", [aiomqtt.ProtocolVersion.V311, aiomqtt.ProtocolVersion.V5])
@pytest.mark.parametrize("restart_broker", [False, True], ids=["steady", "broker-restart"])
async def test_qos1_message_reaches_offline_persistent_session(
    stack: Harness, protocol: aiomqtt.ProtocolVersion, restart_broker: bool
) -> None:
    identifier = f"sub-{uuid.uuid4().hex[:12]}"
    topic = f"og/field/TEST/turbine/{uuid.uuid4().hex[:8]}"
    async with _client(stack, identifier, protocol) as subscriber:
        await subscriber.subscribe(topic, qos=1)
    # The subscriber is offline now; its session (and subscription) lives on in the broker.
    payload = json.dumps({"device_id": "T-1", "rpm": 1500.5}).encode()
    async with _client(stack, f"pub-{uuid.uuid4().hex[:12]}", protocol) as publisher:
        await publisher.publish(topic, payload, qos=1)
    if restart_broker:
        await asyncio.to_thread(stack.mosquitto.restart)

    async with _client(stack, identifier, protocol) as subscriber:
        message = await _first_message(subscriber)
    assert message.topic.matches(topic)
    assert message.qos == 1
    assert message.payload == payload


async def test_anonymous_clients_are_refused(stack: Harness) -> None:
    url = urlsplit(stack.mosquitto.url)
    assert url.hostname is not None
    assert url.port is not None
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(url.hostname, url.port, identifier="anonymous"):
            pass
