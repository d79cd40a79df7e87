"""A draft's head start: which earlier report it reads, what it copies and what it leaves."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from services.intake.prefill import EarlierReport, pick_source, prefilled
from shared.clock import VN_TZ
from shared.forms import form_for_unit, load_form
from tests.unit.forms.conftest import WARD_BODY

OLD = load_form("dvcq-dinh-ky", "2023.1")
NEW = load_form("dvcq-dinh-ky", "2023.2")
WARD_NEW = form_for_unit(NEW, "ward", set())


def _report(period_id: str, kind: str, year: int | None, due: datetime) -> EarlierReport:
    return EarlierReport(
        report_id=f"r-{period_id}",
        period_id=period_id,
        period_title=period_id,
        period_kind=kind,
        period_year=year,
        due_at=due,
        version=1,
        form_id="dvcq-dinh-ky",
        form_version="2023.1",
    )


Y2022 = _report("2022-Y", "annual", 2022, datetime(2022, 11, 25, tzinfo=VN_TZ))
H1_2023 = _report("2023-H1", "six_month", 2023, datetime(2023, 6, 10, tzinfo=VN_TZ))
# The 2022 annual report with a deadline moved past 2023-H1's (an extension).
LATE_Y2022 = _report("2022-Y", "annual", 2022, datetime(2023, 7, 1, tzinfo=VN_TZ))


def test_an_annual_report_starts_from_that_years_six_month_report() -> None:
    assert pick_source("annual", 2023, [Y2022, H1_2023]) == H1_2023
    assert pick_source("annual", 2023, [LATE_Y2022, H1_2023]) == H1_2023
    # Without one, from the most recent earlier report.
    assert pick_source("annual", 2023, [Y2022]) == Y2022
    # The year is read from the deadline when the projection does not know it.
    unknown_year = _report("2023-H1", "six_month", None, datetime(2023, 6, 10, tzinfo=VN_TZ))
    assert pick_source("annual", 2023, [LATE_Y2022, unknown_year]) == unknown_year


def test_a_six_month_report_starts_from_the_most_recent_earlier_one() -> None:
    assert pick_source("six_month", 2024, [H1_2023, LATE_Y2022]) == LATE_Y2022
    assert pick_source("six_month", 2024, []) is None


def test_only_empty_narratives_are_filled_across_versions_figures_never() -> None:
    draft: dict[str, Any] = {
        "period_id": "2023-Y",
        "sections": {
            "1": {"narrative": "Đã viết.", "indicators": {"van_ban_ban_hanh": 7}},
            "2": {"narrative": "  ", "indicators": {"mo_hinh_dvk_dang_ky": 1}},
        },
        "phuong_huong": "Của kỳ này.",
    }
    content, filled = prefilled(draft, copy.deepcopy(WARD_BODY), OLD, NEW, WARD_NEW)
    sections = content["sections"]
    assert sections["1"] == draft["sections"]["1"]
    assert sections["2"] == {
        "narrative": WARD_BODY["sections"]["2"]["narrative"],
        "indicators": {"mo_hinh_dvk_dang_ky": 1},
    }
    assert sections["7"] == {"narrative": WARD_BODY["sections"]["4"]["narrative"], "indicators": {}}
    assert sections["8"] == {"narrative": WARD_BODY["sections"]["5"]["narrative"], "indicators": {}}
    assert content["phuong_huong"] == "Của kỳ này."
    assert content["ton_tai_han_che"] == WARD_BODY["ton_tai_han_che"]
    assert "vuong_mac" not in content and content["period_id"] == "2023-Y"
    assert "sections.1.narrative" not in filled and "phuong_huong" not in filled
    assert {"sections.2.narrative", "sections.7.narrative", "ton_tai_han_che"} <= set(filled)
    assert draft["sections"]["2"]["narrative"] == "  "  # the draft given is not changed


def test_a_draft_whose_sections_are_not_a_table_keeps_them() -> None:
    content, filled = prefilled({"sections": "?"}, copy.deepcopy(WARD_BODY), OLD, NEW, WARD_NEW)
    assert content["sections"] == "?"
    assert filled == ["ton_tai_han_che", "phuong_huong", "de_xuat_kien_nghi"]
    assert content["de_xuat_kien_nghi"] == WARD_BODY["de_xuat_kien_nghi"]
