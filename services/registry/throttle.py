"""Slowing down password guessing, without I/O: failures lead to locks that double in length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free, how long the first lock lasts, its cap, and how long a
    quiet spell must be before earlier failures are forgotten."""

    free_failures: int = 5
    base_lock: timedelta = timedelta(seconds=2)
    max_lock: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(minutes=15)

    def lock_for(self, failures: int) -> timedelta:
        """The lock after this many consecutive failures: none, then base, 2×base, 4×base, …"""
        if failures < self.free_failures:
            return timedelta(0)
        exponent = min(failures - self.free_failures, 30)
        lock: timedelta = min(self.base_lock * (2**exponent), self.max_lock)
        return lock


@dataclass(frozen=True)
class FailureRecord:
    """What is remembered about one username or client address."""

    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


def after_failure(
    policy: ThrottlePolicy, record: FailureRecord | None, now: datetime
) -> FailureRecord:
    """The record after one more failure."""
    failures = 1
    if record is not None and now - record.last_failure_at < policy.forget_after:
        failures = record.failures + 1
    lock = policy.lock_for(failures)
    return FailureRecord(failures, now, now + lock if lock else None)


def retry_after(record: FailureRecord | None, now: datetime) -> timedelta | None:
    """How long the caller must wait, or None when an attempt is allowed now."""
    if record is None or record.locked_until is None or record.locked_until <= now:
        return None
    return record.locked_until - now


@dataclass(frozen=True)
class ThrottleKey:
    """A counter (per username, API key or client address) and the policy it follows."""

    key: str
    policy: ThrottlePolicy


def longest_wait(
    keys: list[ThrottleKey], records: dict[str, FailureRecord], now: datetime
) -> timedelta | None:
    """How long the caller must still wait over all its counters, None when allowed now."""
    waits = [retry_after(records.get(k.key), now) for k in keys]
    return max((w for w in waits if w is not None), default=None)
