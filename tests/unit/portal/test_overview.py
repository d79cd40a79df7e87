"""The unit's period table, from the registry's periods and intake's report summaries."""

from __future__ import annotations

from datetime import datetime

from services.portal.overview import unit_period_rows
from shared.clock import VN_TZ
from shared.contracts.api.intake import ReportSummary
from shared.contracts.api.registry import PeriodView

NOW = datetime(2023, 6, 5, 10, tzinfo=VN_TZ)


def period(period_id: str, status: str = "open", expected: list[str] | None = None) -> PeriodView:
    return PeriodView.model_validate(
        {
            "period_id": period_id,
            "title": period_id,
            "kind": "six_month",
            "year": 2023,
            "form_id": "dvcq-dinh-ky",
            "form_version": "2023.1",
            "status": status,
            "due_at": "2023-06-09T17:00:00+00:00",
            "expected_units": expected if expected is not None else ["18115", "18118"],
            "expected_unit_details": [
                {
                    "code": "18118",
                    "name": "UBND phường Nam Hồng",
                    "kind": "ward",
                    "display_order": 2,
                },
                {
                    "code": "18115",
                    "name": "UBND phường Bắc Hồng",
                    "kind": "ward",
                    "display_order": 1,
                },
            ],
            "version": 1,
            "scope": {"all": True},
        }
    )


def report(status: str, **extra: object) -> ReportSummary:
    return ReportSummary.model_validate(
        {
            "report_id": "r1",
            "period_id": "P",
            "unit_code": "18115",
            "unit_name": "UBND phường Bắc Hồng",
            "status": status,
            "version": 1,
            "form_id": "dvcq-dinh-ky",
            "form_version": "2023.1",
            "first_submitted_at": "2023-06-05T03:00:00+00:00",
            "submitted_at": "2023-06-05T03:00:00+00:00",
            "on_time": True,
            "review": None,
            "withdrawn_at": None,
            **extra,
        }
    )


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
    def action(r: ReportSummary) -> str | None:
        return unit_period_rows([period("P")], [r], "18115", NOW)[0].action

    assert action(report("submitted")) == "amend"
    assert action(report("accepted")) is None
    assert action(report("withdrawn")) == "resend"
    review = {
        "decision": "returned",
        "reason": "Thiếu mục 4",
        "version": 1,
        "reviewed_by": "pnv",
        "reviewed_at": "2023-06-05T04:00:00+00:00",
    }
    returned = report("returned", review=review)
    [row] = unit_period_rows([period("P")], [returned], "18115", NOW)
    assert row.action == "revise"
    assert row.return_reason == "Thiếu mục 4"


def test_of_a_withdrawn_and_a_newer_report_the_newest_submission_is_the_units() -> None:
    old = report("withdrawn", report_id="r-old", withdrawn_at="2023-06-05T04:00:00+00:00")
    new = report("submitted", report_id="r-new", submitted_at="2023-06-05T05:00:00+00:00")
    for order in ([old, new], [new, old]):
        [row] = unit_period_rows([period("P")], order, "18115", NOW)
        assert row.report is not None and row.report.report_id == "r-new"
        assert row.action == "amend"
