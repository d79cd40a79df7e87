"""The ad-hoc request form turned into the registry's body, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from services.portal.ad_hoc import (
    AMBIGUOUS_SCOPE,
    BAD_BASIS_DATE,
    BAD_DATE,
    BAD_TIME,
    PAST_DEADLINE,
    AdHocDraft,
    BasisDraft,
    checked_basis,
    checked_request,
    deadline_inputs,
    draft_from_form,
    field_errors,
    local_deadline,
    parse_local_date,
    parse_local_time,
)
from shared.contracts.registry import RequestBasis

NOW = datetime(2023, 6, 5, 3, 0, tzinfo=UTC)  # 10:00 05/06/2023 in Hồng Lĩnh


def test_a_date_is_read_from_a_date_input_or_typed_the_vietnamese_way() -> None:
    assert parse_local_date("2023-06-20") == date(2023, 6, 20)
    assert parse_local_date("20/6/2023") == date(2023, 6, 20)
    assert parse_local_date("31/02/2023") is None
    assert parse_local_date("06/20/2023") is None
    assert parse_local_date("") is None


def test_a_time_is_hh_mm_or_the_spoken_17h() -> None:
    assert parse_local_time("17:00") == time(17, 0)
    assert parse_local_time("7:30") == time(7, 30)
    assert parse_local_time("17h") == time(17, 0)
    assert parse_local_time("17h30") == time(17, 30)
    assert parse_local_time("24:00") is None
    assert parse_local_time("chiều") is None


def test_the_deadline_is_an_aware_instant_in_hong_linh_time() -> None:
    due_at, errors = local_deadline("20/06/2023", "17:00")
    assert errors == {}
    assert due_at is not None and due_at.isoformat() == "2023-06-20T17:00:00+07:00"
    assert due_at.astimezone(UTC) == datetime(2023, 6, 20, 10, 0, tzinfo=UTC)


def test_a_bad_date_and_time_are_both_reported_at_their_fields() -> None:
    due_at, errors = local_deadline("hôm nay", "25:00")
    assert due_at is None
    assert errors == {"due_date": BAD_DATE, "due_time": BAD_TIME}


def test_a_complete_draft_for_chosen_units_becomes_the_registry_body() -> None:
    draft = draft_from_form(
        {
            "title": ["  Kết quả tiếp dân quý II  "],
            "content": ["Báo cáo số lượt tiếp dân."],
            "due_date": ["2023-06-20"],
            "due_time": ["17:00"],
            "scope": ["units"],
            "units": ["18115", "18118", "18115", ""],
            "kinds": ["ward"],
        }
    )
    checked = checked_request(draft, NOW)
    assert checked.errors == {}
    assert checked.body == {
        "title": "Kết quả tiếp dân quý II",
        "content": "Báo cáo số lượt tiếp dân.",
        "due_at": "2023-06-20T17:00:00+07:00",
        "scope": {"units": ["18115", "18118"]},
    }


def test_scope_all_and_by_kind_are_sent_as_the_registry_reads_them() -> None:
    base = AdHocDraft(title="Đột xuất", due_date="2023-06-20")
    everyone = checked_request(base, NOW)
    assert everyone.body is not None and everyone.body["scope"] == {"all": True}
    by_kind = checked_request(replace(base, scope="kinds", kinds=("ward", "commune")), NOW)
    assert by_kind.body is not None and by_kind.body["scope"] == {"kinds": ["ward", "commune"]}


def test_an_untitled_past_request_without_units_lists_every_problem() -> None:
    draft = AdHocDraft(title=" ", due_date="2023-06-05", due_time="09:00", scope="units")
    checked = checked_request(draft, NOW)
    assert checked.body is None
    assert set(checked.errors) == {"title", "due_date", "scope"}
    assert checked.errors["due_date"] == PAST_DEADLINE


def test_an_unknown_scope_choice_falls_back_to_all_units() -> None:
    assert draft_from_form({"scope": ["moi-nguoi"]}).scope == "all"


def test_a_blank_time_means_trước_ngày_that_is_local_midnight() -> None:
    due_at, errors = local_deadline("2023-06-20", "  ")
    assert errors == {}
    assert due_at is not None and due_at.isoformat() == "2023-06-20T00:00:00+07:00"


def test_the_inputs_read_back_as_the_deadline_with_no_time_for_trước_ngày() -> None:
    by_day = datetime(2023, 6, 9, 17, 0, tzinfo=UTC)  # trước ngày 10/06/2023
    assert deadline_inputs(by_day) == ("2023-06-10", "")
    assert local_deadline(*deadline_inputs(by_day))[0] == by_day
    at_five = datetime(2023, 6, 16, 10, 0, tzinfo=UTC)  # trước 17:00 ngày 16/06/2023
    assert deadline_inputs(at_five) == ("2023-06-16", "17:00")
    assert local_deadline(*deadline_inputs(at_five))[0] == at_five


def _scoped(**chosen: list[str]) -> dict[str, list[str]]:
    form = {"title": ["Tiếp dân"], "due_date": ["2023-06-20"], "due_time": ["17:00"]}
    form.update(chosen)
    return form


def test_ticked_units_with_the_default_scope_are_the_scope() -> None:
    checked = checked_request(draft_from_form(_scoped(units=["18115"])), NOW)
    assert checked.body is not None and checked.body["scope"] == {"units": ["18115"]}
    checked = checked_request(draft_from_form(_scoped(scope=["all"], kinds=["ward"])), NOW)
    assert checked.body is not None and checked.body["scope"] == {"kinds": ["ward"]}


def test_ticked_units_and_kinds_without_a_chosen_scope_are_refused_at_the_field() -> None:
    checked = checked_request(draft_from_form(_scoped(units=["18115"], kinds=["ward"])), NOW)
    assert checked.body is None
    assert checked.errors == {"scope": AMBIGUOUS_SCOPE}


def test_a_chosen_scope_decides_even_when_other_boxes_are_ticked() -> None:
    form = _scoped(scope=["kinds"], units=["18115"], kinds=["ward"])
    checked = checked_request(draft_from_form(form), NOW)
    assert checked.body is not None and checked.body["scope"] == {"kinds": ["ward"]}


def test_nothing_ticked_with_the_default_scope_asks_every_unit() -> None:
    checked = checked_request(draft_from_form(_scoped()), NOW)
    assert checked.body is not None and checked.body["scope"] == {"all": True}


def test_the_basis_typed_becomes_the_registrys_basis_with_its_date_read_either_way() -> None:
    typed = {
        "basis_document_type": [" Công văn "],
        "basis_number": ["125/SNV-XDCQ"],
        "basis_issued_on": ["2/3/2024"],
        "basis_issuer": ["Sở Nội vụ"],
        "basis_subject": ["về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg"],
    }
    draft = draft_from_form(typed)
    assert draft.basis.issued_on == "2024-03-02"  # what a date input shows again
    assert draft.basis == draft_from_form({**typed, "basis_issued_on": ["2024-03-02"]}).basis
    assert checked_basis(draft.basis) == (
        {
            "document_type": "Công văn",
            "number": "125/SNV-XDCQ",
            "issuer": "Sở Nội vụ",
            "subject": "về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
            "issued_on": "2024-03-02",
        },
        {},
    )
    recorded = RequestBasis.model_validate(checked_basis(draft.basis)[0])
    assert BasisDraft.of(recorded) == draft.basis  # the edit page reads back what was sent
    assert recorded.citation() == (
        "Công văn số 125/SNV-XDCQ ngày 02/03/2024 của Sở Nội vụ về việc báo cáo kết quả 01 năm "
        "thực hiện Chỉ thị số 33/CT-TTg"
    )


def test_no_basis_is_sent_when_nothing_is_typed_and_a_bad_date_is_refused() -> None:
    assert checked_basis(BasisDraft(number="  ")) == (None, {})
    assert checked_basis(BasisDraft.of(None)) == (None, {})
    assert checked_basis(BasisDraft(issued_on="30/02/2024")) == (
        None,
        {"basis_issued_on": BAD_BASIS_DATE},
    )
    request = AdHocDraft(title="Báo cáo nhanh", due_date="20/06/2023")
    assert "basis" not in (checked_request(request, NOW).body or {})
    refused = checked_request(replace(request, basis=BasisDraft(issued_on="hôm qua")), NOW)
    assert refused.body is None and refused.errors == {"basis_issued_on": BAD_BASIS_DATE}


def test_the_registrys_problems_land_on_the_basis_fields() -> None:
    details = {
        "problems": [
            {"field": "basis.number", "code": "too_long", "message": "Số văn bản dài quá."},
            {"field": "basis.issued_on", "code": "issued_in_future", "message": "Chưa đến."},
            {"field": "title", "code": "required", "message": "Thiếu tên."},
        ]
    }
    assert field_errors(details, "Số văn bản dài quá.", {"title": "title"}) == (
        {
            "basis_number": "Số văn bản dài quá.",
            "basis_issued_on": "Chưa đến.",
            "title": "Thiếu tên.",
        },
        [],
    )
    # A problem at no field of the form (the whole basis on a periodic report) is a notice.
    other = {"problems": [{"field": "basis", "code": "basis_not_ad_hoc", "message": "Chỉ …"}]}
    assert field_errors(other, "Chỉ …", {"title": "title"}) == ({}, ["Chỉ …"])
