"""A report with its receipt details and content, and the reviewer's decision on it."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from services.portal import forms
from services.portal.clients import BackendError, Backends
from services.portal.report_content import content_view
from services.portal.session import Session
from services.portal.views.common import (
    Portal,
    PortalDep,
    SessionDep,
    attempt,
    checked_form,
    form_text,
    redirect,
    render,
    require_permission,
    token_of,
)
from services.portal.views.report_form import FormContext
from services.portal.views.town_draft import picked_for
from shared.auth import Permission
from shared.contracts.api.intake import ReportDetail

router = APIRouter()

WITHDRAWABLE = ("submitted", "returned")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ACCEPTED_TYPES = ".pdf,.docx,.jpg,.jpeg,.png"
# What a browser may name an upload; intake decides the real type from the bytes.
_UPLOAD_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
NO_FILE = "Chưa chọn tệp để đính kèm."
TOO_LARGE = "Tệp lớn hơn 10 MB; vui lòng quét lại với độ phân giải thấp hơn hoặc nén tệp PDF."


async def _report_context(
    api: Backends, token: str, session: Session, report: ReportDetail
) -> tuple[FormContext | None, BackendError | None]:
    # A unit's own form comes from its token; a reader names the report's unit.
    unit_code = None if session.may(Permission.SUBMIT) else report.unit_code
    answer, error = await attempt(api.period_form(token, report.period_id, unit_code))
    return (FormContext.of(answer), None) if answer is not None else (None, error)


async def _report_page(
    request: Request,
    portal: Portal,
    session: Session,
    report_id: str,
    *,
    review_error: str | None = None,
    reason: str = "",
    attach_error: str | None = None,
    status_code: int = 200,
) -> Response:
    api, token = portal.api(), token_of(session)
    report = await api.report(token, report_id)
    (context, form_error), (versions, versions_error), (files, files_error) = await asyncio.gather(
        _report_context(api, token, session, report),
        attempt(api.report_versions(token, report_id)),
        attempt(api.attachments(token, report_id)),
    )
    picked = await picked_for(api, token, session, report.period_id, report.unit_code)
    sections, texts = (
        content_view(context.form, report.content, report.leader_check) if context else ([], [])
    )
    period = context.period if context else None
    # Without intake's form answer the period's state is unknown: intake refuses what the
    # closed period does not allow, with its own message.
    period_open = period is None or period.status == "open"
    submits = session.may(Permission.SUBMIT)
    status = report.status
    return render(
        request,
        portal,
        "report_view.html",
        {
            "title": f"Báo cáo của {report.unit_name or report.unit_code}",
            "report": report,
            "period": period,
            "sections": sections,
            "texts": texts,
            "warnings": forms.issue_views(report.warnings, "warning"),
            "review": report.review,
            "form_notice": form_error.message if form_error else None,
            "just_sent": request.query_params.get("da-gui") == "1",
            "can_review": session.may(Permission.REVIEW) and status == "submitted",
            "can_amend": submits and status != "accepted" and period_open,
            "can_withdraw": submits and status in WITHDRAWABLE and period_open,
            "can_attach": submits and status != "withdrawn" and period_open,
            # Intake lets only the unit itself and Phòng Nội vụ download the files.
            "can_download": session.may(Permission.READ_ATTACHMENTS),
            "versions": list(reversed(versions or [])),
            "versions_notice": versions_error.message if versions_error else None,
            "attachments": files or [],
            "attachments_notice": files_error.message if files_error else None,
            "attach_error": attach_error,
            "accept_types": ACCEPTED_TYPES,
            "review_error": review_error,
            "reason": reason,
            "picked": picked,
            "can_pick": session.may(Permission.REVIEW) and report.status != "withdrawn",
        },
        session=session,
        status_code=status_code,
    )


@router.get("/bao-cao/{report_id}", include_in_schema=False)
async def report_page(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """A report with its receipt details and content; reviewers decide on it here."""
    require_permission(session, Permission.SUBMIT, Permission.READ_REPORTS)
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
    require_permission(session, Permission.REVIEW)
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
    unit = answer.unit_name or answer.unit_code
    notice = (
        f"Đã chấp nhận báo cáo của {unit}."
        if decision == "accepted"
        else f"Đã trả lại báo cáo của {unit} kèm lý do; đơn vị sẽ thấy lý do khi đăng nhập."
    )
    return redirect(portal, f"/theo-doi/{quote(answer.period_id, safe='')}", session, notice=notice)


def _report_url(report_id: str) -> str:
    return f"/bao-cao/{quote(report_id, safe='')}"


@router.get("/bao-cao/{report_id}/rut", include_in_schema=False)
async def withdraw_confirmation(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Explain what withdrawing means before the unit confirms it."""
    require_permission(session, Permission.SUBMIT)
    report = await portal.api().report(token_of(session), report_id)
    return render(
        request,
        portal,
        "report_withdraw.html",
        {
            "title": "Rút báo cáo",
            "report": report,
            "can_withdraw": report.status in WITHDRAWABLE,
        },
        session=session,
    )


@router.post("/bao-cao/{report_id}/rut", include_in_schema=False)
async def withdraw_report(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Withdraw the unit's report after it confirmed."""
    require_permission(session, Permission.SUBMIT)
    await checked_form(request, session)
    try:
        await portal.api().withdraw_report(token_of(session), report_id)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, _report_url(report_id), session, notice=exc.message, kind="error")
    notice = (
        "Đã rút báo cáo. Báo cáo không còn được tính cho kỳ này cho đến khi đơn vị gửi "
        "phiên bản mới."
    )
    return redirect(portal, _report_url(report_id), session, notice=notice, kind="success")


def _upload_type(upload: UploadFile) -> str:
    declared = (upload.content_type or "").split(";")[0].strip()
    if declared and declared != "application/octet-stream":
        return declared
    name = (upload.filename or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    return _UPLOAD_TYPES.get(suffix, "application/octet-stream")


@router.post("/bao-cao/{report_id}/dinh-kem", include_in_schema=False)
async def attach_file(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Attach the signed scan: the portal passes the file on, intake checks it."""
    require_permission(session, Permission.SUBMIT)
    posted = await checked_form(request, session)
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _report_page(
            request, portal, session, report_id, attach_error=NO_FILE, status_code=422
        )
    # One byte over the limit is enough to know; the whole file is read only when it fits.
    data = await upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        return await _report_page(
            request, portal, session, report_id, attach_error=TOO_LARGE, status_code=413
        )
    try:
        answer = await portal.api().add_attachment(
            token_of(session), report_id, upload.filename, data, _upload_type(upload)
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        status = exc.status if 400 <= exc.status < 500 else 422
        return await _report_page(
            request, portal, session, report_id, attach_error=exc.message, status_code=status
        )
    notice = f"Đã đính kèm tệp «{answer.filename}»."
    return redirect(portal, _report_url(report_id), session, notice=notice, kind="success")


@router.get("/bao-cao/{report_id}/dinh-kem/{attachment_id}", include_in_schema=False)
async def download_attachment(
    report_id: str, attachment_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The attachment, fetched with the user's token so the browser never needs it."""
    require_permission(session, Permission.READ_ATTACHMENTS)
    try:
        document = await portal.api().attachment(token_of(session), report_id, attachment_id)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, _report_url(report_id), session, notice=exc.message, kind="error")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/bao-cao/{report_id}/van-ban.docx", include_in_schema=False)
async def report_document(
    report_id: str,
    request: Request,
    portal: PortalDep,
    session: SessionDep,
    phien_ban: int | None = None,
) -> Response:
    """The unit's own report in the Nghị định 30 layout (current version, or one version),
    fetched with the user's token: to print, have the leader sign, scan and attach."""
    require_permission(session, Permission.SUBMIT, Permission.READ_REPORTS)
    version = phien_ban if phien_ban is not None and 1 <= phien_ban <= 1_000_000 else None
    try:
        document = await portal.api().report_document(token_of(session), report_id, version)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, _report_url(report_id), session, notice=exc.message, kind="error")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )
