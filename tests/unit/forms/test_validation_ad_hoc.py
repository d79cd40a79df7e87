"""Validation of ad-hoc reports against dvcq-dot-xuat 2023.1."""

from __future__ import annotations

import unicodedata

from shared.forms import FormDefinition, validate_ad_hoc, validate_report


def test_valid_ad_hoc_report_passes_with_canonical_content(ad_hoc: FormDefinition) -> None:
    body = {"noi_dung": unicodedata.normalize("NFD", " Đã rà soát ổn định \r\n"), "vuong_mac": []}
    result = validate_ad_hoc(ad_hoc, body)
    assert result.ok
    assert result.content == {"noi_dung": "Đã rà soát ổn định", "vuong_mac": []}


def test_noi_dung_is_required(ad_hoc: FormDefinition) -> None:
    result = validate_ad_hoc(ad_hoc, {"vuong_mac": ["Cần hướng dẫn"]})
    assert [(i.path, i.code, i.label) for i in result.errors] == [
        ("noi_dung", "required", "Nội dung báo cáo")
    ]
    assert result.errors[0].message == "Nội dung báo cáo chưa được nhập."


def test_periodic_fields_are_unknown_in_an_ad_hoc_report(ad_hoc: FormDefinition) -> None:
    result = validate_ad_hoc(ad_hoc, {"noi_dung": "x", "sections": {}, "phuong_huong": "y"})
    assert {(i.path, i.code) for i in result.errors} == {
        ("sections", "unknown_field"),
        ("phuong_huong", "unknown_field"),
    }


def test_validate_report_dispatches_to_the_ad_hoc_rules(ad_hoc: FormDefinition) -> None:
    result = validate_report(ad_hoc, "ward", frozenset(), {"noi_dung": "Đã báo cáo"})
    assert result.ok
    assert result.content == {"noi_dung": "Đã báo cáo", "vuong_mac": []}
