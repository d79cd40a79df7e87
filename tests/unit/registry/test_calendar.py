"""The reporting calendar: regime periods, ad-hoc numbering, scopes and who is expected."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.registry.app import regime_rules
from services.registry.domain import (
    Scope,
    deadline_problems,
    next_ad_hoc_id,
    parse_scope,
    regime_periods,
    resolve_expected_units,
)
from services.registry.settings import RegistrySettings
from shared.clock import VN_TZ
from shared.contracts.registry import UnitState


def unit(code: str, kind: str = "ward", **extra: object) -> UnitState:
    return UnitState(
        unit_id=f"{code}@2019-01-01",
        code=code,
        name=code,
        kind=kind,  # type: ignore[arg-type]
        valid_from=date(2019, 1, 1),
        version=1,
        **extra,  # type: ignore[arg-type]
    )


def test_the_default_regime_follows_the_plan_and_decree_09():
    h1, year = regime_periods(2024, regime_rules(RegistrySettings(env="test")))
    assert (h1.period_id, year.period_id) == ("2024-H1", "2024-Y")
    assert h1.due_at == datetime(2024, 6, 10, tzinfo=VN_TZ)  # "trước ngày 10/6"
    assert (h1.window_start, h1.window_end) == (date(2023, 12, 15), date(2024, 6, 14))
    assert year.due_at == datetime(2024, 11, 25, tzinfo=VN_TZ)
    assert (year.window_start, year.window_end) == (date(2023, 12, 15), date(2024, 12, 14))
    assert h1.form == ("dvcq-dinh-ky", "2023.1")


def test_deadlines_and_windows_come_from_configuration():
    settings = RegistrySettings.model_validate(
        {
            "env": "test",
            "DANVAN_REGIME": [
                {
                    "suffix": "Q1",
                    "kind": "six_month",
                    "title": "quý I năm {year}",
                    "due_before": "03-20",
                    "window_start": "01-01",
                    "window_start_previous_year": False,
                    "window_end": "03-14",
                }
            ],
        }
    )
    (quarter,) = regime_periods(2026, regime_rules(settings))
    assert quarter.period_id == "2026-Q1" and quarter.title == "quý I năm 2026"
    assert quarter.due_at == datetime(2026, 3, 20, tzinfo=VN_TZ)
    assert (quarter.window_start, quarter.window_end) == (date(2026, 1, 1), date(2026, 3, 14))


def test_a_malformed_regime_date_is_refused_at_start_up():
    with pytest.raises(ValidationError):
        RegistrySettings.model_validate(
            {
                "env": "test",
                "DANVAN_REGIME": [
                    {
                        "suffix": "H1",
                        "kind": "six_month",
                        "title": "x",
                        "due_before": "10/6",
                        "window_end": "06-14",
                    }
                ],
            }
        )


def test_ad_hoc_requests_are_numbered_per_year():
    assert next_ad_hoc_id(2026, []) == "2026-DX-01"
    assert next_ad_hoc_id(2026, ["2026-DX-01", "2026-DX-07", "2025-DX-20", "2026-H1"]) == (
        "2026-DX-08"
    )


def test_a_scope_is_exactly_one_of_all_kinds_or_units_naming_known_things():
    known = {"18115", "PNV"}
    assert parse_scope({"all": True}, known) == (Scope(all=True), [])
    assert parse_scope({"kinds": ["ward", "commune"]}, known)[0] == Scope(kinds=("ward", "commune"))
    assert parse_scope({"units": ["18115"]}, known)[0] == Scope(units=("18115",))
    for bad in ({}, {"all": True, "units": ["18115"]}, {"all": False}, {"everyone": True}):
        assert parse_scope(bad, known)[1][0].code == "invalid_scope"
    scope, problems = parse_scope({"kinds": ["province"]}, known)
    assert scope is None and problems[0].field == "scope.kinds"
    assert parse_scope({"units": ["99999"]}, known)[1][0].code == "unknown_unit"


def test_a_deadline_in_the_past_is_refused():
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert deadline_problems(datetime(2026, 4, 30, tzinfo=UTC), now)[0].code == "due_in_past"
    assert deadline_problems(datetime(2026, 5, 2, tzinfo=UTC), now) == []


def test_expected_units_are_those_in_scope_that_must_report_and_are_valid_at_the_deadline():
    units = [
        unit("18121", valid_to=date(2025, 6, 30)),
        unit("18115", display_order=2),
        unit("CATX", "agency", must_report=False),
        unit("PNV", "department", display_order=1),
    ]
    before = datetime(2025, 6, 10, tzinfo=VN_TZ)  # last valid day 09/06/2025
    after = datetime(2025, 11, 25, tzinfo=VN_TZ)
    # Registry order: display order, then code.
    assert [u.code for u in resolve_expected_units(units, Scope(all=True), before)] == [
        "18121",
        "PNV",
        "18115",
    ]
    assert [u.code for u in resolve_expected_units(units, Scope(all=True), after)] == [
        "PNV",
        "18115",
    ]
    assert [u.code for u in resolve_expected_units(units, Scope(kinds=("ward",)), after)] == [
        "18115"
    ]
