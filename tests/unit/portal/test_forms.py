"""The report form as HTML fields, from the real form definition."""

from __future__ import annotations

from services.portal.figures import parse_indicator
from services.portal.forms import (
    MIN_DIFFICULTY_BOXES,
    blank_entry_boxes,
    body_from_values,
    build_form_view,
    issue_views,
    values_from_content,
    values_from_submission,
)
from services.portal.report_content import content_view
from shared.contracts.api.intake import PeriodForm
from shared.forms import FormDefinition, form_for_unit, load_form, validate_report


def ward_form() -> FormDefinition:
    return form_for_unit(load_form("dvcq-dinh-ky", "2023.1"), "ward", set())


def test_a_ward_form_has_sections_1_to_8_with_labels_and_types() -> None:
    view = build_form_view(ward_form(), {})
    assert [s.number for s in view.sections] == [1, 2, 3, 4, 5, 6, 7, 8]
    section4 = view.sections[3]
    assert section4.title == "Cải cách hành chính"
    assert section4.narrative.path == "sections.4.narrative"
    assert section4.narrative.required
    [qua_han] = [f for f in section4.indicators if f.code == "ho_so_tthc_qua_han"]
    assert qua_han.label == "Số hồ sơ giải quyết quá hạn"
    assert qua_han.path == "sections.4.indicators.ho_so_tthc_qua_han"
    assert qua_han.kind == "count"
    kinds = {f.code: f.kind for s in view.sections for f in s.indicators}
    assert kinds["co_lanh_dao_phu_trach"] == "yes_no"
    assert kinds["nhan_dan_dong_gop"] == "decimal"
    assert [f.code for f in view.text_fields] == [
        "ton_tai_han_che",
        "phuong_huong",
        "de_xuat_kien_nghi",
        "vuong_mac",
    ]
    vuong_mac = view.text_fields[-1]
    assert vuong_mac.kind == "text_list"
    assert vuong_mac.entries == [""] * MIN_DIFFICULTY_BOXES == [""] * 5


def test_intakes_form_answer_reads_back_into_the_very_form() -> None:
    form = ward_form()
    answer = PeriodForm.model_validate(
        {
            "period": {
                "period_id": "2023-H1",
                "kind": "six_month",
                "title": "6 tháng đầu năm 2023",
                "status": "open",
                "due_at": "2023-06-09T17:00:00+00:00",
                "due_text": "trước ngày 10/06/2023",
                "window_start": "2022-12-15",
                "window_end": "2023-06-14",
                "content": "",
            },
            "unit": None,
            "form": form.model_dump(mode="json"),
        }
    )
    assert answer.form == form


def test_typed_figures_become_json_numbers_and_blank_stays_not_reported() -> None:
    form = ward_form()
    count = form.indicator("van_ban_ban_hanh")
    amount = form.indicator("nhan_dan_dong_gop")
    yes_no = form.indicator("co_lanh_dao_phu_trach")
    assert count and amount and yes_no
    assert parse_indicator(count, "") is None
    assert parse_indicator(count, "  ") is None
    assert parse_indicator(count, "0") == 0
    assert parse_indicator(count, "1.250") == 1250
    assert parse_indicator(count, "1 250") == 1250
    assert parse_indicator(count, "ba") == "ba"  # intake answers with its own message
    assert parse_indicator(count, "2,5") == "2,5"
    assert parse_indicator(amount, "12,5") == 12.5
    assert parse_indicator(amount, "1.234,5") == 1234.5
    assert parse_indicator(amount, "12.5") == 12.5
    assert parse_indicator(amount, "1.500") == 1500
    assert parse_indicator(amount, "7") == 7
    assert parse_indicator(yes_no, "co") is True
    assert parse_indicator(yes_no, "khong") is False
    assert parse_indicator(yes_no, "") is None


def test_a_submission_becomes_a_body_intake_accepts() -> None:
    form = ward_form()
    posted: dict[str, list[str]] = {
        f"sections.{s.key}.narrative": ["Không phát sinh"] for s in form.sections
    }
    posted["sections.4.indicators.ho_so_tthc_tiep_nhan"] = ["10"]
    posted["sections.5.indicators.co_lanh_dao_phu_trach"] = ["co"]
    posted["ton_tai_han_che"] = ["Chậm"]
    posted["phuong_huong"] = ["Tiếp tục"]
    posted["vuong_mac"] = ["", "Cần hướng dẫn", "  "]
    values = values_from_submission(form, posted)
    body = body_from_values("2023-H1", form, values)
    assert body["period_id"] == "2023-H1"
    assert body["vuong_mac"] == ["Cần hướng dẫn"]
    assert body["sections"]["4"]["indicators"]["ho_so_tthc_dung_han"] is None
    content = {k: v for k, v in body.items() if k != "period_id"}
    result = validate_report(load_form("dvcq-dinh-ky", "2023.1"), "ward", set(), content)
    assert result.ok, result.errors
    assert result.content["sections"]["4"]["indicators"]["ho_so_tthc_tiep_nhan"] == 10


def test_stored_content_comes_back_as_the_values_typed() -> None:
    form = ward_form()
    content = {
        "sections": {
            "5": {"narrative": "Đã phân công", "indicators": {"co_lanh_dao_phu_trach": False}},
            "6": {"narrative": "x", "indicators": {"nhan_dan_dong_gop": "12.5"}},
        },
        "ton_tai_han_che": "Chậm",
        "vuong_mac": ["Một", "Hai"],
    }
    values = values_from_content(form, content)
    assert values["sections.5.indicators.co_lanh_dao_phu_trach"] == "khong"
    assert values["sections.6.indicators.nhan_dan_dong_gop"] == "12,5"
    assert values["sections.1.indicators.van_ban_ban_hanh"] == ""
    assert values["vuong_mac"] == ["Một", "Hai"]
    view = build_form_view(form, values)
    assert view.text_fields[-1].entries == ["Một", "Hai", "", "", ""]
    assert body_from_values("p", form, values)["sections"]["6"]["indicators"] == {
        "quy_che_phoi_hop": None,
        "cong_trinh_cung_lam": None,
        "nhan_dan_dong_gop": 12.5,
    }


def test_every_issue_is_placed_at_its_field_entry_or_section_or_kept_for_the_summary() -> None:
    issues = issue_views(
        [
            {"path": "sections.4.indicators.ho_so_tthc_qua_han", "label": "L", "message": "a"},
            {"path": "sections.2.narrative", "label": "Kết quả thực hiện", "message": "b"},
            {"path": "vuong_mac.1", "label": "Vướng mắc", "message": "c"},
            {"path": "sections.9", "label": "Mục 9", "message": "d"},
            {"path": "sections.3", "label": "Mục 3", "message": "e"},
            {"path": "la_gi", "label": "la_gi", "message": "f"},
        ],
        "error",
    )
    warnings = issue_views(
        [{"path": "sections.7.indicators.don_thu_giai_quyet", "message": "w"}], "warning"
    )
    values = {"vuong_mac": ["Một", "Hai"]}
    view = build_form_view(ward_form(), values, issues, warnings)
    by_code = {f.code: f for s in view.sections for f in s.indicators}
    assert [i.message for i in by_code["ho_so_tthc_qua_han"].errors] == ["a"]
    assert by_code["ho_so_tthc_qua_han"].invalid
    assert [i.message for i in view.sections[1].narrative.errors] == ["b"]
    assert [i.message for i in view.text_fields[-1].entry_errors[1]] == ["c"]
    assert [i.message for i in view.sections[2].errors] == ["e"]
    assert [i.message for i in by_code["don_thu_giai_quyet"].warnings] == ["w"]
    assert not by_code["don_thu_giai_quyet"].invalid
    assert [i.message for i in view.general] == ["d", "f"]
    assert len(view.errors) == 6 and len(view.warnings) == 1


def test_issues_from_real_validation_all_find_their_field() -> None:
    full = load_form("dvcq-dinh-ky", "2023.1")
    body = {
        "sections": {
            "4": {
                "narrative": "x",
                "indicators": {
                    "ho_so_tthc_tiep_nhan": 10,
                    "ho_so_tthc_dung_han": 8,
                    "ho_so_tthc_qua_han": 5,
                },
            }
        },
        "ton_tai_han_che": "",
        "vuong_mac": ["a", "\u0007"],
    }
    result = validate_report(full, "ward", set(), body)
    errors = issue_views([i.model_dump(mode="json") for i in result.errors], "error")
    view = build_form_view(ward_form(), {"vuong_mac": ["a", "\u0007"]}, errors)
    assert errors and view.general == []


def test_a_stored_report_is_laid_out_with_labels_and_vietnamese_figures() -> None:
    content = {
        "sections": {
            "4": {"narrative": "Tốt", "indicators": {"ho_so_tthc_tiep_nhan": 1250}},
            "5": {"narrative": "x", "indicators": {"co_lanh_dao_phu_trach": True}},
        },
        "vuong_mac": ["Cần hướng dẫn"],
    }
    sections, texts = content_view(ward_form(), content)
    figures = {f.code: f for s in sections for f in s.figures}
    assert figures["ho_so_tthc_tiep_nhan"].display == "1.250"
    assert figures["ho_so_tthc_dung_han"].display == "Chưa báo cáo"
    assert not figures["ho_so_tthc_dung_han"].reported
    assert figures["co_lanh_dao_phu_trach"].display == "Có"
    assert sections[3].narrative == "Tốt"
    assert texts[-1].entries == ["Cần hướng dẫn"]


def test_next_to_its_field_a_message_drops_the_section_prefix_the_heading_shows() -> None:
    [issue] = issue_views(
        [
            {
                "path": "sections.4.indicators.ho_so_tthc_qua_han",
                "message": "Mục 4. Cải cách hành chính: Tổng Số hồ sơ giải quyết đúng hạn ...",
            }
        ],
        "error",
    )
    assert issue.inline_message == "Tổng Số hồ sơ giải quyết đúng hạn ..."
    [plain] = issue_views([{"path": "phuong_huong", "message": "Phương hướng chưa nhập."}], "e")
    assert plain.inline_message == "Phương hướng chưa nhập."


def test_there_are_always_two_empty_difficulty_boxes_after_the_written_ones() -> None:
    assert blank_entry_boxes(0, 50) == 5
    assert blank_entry_boxes(3, 50) == 2
    assert blank_entry_boxes(10, 50) == 2
    assert blank_entry_boxes(49, 50) == 1  # never more boxes than the form accepts
    assert blank_entry_boxes(50, 50) == 0
    assert blank_entry_boxes(7, None) == 2
