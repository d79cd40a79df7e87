"""Backend errors become messages the page can show."""

from __future__ import annotations

import httpx

from services.portal.clients import error_from_response


def answer(status: int, body: object | None = None, text: str = "") -> httpx.Response:
    if body is not None:
        return httpx.Response(status, json=body)
    return httpx.Response(status, text=text)


def test_a_validation_refusal_keeps_its_issues_and_warnings() -> None:
    issue = {"path": "sections.4.narrative", "label": "Kết quả thực hiện", "message": "Thiếu"}
    error = error_from_response(
        "intake",
        answer(
            422,
            {
                "error": {
                    "code": "validation_failed",
                    "message": "Báo cáo có 1 lỗi cần sửa trước khi gửi.",
                    "issues": [issue],
                    "warnings": [],
                }
            },
        ),
    )
    assert error.status == 422
    assert error.code == "validation_failed"
    assert error.message == "Báo cáo có 1 lỗi cần sửa trước khi gửi."
    assert error.issues == [issue]
    assert not error.unavailable


def test_request_shape_problems_listed_under_details_become_issues() -> None:
    detail = {"path": "decision", "type": "literal_error", "message": "Trường không hợp lệ."}
    error = error_from_response(
        "intake",
        answer(422, {"error": {"code": "invalid_request", "message": "Sai", "details": [detail]}}),
    )
    assert error.issues == [detail]


def test_a_route_the_backend_does_not_have_yet_is_a_feature_notice() -> None:
    no_route = {"error": {"code": "not_found", "message": "Không tìm thấy địa chỉ yêu cầu."}}
    error = error_from_response("consolidation", answer(404, no_route))
    assert error.code == "feature_unavailable"
    assert error.unavailable
    assert "dịch vụ tổng hợp chưa sẵn sàng" in error.message
    assert error_from_response("reminders", answer(404, text="Not Found")).unavailable


def test_a_missing_report_is_not_mistaken_for_a_missing_feature() -> None:
    body = {"error": {"code": "report_not_found", "message": "Không tìm thấy báo cáo «x»."}}
    error = error_from_response("intake", answer(404, body))
    assert error.code == "report_not_found"
    assert not error.unavailable
    assert error.message == "Không tìm thấy báo cáo «x»."


def test_a_server_error_without_the_error_format_is_an_unavailable_notice() -> None:
    error = error_from_response("intake", answer(502, text="<html>Bad gateway</html>"))
    assert error.unavailable
    assert "Không kết nối được dịch vụ tiếp nhận báo cáo" in error.message
