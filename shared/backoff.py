"""The one back-off formula: tenacity's exponential wait, base · 2^(attempt − 1), capped.

Retry loops use tenacity with `Backoff.wait` (the bus connecting to NATS, the reminders'
channels); loops that are not a retry of one call (the outbox relay after a failed pass, the
launcher restarting a child, the NAK delay of a failing event) ask `Backoff.delay` for the
same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, wait_exponential


@dataclass(frozen=True)
class Backoff:
    """Waits of `base_seconds`, twice that, four times… never more than `cap_seconds`."""

    base_seconds: float
    cap_seconds: float

    @property
    def wait(self) -> wait_exponential:
        """The tenacity wait strategy."""
        return wait_exponential(multiplier=self.base_seconds, max=self.cap_seconds)

    def delay(self, attempt: int) -> float:
        """The pause after failure number `attempt` (1-based: the first waits the base)."""
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = max(int(attempt), 1)
        return float(self.wait(state))
