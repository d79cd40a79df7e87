"""Validation of periodic reports against dvcq-dinh-ky 2023.1."""

from __future__ import annotations

import json
import math
import unicodedata
from decimal import Decimal
from typing import Any

import pytest

from shared.forms import FormDefinition, Issue, ValidationResult, validate_periodic, validate_report

NO_TAGS: frozenset[str] = frozenset()


def by_path(issues: list[Issue]) -> dict[str, Issue]:
    return {issue.path: issue for issue in issues}


def only(result: ValidationResult, path: str) -> Issue:
    matches = [i for i in [*result.errors, *result.warnings] if i.path == path]
    assert len(matches) == 1, [*result.errors, *result.warnings]
    return matches[0]


def indicators(body: dict[str, Any], section: str) -> dict[str, Any]:
    result: dict[str, Any] = body["sections"][section]["indicators"]
    return result


def test_full_valid_ward_report_passes(periodic: FormDefinition, ward_body: dict[str, Any]) -> None:
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert result.errors == [] and result.warnings == []
    assert set(result.content["sections"]) == {str(n) for n in range(1, 9)}
    assert result.content["sections"]["4"]["indicators"]["ho_so_tthc_tiep_nhan"] == 1200
    assert result.content["sections"]["5"]["indicators"]["co_lanh_dao_phu_trach"] is True
    assert result.content["sections"]["6"]["indicators"]["nhan_dan_dong_gop"] == "125.5"
    assert result.content["vuong_mac"] == ["Chưa có hướng dẫn về mô hình Dân vận khéo."]
    # The content is plain JSON.
    assert json.loads(json.dumps(result.content)) == result.content


def test_validate_report_dispatches_to_the_periodic_rules(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    del ward_body["ton_tai_han_che"]
    result = validate_report(periodic, "ward", NO_TAGS, ward_body)
    assert [i.path for i in result.errors] == ["ton_tai_han_che"]


def test_department_sending_ward_only_figures_gets_not_applicable(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    result = validate_periodic(periodic, "department", NO_TAGS, ward_body)
    assert not result.ok
    issues = by_path(result.errors)
    assert set(issues) == {
        "sections.6.indicators.nhan_dan_dong_gop",
        "sections.8.indicators.ho_thoat_ngheo",
    }
    issue = issues["sections.6.indicators.nhan_dan_dong_gop"]
    assert issue.code == "not_applicable"
    assert issue.field == "nhan_dan_dong_gop"
    assert issue.label == "Giá trị Nhân dân đóng góp (triệu đồng)"
    assert "Giá trị Nhân dân đóng góp (triệu đồng) không áp dụng" in issue.message
    assert "nhan_dan_dong_gop" not in issue.message
    assert "nhan_dan_dong_gop" not in result.content["sections"]["6"]["indicators"]


def test_department_without_ward_figures_passes(
    periodic: FormDefinition, department_body: dict[str, Any]
) -> None:
    result = validate_periodic(periodic, "department", NO_TAGS, department_body)
    assert result.ok, result.errors


def test_section_9_rejected_without_communication_tag(
    periodic: FormDefinition, department_body: dict[str, Any]
) -> None:
    department_body["sections"]["9"] = {
        "narrative": "Phát sóng 12 chuyên đề.",
        "indicators": {"chuyen_de_phat_song": 12},
    }
    result = validate_periodic(periodic, "department", NO_TAGS, department_body)
    issue = only(result, "sections.9")
    assert (issue.code, issue.severity, issue.field) == ("not_applicable", "error", "9")
    assert "9" not in result.content["sections"]


def test_section_9_required_and_accepted_with_communication_tag(
    periodic: FormDefinition, department_body: dict[str, Any]
) -> None:
    tags = frozenset({"communication"})
    missing = validate_periodic(periodic, "centre", tags, department_body)
    assert [(i.path, i.code) for i in missing.errors] == [("sections.9.narrative", "required")]
    department_body["sections"]["9"] = {
        "narrative": "Phát sóng 12 chuyên đề.",
        "indicators": {"chuyen_de_phat_song": 12},
    }
    result = validate_periodic(periodic, "centre", tags, department_body)
    assert result.ok, result.errors
    assert result.content["sections"]["9"]["indicators"] == {"chuyen_de_phat_song": 12}


def test_three_different_problems_are_all_reported(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "1")["van_ban_ban_hanh"] = True
    indicators(ward_body, "2")["so_khong_co"] = 1
    ward_body["phuong_huong"] = "   "
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert {(i.path, i.code) for i in result.errors} == {
        ("sections.1.indicators.van_ban_ban_hanh", "wrong_type"),
        ("sections.2.indicators.so_khong_co", "unknown_field"),
        ("phuong_huong", "required"),
    }


def test_nfd_text_comes_back_nfc(periodic: FormDefinition, ward_body: dict[str, Any]) -> None:
    nfd = unicodedata.normalize("NFD", "Đã thực hiện tốt phong trào")
    ward_body["sections"]["1"]["narrative"] = f"  {nfd}\r\n"
    ward_body["vuong_mac"] = [unicodedata.normalize("NFD", "Vướng mắc")]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert result.content["sections"]["1"]["narrative"] == "Đã thực hiện tốt phong trào"
    assert result.content["vuong_mac"] == ["Vướng mắc"]


def test_control_character_in_text_is_an_error(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    ward_body["ton_tai_han_che"] = "Tồn tại\x00ẩn"
    ward_body["vuong_mac"] = ["ổn", "chuông\x07"]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    issues = by_path(result.errors)
    assert set(issues) == {"ton_tai_han_che", "vuong_mac.1"}
    assert {i.code for i in issues.values()} == {"control_character"}
    assert "U+0000" in issues["ton_tai_han_che"].message
    assert result.content["vuong_mac"] == ["ổn"]


def test_zero_and_not_reported_are_distinct(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "1")["van_ban_ban_hanh"] = 0
    del indicators(ward_body, "1")["hoi_nghi_quan_triet"]
    indicators(ward_body, "1")["luot_nguoi_quan_triet"] = None
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    section = result.content["sections"]["1"]["indicators"]
    assert section["van_ban_ban_hanh"] == 0
    assert section["hoi_nghi_quan_triet"] is None
    assert section["luot_nguoi_quan_triet"] is None
    assert section["van_ban_ban_hanh"] is not None


def test_missing_indicators_block_still_reports_every_figure_as_none(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    del ward_body["sections"]["3"]["indicators"]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert set(result.content["sections"]["3"]["indicators"].values()) == {None}


# Each case sets every figure its rule's section compares, so only that rule can fire.
RULES = [
    ("3", {"sai_pham_phat_hien": 2, "sai_pham_xu_ly": 3}, "sai_pham_xu_ly", "warning"),
    (
        "4",
        {
            "ho_so_tthc_tiep_nhan": 10,
            "ho_so_tthc_dung_han": 8,
            "ho_so_tthc_qua_han": 3,
            "ho_so_truc_tuyen": 0,
        },
        "ho_so_tthc_qua_han",
        "error",
    ),
    (
        "4",
        {
            "ho_so_tthc_tiep_nhan": 10,
            "ho_so_tthc_dung_han": 0,
            "ho_so_tthc_qua_han": 0,
            "ho_so_truc_tuyen": 11,
        },
        "ho_so_truc_tuyen",
        "error",
    ),
    ("7", {"don_thu_tiep_nhan": 4, "don_thu_giai_quyet": 5}, "don_thu_giai_quyet", "warning"),
    (
        "7",
        {"kien_nghi_cu_tri_tiep_nhan": 1, "kien_nghi_cu_tri_giai_quyet": 2},
        "kien_nghi_cu_tri_giai_quyet",
        "warning",
    ),
]


@pytest.mark.parametrize(("section", "figures", "target", "severity"), RULES)
def test_each_cross_field_rule_fires_with_its_severity(
    periodic: FormDefinition,
    ward_body: dict[str, Any],
    section: str,
    figures: dict[str, int],
    target: str,
    severity: str,
) -> None:
    indicators(ward_body, section).update(figures)
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    issue = only(result, f"sections.{section}.indicators.{target}")
    assert (issue.code, issue.severity, issue.field) == ("rule_violation", severity, target)
    assert [*result.errors, *result.warnings] == [issue]
    assert result.ok is (severity == "warning")
    assert (issue in result.warnings) is (severity == "warning")
    rule = next(r for r in periodic.rules if r.target == target)
    for code in rule.inputs:
        figure = periodic.indicator(code)
        assert figure is not None and figure.label.lower() in issue.message.lower()
        assert code not in issue.message


@pytest.mark.parametrize(("section", "figures", "target", "severity"), RULES)
def test_rule_at_the_limit_does_not_fire(
    periodic: FormDefinition,
    ward_body: dict[str, Any],
    section: str,
    figures: dict[str, int],
    target: str,
    severity: str,
) -> None:
    # Lower the target until left == right exactly.
    over = 1
    figures = {**figures, target: figures[target] - over}
    indicators(ward_body, section).update(figures)
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok and result.warnings == [], [*result.errors, *result.warnings]


def test_sum_rule_message_names_every_field_and_the_numbers(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "4").update(
        {"ho_so_tthc_tiep_nhan": 1000, "ho_so_tthc_dung_han": 900, "ho_so_tthc_qua_han": 200}
    )
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    message = only(result, "sections.4.indicators.ho_so_tthc_qua_han").message
    assert message == (
        "Mục 4. Cải cách hành chính: Tổng số hồ sơ giải quyết đúng hạn và số hồ sơ giải quyết "
        "quá hạn là 1.100, lớn hơn số hồ sơ thủ tục hành chính tiếp nhận là 1.000."
    )


def test_rule_is_skipped_when_an_input_is_not_reported(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "4").update({"ho_so_tthc_dung_han": 5000, "ho_so_truc_tuyen": 5000})
    del indicators(ward_body, "4")["ho_so_tthc_tiep_nhan"]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok and result.warnings == []


def test_rule_is_skipped_when_an_input_is_invalid(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "4").update({"ho_so_tthc_tiep_nhan": "10", "ho_so_truc_tuyen": 50})
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert [(i.path, i.code) for i in result.errors] == [
        ("sections.4.indicators.ho_so_tthc_tiep_nhan", "wrong_type")
    ]


def test_unknown_fields_are_named(periodic: FormDefinition, ward_body: dict[str, Any]) -> None:
    ward_body["period_id"] = "2023-h1"
    ward_body["sections"]["1"]["ghi_chu"] = "x"
    ward_body["sections"]["12"] = {"narrative": "x"}
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    issues = by_path(result.errors)
    assert set(issues) == {"period_id", "sections.1.ghi_chu", "sections.12"}
    assert {i.code for i in issues.values()} == {"unknown_field"}
    assert "period_id" in issues["period_id"].message
    assert issues["sections.1.ghi_chu"].field == "ghi_chu"
    assert "ghi_chu" in issues["sections.1.ghi_chu"].message


def test_indicator_from_another_section_is_unknown_there(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "1")["ho_so_truc_tuyen"] = 1
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert only(result, "sections.1.indicators.ho_so_truc_tuyen").code == "unknown_field"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (True, "wrong_type"),
        (False, "wrong_type"),
        ("3", "wrong_type"),
        ([3], "wrong_type"),
        (3.0, "not_integer"),
        (2.5, "not_integer"),
        (Decimal("3"), "not_integer"),
        (math.nan, "not_a_number"),
        (math.inf, "not_a_number"),
        (-1, "out_of_range"),
        (1_000_001, "out_of_range"),
    ],
)
def test_invalid_counts_are_rejected(
    periodic: FormDefinition, ward_body: dict[str, Any], value: Any, code: str
) -> None:
    indicators(ward_body, "2")["mo_hinh_dvk_dang_ky"] = value
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    issue = only(result, "sections.2.indicators.mo_hinh_dvk_dang_ky")
    assert (issue.code, issue.severity) == (code, "error")
    assert issue.label == 'Số mô hình "Dân vận khéo" đăng ký xây dựng'
    assert issue.label in issue.message and "mo_hinh_dvk_dang_ky" not in issue.message
    assert result.content["sections"]["2"]["indicators"]["mo_hinh_dvk_dang_ky"] is None


@pytest.mark.parametrize("value", [0, 1_000_000])
def test_count_bounds_are_inclusive(
    periodic: FormDefinition, ward_body: dict[str, Any], value: int
) -> None:
    indicators(ward_body, "2")["mo_hinh_dvk_dang_ky"] = value
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert result.content["sections"]["2"]["indicators"]["mo_hinh_dvk_dang_ky"] == value


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (12, "12.0"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (Decimal("7.50"), "7.5"),
        (-0.0, "0.0"),
        (0, "0.0"),
    ],
)
def test_decimals_are_quantised_strings(
    periodic: FormDefinition, ward_body: dict[str, Any], value: Any, canonical: str
) -> None:
    indicators(ward_body, "6")["nhan_dan_dong_gop"] = value
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok, result.errors
    assert result.content["sections"]["6"]["indicators"]["nhan_dan_dong_gop"] == canonical


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (12.55, "too_many_decimals"),
        (Decimal("1.00000000000000000000000000001"), "too_many_decimals"),
        (-0.5, "out_of_range"),
        (1e9 + 1, "out_of_range"),
        (math.nan, "not_a_number"),
        (-math.inf, "not_a_number"),
        (Decimal("NaN"), "not_a_number"),
        ("12.5", "wrong_type"),
        (True, "wrong_type"),
    ],
)
def test_invalid_decimals_are_rejected(
    periodic: FormDefinition, ward_body: dict[str, Any], value: Any, code: str
) -> None:
    indicators(ward_body, "6")["nhan_dan_dong_gop"] = value
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert only(result, "sections.6.indicators.nhan_dan_dong_gop").code == code


@pytest.mark.parametrize("value", [1, 0, "true", "có", None])
def test_yes_no_accepts_only_booleans(
    periodic: FormDefinition, ward_body: dict[str, Any], value: Any
) -> None:
    indicators(ward_body, "5")["co_lanh_dao_phu_trach"] = value
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    if value is None:
        assert result.ok
        assert result.content["sections"]["5"]["indicators"]["co_lanh_dao_phu_trach"] is None
    else:
        assert only(result, "sections.5.indicators.co_lanh_dao_phu_trach").code == "wrong_type"


def test_false_is_a_real_answer(periodic: FormDefinition, ward_body: dict[str, Any]) -> None:
    indicators(ward_body, "5")["co_lanh_dao_phu_trach"] = False
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert result.content["sections"]["5"]["indicators"]["co_lanh_dao_phu_trach"] is False


@pytest.mark.parametrize("narrative", ["", "   \n\t ", "\u200b", None])
def test_empty_narrative_is_required(
    periodic: FormDefinition, ward_body: dict[str, Any], narrative: Any
) -> None:
    ward_body["sections"]["3"]["narrative"] = narrative
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    issue = only(result, "sections.3.narrative")
    assert (issue.code, issue.field, issue.label) == ("required", "narrative", "Kết quả thực hiện")
    assert "Không phát sinh" in issue.message
    assert "Mục 3" in issue.message


def test_khong_phat_sinh_is_a_valid_narrative(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    ward_body["sections"]["3"] = {"narrative": "Không phát sinh"}
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert result.content["sections"]["3"]["narrative"] == "Không phát sinh"


def test_missing_applicable_section_is_required(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    del ward_body["sections"]["7"]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert [(i.path, i.code) for i in result.errors] == [("sections.7.narrative", "required")]


def test_narrative_over_the_limit_is_too_long(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    ward_body["sections"]["1"]["narrative"] = "a" * 20_000
    assert validate_periodic(periodic, "ward", NO_TAGS, ward_body).ok
    ward_body["sections"]["1"]["narrative"] = "a" * 20_001
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert only(result, "sections.1.narrative").code == "too_long"


def test_optional_text_may_be_absent(periodic: FormDefinition, ward_body: dict[str, Any]) -> None:
    del ward_body["de_xuat_kien_nghi"]
    del ward_body["vuong_mac"]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert result.content["de_xuat_kien_nghi"] is None
    assert result.content["vuong_mac"] == []


@pytest.mark.parametrize(
    ("vuong_mac", "path", "code"),
    [
        ("một chuỗi", "vuong_mac", "wrong_type"),
        (["ổn", ""], "vuong_mac.1", "empty_entry"),
        (["ổn", "  "], "vuong_mac.1", "empty_entry"),
        ([None], "vuong_mac.0", "empty_entry"),
        ([7], "vuong_mac.0", "wrong_type"),
        (["x" * 5001], "vuong_mac.0", "too_long"),
        (["x"] * 51, "vuong_mac", "too_many_items"),
    ],
)
def test_vuong_mac_must_be_a_short_list_of_non_empty_strings(
    periodic: FormDefinition, ward_body: dict[str, Any], vuong_mac: Any, path: str, code: str
) -> None:
    ward_body["vuong_mac"] = vuong_mac
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert [(i.path, i.code) for i in result.errors] == [(path, code)]


def test_fifty_vuong_mac_entries_are_allowed(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    ward_body["vuong_mac"] = [f"Vướng mắc {n}" for n in range(50)]
    result = validate_periodic(periodic, "ward", NO_TAGS, ward_body)
    assert result.ok
    assert len(result.content["vuong_mac"]) == 50


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (["not", "a", "mapping"], ""),
        ({"sections": ["1"]}, "sections"),
        ({"sections": {"1": "Không phát sinh"}}, "sections.1"),
        ({"sections": {"1": {"narrative": "x", "indicators": [1, 2]}}}, "sections.1.indicators"),
    ],
)
def test_wrong_shapes_are_wrong_type(periodic: FormDefinition, body: Any, path: str) -> None:
    result = validate_periodic(periodic, "ward", NO_TAGS, body)
    assert not result.ok
    assert only(result, path).code == "wrong_type"


def test_every_message_names_the_label_and_never_the_code(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    indicators(ward_body, "3").update({"sai_pham_phat_hien": 1, "sai_pham_xu_ly": 4})
    indicators(ward_body, "1")["van_ban_ban_hanh"] = 1.5
    ward_body["ton_tai_han_che"] = ""
    ward_body["sections"]["2"]["narrative"] = "x" * 20_001
    result = validate_periodic(periodic, "department", NO_TAGS, ward_body)
    issues = [*result.errors, *result.warnings]
    assert len(issues) == 6
    for issue in issues:
        assert issue.label.lower() in issue.message.lower(), issue
        assert issue.field not in issue.message and "(" + issue.field not in issue.message, issue


def test_unknown_unit_kind_is_a_programming_error(
    periodic: FormDefinition, ward_body: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        validate_periodic(periodic, "village", NO_TAGS, ward_body)


def test_ad_hoc_form_is_not_validated_as_periodic(
    ad_hoc: FormDefinition, ward_body: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        validate_periodic(ad_hoc, "ward", NO_TAGS, ward_body)
