"""Reports written on 2023.1 and on 2023.2 add up where the two versions mean the same."""

from __future__ import annotations

from typing import Any

import pytest

from services.consolidation import views
from services.consolidation.domain import Summary, summarise
from services.consolidation.domain.events import InMemoryProjection
from shared.forms import FormDefinition, load_form
from shared.forms.crosswalk import NoCrosswalk, crosswalk
from tests.unit.consolidation.factory import period_event, submitted

OLD = load_form("dvcq-dinh-ky", "2023.1")
NEW = load_form("dvcq-dinh-ky", "2023.2")


def fold(events: list[Any]) -> InMemoryProjection:
    projection = InMemoryProjection()
    for event in events:
        projection.apply(event)
    return projection


def summary_in(
    p: InMemoryProjection, period_id: str, form: FormDefinition, **options: Any
) -> Summary:
    return summarise(
        p.periods[period_id],
        form,
        p.period_reports(period_id),
        p.period_difficulties(period_id),
        **options,
    )


def mixed_period() -> InMemoryProjection:
    """A 2023.2 period where one ward still reported on 2023.1 (sent before the switch)."""
    return fold(
        [
            period_event("2023-H1", form_version="2023.2"),
            submitted(
                "18115",
                {"ho_so_tthc_tiep_nhan": 100, "van_ban_ban_hanh": 3},
                narratives={"4": "Bắc Hồng giải quyết 100 hồ sơ."},
                form_version="2023.1",
            ),
            submitted(
                "18118",
                {"ho_so_tthc_tiep_nhan": 50, "dan_chu_cuoc_kiem_tra": 2, "ton_giao_co_so": 7},
                narratives={"7": "Nam Hồng giải quyết 50 hồ sơ."},
                form_version="2023.2",
            ),
        ]
    )


def test_the_same_figure_adds_up_across_versions() -> None:
    s = summary_in(mixed_period(), "2023-H1", NEW)
    tthc = s.indicators["ho_so_tthc_tiep_nhan"]
    assert (tthc.section, tthc.overall.total, tthc.overall.reported) == ("7", 150, 2)
    assert tthc.values == {"18115": 100, "18118": 50}
    assert s.indicators["van_ban_ban_hanh"].overall.total == 3


def test_narratives_are_compiled_under_the_section_that_means_the_same() -> None:
    s = summary_in(mixed_period(), "2023-H1", NEW)
    cai_cach = next(sec for sec in s.sections if sec.key == "7")
    assert cai_cach.title == "Cải cách hành chính"
    assert [(n.unit_code, n.text) for n in cai_cach.narratives] == [
        ("18115", "Bắc Hồng giải quyết 100 hồ sơ."),
        ("18118", "Nam Hồng giải quyết 50 hồ sơ."),
    ]


def test_a_figure_the_older_version_never_asked_is_neither_reported_nor_applicable() -> None:
    s = summary_in(mixed_period(), "2023-H1", NEW)
    kiem_tra = s.indicators["dan_chu_cuoc_kiem_tra"]
    assert (kiem_tra.overall.total, kiem_tra.overall.reported, kiem_tra.applicable) == (2, 1, 1)
    ton_giao = s.indicators["ton_giao_co_so"]
    assert (ton_giao.overall.total, ton_giao.applicable) == (7, 1)
    # A figure both versions ask for counts every ward that could report it.
    assert s.indicators["ho_thoat_ngheo"].applicable == 2


def test_last_year_on_2023_1_compares_with_this_year_on_2023_2() -> None:
    p = fold(
        [
            period_event("2023-H1", form_version="2023.1"),
            submitted("18115", {"ho_so_tthc_tiep_nhan": 80, "don_thu_tiep_nhan": 4}),
            period_event("2024-H1", form_version="2023.2"),
            submitted(
                "18115",
                {"ho_so_tthc_tiep_nhan": 100, "don_thu_tiep_nhan": 6},
                period_id="2024-H1",
                form_version="2023.2",
            ),
        ]
    )
    # Consolidation reads the year before in this period's form (usecases.common.period_summary).
    earlier = summary_in(p, "2023-H1", NEW)
    s = summary_in(p, "2024-H1", NEW, earlier=earlier)
    tthc = views.indicator(s.indicators["ho_so_tthc_tiep_nhan"]).model_dump(mode="json")
    assert (tthc["total"], tthc["previous"], tthc["change"]) == (
        100,
        {"total": 80, "reported": 1},
        20,
    )
    don_thu = views.indicator(s.indicators["don_thu_tiep_nhan"]).model_dump(mode="json")
    assert (don_thu["section"], don_thu["previous"]["total"], don_thu["change"]) == ("10", 4, 2)
    # A new figure has no figure a year before to compare with.
    assert views.indicator(s.indicators["dan_chu_cuoc_kiem_tra"]).model_dump(mode="json")[
        "previous"
    ] == {
        "total": None,
        "reported": 0,
    }


def test_a_report_on_a_version_nobody_mapped_is_not_guessed() -> None:
    p = mixed_period()
    unmapped = NEW.model_copy(update={"version": "2099.1"})
    with pytest.raises(NoCrosswalk):
        summary_in(p, "2023-H1", unmapped, form_of=lambda form_id, version: OLD)


def test_the_expected_units_of_each_figure_and_section_are_counted_unit_by_unit() -> None:
    """The "m" of "n/m đơn vị", counted by kind and tags (not unit by unit), is the number of
    expected units the section and figure apply to, less those whose report was written on
    a version that never asked for the figure."""
    p = mixed_period()
    period = p.periods["2023-H1"]
    summary = summary_in(p, "2023-H1", NEW)
    # What each report's own version asked (18115 wrote on 2023.1, 18118 on 2023.2).
    asked_of = {
        "18115": frozenset(crosswalk(OLD, NEW).indicators),
        "18118": frozenset(i.code for i in NEW.indicators),
    }
    units = period.ordered_units()
    assert len({(u.kind, u.tags) for u in units}) > 1
    checked = 0
    for section, summed in zip(NEW.sections, summary.sections, strict=True):
        applies = [u for u in units if section.applies_to.includes(u.kind, set(u.tags))]
        assert summed.expected == len(applies)
        for indicator, figure in zip(section.indicators, summed.indicators, strict=True):
            asked = [
                u
                for u in applies
                if indicator.applies_to.includes(u.kind, set(u.tags))
                and (u.code not in asked_of or indicator.code in asked_of[u.code])
            ]
            assert figure.expected == len(asked), (section.key, indicator.code)
            checked += 1
    assert checked > 10
