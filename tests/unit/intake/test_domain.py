"""Intake rules: timeliness, who may submit, what each report state allows, scope, receipts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.intake.domain import (
    Period,
    Report,
    ReportInvalid,
    check_can_amend,
    check_can_attach,
    check_can_review,
    check_can_submit,
    check_can_withdraw,
    check_in_scope,
    clean_reason,
    field_problem,
    filing_period,
    is_on_time,
    new_difficulties,
    receipt,
    status_after_review,
    text_digest,
    waited_days,
)
from shared.clock import VN_TZ, local_midnight
from shared.contracts.registry import ExpectedUnit
from shared.errors import DomainError
from shared.forms import Issue, IssueCode, ValidationResult

DUE = local_midnight(datetime(2023, 6, 10).date())
WARD = ExpectedUnit(code="18115", name="UBND phường Bắc Hồng", kind="ward")


def _period(status: str = "open") -> Period:
    return Period(
        period_id="2023-H1",
        kind="six_month",
        title="6 tháng đầu năm 2023",
        form_id="dvcq-dinh-ky",
        form_version="2023.1",
        due_at=DUE,
        status=status,
        expected_units=(WARD,),
        version=1,
    )


def _report(status: str = "submitted", version: int = 1) -> Report:
    return Report(
        report_id="r-1",
        period_id="2023-H1",
        unit_code="18115",
        status=status,  # type: ignore[arg-type]
        version=version,
        first_submitted_at=DUE - timedelta(days=1),
        on_time=True,
    )


def _code(call, *args) -> str:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code


def test_on_time_means_strictly_before_the_deadline_instant():
    assert is_on_time(DUE - timedelta(microseconds=1), DUE)
    assert not is_on_time(DUE, DUE)
    # 23:59 on 9/6 local time is still on time; 00:00 on 10/6 is not.
    assert is_on_time(datetime(2023, 6, 9, 23, 59, tzinfo=VN_TZ), DUE)
    assert not is_on_time(datetime(2023, 6, 10, 0, 0, tzinfo=VN_TZ), DUE)


def test_only_expected_units_submit_and_only_while_the_period_is_open():
    assert check_can_submit(_period(), "18115") == WARD
    assert _code(check_can_submit, _period(), "18118") == "unit_not_expected"
    assert _code(check_can_submit, _period("closed"), "18115") == "period_closed"


def test_amending_is_allowed_until_accepted_and_while_open():
    for status in ("submitted", "returned", "withdrawn"):
        check_can_amend(_report(status), _period())
    assert _code(check_can_amend, _report("accepted"), _period()) == "report_accepted"
    assert _code(check_can_amend, _report("returned"), _period("closed")) == "period_closed"


def test_withdrawal_needs_a_report_still_under_consideration():
    check_can_withdraw(_report("submitted"), _period())
    check_can_withdraw(_report("returned"), _period())
    assert _code(check_can_withdraw, _report("withdrawn"), _period()) == "report_withdrawn"
    assert _code(check_can_withdraw, _report("accepted"), _period()) == "report_accepted"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("withdrawn", "report_withdrawn"),
        ("returned", "report_awaiting_resubmission"),
        ("accepted", "report_already_reviewed"),
    ],
)
def test_only_a_submitted_version_is_reviewed(status, code):
    assert _code(check_can_review, _report(status), _period(), "accepted", None) == code


def test_review_names_the_version_it_saw_and_returning_needs_an_open_period():
    check_can_review(_report(version=2), _period(), "accepted", 2)
    assert _code(check_can_review, _report(version=3), _period(), "accepted", 2) == (
        "report_changed"
    )
    check_can_review(_report(), _period("closed"), "accepted", None)
    assert _code(check_can_review, _report(), _period("closed"), "returned", None) == (
        "period_closed"
    )
    assert status_after_review("accepted") == "accepted"
    assert status_after_review("returned") == "returned"


def test_attachments_go_with_a_report_that_still_counts():
    check_can_attach(_report("accepted"), _period())
    assert _code(check_can_attach, _report("withdrawn"), _period()) == "report_withdrawn"
    assert _code(check_can_attach, _report(), _period("closed")) == "period_closed"


def test_scope_refuses_other_units_with_a_pointer():
    check_in_scope("18118", (), "")
    check_in_scope("18115", ("18115",), "")
    with pytest.raises(DomainError) as caught:
        check_in_scope("18118", ("18115",), "https://tiep-nhan.example/")
    error = caught.value
    assert (error.status, error.code) == (421, "unit_out_of_scope")
    assert error.details["endpoint"] == "https://tiep-nhan.example/"
    assert "https://tiep-nhan.example/" in error.message


def test_difficulties_are_new_once_per_text_in_the_order_written():
    raised = [text_digest("cũ")]
    assert new_difficulties(["mới", "cũ", "mới", "khác"], raised) == ["mới", "khác"]


def test_reasons_are_cleaned_and_required_when_asked():
    assert clean_reason("  Thiếu số liệu. ", label="L", code="c", required=True, max_length=50) == (
        "Thiếu số liệu."
    )
    with pytest.raises(DomainError) as caught:
        clean_reason(" ", label="Lý do", code="reason_required", required=True, max_length=50)
    assert caught.value.code == "reason_required"
    with pytest.raises(DomainError) as caught:
        clean_reason("a\x00b", label="Lý do", code="x", required=False, max_length=50)
    assert caught.value.code == "control_character"
    with pytest.raises(DomainError) as caught:
        clean_reason("x" * 51, label="Lý do", code="x", required=False, max_length=50)
    assert caught.value.code == "too_long"


def test_the_receipt_names_unit_period_version_time_and_timeliness():
    at = datetime(2023, 6, 5, 9, 30, tzinfo=VN_TZ)
    answer = receipt(
        period=_period(),
        unit=WARD,
        report_id="r-1",
        version=2,
        submitted_at=at,
        on_time=False,
        content_sha256="ab" * 32,
    )
    assert answer.text == (
        "Đã nhận báo cáo 6 tháng đầu năm 2023 của UBND phường Bắc Hồng (phiên bản 2) "
        "lúc 09:30 05/06/2023, gửi muộn."
    )
    assert answer.version == 2 and answer.content_sha256 == "ab" * 32


def test_validation_failures_list_every_issue_and_warning_in_one_body():
    issue = Issue.model_validate(
        {
            "path": "phuong_huong",
            "code": "required",
            "field": "phuong_huong",
            "label": "Phương hướng",
            "message": "Phương hướng chưa được nhập.",
            "severity": "error",
        }
    )
    warning = issue.model_copy(update={"severity": "warning", "code": IssueCode.RULE_VIOLATION})
    error = ReportInvalid.from_result(
        ValidationResult(content={}, errors=[issue, issue], warnings=[warning])
    )
    body = error.body()["error"]
    assert error.status == 422 and body["code"] == "validation_failed"
    assert body["message"] == "Báo cáo có 2 lỗi cần sửa trước khi gửi."
    assert len(body["issues"]) == 2 and body["warnings"][0]["code"] == "rule_violation"
    single = field_problem("period_id", "required", "Kỳ báo cáo", "Chưa chọn kỳ báo cáo.")
    assert single.body()["error"]["issues"][0]["path"] == "period_id"


def _filed(period_id: str, kind: str, due: datetime, status: str = "open") -> Period:
    return Period(
        period_id=period_id,
        kind=kind,
        title=period_id,
        form_id="dvcq-dinh-ky",
        form_version="2023.2",
        due_at=due,
        status=status,
        expected_units=(WARD,),
        version=1,
    )


def test_a_difficulty_without_a_period_is_filed_under_the_units_next_one():
    now = datetime(2023, 7, 1, tzinfo=VN_TZ)
    h1 = _filed("2023-H1", "six_month", local_midnight(datetime(2023, 6, 10).date()))
    year = _filed("2023-Y", "annual", local_midnight(datetime(2023, 11, 25).date()))
    ad_hoc = _filed("2023-DX01", "ad_hoc", local_midnight(datetime(2023, 7, 15).date()))
    other = Period(**{**year.__dict__, "period_id": "x", "expected_units": ()})
    assert filing_period([h1, ad_hoc, year, other], "18115", now) == year
    assert filing_period([h1, ad_hoc], "18115", now) == ad_hoc
    # Every deadline passed: the open one due last, else the last one at all.
    assert filing_period([h1], "18115", now) == h1
    closed = Period(**{**h1.__dict__, "status": "closed"})
    assert filing_period([closed], "18115", now) == closed
    assert filing_period([other], "18115", now) is None


def test_a_thread_waits_whole_days():
    since = datetime(2023, 7, 1, 9, tzinfo=VN_TZ)
    assert waited_days(since, since + timedelta(days=2, hours=23)) == 2
    assert waited_days(since, since - timedelta(hours=1)) == 0
    assert waited_days(None, since) is None
