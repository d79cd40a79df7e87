"""The reporting calendar: regime periods, ad-hoc numbering, scopes and who is expected."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.registry.app import regime_rules
from services.registry.domain import (
    FormInUse,
    Scope,
    deadline_problems,
    form_in_use,
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
    assert h1.form == year.form == ("dvcq-dinh-ky", "2023.2")


def test_periods_from_2023_y_on_use_form_2023_2_and_2023_h1_keeps_2023_1():
    rules = regime_rules(RegistrySettings(env="test"))
    forms = {p.period_id: p.form[1] for y in (2022, 2023, 2024) for p in regime_periods(y, rules)}
    assert forms == {
        "2022-H1": "2023.1",
        "2022-Y": "2023.1",
        "2023-H1": "2023.1",  # due 10/6/2023, before the Law on grassroots democracy
        "2023-Y": "2023.2",
        "2024-H1": "2023.2",
        "2024-Y": "2023.2",
    }


def test_the_form_in_use_follows_the_deadline_day():
    forms = (
        FormInUse("dvcq-dinh-ky", "2023.1", date(2019, 1, 1)),
        FormInUse("dvcq-dinh-ky", "2023.2", date(2023, 7, 1)),
    )
    # "trước ngày 01/7/2023" ends on 30/6, so it is still on 2023.1.
    assert form_in_use(datetime(2023, 7, 1, tzinfo=VN_TZ), forms)[1] == "2023.1"
    assert form_in_use(datetime(2023, 7, 2, tzinfo=VN_TZ), forms)[1] == "2023.2"
    # Before every configured version: the oldest one.
    assert form_in_use(datetime(2010, 1, 1, tzinfo=VN_TZ), forms)[1] == "2023.1"


def test_the_form_versions_come_from_configuration():
    settings = RegistrySettings.model_validate(
        {
            "env": "test",
            "DANVAN_PERIODIC_FORMS": [{"version": "2023.1", "due_from": "2019-01-01"}],
        }
    )
    assert {p.form[1] for p in regime_periods(2025, regime_rules(settings))} == {"2023.1"}
    pinned = RegistrySettings.model_validate(
        {
            "env": "test",
            "DANVAN_REGIME": [
                {
                    "suffix": "Y",
                    "kind": "annual",
                    "title": "năm {year}",
                    "due_before": "11-25",
                    "window_end": "12-14",
                    "form_version": "2023.1",
                }
            ],
        }
    )
    assert regime_periods(2026, regime_rules(pinned))[0].form == ("dvcq-dinh-ky", "2023.1")


@pytest.mark.parametrize(
    "setting",
    [
        {"DANVAN_PERIODIC_FORMS": [{"version": "2099.1", "due_from": "2019-01-01"}]},
        {
            "DANVAN_PERIODIC_FORMS": [
                {"form_id": "dvcq-dot-xuat", "version": "2023.1", "due_from": "2019-01-01"}
            ]
        },
        {"DANVAN_PERIODIC_FORMS": []},
        {"DANVAN_PERIODIC_FORMS": [{"version": "2023.2", "due_from": "1/7/2023"}]},
    ],
    ids=["unknown-version", "not-periodic", "empty", "bad-date"],
)
def test_a_form_version_that_cannot_be_used_is_refused_at_start_up(setting):
    with pytest.raises(ValidationError, match="DANVAN_PERIODIC_FORMS"):
        RegistrySettings.model_validate({"env": "test", **setting})


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
