"""Consolidation rules: completeness, exact totals, amendments, withdrawals, any event order."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from services.consolidation import views
from services.consolidation.domain import (
    PeriodInfo,
    Summary,
    completeness,
    earlier_period,
    parse_value,
    summarise,
)
from services.consolidation.domain.events import InMemoryProjection
from shared.forms import load_form
from tests.unit.consolidation.factory import (
    FIGURES,
    FORM,
    UNITS,
    difficulty,
    period_event,
    reviewed,
    submitted,
    three_reports,
    withdrawn,
)


def fold(events: list[Any]) -> InMemoryProjection:
    projection = InMemoryProjection()
    for event in events:
        projection.apply(event)
    return projection


def summary_of(
    events: list[Any], period_id: str = "2023-H1", earlier_id: str | None = None
) -> Summary:
    p = fold(events)
    form = load_form(*FORM)
    earlier = None
    if earlier_id is not None:
        earlier = summarise(
            p.periods[earlier_id],
            form,
            p.period_reports(earlier_id),
            p.period_difficulties(earlier_id),
        )
    return summarise(
        p.periods[period_id],
        form,
        p.period_reports(period_id),
        p.period_difficulties(period_id),
        earlier=earlier,
    )


def indicator(summary: Summary, code: str) -> dict[str, Any]:
    return views.indicator(summary.indicators[code]).model_dump(mode="json")


def test_three_reports_give_exact_totals_by_kind_and_overall() -> None:
    s = summary_of(three_reports())
    van_ban = indicator(s, "van_ban_ban_hanh")
    assert (van_ban["total"], van_ban["reported"]) == (10, 3)
    assert van_ban["by_kind"]["ward"] == {"total": 8, "reported": 2}
    assert van_ban["by_kind"]["department"] == {"total": 2, "reported": 1}
    assert van_ban["by_unit"] == {"18115": 3, "18118": 5, "PNV": 2}


def test_not_reported_is_not_zero() -> None:
    s = summary_of(three_reports())
    zero = indicator(s, "hoi_nghi_quan_triet")
    assert (zero["total"], zero["reported"]) == (0, 1)  # one unit reported 0
    nobody = indicator(s, "luot_nguoi_quan_triet")
    assert (nobody["total"], nobody["reported"]) == (None, 0)
    assert nobody["by_kind"]["ward"] == {"total": None, "reported": 0}


def test_yes_no_counts_yes_out_of_units_that_answered() -> None:
    s = summary_of(three_reports())
    leader = indicator(s, "co_lanh_dao_phu_trach")
    assert (leader["yes"], leader["no"], leader["reported"]) == (2, 1, 3)
    assert leader["by_kind"]["ward"] == {"total": 2, "reported": 2, "yes": 2, "no": 0}


def test_decimal_amounts_sum_exactly_and_count_applicable_units() -> None:
    s = summary_of(three_reports())
    amount = s.indicators["nhan_dan_dong_gop"]
    assert amount.overall.total == Decimal("12.8")  # 12.5 + 0.3, no float drift
    assert amount.overall.reported == 2
    assert amount.applicable == 2  # wards and communes only; the department is not asked


def test_completeness_counts_names_missing_units_in_registry_order() -> None:
    p = fold(three_reports())
    c = views.completeness(
        completeness(p.periods["2023-H1"], p.period_reports("2023-H1"))
    ).model_dump(mode="json")
    assert (c["expected"], c["submitted"], c["on_time"], c["late"]) == (5, 3, 2, 1)
    assert c["missing"] == [
        {"code": "18130", "name": "UBND xã Thuận Lộc"},
        {"code": "TTVHTT", "name": "Trung tâm Văn hóa - Truyền thông"},
    ]
    assert [u["code"] for u in c["units"]] == ["18115", "18118", "18130", "PNV", "TTVHTT"]
    assert c["rates"] == {"submitted": 0.6, "on_time": 0.4, "accepted": 0.0}
    assert c["by_kind"]["ward"]["submitted"] == 2
    assert c["by_kind"]["commune"]["missing"] == 1
    assert list(c["by_kind"]) == ["ward", "commune", "department", "centre"]


def test_amendment_replaces_the_earlier_version_instead_of_adding() -> None:
    events = [*three_reports(), submitted("18115", {"van_ban_ban_hanh": 7}, version=2)]
    s = summary_of(events)
    van_ban = indicator(s, "van_ban_ban_hanh")
    assert (van_ban["total"], van_ban["reported"]) == (14, 3)
    # The amendment left out the amount, so 18115 no longer reports it.
    assert indicator(s, "nhan_dan_dong_gop")["reported"] == 1
    row = next(u for u in s.completeness.units if u.code == "18115")
    assert row.version == 2


def test_an_older_version_arriving_late_does_not_replace_a_newer_one() -> None:
    first, amended = (
        submitted("18115", {"van_ban_ban_hanh": 3}),
        submitted("18115", {"van_ban_ban_hanh": 7}, version=2),
    )
    s = summary_of([period_event(), amended, first])
    assert indicator(s, "van_ban_ban_hanh")["total"] == 7


def test_withdrawal_removes_the_report_from_totals_and_completeness() -> None:
    s = summary_of([*three_reports(), withdrawn("PNV")])
    van_ban = indicator(s, "van_ban_ban_hanh")
    assert (van_ban["total"], van_ban["reported"]) == (8, 2)
    assert s.completeness.tally.submitted == 2
    assert "PNV" in [u.code for u in s.completeness.in_state("missing")]
    assert s.completeness.tally.late == 0


def test_a_new_version_after_a_withdrawal_counts_again() -> None:
    events = [
        *three_reports(),
        withdrawn("PNV"),
        submitted("PNV", {"van_ban_ban_hanh": 4}, version=2, on_time=False),
    ]
    s = summary_of(events)
    assert indicator(s, "van_ban_ban_hanh")["total"] == 12
    assert s.completeness.tally.submitted == 3


def test_returned_report_awaits_revision_until_the_next_version() -> None:
    returned = [*three_reports(), reviewed("18118", "returned", reason="Thiếu số liệu")]
    status = summary_of(returned).completeness
    assert status.tally.awaiting_revision == 1
    assert [u.code for u in status.in_state("awaiting_revision")] == ["18118"]
    revised = summary_of([*returned, submitted("18118", FIGURES["18118"], version=2)])
    assert revised.completeness.tally.awaiting_revision == 0
    accepted = summary_of(
        [
            *returned,
            submitted("18118", FIGURES["18118"], version=2),
            reviewed("18118", "accepted", version=2),
        ]
    )
    assert accepted.completeness.tally.accepted == 1


def test_a_review_arriving_before_its_version_applies_once_the_version_arrives() -> None:
    review_first = [period_event(), reviewed("18115", "accepted")]
    assert summary_of(review_first).completeness.tally.submitted == 0
    s = summary_of([*review_first, submitted("18115", FIGURES["18115"])])
    assert s.completeness.tally.accepted == 1


def test_a_report_before_its_period_is_counted_once_the_period_arrives() -> None:
    early = submitted("18115", FIGURES["18115"])
    p = fold([early])
    assert "2023-H1" not in p.periods
    p.apply(period_event())
    assert completeness(p.periods["2023-H1"], p.period_reports("2023-H1")).tally.submitted == 1


def test_the_expected_units_come_from_the_newest_period_version() -> None:
    v2 = period_event(version=2, units=UNITS[:3])
    s = summary_of([*three_reports(), v2, period_event(version=1)])
    assert s.completeness.tally.expected == 3


def test_narratives_are_grouped_by_unit_in_registry_order() -> None:
    events = [
        period_event(),
        submitted("PNV", narratives={"1": "PNV viết."}),
        submitted("18118", narratives={"1": "Nam Hồng viết."}),
        submitted("18115", narratives={"1": "Bắc Hồng viết."}),
    ]
    section = summary_of(events).sections[0]
    assert [(n.unit_code, n.text) for n in section.narratives] == [
        ("18115", "Bắc Hồng viết."),
        ("18118", "Nam Hồng viết."),
        ("PNV", "PNV viết."),
    ]


def test_part_b_is_compiled_per_unit() -> None:
    s = summary_of([period_event(), submitted("18118", de_xuat="Đề nghị bổ sung kinh phí.")])
    fields = {f.code: f for f in s.text_fields}
    assert list(fields) == ["ton_tai_han_che", "phuong_huong", "de_xuat_kien_nghi"]
    assert [e.text for e in fields["de_xuat_kien_nghi"].entries] == ["Đề nghị bổ sung kinh phí."]


def test_difficulties_carry_answers_and_withdrawn_reports_drop_theirs() -> None:
    events = [
        *three_reports(),
        submitted("18115", FIGURES["18115"], version=2, vuong_mac=("Chưa có hướng dẫn.",)),
        difficulty("d1", "18115", "Chưa có hướng dẫn."),
        difficulty("d1", "18115", "Chưa có hướng dẫn.", answer="Thực hiện theo Công văn 12."),
        difficulty("d2", "18118", "Một vướng mắc đã rút."),
        withdrawn("18118"),
    ]
    items = summary_of(events).difficulties
    assert [(d.unit_code, d.text, d.answer) for d in items] == [
        ("18115", "Chưa có hướng dẫn.", "Thực hiện theo Công văn 12."),
        # PNV's entry has no thread yet, but it is still listed, unanswered.
        ("PNV", "Thiếu biên chế.", ""),
    ]


def test_an_answer_is_kept_when_the_raised_event_arrives_after_it() -> None:
    events = [
        period_event(),
        difficulty("d1", "18115", "Hỏi", answer="Đáp"),
        difficulty("d1", "18115", "Hỏi"),
    ]
    assert summary_of(events).difficulties[0].answer == "Đáp"


def test_warnings_of_current_reports_are_listed_for_the_reviewer() -> None:
    warnings = summary_of(three_reports()).warnings
    assert [(w.unit_code, w.field) for w in warnings] == [("18115", "sai_pham_xu_ly")]


def test_comparison_with_the_same_period_a_year_earlier() -> None:
    events = [
        *three_reports(),
        period_event("2022-H1"),
        submitted("18115", {"van_ban_ban_hanh": 4}, period_id="2022-H1"),
    ]
    s = summary_of(events, earlier_id="2022-H1")
    van_ban = indicator(s, "van_ban_ban_hanh")
    assert van_ban["previous"] == {"total": 4, "reported": 1}
    assert van_ban["change"] == 6
    assert indicator(s, "luot_nguoi_quan_triet")["change"] is None


def test_earlier_period_prefers_the_same_suffix_a_year_before() -> None:
    p = fold([period_event("2023-H1"), period_event("2022-H1"), period_event("2021-H1")])
    periods: list[PeriodInfo] = list(p.periods.values())
    found = earlier_period(p.periods["2023-H1"], periods)
    assert found is not None and found.period_id == "2022-H1"
    assert earlier_period(p.periods["2021-H1"], periods) is None


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("count", 0, 0),
        ("count", None, None),
        ("count", True, None),  # a boolean never counts as 1
        ("decimal", "12.5", Decimal("12.5")),
        ("decimal", 0.1, Decimal("0.1")),
        ("yes_no", False, False),
        ("yes_no", 1, None),
    ],
)
def test_values_are_read_strictly(kind: str, raw: Any, expected: Any) -> None:
    form = load_form(*FORM)
    ind = next(i for i in form.indicators if i.type == kind)
    assert parse_value(ind, raw) == expected


def _full_history() -> list[Any]:
    return [
        period_event(version=1, units=UNITS[:4]),
        period_event(version=2),
        submitted("18115", FIGURES["18115"], vuong_mac=("Vướng mắc A.",)),
        submitted("18115", {"van_ban_ban_hanh": 9}, version=2, vuong_mac=("Vướng mắc A.",)),
        submitted("18118", FIGURES["18118"]),
        reviewed("18118", "returned", reason="Bổ sung"),
        submitted("18118", {"van_ban_ban_hanh": 6}, version=2),
        reviewed("18118", "accepted", version=2),
        submitted("PNV", FIGURES["PNV"], on_time=False),
        withdrawn("PNV"),
        submitted("18130", {"ho_thoat_ngheo": 12}, on_time=False),
        difficulty("d1", "18115", "Vướng mắc A."),
        difficulty("d1", "18115", "Vướng mắc A.", answer="Đã hướng dẫn."),
    ]


@pytest.mark.parametrize("seed", range(40))
def test_a_shuffled_duplicated_replay_gives_an_identical_summary(seed: int) -> None:
    history = _full_history()
    expected = views.summary(summary_of(history)).model_dump(mode="json")
    rng = random.Random(seed)
    replay = history + [rng.choice(history) for _ in range(rng.randint(1, len(history)))]
    rng.shuffle(replay)
    assert views.summary(summary_of(replay)).model_dump(mode="json") == expected


def test_the_full_history_summary_is_what_the_events_say() -> None:
    s = summary_of(_full_history())
    t = s.completeness.tally
    assert (t.expected, t.submitted, t.accepted, t.late) == (5, 3, 1, 1)
    assert indicator(s, "van_ban_ban_hanh")["total"] == 15
    assert indicator(s, "ho_thoat_ngheo")["total"] == 12
    assert s.difficulties[0].answer == "Đã hướng dẫn."
