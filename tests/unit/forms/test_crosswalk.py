"""What two versions of a form have in common is written down, complete and consistent."""

from __future__ import annotations

import copy
from itertools import pairwise

import pytest

from shared.forms import FormDefinition, available_forms, load_form
from shared.forms.crosswalk import (
    CROSSWALKS,
    Crosswalk,
    NoCrosswalk,
    crosswalk,
    translate_content,
)
from tests.unit.forms.conftest import WARD_BODY

OLD = load_form("dvcq-dinh-ky", "2023.1")
NEW = load_form("dvcq-dinh-ky", "2023.2")


def versions(form_id: str) -> list[FormDefinition]:
    return [load_form(f, v) for f, v in available_forms() if f == form_id]


def consecutive() -> list[tuple[FormDefinition, FormDefinition]]:
    ids = sorted({f for f, _ in available_forms()})
    return [pair for form_id in ids for pair in pairwise(versions(form_id))]


@pytest.mark.parametrize(
    ("source", "target"),
    consecutive(),
    ids=lambda f: f"{f.form_id}-{f.version}" if isinstance(f, FormDefinition) else str(f),
)
def test_every_new_version_says_what_it_shares_with_the_one_before(
    source: FormDefinition, target: FormDefinition
) -> None:
    walk = crosswalk(source, target)
    assert (walk.source, walk.target) == (source.version, target.version)


@pytest.mark.parametrize("walk", CROSSWALKS, ids=lambda w: f"{w.form_id}-{w.source}-{w.target}")
def test_a_crosswalk_names_only_parts_that_exist_and_mean_the_same(walk: Crosswalk) -> None:
    source, target = load_form(walk.form_id, walk.source), load_form(walk.form_id, walk.target)
    # One to one, so it reads both ways.
    assert len(set(walk.sections.values())) == len(walk.sections)
    assert len(set(walk.indicators.values())) == len(walk.indicators)
    for new_key, old_key in walk.sections.items():
        new, old = target.section(new_key), source.section(old_key)
        assert new is not None and old is not None, (new_key, old_key)
        assert new.plan_ref == old.plan_ref
        assert new.applies_to == old.applies_to
    for new_code, old_code in walk.indicators.items():
        new_ind, old_ind = target.indicator(new_code), source.indicator(old_code)
        assert new_ind is not None and old_ind is not None, (new_code, old_code)
        assert (new_ind.type, new_ind.decimal_places) == (old_ind.type, old_ind.decimal_places)
        assert new_ind.applies_to == old_ind.applies_to


def test_2023_2_keeps_every_2023_1_figure_but_ii_5s_yes_no_and_every_narrative() -> None:
    walk = crosswalk(OLD, NEW)
    # II.5's self-declared yes/no became the leader check against the registry.
    kept = sorted(i.code for i in OLD.indicators if i.code != "co_lanh_dao_phu_trach")
    assert sorted(walk.indicators.values()) == kept
    assert NEW.indicator("co_lanh_dao_phu_trach") is None
    assert sorted(walk.sections.values()) == sorted(s.key for s in OLD.sections)
    # The three new task areas have no counterpart in 2023.1.
    new_only = {s.key for s in NEW.sections} - set(walk.sections)
    assert sorted(new_only, key=int) == ["3", "5", "6"]


def test_a_2023_1_report_reads_in_the_2023_2_shape() -> None:
    content = translate_content(copy.deepcopy(WARD_BODY), OLD, NEW)
    sections = content["sections"]
    assert sorted(sections, key=int) == ["1", "2", "4", "7", "8", "9", "10", "11"]
    assert sections["7"]["narrative"] == WARD_BODY["sections"]["4"]["narrative"]
    assert sections["7"]["indicators"] == WARD_BODY["sections"]["4"]["indicators"]
    # Figures 2023.1 never asked for are absent, not "not reported".
    assert "y_kien_phe_binh_tiep_nhan" not in sections["10"]["indicators"]
    assert sections["10"]["indicators"]["don_thu_tiep_nhan"] == 8
    assert content["vuong_mac"] == WARD_BODY["vuong_mac"]
    assert content["ton_tai_han_che"] == WARD_BODY["ton_tai_han_che"]


def test_the_crosswalk_reads_back_the_other_way() -> None:
    there = translate_content(copy.deepcopy(WARD_BODY), OLD, NEW)
    back = translate_content(there, NEW, OLD)
    # Everything comes back but II.5's yes/no, which 2023.2 does not ask.
    expected = copy.deepcopy(WARD_BODY["sections"])
    del expected["5"]["indicators"]["co_lanh_dao_phu_trach"]
    assert back["sections"] == expected
    assert crosswalk(NEW, OLD).sections["4"] == "7"


def test_versions_nobody_mapped_are_refused() -> None:
    unmapped = NEW.model_copy(update={"version": "2099.1"})
    with pytest.raises(NoCrosswalk):
        crosswalk(OLD, unmapped)
    with pytest.raises(NoCrosswalk):
        crosswalk(OLD, load_form("dvcq-dot-xuat", "2023.1"))
    assert crosswalk(NEW, NEW).indicators == {i.code: i.code for i in NEW.indicators}
