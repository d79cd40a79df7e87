"""The in-memory revocation table: a later valid_after wins, sign-outs by token id, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts.registry import TokenRevocation
from shared.revocation import Revocations, epoch

NOW = datetime(2026, 12, 2, 8, 0, 0, 123456, tzinfo=UTC)


def entry(**fields: object) -> TokenRevocation:
    values: dict[str, object] = {
        "subject": "18115",
        "forget_after": NOW + timedelta(hours=1),
        "reason": "deactivated",
    }
    return TokenRevocation.model_validate(values | fields)


def test_tokens_issued_before_valid_after_are_refused_and_later_ones_are_not() -> None:
    revocations = Revocations()
    revocations.apply(entry(valid_after=NOW), now=NOW)
    assert revocations.refuses("18115", epoch(NOW) - 0.001, None)
    assert not revocations.refuses("18115", epoch(NOW), None)  # issued at the same millisecond
    assert not revocations.refuses("18115", epoch(NOW + timedelta(seconds=1)), None)
    assert not revocations.refuses("18118", epoch(NOW) - 60, None)


def test_a_later_valid_after_wins_whatever_the_order_of_arrival() -> None:
    revocations = Revocations()
    later = NOW + timedelta(minutes=5)
    revocations.apply(entry(valid_after=later), now=NOW)
    revocations.apply(entry(valid_after=NOW), now=NOW)  # an older event replayed
    assert revocations.refuses("18115", epoch(later) - 1, None)


def test_a_sign_out_refuses_only_that_token() -> None:
    revocations = Revocations()
    revocations.apply(entry(subject="pnv", token_id="abc", reason="logout"), now=NOW)
    assert revocations.refuses("pnv", epoch(NOW), "abc")
    assert not revocations.refuses("pnv", epoch(NOW) - 60, "other")


def test_entries_are_forgotten_once_their_tokens_have_expired() -> None:
    revocations = Revocations()
    revocations.apply(entry(valid_after=NOW, forget_after=NOW - timedelta(seconds=1)), now=NOW)
    assert len(revocations) == 0  # already useless: not even kept
    revocations.apply(entry(valid_after=NOW), now=NOW)
    revocations.apply(entry(subject="pnv", token_id="abc", reason="logout"), now=NOW)
    assert len(revocations) == 2
    revocations.prune(NOW + timedelta(hours=1, seconds=1))
    assert len(revocations) == 0
