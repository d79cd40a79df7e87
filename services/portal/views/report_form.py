"""The report form: blank or the current version, sent as a new report or a new version."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from services.portal import forms
from services.portal.clients import BackendError, Backends
from services.portal.figures import NO, YES
from services.portal.session import Session
from services.portal.views.common import (
    EXPIRED_NOTICE,
    KnownUserDep,
    LoginRequired,
    Portal,
    PortalDep,
    SessionDep,
    attempt,
    checked_form,
    form_lists,
    form_text,
    redirect,
    render,
    require_permission,
    sign_in_with_password,
    token_of,
)
from services.portal.wording import describe_deadline, vn_datetime
from shared.auth import Permission
from shared.contracts.api.intake import (
    Draft,
    FormUnit,
    LeaderInfo,
    PeriodForm,
    PeriodInfo,
    ReportSummary,
)
from shared.forms import FormDefinition, FormNotFound, UnknownUnitKind, form_for_unit, load_form

router = APIRouter()

REAUTH_NOTICE = (
    "Phiên đăng nhập đã hết hạn nên báo cáo chưa được gửi. Nội dung bạn đã nhập vẫn được giữ "
    "nguyên bên dưới: nhập lại mật khẩu rồi bấm gửi."
)
REPORT_EXISTS_NOTICE = (
    "Đơn vị đã có báo cáo cho kỳ này (có thể đã gửi từ một cửa sổ hoặc máy khác). "
    "Nội dung bạn vừa nhập vẫn được giữ nguyên bên dưới: bấm «Sửa, gửi bản mới» để gửi "
    "thành phiên bản mới, hoặc mở báo cáo đã gửi để xem."
)


@dataclass(frozen=True)
class FormContext:
    """What the form page needs besides the values: the period, the unit and the form.

    Carried in a hidden field so a failed submission can be shown again with everything
    the clerk typed even when intake cannot be reached; it is display and layout only
    (intake validates every submission against its own copy of the form).
    """

    period: PeriodInfo
    unit: FormUnit | None
    form: FormDefinition

    def to_hidden(self) -> str:
        """The hidden-field value: intake's period and unit, and which form (not its text)."""
        return json.dumps(
            {
                "period": self.period.model_dump(mode="json"),
                "unit": self.unit.model_dump(mode="json") if self.unit else None,
                "form_id": self.form.form_id,
                "form_version": self.form.version,
            },
            ensure_ascii=False,
        )

    @property
    def leader(self) -> LeaderInfo | None:
        """The leader in charge the registry holds for the unit (plan II.5), if any."""
        return self.unit.leader if self.unit else None

    @classmethod
    def from_hidden(cls, text: str, period_id: str) -> FormContext | None:
        """The context of a posted form; None when absent or unusable."""
        try:
            data = json.loads(text)
            period = PeriodInfo.model_validate(data["period"])
            unit = FormUnit.model_validate(data["unit"]) if data["unit"] is not None else None
            form = load_form(str(data["form_id"]), str(data["form_version"]))
            if form.kind == "periodic":
                if unit is None:
                    return None
                form = form_for_unit(form, unit.kind, set(unit.tags))
        except (ValueError, KeyError, TypeError, FormNotFound, UnknownUnitKind):
            return None  # pydantic's ValidationError is a ValueError
        if period.period_id != period_id:
            return None
        return cls(period=period, unit=unit, form=form)

    @classmethod
    def of(cls, answer: PeriodForm) -> FormContext:
        """The context from intake's ``GET /v1/periods/{id}/form`` answer."""
        return cls(period=answer.period, unit=answer.unit, form=answer.form)


def draft_saved_text(draft: Draft) -> str:
    """ "Đã lưu bản nháp lúc …" as the page and the autosave say it."""
    return f"Đã lưu bản nháp lúc {vn_datetime(draft.saved_at)}."


def draft_problems(draft: Draft) -> list[forms.IssueView]:
    """What sending the draft as it stands would meet: errors first, then warnings."""
    return forms.issue_views(draft.issues, "error") + forms.issue_views(draft.warnings, "warning")


async def _current_report(api: Backends, token: str, period_id: str) -> ReportSummary | None:
    reports = await api.reports(token, period_id=period_id)
    mine = sorted((r for r in reports if r.period_id == period_id), key=lambda r: r.submitted_at)
    return mine[-1] if mine else None


@dataclass(frozen=True)
class PostedReport:
    """What the form knew of the current report, to show the page again the same way."""

    status: str
    return_reason: str = ""


def _posted_report(posted: FormData) -> PostedReport | None:
    """What the form knew of the current report, to show the page again the same way."""
    reason = form_text(posted, "return_reason")
    if reason:
        return PostedReport("returned", reason)
    status = form_text(posted, "report_status").strip()
    return PostedReport(status) if status else None


def _shown_report(report: ReportSummary | None) -> PostedReport | None:
    if report is None:
        return None
    reason = report.review.reason if report.review and report.status == "returned" else ""
    return PostedReport(report.status, reason)


def _form_page(
    request: Request,
    portal: Portal,
    session: Session,
    context: FormContext,
    values: forms.FormValues,
    *,
    report: PostedReport | None,
    report_id: str | None,
    errors: list[forms.IssueView] | None = None,
    warnings: list[forms.IssueView] | None = None,
    notice: str | None = None,
    idempotency_key: str | None = None,
    reauth: bool = False,
    status_code: int = 200,
    draft: Draft | None = None,
) -> Response:
    period = context.period
    deadline = describe_deadline(
        period.due_at, portal.clock.now(), closed=period.status == "closed"
    )
    return render(
        request,
        portal,
        "report_form.html",
        {
            "title": f"Báo cáo {period.title}".strip(),
            "period": period,
            "unit": context.unit,
            "deadline": deadline,
            "form": forms.build_form_view(
                context.form, values, errors or [], warnings or [], leader=context.leader
            ),
            "form_context": context.to_hidden(),
            "report": report,
            "report_id": report_id or "",
            "notice": notice,
            "idempotency_key": idempotency_key or str(uuid.uuid4()),
            "reauth": reauth,
            "draft": draft,
            "draft_saved_text": draft_saved_text(draft) if draft else "",
            "draft_problems": draft_problems(draft) if draft else [],
            "may_prefill": context.form.kind == "periodic",
            "yes": YES,
            "no": NO,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/ky/{period_id}/bao-cao", include_in_schema=False)
async def report_form(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The form for the period: blank, or the current version to amend."""
    require_permission(session, Permission.SUBMIT)
    api, token = portal.api(), token_of(session)
    answer, report, (draft, draft_error) = await asyncio.gather(
        api.period_form(token, period_id),
        _current_report(api, token, period_id),
        attempt(api.unit_draft(token, period_id)),
    )
    context = FormContext.of(answer)
    values: forms.FormValues = {}
    if report is not None:
        if report.status == "accepted":
            return redirect(
                portal,
                f"/bao-cao/{report.report_id}",
                session,
                notice="Báo cáo đã được Phòng Nội vụ chấp nhận nên không sửa được nữa.",
            )
        if draft is None:
            full = await api.report(token, report.report_id)
            values = forms.values_from_content(context.form, full.content)
    if draft is not None:
        # The unit's unsent draft is newer than anything sent: it is what the clerk continues.
        values = forms.values_from_content(context.form, draft.content)
    return _form_page(
        request,
        portal,
        session,
        context,
        values,
        report=_shown_report(report),
        report_id=report.report_id if report else None,
        draft=draft,
        notice=draft_error.message if draft_error else None,
    )


@router.post("/ky/{period_id}/bao-cao", include_in_schema=False)
async def submit_report(
    period_id: str, request: Request, portal: PortalDep, session: KnownUserDep
) -> Response:
    """Send the form as a new report or a new version; problems come back next to fields.

    Whatever goes wrong, the page comes back with everything the clerk typed, including
    when the sign-in expired while the report was being written: the clerk types the
    password again on the same page and the report is sent.
    """
    require_permission(session, Permission.SUBMIT)
    posted = await checked_form(request, session)
    api = portal.api()
    context = FormContext.from_hidden(form_text(posted, "form_context"), period_id)
    if context is None:
        if session.is_expired(portal.now_epoch()):
            raise LoginRequired(EXPIRED_NOTICE)
        context = FormContext.of(await api.period_form(token_of(session), period_id))
    values = forms.values_from_submission(context.form, form_lists(posted))
    body = forms.body_from_values(period_id, context.form, values)
    report_id = form_text(posted, "report_id").strip() or None
    key = form_text(posted, "idempotency_key").strip() or str(uuid.uuid4())

    def again(notice: str, *, reauth: bool = False, status_code: int = 401) -> Response:
        return _form_page(
            request,
            portal,
            session,
            context,
            values,
            report=_posted_report(posted),
            report_id=report_id,
            notice=notice,
            idempotency_key=key,
            reauth=reauth,
            status_code=status_code,
        )

    if session.is_expired(portal.now_epoch()):
        password = form_text(posted, "reauth_password")
        if not password:
            return again(REAUTH_NOTICE, reauth=True)
        try:
            session = await sign_in_with_password(
                portal, session, str(session.username), password, request
            )
        except BackendError as exc:
            return again(exc.message, reauth=True)
    try:
        if report_id:
            answer = await api.amend_report(token_of(session), report_id, body, key)
        else:
            answer = await api.submit_report(token_of(session), body, key)
    except BackendError as exc:
        if exc.status == 401:
            return again(REAUTH_NOTICE, reauth=True)
        return _refused_submission(
            request, posted, portal, session, context, values, report_id, key, exc
        )
    return redirect(portal, f"/bao-cao/{answer.report_id}?da-gui=1", session)


def _refused_submission(
    request: Request,
    posted: FormData,
    portal: Portal,
    session: Session,
    context: FormContext,
    values: forms.FormValues,
    report_id: str | None,
    key: str,
    exc: BackendError,
) -> Response:
    errors = forms.issue_views(exc.issues, "error")
    warnings = forms.issue_views(exc.warnings, "warning")
    notice = exc.message
    if exc.code == "report_exists" and isinstance(exc.details, Mapping):
        report_id = str(exc.details.get("report_id") or "") or report_id
        notice = REPORT_EXISTS_NOTICE
    # After a definite refusal nothing was stored, so the corrected form gets a fresh key;
    # after a timeout or an unreachable intake the same key must be resent, so that a
    # submission that did arrive is not made twice.
    keep_key = exc.unavailable or exc.status >= 500
    return _form_page(
        request,
        portal,
        session,
        context,
        values,
        report=_posted_report(posted),
        report_id=report_id,
        errors=errors,
        warnings=warnings,
        notice=notice,
        idempotency_key=key if keep_key else None,
        status_code=422 if errors else (503 if exc.unavailable else 409),
    )
