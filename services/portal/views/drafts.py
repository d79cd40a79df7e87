"""A unit's draft (bản nháp) of its report: saved by a button or automatically while typing,
and started from the unit's last periodic report ("Dùng báo cáo kỳ trước").

Without JavaScript the buttons post the whole form and the page comes back with a notice;
the autosave script (static/ban-nhap.js) posts the same form in the background and reads a
short JSON answer. A draft is never refused for its content: intake lists its problems,
which the form shows without blocking anything.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from services.portal import forms
from services.portal.clients import BackendError
from services.portal.session import Session
from services.portal.views.common import (
    EXPIRED_NOTICE,
    CsrfRefused,
    KnownUserDep,
    LoginRequired,
    Portal,
    PortalDep,
    checked_form,
    form_lists,
    form_text,
    redirect,
    require_permission,
    token_of,
)
from services.portal.views.report_form import (
    FormContext,
    _form_page,
    _posted_report,
    draft_saved_text,
)
from shared.auth import Permission
from shared.contracts.api.intake import Draft

router = APIRouter()

AUTOSAVE_HEADER = "x-tu-dong-luu"
NOT_SAVED = "Chưa lưu được bản nháp"


def _form_url(period_id: str) -> str:
    return f"/ky/{quote(period_id, safe='')}/bao-cao"


def _autosave(request: Request) -> bool:
    return request.headers.get(AUTOSAVE_HEADER) == "1"


async def _context(
    portal: Portal, session: Session, posted: FormData, period_id: str
) -> FormContext:
    context = FormContext.from_hidden(form_text(posted, "form_context"), period_id)
    if context is None:
        context = FormContext.of(await portal.api().period_form(token_of(session), period_id))
    return context


async def _save_posted(portal: Portal, session: Session, posted: FormData, period_id: str) -> Draft:
    context = await _context(portal, session, posted, period_id)
    values = forms.values_from_submission(context.form, form_lists(posted))
    body = forms.body_from_values(period_id, context.form, values)
    return await portal.api().save_unit_draft(token_of(session), period_id, body)


REAUTH_DRAFT_NOTICE = (
    "Phiên đăng nhập đã hết hạn nên bản nháp chưa được lưu. Nội dung bạn đã nhập vẫn được giữ "
    "nguyên bên dưới: nhập lại mật khẩu rồi bấm gửi để gửi báo cáo, hoặc đăng nhập lại ở cửa "
    "sổ khác rồi bấm «Lưu bản nháp»."
)


async def _kept(
    request: Request, portal: Portal, session: Session, posted: FormData, period_id: str
) -> Response:
    """The form again with everything typed, when the sign-in expired before saving."""
    context = FormContext.from_hidden(form_text(posted, "form_context"), period_id)
    if context is None:
        raise LoginRequired(EXPIRED_NOTICE)
    values = forms.values_from_submission(context.form, form_lists(posted))
    return _form_page(
        request,
        portal,
        session,
        context,
        values,
        report=_posted_report(posted),
        report_id=form_text(posted, "report_id").strip() or None,
        notice=REAUTH_DRAFT_NOTICE,
        idempotency_key=form_text(posted, "idempotency_key").strip() or None,
        reauth=True,
        status_code=401,
    )


def problems_text(draft: Draft) -> str:
    """How many problems the saved draft still has before it can be sent."""
    if draft.issues:
        return f" Còn {len(draft.issues)} điểm cần hoàn thiện trước khi gửi."
    return " Bản nháp đã đủ để gửi báo cáo."


@router.post("/ky/{period_id}/ban-nhap", include_in_schema=False)
async def save_draft(
    period_id: str, request: Request, portal: PortalDep, session: KnownUserDep
) -> Response:
    """Save the form as the unit's draft: the button (back to the form with a notice) or
    the autosave (a JSON answer the script shows)."""
    require_permission(session, Permission.SUBMIT)
    background = _autosave(request)
    try:
        posted = await checked_form(request, session)
    except CsrfRefused:
        if background:
            return JSONResponse(
                {"saved": False, "text": f"{NOT_SAVED}: vui lòng tải lại trang."}, status_code=403
            )
        raise
    expired = session.is_expired(portal.now_epoch())
    if expired and background:
        return JSONResponse(
            {"saved": False, "text": f"{NOT_SAVED}. {EXPIRED_NOTICE}"}, status_code=401
        )
    try:
        if expired:
            raise BackendError("portal", 401, "session_expired", EXPIRED_NOTICE)
        draft = await _save_posted(portal, session, posted, period_id)
    except BackendError as exc:
        if background:
            status = exc.status if 400 <= exc.status < 600 else 502
            return JSONResponse(
                {"saved": False, "text": f"{NOT_SAVED}: {exc.message}"}, status_code=status
            )
        if exc.status == 401:
            return await _kept(request, portal, session, posted, period_id)
        return redirect(portal, _form_url(period_id), session, notice=exc.message, kind="error")
    text = draft_saved_text(draft) + problems_text(draft)
    if background:
        return JSONResponse({"saved": True, "text": text, "problems": len(draft.issues)})
    return redirect(portal, _form_url(period_id), session, notice=text, kind="success")


@router.post("/ky/{period_id}/ban-nhap/ky-truoc", include_in_schema=False)
async def prefill_draft(
    period_id: str, request: Request, portal: PortalDep, session: KnownUserDep
) -> Response:
    """ "Dùng báo cáo kỳ trước": what the form holds is saved first (nothing typed is lost),
    then intake fills the empty narratives from the unit's last periodic report."""
    require_permission(session, Permission.SUBMIT)
    posted = await checked_form(request, session)
    api, back = portal.api(), _form_url(period_id)
    try:
        if form_text(posted, "form_context"):
            await _save_posted(portal, session, posted, period_id)
        draft = await api.prefill_unit_draft(token_of(session), period_id)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, back, session, notice=exc.message, kind="error")
    source = draft.prefilled_from
    if source is None or not source.filled:
        notice = "Không có ô nào còn trống để điền từ báo cáo kỳ trước; bản nháp giữ nguyên."
        return redirect(portal, back, session, notice=notice)
    notice = (
        f"Đã điền {len(source.filled)} ô nội dung từ báo cáo {source.period_title} "
        f"(phiên bản {source.version}). Số liệu để trống: đề nghị nhập số liệu của kỳ này, "
        "rà soát nội dung rồi gửi báo cáo."
    )
    return redirect(portal, back, session, notice=notice, kind="success")
