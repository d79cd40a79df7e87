"""Pages for what was API-only (issue 11.11): importing units from a CSV/XLSX file (check
first, then apply, all or nothing as the registry does), creating a year's periodic
reports, and changing one's own password.

The portal keeps nothing between the check and the apply: the checked file goes back to the
browser in a hidden field (base64, bounded by the registry's own import limit) and is sent
again as it was checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from services.portal.ad_hoc import BasisDraft, checked_basis, field_errors
from services.portal.clients import BackendError
from services.portal.session import Session
from services.portal.views.common import (
    Portal,
    PortalDep,
    SessionDep,
    checked_form,
    form_text,
    redirect,
    render,
    require_permission,
    token_of,
)
from shared.auth import Permission
from shared.contracts.api.registry import PeriodView

router = APIRouter()

IMPORT_PAGE = "/don-vi/nhap"
# The registry refuses more (DANVAN_IMPORT_MAX_BYTES, 512 KiB by default) with its own message;
# the portal stops what is far beyond before base64 doubles it into the page.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
SHEETS = {
    "mau.csv": "template.csv",
    "mau.xlsx": "template.xlsx",
    "danh-muc.csv": "export.csv",
    "danh-muc.xlsx": "export.xlsx",
}
PASSWORD_PAGE = "/tai-khoan/mat-khau"
YEARS_PAGE = "/ky-bao-cao/nam"


def _import_page(
    request: Request,
    portal: Portal,
    session: Session,
    *,
    report: Any = None,
    errors: list[dict[str, Any]] | None = None,
    error: str | None = None,
    filename: str = "",
    content: bytes = b"",
    applied: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        portal,
        "units_import.html",
        {
            "title": "Nhập danh mục đơn vị từ tệp",
            "report": report,
            "errors": errors or [],
            "error": error,
            "filename": filename,
            "payload": base64.b64encode(content).decode() if content else "",
            "digest": hashlib.sha256(content).hexdigest() if content else "",
            "applied": applied,
        },
        session=session,
        status_code=status_code,
    )


def _row_errors(exc: BackendError) -> list[dict[str, Any]]:
    details = exc.details
    found = details.get("errors") if isinstance(details, dict) else None
    return [e for e in found or [] if isinstance(e, dict) and e.get("message")]


@router.get(IMPORT_PAGE, include_in_schema=False)
async def import_page(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Choose a file to check."""
    require_permission(session, Permission.ADMINISTER)
    return _import_page(request, portal, session)


@router.get(IMPORT_PAGE + "/{name}", include_in_schema=False)
async def unit_sheet(
    name: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The template, or the current units to edit and import back."""
    require_permission(session, Permission.ADMINISTER)
    if name not in SHEETS:
        return redirect(portal, IMPORT_PAGE)
    try:
        document = await portal.api().unit_sheet(token_of(session), SHEETS[name])
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, IMPORT_PAGE, session, notice=exc.message, kind="error")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )


async def _run(
    request: Request,
    portal: Portal,
    session: Session,
    filename: str,
    content: bytes,
    *,
    dry_run: bool,
) -> Response:
    try:
        report = await portal.api().import_units(
            token_of(session), filename, content, dry_run=dry_run
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        return _import_page(
            request,
            portal,
            session,
            errors=_row_errors(exc),
            error=exc.message,
            filename=filename,
            status_code=exc.status if exc.status in (409, 413, 415, 422) else 503,
        )
    return _import_page(
        request,
        portal,
        session,
        report=report,
        filename=filename,
        content=content if dry_run else b"",
        applied=not dry_run,
    )


@router.post(IMPORT_PAGE + "/kiem-tra", include_in_schema=False)
async def check_import(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Check the chosen file (the registry's dry run): what would be created, updated, or
    every problem with its row and column; nothing is written."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(
            request, portal, session, error="Chưa chọn tệp để nhập.", status_code=422
        )
    content = await upload.read(IMPORT_MAX_BYTES + 1)
    if len(content) > IMPORT_MAX_BYTES:
        message = "Tệp lớn quá mức cho phép; vui lòng chia nhỏ danh mục."
        return _import_page(request, portal, session, error=message, status_code=413)
    return await _run(request, portal, session, upload.filename, content, dry_run=True)


@router.post(IMPORT_PAGE + "/ap-dung", include_in_schema=False)
async def apply_import(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Apply the checked file, as it was checked; the registry writes all of it or nothing."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    filename = form_text(posted, "filename")
    try:
        content = base64.b64decode(form_text(posted, "payload"), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content or hashlib.sha256(content).hexdigest() != form_text(posted, "digest"):
        message = "Không đọc được tệp đã kiểm tra; vui lòng chọn lại tệp và kiểm tra lại."
        return _import_page(request, portal, session, error=message, status_code=422)
    return await _run(request, portal, session, filename, content, dry_run=False)


@router.get(YEARS_PAGE, include_in_schema=False)
async def years_page(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """The reporting years: create a year's 6-month and annual reports from the regime."""
    require_permission(session, Permission.MANAGE_PERIODS)
    periods = await portal.api().periods(token_of(session))
    years = sorted({p.year for p in periods if p.kind != "ad_hoc"}, reverse=True)
    by_year = {y: [p for p in periods if p.year == y and p.kind != "ad_hoc"] for y in years}
    today = portal.clock.now().year
    return render(
        request,
        portal,
        "years.html",
        {
            "title": "Năm báo cáo",
            "by_year": by_year,
            "suggested": max([today, *(y + 1 for y in years)]) if years else today,
        },
        session=session,
    )


@router.post(YEARS_PAGE, include_in_schema=False)
async def create_year(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Create the year's periodic reports (those already there are left as they are)."""
    require_permission(session, Permission.MANAGE_PERIODS)
    posted = await checked_form(request, session)
    text = form_text(posted, "year").strip()
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        notice = "Năm báo cáo phải là một năm, ví dụ 2027."
        return redirect(portal, YEARS_PAGE, session, notice=notice, kind="error")
    try:
        created = await portal.api().create_regime_year(token_of(session), int(text))
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, YEARS_PAGE, session, notice=exc.message, kind="error")
    if not created:
        notice = f"Các kỳ báo cáo định kỳ năm {text} đã có từ trước; không tạo thêm kỳ nào."
        return redirect(portal, YEARS_PAGE, session, notice=notice)
    titles = "; ".join(p.title for p in created)
    notice = f"Đã tạo {len(created)} kỳ báo cáo năm {text}: {titles}."
    return redirect(portal, YEARS_PAGE, session, notice=notice, kind="success")


def _password_page(
    request: Request,
    portal: Portal,
    session: Session,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        portal,
        "password.html",
        {"title": "Đổi mật khẩu", "error": error},
        session=session,
        status_code=status_code,
    )


@router.get(PASSWORD_PAGE, include_in_schema=False)
async def password_page(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Change one's own password."""
    return _password_page(request, portal, session)


@router.post(PASSWORD_PAGE, include_in_schema=False)
async def change_password(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """The current password, the new one twice; the registry decides and checks the rules."""
    posted = await checked_form(request, session)
    old = form_text(posted, "old_password")
    new = form_text(posted, "new_password")
    again = form_text(posted, "new_password_again")
    if not old or not new:
        return _password_page(
            request, portal, session, "Vui lòng nhập mật khẩu hiện tại và mật khẩu mới.", 422
        )
    if new != again:
        return _password_page(
            request, portal, session, "Hai lần nhập mật khẩu mới không giống nhau.", 422
        )
    try:
        await portal.api().change_own_password(token_of(session), old, new)
    except BackendError as exc:
        if exc.status == 401 and exc.code not in ("invalid_credentials", "wrong_password"):
            raise
        return _password_page(request, portal, session, exc.message, 422)
    notice = "Đã đổi mật khẩu. Lần đăng nhập sau dùng mật khẩu mới."
    return redirect(portal, "/", session, notice=notice, kind="success")


EDIT_FIELDS = ("title", "content", "window_start", "window_end")
# The registry's problems at these fields are shown at the same fields of the edit page.
EDIT_FIELD_OF = {name: name for name in EDIT_FIELDS}


def _edit_url(period_id: str) -> str:
    return f"/theo-doi/{quote(period_id, safe='')}/sua"


def _edit_page(
    request: Request,
    portal: Portal,
    session: Session,
    period: PeriodView,
    values: dict[str, str],
    basis: BasisDraft,
    *,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        portal,
        "period_edit.html",
        {
            "title": f"Sửa yêu cầu báo cáo: {period.title}",
            "period": period,
            "values": values,
            "basis": basis,
            "error": error,
            "errors": dict(errors or {}),
        },
        session=session,
        status_code=status_code,
    )


def _values(period: PeriodView) -> dict[str, str]:
    return {
        "title": period.title,
        "content": period.content,
        "window_start": period.window_start.isoformat() if period.window_start else "",
        "window_end": period.window_end.isoformat() if period.window_end else "",
    }


@router.get("/theo-doi/{period_id}/sua", include_in_schema=False)
async def edit_period_page(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Edit an ad-hoc request already sent: its title, what it asks, its data window and
    the document that asked for it (the deadline, closing and reopening are on the period's
    page)."""
    require_permission(session, Permission.MANAGE_PERIODS)
    period = await portal.api().period(token_of(session), period_id)
    return _edit_page(
        request, portal, session, period, _values(period), BasisDraft.of(period.basis)
    )


@router.post("/theo-doi/{period_id}/sua", include_in_schema=False)
async def edit_period(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Send the changed fields to the registry; its refusal comes back with what was typed,
    each problem at its field."""
    require_permission(session, Permission.MANAGE_PERIODS)
    posted = await checked_form(request, session)
    api, token = portal.api(), token_of(session)
    period = await api.period(token, period_id)
    typed = {name: form_text(posted, name).strip() for name in EDIT_FIELDS}
    basis = BasisDraft.typed(lambda name: form_text(posted, name))
    before = _values(period)
    changes: dict[str, Any] = {}
    for name in EDIT_FIELDS:
        if typed[name] == before[name]:
            continue
        if name.startswith("window_"):
            try:
                changes[name] = date.fromisoformat(typed[name]) if typed[name] else None
            except ValueError:
                message = "Ngày của khoảng số liệu không hợp lệ (dd/mm/yyyy)."
                return _edit_page(
                    request, portal, session, period, typed, basis, error=message, status_code=422
                )
        else:
            changes[name] = typed[name]
    if basis != BasisDraft.of(period.basis):
        body, basis_errors = checked_basis(basis)
        if basis_errors:
            return _edit_page(
                request, portal, session, period, typed, basis, errors=basis_errors, status_code=422
            )
        changes["basis"] = body  # None (nothing typed) removes it
    if not typed["title"]:
        return _edit_page(
            request,
            portal,
            session,
            period,
            typed,
            basis,
            error="Tên yêu cầu báo cáo không được để trống.",
            status_code=422,
        )
    if not changes:
        return redirect(
            portal,
            f"/theo-doi/{quote(period_id, safe='')}",
            session,
            notice="Không có thay đổi nào.",
        )
    try:
        await api.update_period(token, period_id, changes)
    except BackendError as exc:
        if exc.status == 401:
            raise
        status = exc.status if exc.status in (409, 422) else 503
        errors, notices = field_errors(exc.details, exc.message, EDIT_FIELD_OF)
        return _edit_page(
            request,
            portal,
            session,
            period,
            typed,
            basis,
            error=" ".join(notices) or None,
            errors=errors,
            status_code=status,
        )
    notice = "Đã lưu thay đổi của yêu cầu báo cáo; các đơn vị thấy nội dung mới trên biểu mẫu."
    return redirect(
        portal, f"/theo-doi/{quote(period_id, safe='')}", session, notice=notice, kind="success"
    )
