"""Running counters in memory: moving them one unit at a time equals counting from scratch."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from services.consolidation.domain import (
    Counters,
    Standing,
    completeness,
    recount,
    unit_standing,
)
from services.consolidation.domain.events import InMemoryProjection
from shared.contracts.intake import ReportReviewed, ReportSubmitted, ReportWithdrawn
from shared.contracts.registry import PeriodChanged
from tests.unit.consolidation.histories import (
    START,
    expected_unit,
    period_changed,
    random_history,
    report_version,
    review,
    shuffled_with_duplicates,
    withdrawal,
)


def standing_after(events: list[Any], unit_code: str) -> Standing:
    p = InMemoryProjection()
    for e in events:
        p.apply(e)
    return unit_standing(r for r in p.period_reports("P") if r.unit_code == unit_code)


@pytest.mark.parametrize("seed", range(25))
def test_moving_counters_by_each_units_change_equals_a_recount_at_every_step(seed: int) -> None:
    rng = random.Random(seed)
    events = shuffled_with_duplicates(rng, random_history(rng, "P", units=16))
    memory = InMemoryProjection()
    counters: Counters | None = None
    standings: dict[str, Standing] = {}
    for e in events:
        changed = memory.apply(e)
        period = memory.periods.get("P")
        if isinstance(e, PeriodChanged) and changed and period is not None:
            fresh = recount(period, memory.period_reports("P"))
            counters, standings = fresh.counters, dict(fresh.standings)
        elif (
            isinstance(e, ReportSubmitted | ReportWithdrawn | ReportReviewed)
            and changed
            and counters is not None
            and e.payload.unit_code in standings
        ):
            code = e.payload.unit_code
            new = unit_standing(r for r in memory.period_reports("P") if r.unit_code == code)
            counters = counters.moved(standings[code], new)
            standings[code] = new
        if period is not None:
            assert counters == recount(period, memory.period_reports("P")).counters


def test_counters_equal_the_completeness_tally_and_moving_back_restores_them() -> None:
    units = (expected_unit("A", 1), expected_unit("B", 2), expected_unit("C", 3))
    events = [
        period_changed("P", units),
        report_version("P", "A", 1),
        report_version("P", "B", 1, on_time=False),
        review("P", "B", 1, "returned"),
    ]
    p = InMemoryProjection()
    for e in events:
        p.apply(e)
    status = completeness(p.periods["P"], p.period_reports("P"))
    counters = Counters.from_tally(status.tally)
    assert counters == Counters(expected=3, submitted=2, on_time=1, late=1, awaiting_revision=1)
    assert (counters.missing, counters.ratio) == (1, status.ratio)
    accepted = Standing("accepted", True, "r")
    for old in (Standing(), Standing("submitted", False, "r"), accepted):
        assert counters.moved(old, accepted).moved(accepted, old) == counters


def test_a_unit_with_two_reports_stands_by_its_latest_current_one() -> None:
    first = report_version("P", "A", 1, report_id="r1", at=START, on_time=True)
    second = report_version("P", "A", 1, report_id="r2", at=START + timedelta(hours=1))
    late_second = report_version(
        "P", "A", 1, report_id="r2", at=START + timedelta(hours=1), on_time=False
    )
    assert standing_after([first], "A") == Standing("submitted", True, "r1")
    assert standing_after([first, late_second], "A") == Standing("submitted", False, "r2")
    # Withdrawing the newer report falls back to the older one; withdrawing both: missing,
    # with the report withdrawn last named so readers can show it.
    gone = withdrawal("P", "A", 1, report_id="r2", at=START + timedelta(days=1))
    assert standing_after([first, second, gone], "A") == Standing("submitted", True, "r1")
    both = [first, second, gone, withdrawal("P", "A", 1, report_id="r1")]
    assert standing_after(both, "A") == Standing(withdrawn_report_id="r1")


def test_a_code_listed_twice_in_the_expected_set_is_one_expected_unit() -> None:
    twice = (expected_unit("A", 1), expected_unit("B", 2), expected_unit("A", 1))
    p = InMemoryProjection()
    p.apply(period_changed("P", twice))
    result = recount(p.periods["P"], [])
    assert result.counters.expected == 2
    assert [code for code, _ in result.standings] == ["A", "B"]
