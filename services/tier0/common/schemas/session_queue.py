"""The durable user-activity queue and its dead-letter exchange, declared by both sides.

Publisher and consumer each declare the queue before use (whichever starts first creates it);
RabbitMQ refuses a redeclaration whose arguments differ, so both take them from here.
"""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue

QUEUE = "user_activity_queue"


def dead_letter_exchange(queue: str) -> str:
    return f"{queue}.dlx"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


async def declare_topology(channel: AbstractChannel, queue: str = QUEUE) -> AbstractQueue:
    """Declare the work queue, its dead-letter exchange and the queue that keeps rejects.

    Rejected messages (``requeue=False``) are routed to the dead-letter exchange with their
    original routing key; the fanout exchange hands every one to ``<queue>.dead``.
    """
    dlx = await channel.declare_exchange(
        dead_letter_exchange(queue), aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead = await channel.declare_queue(dead_letter_queue(queue), durable=True)
    await dead.bind(dlx)
    work: AbstractQueue = await channel.declare_queue(
        queue, durable=True, arguments={"x-dead-letter-exchange": dead_letter_exchange(queue)}
    )
    return work
