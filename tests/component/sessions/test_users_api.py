"""User simulator -> RabbitMQ -> session consumer -> PostgreSQL -> ``/api/users``, exactly.

The API reads from the streaming replica; every expectation is the simulated population's own
record of the last state it produced for each session.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
import httpx
import pytest

from component.api.conftest import Database, serve, settings_for
from tier0.common.schemas.sessions import Region, SessionState
from tier0.stack.harness import Harness
from tier0.stack.postgres import wait_replayed
from tier0_simulators.users import simulate_users

from .conftest import Runner, wait_for_counts

pytestmark = pytest.mark.component
PAGE = 50


async def get_users(api: httpx.AsyncClient, **params: str | int) -> Any:
    response = await api.get("/api/users", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_users_api_counts_every_simulated_session(
    stack: Harness, database: str, pool: asyncpg.Pool, queue_name: str, run_consumer: Runner
) -> None:
    await pool.execute("TRUNCATE user_sessions")
    await run_consumer(queue_name)
    population = await simulate_users(
        amqp_url=stack.rabbitmq.url, users=1000, events=3000, rate=0, seed=23, queue=queue_name
    )
    expected = population.expected_counts()
    assert await wait_for_counts(pool, expected) == expected
    name = urlsplit(database).path.lstrip("/")
    db = Database(name, database, stack.postgres.dsn(stack.postgres.replica, name))
    await wait_replayed(db.primary, db.replica)  # the API reads from the replica

    grid: dict[str, dict[str, int]] = defaultdict(dict)
    for (region, state), n in expected.items():
        grid[region][state] = n
    by_state, by_region = Counter[str](), Counter[str]()
    for (region, state), n in expected.items():
        by_state[state] += n
        by_region[region] += n
    assert set(by_state) == {s.value for s in SessionState}  # every state occurs

    async with serve(settings_for(stack, db)) as api:
        body = await get_users(api)
        counts = body["counts"]
        assert counts["total"] == len(population.sessions)
        assert counts["by_state"] == dict(by_state)
        assert counts["by_region"] == dict(by_region)
        assert counts["by_region_state"] == dict(grid)
        assert body["sessions"]["total"] == by_state[SessionState.ACTIVE.value]  # the default
        assert {s["state"] for s in body["sessions"]["items"]} == {SessionState.ACTIVE.value}

        for region in Region:
            for state in SessionState:
                page = await get_users(api, region=region.value, state=state.value, limit=1)
                assert page["sessions"]["total"] == expected[region.value, state.value]

        # The listed sessions are exactly the population's active EU sessions, page by page.
        wanted = {
            session
            for session, (region, state) in population.sessions.items()
            if (region, state) == (Region.EU, SessionState.ACTIVE)
        }
        assert len(wanted) > 2 * PAGE
        listed: list[UUID] = []
        while len(listed) < len(wanted):
            page = await get_users(api, region="EU", state="active", limit=PAGE, offset=len(listed))
            assert page["sessions"]["items"], "a page ran out before every session was listed"
            for item in page["sessions"]["items"]:
                assert (item["region"], item["state"]) == ("EU", "active")
                listed.append(UUID(item["session_id"]))
        assert len(listed) == len(set(listed)) == len(wanted)
        assert set(listed) == wanted
