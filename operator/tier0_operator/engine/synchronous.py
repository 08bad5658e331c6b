"""``synchronous_standby_names`` on the primary, kept in line with ``spec.failover.synchronous``.

With ``ANY 1 (*)`` a commit returns only once a standby has flushed it, so a failover to that
standby loses nothing acknowledged. A primary whose standby is gone would then block every
commit, so the setting is cleared while no standby streams: availability wins over durability
for that window (a primary lost before its standby is back loses what it acknowledged alone).
"""

from __future__ import annotations

from tier0_operator.engine import pg
from tier0_operator.engine.runner import EngineContext
from tier0_operator.model import FailoverPolicy

# Any one standby acknowledges a commit: with two regions that is the other region.
SYNCHRONOUS_NAMES = "ANY 1 (*)"


def standby_names(policy: FailoverPolicy, standby_streams: bool) -> str:
    """What the primary's ``synchronous_standby_names`` should be (``''``: asynchronous)."""
    return SYNCHRONOUS_NAMES if policy.synchronous and standby_streams else ""


async def ensure_synchronous(ctx: EngineContext, primary: str, standby_streams: bool) -> str:
    """Apply :func:`standby_names` on ``primary`` (no-op when already set); the value set."""
    names = standby_names(ctx.spec.failover, standby_streams)
    endpoint = ctx.region(primary).postgres
    async with pg.superuser(endpoint, ctx.namespace, ctx.credentials) as conn:
        await pg.set_synchronous(conn, names)
    return names
