"""Version 2023.2 of the periodic form: the plan's missing task areas, one carried-over rule."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from typing import Any

import pytest

from shared.forms import FormDefinition, form_for_unit, load_form, validate_periodic
from shared.forms.model import CARRIED_OVER_NOTE
from tests.support.reports import full_report

NO_TAGS: frozenset[str] = frozenset()


@pytest.fixture
def form() -> FormDefinition:
    return load_form("dvcq-dinh-ky", "2023.2")


def report(period_id: str, **options: Any) -> dict[str, Any]:
    """A complete report body as validation sees it (without the period id)."""
    body = full_report(period_id, **options)
    del body["period_id"]
    return body


def titles(form: FormDefinition) -> dict[str, str]:
    return {s.key: s.title for s in form.sections}


def codes(form: FormDefinition) -> set[str]:
    return {i.code for i in form.indicators}


def test_sections_follow_the_plan_with_the_three_new_task_areas(form: FormDefinition) -> None:
    assert [(s.number, s.plan_ref) for s in form.sections] == [
        (1, "II.1"),
        (2, "II.2"),
        (3, "II.2"),
        (4, "II.3"),
        (5, "II.3"),
        (6, "II.3"),
        (7, "II.4"),
        (8, "II.5"),
        (9, "II.6"),
        (10, "II.7"),
        (11, "II.8"),
        (12, "IV.2"),
    ]
    assert titles(form)["3"] == "Siết chặt kỷ luật, kỷ cương hành chính, nâng cao đạo đức công vụ"
    assert titles(form)["5"] == "Thực hiện dân chủ ở cơ sở"
    assert titles(form)["6"] == "Công tác tín ngưỡng, tôn giáo"
    assert titles(form)["10"] == (
        "Tiếp xúc, đối thoại, tiếp công dân, giải quyết đơn thư; "
        "tiếp thu ý kiến phê bình, góp ý của Nhân dân"
    )
    # Every section has its own narrative "Kết quả thực hiện", required.
    assert {(s.narrative.label, s.narrative.required) for s in form.sections} == {
        ("Kết quả thực hiện", True)
    }


def test_each_new_task_area_asks_for_figures_in_the_plans_terms(form: FormDefinition) -> None:
    labels = {i.code: i.label for i in form.indicators}
    assert labels["dan_chu_hoi_nghi_doi_thoai"] == (
        "Số hội nghị đối thoại giữa Chủ tịch Ủy ban nhân dân với Nhân dân"
    )
    assert labels["dan_chu_lay_y_kien_nhan_dan"].startswith("Số nội dung được lấy ý kiến Nhân dân")
    assert labels["dan_chu_cuoc_kiem_tra"] == (
        "Số cuộc kiểm tra, giám sát việc thực hiện dân chủ ở cơ sở"
    )
    assert labels["dan_chu_kien_nghi_giai_quyet"] == (
        "Số kiến nghị về thực hiện dân chủ ở cơ sở đã được giải quyết"
    )
    assert labels["ton_giao_co_so"] == "Số cơ sở tín ngưỡng, tôn giáo trên địa bàn"
    assert labels["ky_cuong_cuoc_kiem_tra"] == (
        "Số cuộc kiểm tra việc chấp hành kỷ luật, kỷ cương hành chính, đạo đức công vụ"
    )
    assert labels["y_kien_phe_binh_tiep_thu"] == (
        "Số ý kiến phê bình, góp ý của Nhân dân đã tiếp thu, giải quyết"
    )
    assert labels["chuyen_de_dan_chu_co_so"] == (
        "Số chuyên đề, tin bài về thực hiện dân chủ ở cơ sở được phát sóng, đăng tải"
    )
    sections = {i.code: s.key for s, i in form.iter_indicators()}
    assert {sections[c] for c in codes(form) if c.startswith("dan_chu_")} == {"5"}
    assert {sections[c] for c in codes(form) if c.startswith("ton_giao_")} == {"6"}
    assert {sections[c] for c in codes(form) if c.startswith("ky_cuong_")} == {"3"}
    assert {sections[c] for c in codes(form) if c.startswith("y_kien_phe_binh_")} == {"10"}


def test_every_2023_1_indicator_keeps_its_code_label_and_type(form: FormDefinition) -> None:
    old = load_form("dvcq-dinh-ky", "2023.1")
    for indicator in old.indicators:
        if indicator.code == "co_lanh_dao_phu_trach":
            # II.5's self-declared yes/no is replaced by the leader check (below).
            assert form.indicator(indicator.code) is None
            continue
        kept = form.indicator(indicator.code)
        assert kept is not None, indicator.code
        assert (kept.label, kept.type, kept.applies_to) == (
            indicator.label,
            indicator.type,
            indicator.applies_to,
        )
    assert [f.model_dump() for f in form.text_fields] == [f.model_dump() for f in old.text_fields]


def test_wards_report_on_the_people_and_departments_on_their_staff(form: FormDefinition) -> None:
    ward = form_for_unit(form, "ward", NO_TAGS)
    department = form_for_unit(form, "department", NO_TAGS)
    centre = form_for_unit(form, "centre", {"communication"})
    ward_codes, department_codes = codes(ward), codes(department)
    assert {"dan_chu_hoi_nghi_doi_thoai", "dan_chu_lay_y_kien_nhan_dan"} <= ward_codes
    assert not {"dan_chu_hoi_nghi_can_bo", "dan_chu_lay_y_kien_can_bo"} & ward_codes
    assert {"dan_chu_hoi_nghi_can_bo", "dan_chu_lay_y_kien_can_bo"} <= department_codes
    assert not {"dan_chu_hoi_nghi_doi_thoai", "dan_chu_lay_y_kien_nhan_dan"} & department_codes
    # Tín ngưỡng, tôn giáo is the wards' and the commune's state management task.
    assert ward.section("6") is not None and form_for_unit(form, "commune", NO_TAGS).section("6")
    assert department.section("6") is None and centre.section("6") is None
    assert centre.section("12") is not None and department.section("12") is None


def test_every_resolved_figure_is_one_carried_over_warning(form: FormDefinition) -> None:
    rules = {r.id: r for r in form.rules}
    errors = [r.id for r in rules.values() if r.severity == "error"]
    # Only a part of what was received (online files) can never exceed it.
    assert errors == ["ho_so_truc_tuyen_le_tiep_nhan"]
    carried = {r.id for r in rules.values() if r.carried_over}
    assert carried == set(rules) - {"ho_so_truc_tuyen_le_tiep_nhan"}
    assert all(r.severity == "warning" and r.note is None for r in rules.values() if r.carried_over)


def test_carried_over_tthc_files_are_accepted_with_a_warning(form: FormDefinition) -> None:
    body = report("2023-Y", form_version="2023.2")
    body["sections"]["7"]["indicators"] = {
        "ho_so_tthc_tiep_nhan": 1000,
        "ho_so_tthc_dung_han": 990,
        "ho_so_tthc_qua_han": 40,  # 30 files came from the previous period
        "ho_so_truc_tuyen": 700,
    }
    result = validate_periodic(form, "ward", NO_TAGS, body)
    assert result.ok and result.errors == []
    (warning,) = result.warnings
    assert (warning.path, warning.code, warning.severity) == (
        "sections.7.indicators.ho_so_tthc_qua_han",
        "rule_violation",
        "warning",
    )
    assert warning.message.endswith(CARRIED_OVER_NOTE)
    assert "tồn kỳ trước chuyển sang" in warning.message
    assert "1.030" in warning.message and "1.000" in warning.message
    # The same rule, word for word, for letters resolved from earlier periods.
    body["sections"]["10"]["indicators"] = {"don_thu_tiep_nhan": 5, "don_thu_giai_quyet": 9}
    letters = validate_periodic(form, "ward", NO_TAGS, body)
    assert letters.ok and len(letters.warnings) == 2
    assert all(w.message.endswith(CARRIED_OVER_NOTE) for w in letters.warnings)


def test_online_files_beyond_the_files_received_still_block(form: FormDefinition) -> None:
    body = report("2023-Y", form_version="2023.2")
    body["sections"]["7"]["indicators"] = {"ho_so_tthc_tiep_nhan": 10, "ho_so_truc_tuyen": 11}
    result = validate_periodic(form, "ward", NO_TAGS, body)
    assert not result.ok
    assert [i.path for i in result.errors] == ["sections.7.indicators.ho_so_truc_tuyen"]


@pytest.mark.parametrize(
    ("kind", "tags"),
    [("ward", ()), ("commune", ()), ("department", ()), ("centre", ("communication",))],
)
def test_a_complete_report_of_every_kind_passes(
    form: FormDefinition, kind: str, tags: tuple[str, ...]
) -> None:
    body = report("2024-H1", kind=kind, tags=tags)
    result = validate_periodic(form, kind, set(tags), body)
    assert result.ok and result.warnings == [], result.errors


def test_a_department_may_not_send_the_wards_sections(form: FormDefinition) -> None:
    body = report("2024-H1", kind="department")
    body["sections"]["6"] = {"narrative": "Không phát sinh", "indicators": {}}
    body["sections"]["5"]["indicators"]["dan_chu_hoi_nghi_doi_thoai"] = 1
    result = validate_periodic(form, "department", NO_TAGS, body)
    assert sorted((i.path, i.code) for i in result.errors) == [
        ("sections.5.indicators.dan_chu_hoi_nghi_doi_thoai", "not_applicable"),
        ("sections.6", "not_applicable"),
    ]


def test_ii_5_asks_to_confirm_the_registrys_leader_in_the_plans_words(
    form: FormDefinition,
) -> None:
    section = form.section("8")
    assert section is not None and section.plan_ref == "II.5"
    assert section.leader_check is not None and form.leader_section == section
    ward = form_for_unit(form, "commune", NO_TAGS).section("8")
    department = form_for_unit(form, "department", NO_TAGS).section("8")
    assert ward and ward.leader_check and department and department.leader_check
    assert ward.leader_check.label == (
        "Chủ tịch Ủy ban nhân dân trực tiếp phụ trách công tác dân vận của chính quyền"
    )
    assert department.leader_check.label == (
        "01 đồng chí lãnh đạo phụ trách công tác dân vận của chính quyền"
    )
    assert ward.leader_check.wording == () and ward.leader_check.code == "lanh_dao_phu_trach"


def _leader(form: FormDefinition, answer: Any, **options: Any) -> Any:
    body = report("2023-Y", form_version="2023.2")
    if answer is None:
        del body["sections"]["8"]["lanh_dao_phu_trach"]
    else:
        body["sections"]["8"]["lanh_dao_phu_trach"] = answer
    return validate_periodic(form, "ward", NO_TAGS, body, **options)


def test_a_confirmed_or_changed_leader_is_kept_in_canonical_form(form: FormDefinition) -> None:
    confirmed = _leader(form, {"confirmed": True, "full_name": "bỏ qua"}, leader_on_record=True)
    assert confirmed.ok, confirmed.errors
    assert confirmed.content["sections"]["8"]["lanh_dao_phu_trach"] == {
        "confirmed": True,
        "full_name": None,
        "title": None,
    }
    changed = _leader(
        form, {"confirmed": False, "full_name": " Trần Thị Bình ", "title": "Chủ tịch"}
    )
    assert changed.ok, changed.errors
    assert changed.content["sections"]["8"]["lanh_dao_phu_trach"] == {
        "confirmed": False,
        "full_name": "Trần Thị Bình",
        "title": "Chủ tịch",
    }


@pytest.mark.parametrize(
    ("answer", "options", "expected"),
    [
        (None, {}, [("sections.8.lanh_dao_phu_trach", "required")]),
        ({}, {}, [("sections.8.lanh_dao_phu_trach", "required")]),
        ("có", {}, [("sections.8.lanh_dao_phu_trach", "wrong_type")]),
        ({"confirmed": "yes"}, {}, [("sections.8.lanh_dao_phu_trach.confirmed", "wrong_type")]),
        (
            {"confirmed": True},
            {"leader_on_record": False},
            [("sections.8.lanh_dao_phu_trach.confirmed", "leader_not_on_record")],
        ),
        (
            {"confirmed": False, "full_name": "  "},
            {},
            [
                ("sections.8.lanh_dao_phu_trach.full_name", "required"),
                ("sections.8.lanh_dao_phu_trach.title", "required"),
            ],
        ),
        (
            {"confirmed": False, "full_name": "A\x00", "title": "x" * 201, "ngay": 1},
            {},
            [
                ("sections.8.lanh_dao_phu_trach.full_name", "control_character"),
                ("sections.8.lanh_dao_phu_trach.ngay", "unknown_field"),
                ("sections.8.lanh_dao_phu_trach.title", "too_long"),
            ],
        ),
    ],
)
def test_an_unanswered_or_malformed_leader_check_is_an_error_with_its_label(
    form: FormDefinition, answer: Any, options: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    result = _leader(form, answer, **options)
    assert sorted((i.path, i.code) for i in result.errors) == expected
    for issue in result.errors:
        assert issue.message.startswith("Mục 8. Kiện toàn tổ chức phụ trách công tác dân vận: ")
        assert "lanh_dao_phu_trach" not in issue.message and "confirmed" not in issue.message


# A released version never changes: reports sent on it are read with it for ever. Change
# a form by adding a version (and its crosswalk), never by editing one that periods use.
RELEASED = {
    ("dvcq-dinh-ky", "2023.1"): "adb0495d7655107e66cd3022b2abc3b37fd524f7cb637832b8aea93721491768",
    ("dvcq-dinh-ky", "2023.2"): "b6cb6ed988a22fb65ac3afafd40fc460c1c7cc3562cdaf06e963782982f83304",
    ("dvcq-dot-xuat", "2023.1"): "b24ad77585b21df1bf8bd6f6cc87e266eaa6fa4fcda1867917638ba52d49bca1",
}


@pytest.mark.parametrize(("form_id", "version"), sorted(RELEASED))
def test_released_versions_are_never_edited(form_id: str, version: str) -> None:
    text = (files("shared.forms") / "definitions" / form_id / f"{version}.yaml").read_bytes()
    assert hashlib.sha256(text).hexdigest() == RELEASED[(form_id, version)]
