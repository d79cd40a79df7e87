"""One back-off formula (tenacity's): the relay, the bus, the NAK delay, the channels and the
launcher all wait base · 2^(n−1), capped; a launcher child that ran healthy starts again
from the shortest pause."""

from __future__ import annotations

from pathlib import Path

from shared.backoff import Backoff
from shared.launcher import HEALTHY_SECONDS, Child
from shared.messaging.consumer import DeliveryPolicy


def test_the_formula_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base_seconds=0.5, cap_seconds=8.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff.delay(0) == 0.5
    assert backoff.delay(10_000) == 8.0


def test_a_failing_events_nak_delay_is_the_same_formula() -> None:
    policy = DeliveryPolicy(backoff_seconds=0.5, backoff_cap_seconds=60.0)
    assert [policy.delay(n) for n in (1, 2, 3, 10)] == [0.5, 1.0, 2.0, 60.0]


def child() -> Child:
    return Child("intake", ["true"], {}, Path("/nonexistent/intake.log"))


def test_a_child_that_keeps_dying_waits_longer_each_time() -> None:
    crashing = child()
    crashing.started_at = 100.0
    pauses = []
    for _ in range(6):
        pauses.append(crashing.restart_pause(crashing.started_at + 1.0))
        crashing.started_at += 2.0
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert crashing.restarts == 6


def test_a_child_that_ran_healthy_restarts_with_the_shortest_pause() -> None:
    recovering = child()
    recovering.started_at = 100.0
    for _ in range(5):
        recovering.restart_pause(recovering.started_at + 1.0)
    assert recovering.restarts == 5
    # It ran for a healthy while, then died once more: the count starts again.
    assert recovering.restart_pause(recovering.started_at + HEALTHY_SECONDS) == 0.5
    assert recovering.restarts == 1
