"""Sign-in slow-down: free failures, then locks that double up to a cap, forgotten after a
quiet spell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.registry.throttle import ThrottlePolicy, after_failure, retry_after

POLICY = ThrottlePolicy(
    free_failures=3,
    base_lock=timedelta(seconds=2),
    max_lock=timedelta(seconds=10),
    forget_after=timedelta(minutes=15),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_locks_start_after_the_free_failures_and_double_up_to_the_cap():
    assert [POLICY.lock_for(n).total_seconds() for n in range(1, 8)] == [0, 0, 2, 4, 8, 10, 10]


def test_a_locked_counter_refuses_until_the_lock_ends():
    record = None
    for _ in range(3):
        record = after_failure(POLICY, record, T0)
    assert record is not None and record.failures == 3
    assert retry_after(record, T0) == timedelta(seconds=2)
    assert retry_after(record, T0 + timedelta(seconds=2)) is None


def test_failures_are_forgotten_after_a_quiet_spell():
    record = after_failure(POLICY, after_failure(POLICY, None, T0), T0)
    later = after_failure(POLICY, record, T0 + timedelta(minutes=16))
    assert later.failures == 1 and later.locked_until is None


def test_no_record_means_no_wait():
    assert retry_after(None, T0) is None
