"""The unit's period table and the dashboard's completeness, from backend JSON."""

from __future__ import annotations

from datetime import datetime

from services.portal.overview import completeness_from_reports, completeness_view, unit_period_rows
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
    assert action(report("withdrawn")) == "amend"
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
