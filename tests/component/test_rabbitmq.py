"""RabbitMQ: durable queue round trip with publisher confirms and manual acknowledgement."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from pamqp.commands import Basic

from tier0.stack.harness import Harness

pytestmark = pytest.mark.component


@pytest.fixture
async def channel(stack: Harness) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect_robust(stack.rabbitmq.url)
    async with connection:
        yield await connection.channel(publisher_confirms=True)


async def test_durable_round_trip_with_confirms_and_manual_ack(
    channel: aio_pika.abc.AbstractChannel,
) -> None:
    queue = await channel.declare_queue(f"test-{uuid.uuid4().hex}", durable=True)
    body = uuid.uuid4().bytes
    confirmation = await channel.default_exchange.publish(
        aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
        routing_key=queue.name,
    )
    assert isinstance(confirmation, Basic.Ack)

    message = await queue.get(no_ack=False, timeout=5)
    assert message.body == body
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    await message.ack()
    assert await queue.get(no_ack=False, fail=False, timeout=5) is None
    await queue.delete()


async def test_unacknowledged_message_is_redelivered(stack: Harness) -> None:
    name = f"test-{uuid.uuid4().hex}"
    first = await aio_pika.connect_robust(stack.rabbitmq.url)
    async with first:
        channel = await first.channel()
        queue = await channel.declare_queue(name, durable=True)
        await channel.default_exchange.publish(aio_pika.Message(b"work"), routing_key=name)
        taken = await queue.get(no_ack=False, timeout=5)
        assert taken.redelivered is False
    # The consumer went away without acking: the broker must hand the message out again.
    second = await aio_pika.connect_robust(stack.rabbitmq.url)
    async with second:
        channel = await second.channel()
        queue = await channel.declare_queue(name, durable=True)
        again = await queue.get(no_ack=False, timeout=5)
        assert again.body == b"work"
        assert again.redelivered is True
        await again.ack()
        await queue.delete()


async def test_wrong_credentials_are_refused(stack: Harness) -> None:
    url = stack.rabbitmq.url.replace(stack.rabbitmq.password, "wrong")
    with pytest.raises(aio_pika.exceptions.ProbableAuthenticationError):
        await aio_pika.connect(url)
