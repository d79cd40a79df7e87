"""Intake rules without I/O: who may hand in what, when, and what a report's state allows.

Glossary: kỳ báo cáo = reporting period; đúng hạn / gửi muộn = on time / late;
vướng mắc (``vuong_mac``) = a difficulty the unit asks Phòng Nội vụ to answer;
trả lại = returned to the unit for a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.contracts.api.intake import Receipt
from shared.contracts.intake import LeaderCheckAnswer, ReportStatus
from shared.contracts.registry import ExpectedUnit, Leader
from shared.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from shared.formatting import vn_datetime
from shared.forms import (
    FormDefinition,
    TextRejected,
    ValidationResult,
    clean_text,
    load_form,
    validate_report,
)

Decision = Literal["accepted", "returned"]
PERIODIC_KINDS = frozenset({"six_month", "annual"})


class ExpectedUnits(tuple[ExpectedUnit, ...]):
    """A period's expected units in the registry's order, found by code without a scan."""

    def find(self, unit_code: str) -> ExpectedUnit | None:
        """The first entry with this code, if any."""
        index: dict[str, ExpectedUnit] | None = self.__dict__.get("_by_code")
        if index is None:
            index = {}
            for unit in self:
                index.setdefault(unit.code, unit)
            self.__dict__["_by_code"] = index
        return index.get(unit_code)


@dataclass(frozen=True)
class Period:
    """A reporting period as intake knows it from the registry's events."""

    period_id: str
    kind: str
    title: str
    form_id: str
    form_version: str
    due_at: datetime
    status: str
    expected_units: tuple[ExpectedUnit, ...]
    version: int
    year: int | None = None

    @property
    def periodic(self) -> bool:
        """A 6-month or annual report of the regime (not an ad-hoc request)."""
        return self.kind in PERIODIC_KINDS

    def expected(self, unit_code: str) -> ExpectedUnit | None:
        """The unit's entry among the units expected to report, if it is one."""
        if isinstance(self.expected_units, ExpectedUnits):
            return self.expected_units.find(unit_code)
        return next((u for u in self.expected_units if u.code == unit_code), None)


@dataclass(frozen=True)
class Report:
    """The current state of one unit's report for one period."""

    report_id: str
    period_id: str
    unit_code: str
    status: ReportStatus
    version: int
    first_submitted_at: datetime
    on_time: bool


class ReportInvalid(Unprocessable):
    """The report has errors; every issue and warning is listed at once."""

    def __init__(self, issues: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> None:
        super().__init__(
            f"Báo cáo có {len(issues)} lỗi cần sửa trước khi gửi.", code="validation_failed"
        )
        self.issues = issues
        self.warnings = warnings

    @classmethod
    def from_result(cls, result: ValidationResult) -> ReportInvalid:
        """The 422 for a body the form refused."""
        return cls(
            [issue.model_dump(mode="json") for issue in result.errors],
            [issue.model_dump(mode="json") for issue in result.warnings],
        )

    def body(self) -> dict[str, Any]:
        """``{"error": {"code", "message", "issues", "warnings"}}``."""
        error = {"code": self.code, "message": self.message}
        return {"error": {**error, "issues": self.issues, "warnings": self.warnings}}


def field_problem(path: str, code: str, label: str, message: str) -> ReportInvalid:
    """A 422 in the validation format for one problem outside the form (e.g. period_id)."""
    issue = {
        "path": path,
        "code": code,
        "field": path,
        "label": label,
        "message": message,
        "severity": "error",
    }
    return ReportInvalid([issue], [])


def is_on_time(first_submitted_at: datetime, due_at: datetime) -> bool:
    """On time means the first submission arrived strictly before the deadline instant."""
    return first_submitted_at < due_at


def check_in_scope(unit_code: str, scope: Sequence[str], hint_url: str) -> None:
    """Refuse a unit this instance does not serve, pointing to where it should go."""
    if not scope or unit_code in scope:
        return
    where = f" Vui lòng gửi đến {hint_url}." if hint_url else " Vui lòng dùng địa chỉ chung."
    raise DomainError(
        f"Máy chủ tiếp nhận này không phục vụ đơn vị «{unit_code}».{where}",
        code="unit_out_of_scope",
        status=421,
        details={"unit_code": unit_code, "served_units": list(scope), "endpoint": hint_url},
    )


def period_not_found(period_id: str) -> NotFound:
    """The error for a period intake has not heard of."""
    return NotFound(f"Không tìm thấy kỳ báo cáo «{period_id}».", code="period_not_found")


def report_not_found(report_id: str) -> NotFound:
    """The error for a report that does not exist or the caller may not see."""
    return NotFound(f"Không tìm thấy báo cáo «{report_id}».", code="report_not_found")


def difficulty_not_found(difficulty_id: str) -> NotFound:
    """The error for a difficulty that does not exist or the caller may not see."""
    return NotFound(f"Không tìm thấy vướng mắc «{difficulty_id}».", code="difficulty_not_found")


def check_period_open(period: Period) -> None:
    """Units change nothing once the period is closed."""
    if period.status != "open":
        raise Conflict(
            f"Kỳ báo cáo «{period.title}» đã khóa sổ, không thể thay đổi báo cáo.",
            code="period_closed",
        )


def expected_unit(period: Period, unit_code: str) -> ExpectedUnit:
    """The unit's entry in the period; refused when the period does not ask this unit."""
    unit = period.expected(unit_code)
    if unit is None:
        raise Forbidden(
            f"Đơn vị «{unit_code}» không thuộc danh sách đơn vị phải báo cáo kỳ «{period.title}».",
            code="unit_not_expected",
        )
    return unit


def check_can_submit(period: Period, unit_code: str) -> ExpectedUnit:
    """A first submission needs an open period that asks this unit."""
    unit = expected_unit(period, unit_code)
    check_period_open(period)
    return unit


def report_exists(report_id: str) -> Conflict:
    """A second submission instead of an amendment."""
    return Conflict(
        "Đơn vị đã gửi báo cáo cho kỳ này; hãy cập nhật báo cáo đã gửi "
        f"(PUT /v1/reports/{report_id}) thay vì gửi mới.",
        code="report_exists",
        details={"report_id": report_id, "location": f"/v1/reports/{report_id}"},
    )


def check_can_amend(report: Report, period: Period) -> None:
    """A new version replaces a submitted, returned or withdrawn report, not an accepted one."""
    check_period_open(period)
    if report.status == "accepted":
        raise Conflict(
            "Báo cáo đã được Phòng Nội vụ chấp nhận, không thể sửa; "
            "liên hệ Phòng Nội vụ nếu cần điều chỉnh.",
            code="report_accepted",
        )


def check_can_withdraw(report: Report, period: Period) -> None:
    """Only a report still under consideration can be withdrawn."""
    check_period_open(period)
    if report.status == "withdrawn":
        raise Conflict("Báo cáo đã được rút trước đó.", code="report_withdrawn")
    if report.status == "accepted":
        raise Conflict("Báo cáo đã được chấp nhận, không thể rút.", code="report_accepted")


def check_can_attach(report: Report, period: Period) -> None:
    """The signed scan goes with a report that still counts, while the period is open."""
    check_period_open(period)
    if report.status == "withdrawn":
        raise Conflict(
            "Báo cáo đã được rút; hãy gửi phiên bản mới trước khi đính kèm tệp.",
            code="report_withdrawn",
        )


def check_can_review(
    report: Report, period: Period, decision: Decision, expected_version: int | None
) -> None:
    """Reviewers decide on a submitted version; returning needs an open period to resubmit."""
    if report.status == "withdrawn":
        raise Conflict("Báo cáo đã bị đơn vị rút, không thể xét duyệt.", code="report_withdrawn")
    if report.status == "returned":
        raise Conflict(
            "Báo cáo đã được trả lại và đang chờ đơn vị gửi phiên bản mới.",
            code="report_awaiting_resubmission",
        )
    if report.status == "accepted":
        raise Conflict("Báo cáo đã được chấp nhận trước đó.", code="report_already_reviewed")
    if expected_version is not None and expected_version != report.version:
        raise version_changed(report.version)
    if decision == "returned":
        check_period_open(period)


def version_changed(current: int | None) -> Conflict:
    """Someone changed the report between reading and writing it."""
    shown = f" (phiên bản hiện tại: {current})" if current is not None else ""
    return Conflict(
        f"Báo cáo vừa được người khác cập nhật{shown}; vui lòng tải lại rồi thử lại.",
        code="report_changed",
        details={"current_version": current} if current is not None else None,
    )


def status_after_review(decision: Decision) -> ReportStatus:
    """Accepted stays accepted; returned waits for the unit's next version."""
    return "accepted" if decision == "accepted" else "returned"


def clean_reason(raw: str, *, label: str, code: str, required: bool, max_length: int) -> str:
    """Free text from a reviewer: NFC, trimmed, no control characters, within the limit."""
    try:
        text = clean_text(raw)
    except TextRejected as exc:
        raise Unprocessable(
            f"{label} chứa ký tự không được phép ({exc.codepoint}) ở vị trí {exc.position + 1}.",
            code=exc.code,
        ) from None
    if required and not text:
        raise Unprocessable(f"{label} là bắt buộc.", code=code)
    if len(text) > max_length:
        raise Unprocessable(
            f"{label} dài {len(text)} ký tự, vượt quá giới hạn {max_length} ký tự.",
            code="too_long",
        )
    return text


def text_digest(text: str) -> str:
    """Stable identity of a difficulty's text within a report."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_difficulties(entries: Iterable[str], already_raised: Iterable[str]) -> list[str]:
    """Entries not yet raised for the report, once each, in the order written."""
    seen = set(already_raised)
    fresh: list[str] = []
    for entry in entries:
        digest = text_digest(entry)
        if digest not in seen:
            seen.add(digest)
            fresh.append(entry)
    return fresh


def receipt(
    *,
    period: Period,
    unit: ExpectedUnit,
    report_id: str,
    version: int,
    submitted_at: datetime,
    on_time: bool,
    content_sha256: str,
) -> Receipt:
    """What the unit keeps as proof of submission."""
    timeliness = "đúng hạn" if on_time else "gửi muộn"
    return Receipt(
        report_id=report_id,
        period_id=period.period_id,
        period_title=period.title,
        unit_code=unit.code,
        unit_name=unit.name,
        version=version,
        form_id=period.form_id,
        form_version=period.form_version,
        submitted_at=submitted_at,
        on_time=on_time,
        content_sha256=content_sha256,
        text=(
            f"Đã nhận báo cáo {period.title} của {unit.name} (phiên bản {version}) "
            f"lúc {vn_datetime(submitted_at)}, {timeliness}."
        ),
    )


def content_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The report body without the envelope key ``period_id``."""
    return {key: value for key, value in body.items() if key != "period_id"}


def leader_answer(form: FormDefinition, content: Mapping[str, Any]) -> dict[str, Any] | None:
    """The unit's answer to the form's leader check (plan II.5) in canonical content, if the
    form has one and the unit answered."""
    section = form.leader_section
    if section is None or section.leader_check is None:
        return None
    sections = content.get("sections")
    part = sections.get(section.key) if isinstance(sections, Mapping) else None
    answer = part.get(section.leader_check.code) if isinstance(part, Mapping) else None
    return answer if isinstance(answer, dict) else None


def leader_snapshot(leader: Leader | None) -> Leader | None:
    """The leader as a version keeps it: name and title (contacts stay in the registry)."""
    if leader is None:
        return None
    return Leader(full_name=leader.full_name, title=leader.title)


def leader_check_answer(
    on_record: Leader | None, answer: Mapping[str, Any] | None
) -> LeaderCheckAnswer | None:
    """A version's answer to the leader check, with the leader it was checked against."""
    if answer is None:
        return None
    confirmed = bool(answer.get("confirmed"))
    reported = (
        None
        if confirmed
        else Leader(full_name=str(answer.get("full_name") or ""), title=answer.get("title") or "")
    )
    return LeaderCheckAnswer(
        on_record=leader_snapshot(on_record), confirmed=confirmed, reported=reported
    )


def check_content(
    period: Period, unit: ExpectedUnit, leader: Leader | None, body: Mapping[str, Any]
) -> ValidationResult:
    """A report body (with or without `period_id`) checked against the period's form for this
    unit: its kind and tags as the registry resolved them, and whether the registry holds a
    leader for it (plan II.5). Every problem at once; nothing is refused here."""
    form = load_form(period.form_id, period.form_version)
    return validate_report(
        form, unit.kind, set(unit.tags), content_body(body), leader_on_record=leader is not None
    )


def filing_period(periods: Iterable[Period], unit_code: str, now: datetime) -> Period | None:
    """Where a difficulty raised without a period is filed: among the periods that expect the
    unit, the open one due next (a 6-month or annual report before an ad-hoc request), else
    the open one due last, else the one due last."""
    mine = [p for p in periods if p.expected(unit_code) is not None]
    ahead = [p for p in mine if p.status == "open" and p.due_at > now]
    if ahead:
        return min(ahead, key=lambda p: (not p.periodic, p.due_at))
    still_open = [p for p in mine if p.status == "open"]
    return max(still_open or mine, key=lambda p: p.due_at, default=None)


def waited_days(since: datetime | None, now: datetime) -> int | None:
    """Whole days a thread has waited for Phòng Nội vụ (None when it does not wait)."""
    if since is None:
        return None
    return max(0, (now - since).days)
