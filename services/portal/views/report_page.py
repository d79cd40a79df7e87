"""A report with its receipt details and content, and the reviewer's decision on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from services.portal import forms
from services.portal.clients import BackendError, Backends
from services.portal.report_content import content_view
from services.portal.session import Session
from services.portal.views.common import (
    READER_ROLES,
    REVIEWER_ROLES,
    Portal,
    PortalDep,
    RoleRefused,
    SessionDep,
    attempt,
    checked_form,
    form_text,
    redirect,
    render,
    require_role,
    token_of,
)
from services.portal.views.report_form import FormContext

router = APIRouter()


async def _report_context(
    api: Backends, token: str, session: Session, report: Mapping[str, Any]
) -> tuple[FormContext | None, BackendError | None]:
    unit_code = None if session.role == "unit" else str(report.get("unit_code") or "")
    payload, error = await attempt(
        api.period_form(token, str(report.get("period_id")), unit_code or None)
    )
    if payload is None:
        return None, error
    try:
        return FormContext.from_payload(payload, str(report.get("period_id"))), None
    except forms.FormPayloadInvalid:
        return None, None


async def _report_page(
    request: Request,
    portal: Portal,
    session: Session,
    report_id: str,
    *,
    review_error: str | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    api, token = portal.api(), token_of(session)
    report = await api.report(token, report_id)
    context, form_error = await _report_context(api, token, session, report)
    sections, texts = (
        content_view(context.form, report.get("content") or {}) if context else ([], [])
    )
    period = context.period if context else {"period_id": report.get("period_id")}
    review = report.get("review")
    return render(
        request,
        portal,
        "report_view.html",
        {
            "title": f"Báo cáo của {report.get('unit_name') or report.get('unit_code')}",
            "report": report,
            "period": period,
            "sections": sections,
            "texts": texts,
            "warnings": forms.issue_views(report.get("warnings") or [], "warning"),
            "review": review if isinstance(review, Mapping) else None,
            "form_notice": form_error.message if form_error else None,
            "just_sent": request.query_params.get("da-gui") == "1",
            "can_review": session.role in REVIEWER_ROLES and report.get("status") == "submitted",
            "can_amend": session.role == "unit"
            and report.get("status") != "accepted"
            and period.get("status", "open") == "open",
            "review_error": review_error,
            "reason": reason,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/bao-cao/{report_id}", include_in_schema=False)
async def report_page(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """A report with its receipt details and content; reviewers decide on it here."""
    if session.role not in ("unit", *READER_ROLES):
        raise RoleRefused()
    return await _report_page(request, portal, session, report_id)


def _decision(posted: FormData) -> tuple[str, str, int | None]:
    decision = form_text(posted, "decision")
    reason = form_text(posted, "reason")
    version_text = form_text(posted, "version")
    version = int(version_text) if version_text.isdigit() else None
    return decision, reason, version


@router.post("/bao-cao/{report_id}/xet-duyet", include_in_schema=False)
async def review_report(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Accept the report, or return it to the unit with a reason."""
    require_role(session, *REVIEWER_ROLES)
    posted = await checked_form(request, session)
    decision, reason, version = _decision(posted)
    if decision not in ("accepted", "returned"):
        return await _report_page(
            request,
            portal,
            session,
            report_id,
            review_error="Chưa chọn quyết định.",
            reason=reason,
            status_code=422,
        )
    if decision == "returned" and not reason.strip():
        return await _report_page(
            request,
            portal,
            session,
            report_id,
            review_error="Vui lòng ghi lý do trả lại để đơn vị biết cần bổ sung gì.",
            reason=reason,
            status_code=422,
        )
    api, token = portal.api(), token_of(session)
    try:
        answer = await api.review_report(token, report_id, decision, reason, version)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return await _report_page(
            request,
            portal,
            session,
            report_id,
            review_error=exc.message,
            reason=reason,
            status_code=409 if exc.status == 409 else 422,
        )
    unit = answer.get("unit_name") or answer.get("unit_code") or ""
    notice = (
        f"Đã chấp nhận báo cáo của {unit}."
        if decision == "accepted"
        else f"Đã trả lại báo cáo của {unit} kèm lý do; đơn vị sẽ thấy lý do khi đăng nhập."
    )
    return redirect(portal, f"/theo-doi/{answer.get('period_id', '')}", session, notice=notice)
