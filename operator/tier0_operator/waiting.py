"""The "not yet" states: expected, retried after a delay, never a hot loop (CNPG's ErrWaiting*).

The engine raises them; the kopf layer turns them into ``kopf.TemporaryError(delay=...)`` plus a
condition and an Event. Anything else that escapes a step is a bug or an outage and backs off too.
Each state's ``delay`` is the first retry's; consecutive failures double it up to a cap.
"""

from __future__ import annotations

# No retry waits longer than this, however many failures came before.
MAX_RETRY_DELAY = 30.0


def backoff_delay(base: float, retry: int) -> float:
    """Delay before retry number ``retry + 1``: ``base`` doubled per earlier failure, capped."""
    return float(min(base * 2 ** min(retry, 16), MAX_RETRY_DELAY))


class NotYet(Exception):
    """Base class: the step cannot finish now; retry after ``delay`` seconds."""

    delay: float = 2.0


class WaitingOnReplica(NotYet):
    """The target replica is unreachable or not streaming."""


class WaitingOnCatchUp(NotYet):
    """The target has not replayed the fenced primary's final LSN yet."""

    delay = 0.5


class WaitingOnSentinel(NotYet):
    """Sentinel has not reported the target region's Redis as master yet."""

    delay = 1.0


class WaitingOnRejoin(NotYet):
    """The old primary is not streaming from the new one yet."""


class CandidateTooFarBehind(NotYet):
    """The best candidate lags beyond maxLagBytes and no force annotation is set."""


class NoCandidate(NotYet):
    """No replica is reachable to promote."""

    delay = 3.0


class PrimaryUnfenceable(NotYet):
    """The old primary may still accept writes and could not be fenced: promoting would split."""

    delay = 3.0


class MoreThanOneWritable(NotYet):
    """Adopting: more than one region accepts writes, or one that should be a replica cannot
    be checked; the operator will not pick one."""

    delay = 3.0
