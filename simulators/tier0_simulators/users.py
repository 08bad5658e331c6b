"""User simulator: 1,000 users log in, go active ⇄ idle and log out, across NA, EU and APAC.

Every step is a :class:`~tier0.common.schemas.sessions.UserEvent` published persistently to
the durable ``user_activity_queue`` with publisher confirms: a publish counts only once RabbitMQ
confirmed it, and unconfirmed ones are sent again after a reconnect (at-least-once; the
consumer's upsert by session and sequence number makes the repeats harmless).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import aio_pika
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection

from tier0.common.logging import get_logger
from tier0.common.schemas.session_queue import QUEUE, declare_topology
from tier0.common.schemas.sessions import STATE_AFTER, Region, SessionState, UserAction, UserEvent

log = get_logger(__name__)

USER_COUNT = 1000
PUBLISH_WINDOW = 100  # publishes in flight at once, each awaiting its confirm
# What a logged-in user does next, by current state.
NEXT_ACTION: dict[SessionState, tuple[tuple[UserAction, ...], tuple[float, ...]]] = {
    SessionState.ACTIVE: ((UserAction.IDLE, UserAction.ACTIVE, UserAction.LOGOUT), (45, 40, 15)),
    SessionState.IDLE: ((UserAction.ACTIVE, UserAction.LOGOUT), (65, 35)),
}


@dataclass
class SimulatedUser:
    user_id: str
    region: Region
    session_id: uuid.UUID | None = None
    seq: int = 0
    state: SessionState = SessionState.DISCONNECTED


@dataclass
class UserPopulation:
    """Deterministic for a given seed; remembers the last state it produced for each session."""

    users: int = USER_COUNT
    seed: int | None = None
    sessions: dict[uuid.UUID, tuple[Region, SessionState]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        regions = list(Region)
        self._people = [
            SimulatedUser(f"user_{n:04d}", self._rng.choice(regions)) for n in range(self.users)
        ]
        # Everybody logs in first (in random order), then random users act.
        self._first_logins = self._rng.sample(self._people, len(self._people))

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def next_event(self, now: datetime | None = None) -> UserEvent:
        user = self._first_logins.pop() if self._first_logins else self._rng.choice(self._people)
        if user.state is SessionState.DISCONNECTED:
            action = UserAction.LOGIN
            user.session_id, user.seq = self._uuid(), 0
        else:
            actions, weights = NEXT_ACTION[user.state]
            action = self._rng.choices(actions, weights)[0]
            user.seq += 1
        assert user.session_id is not None
        user.state = STATE_AFTER[action]
        self.sessions[user.session_id] = (user.region, user.state)
        return UserEvent(
            event_id=self._uuid(),
            session_id=user.session_id,
            user_id=user.user_id,
            region=user.region,
            event=action,
            seq=user.seq,
            timestamp=now or datetime.now(UTC),
        )

    def expected_counts(self) -> Counter[tuple[str, str]]:
        """Sessions per (region, state) once every published event has been applied."""
        return Counter((region.value, state.value) for region, state in self.sessions.values())


def to_message(event: UserEvent) -> aio_pika.Message:
    return aio_pika.Message(
        event.model_dump_json().encode(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(event.event_id),
    )


class ActivityPublisher:
    """Confirmed, persistent publishes that survive a broker restart by retrying."""

    def __init__(self, *, amqp_url: str, queue: str = QUEUE, retry_for: float = 180.0) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.retry_for = retry_for
        self.republished = 0
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None

    async def __aenter__(self) -> ActivityPublisher:
        self._connection = await aio_pika.connect_robust(self.amqp_url, reconnect_interval=1.0)
        channel = await self._connection.channel(publisher_confirms=True)
        assert isinstance(channel, AbstractRobustChannel)
        self._channel = channel
        await declare_topology(channel, self.queue)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _publish_one(self, message: aio_pika.Message) -> None:
        assert self._channel is not None
        await self._channel.default_exchange.publish(message, routing_key=self.queue, timeout=10)

    async def publish(self, events: Sequence[UserEvent]) -> None:
        """Return once RabbitMQ confirmed every event; raise if that takes over ``retry_for``."""
        pending = [to_message(e) for e in events]
        deadline = time.monotonic() + self.retry_for
        delay = 0.2
        while pending:
            results = await asyncio.gather(
                *(self._publish_one(m) for m in pending), return_exceptions=True
            )
            failed = [m for m, r in zip(pending, results, strict=True) if r is not None]
            errors = [r for r in results if isinstance(r, BaseException)]
            if any(not isinstance(e, Exception) for e in errors):
                raise next(e for e in errors if not isinstance(e, Exception))
            if failed:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(failed)} publish(es) unconfirmed: {errors[0]!r}")
                self.republished += len(failed)
                log.warning(
                    "publish not confirmed; retrying", failed=len(failed), error=repr(errors[0])
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            pending = failed


async def simulate_users(
    *,
    amqp_url: str,
    users: int = USER_COUNT,
    events: int = 0,
    rate: float = 100.0,
    seed: int | None = None,
    queue: str = QUEUE,
    stop: asyncio.Event | None = None,
) -> UserPopulation:
    """Publish ``events`` events (0: until ``stop``) at about ``rate`` per second (0: at once)."""
    population = UserPopulation(users=users, seed=seed)
    stop = stop or asyncio.Event()
    sent = 0
    started = time.monotonic()
    async with ActivityPublisher(amqp_url=amqp_url, queue=queue) as publisher:
        while not stop.is_set() and (events == 0 or sent < events):
            size = PUBLISH_WINDOW if events == 0 else min(PUBLISH_WINDOW, events - sent)
            if rate > 0:
                size = max(1, min(size, int(rate / 10) or 1))
            await publisher.publish([population.next_event() for _ in range(size)])
            sent += size
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
    log.info("user simulation done", events=sent, sessions=len(population.sessions),
             republished=publisher.republished)  # fmt: skip
    return population
