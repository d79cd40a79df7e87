"""The unit's period table and the dashboard's completeness, from backend JSON."""

from __future__ import annotations

from datetime import datetime

from services.portal.overview import (
    completeness_from_reports,
    completeness_view,
    unit_period_rows,
    with_withdrawals,
)
from shared.clock import VN_TZ

NOW = datetime(2023, 6, 5, 10, tzinfo=VN_TZ)


def period(period_id: str, status: str = "open", expected: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    return {
        "period_id": period_id,
        "title": period_id,
        "kind": "six_month",
        "status": status,
        "due_at": "2023-06-09T17:00:00+00:00",
        "expected_units": expected if expected is not None else ["18115", "18118"],
        "expected_unit_details": [
            {"code": "18118", "name": "UBND phường Nam Hồng", "kind": "ward", "display_order": 2},
            {"code": "18115", "name": "UBND phường Bắc Hồng", "kind": "ward", "display_order": 1},
        ],
    }


def report(status: str, **extra: object) -> dict:  # type: ignore[type-arg]
    return {
        "report_id": "r1",
        "period_id": "P",
        "unit_code": "18115",
        "status": status,
        "version": 1,
        "submitted_at": "2023-06-05T03:00:00+00:00",
        "on_time": True,
        **extra,
    }


def test_a_unit_sees_only_the_periods_that_ask_it_with_the_next_step() -> None:
    rows = unit_period_rows(
        [period("P"), period("Q", expected=["18118"]), period("R", status="closed")],
        [],
        "18115",
        NOW,
    )
    assert [r.period_id for r in rows] == ["P", "R"]
    assert rows[0].action == "new"
    assert rows[0].deadline is not None and rows[0].deadline.countdown == "còn 4 ngày"
    assert rows[1].action is None


def test_the_next_step_follows_the_report_state() -> None:
    def action(r: dict) -> str | None:  # type: ignore[type-arg]
        return unit_period_rows([period("P")], [r], "18115", NOW)[0].action

    assert action(report("submitted")) == "amend"
    assert action(report("accepted")) is None
    assert action(report("withdrawn")) == "resend"
    returned = report("returned", review={"decision": "returned", "reason": "Thiếu mục 4"})
    [row] = unit_period_rows([period("P")], [returned], "18115", NOW)
    assert row.action == "revise"
    assert row.return_reason == "Thiếu mục 4"


def test_without_consolidation_completeness_is_rebuilt_in_registry_order() -> None:
    view = completeness_from_reports(
        period("P"),
        [report("returned", on_time=False), report("withdrawn", unit_code="18118")],
    )
    assert view.source == "intake"
    assert [u.code for u in view.units] == ["18115", "18118"]
    assert (view.expected, view.submitted, view.on_time, view.late) == (2, 1, 0, 1)
    assert view.awaiting_revision == 1
    assert view.missing == [{"code": "18118", "name": "UBND phường Nam Hồng"}]
    assert view.rates["submitted"] == 0.5
    assert [(k.label, k.expected, k.missing) for k in view.by_kind] == [("Phường", 2, 1)]


def test_a_minimal_completeness_answer_is_enough() -> None:
    view = completeness_view(
        {
            "expected": 3,
            "submitted": 1,
            "on_time": 0,
            "late": 1,
            "missing": [{"code": "a", "name": "A"}],
        }
    )
    assert view.missing_count == 1
    assert view.units == [] and view.by_kind == []
    assert view.status == "open"


def test_a_withdrawn_report_reads_đã_rút_with_its_link_and_still_counts_as_missing() -> None:
    withdrawn = report("withdrawn", report_id="r-old", withdrawn_at="2023-06-05T04:00:00+00:00")
    view = completeness_from_reports(period("P"), [withdrawn])
    bac_hong = next(u for u in view.units if u.code == "18115")
    assert (bac_hong.state, bac_hong.report_id, bac_hong.on_time) == ("withdrawn", "r-old", None)
    assert view.submitted == 0 and view.missing_count == 2


def test_consolidations_missing_unit_is_marked_withdrawn_from_intakes_list() -> None:
    raw = {
        "period_id": "P",
        "units": [
            {"code": "18115", "name": "Bắc Hồng", "state": "missing"},
            {"code": "18118", "name": "Nam Hồng", "state": "submitted", "report_id": "r2"},
        ],
        "missing": [{"code": "18115", "name": "Bắc Hồng"}],
    }
    older = report("withdrawn", report_id="r-a", withdrawn_at="2023-06-04T01:00:00+00:00")
    newer = report("withdrawn", report_id="r-b", withdrawn_at="2023-06-05T01:00:00+00:00")
    resent = report("withdrawn", report_id="r-c", unit_code="18118")
    view = with_withdrawals(completeness_view(raw), [newer, older, resent])
    assert [(u.state, u.report_id) for u in view.units] == [
        ("withdrawn", "r-b"),
        ("submitted", "r2"),  # sent again after withdrawing: the current report counts
    ]
    assert view.missing_count == 1
