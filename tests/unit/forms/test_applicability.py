"""Cutting the form down to what one unit fills in."""

from __future__ import annotations

import pytest

from shared.forms import FormDefinition, UnknownUnitKind, form_for_unit


def codes(form: FormDefinition) -> set[str]:
    return {ind.code for ind in form.indicators}


def test_section_9_only_for_units_tagged_communication(periodic: FormDefinition) -> None:
    plain = form_for_unit(periodic, "department", frozenset())
    communication = form_for_unit(periodic, "centre", frozenset({"communication"}))
    assert [s.number for s in plain.sections] == list(range(1, 9))
    assert [s.number for s in communication.sections] == list(range(1, 10))
    assert "chuyen_de_phat_song" not in codes(plain)
    assert "chuyen_de_phat_song" in codes(communication)


@pytest.mark.parametrize("kind", ["ward", "commune"])
def test_wards_and_communes_keep_their_own_indicators(periodic: FormDefinition, kind: str) -> None:
    form = form_for_unit(periodic, kind, frozenset())
    assert {"nhan_dan_dong_gop", "ho_thoat_ngheo"} <= codes(form)


@pytest.mark.parametrize("kind", ["department", "centre", "agency"])
def test_other_units_lose_ward_only_indicators(periodic: FormDefinition, kind: str) -> None:
    form = form_for_unit(periodic, kind, frozenset({"communication"}))
    assert not {"nhan_dan_dong_gop", "ho_thoat_ngheo"} & codes(form)
    # Only those two go: every other indicator stays.
    assert codes(periodic) - codes(form) == {"nhan_dan_dong_gop", "ho_thoat_ngheo"}


def test_form_for_unit_leaves_the_original_untouched(periodic: FormDefinition) -> None:
    form_for_unit(periodic, "department", frozenset())
    assert len(periodic.sections) == 9
    assert "nhan_dan_dong_gop" in codes(periodic)


def test_rules_stay_when_their_inputs_stay(periodic: FormDefinition) -> None:
    form = form_for_unit(periodic, "department", frozenset())
    assert [r.id for r in form.rules] == [r.id for r in periodic.rules]


def test_unknown_unit_kind_is_refused(periodic: FormDefinition) -> None:
    with pytest.raises(UnknownUnitKind):
        form_for_unit(periodic, "village", frozenset())
