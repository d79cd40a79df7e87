"""Phòng Nội vụ's dashboard (leaders read it too): completeness per period, review links,
"Đôn đốc ngay", and the documents to download."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.ad_hoc import deadline_inputs
from services.portal.clients import BackendError, Backends, Download
from services.portal.overview import (
    CompletenessView,
    completeness_from_reports,
    completeness_view,
    with_withdrawals,
)
from services.portal.session import Session
from services.portal.views.common import (
    Portal,
    PortalDep,
    SessionDep,
    checked_form,
    redirect,
    render,
    require_permission,
    token_of,
)
from services.portal.wording import describe_deadline, parse_instant
from shared.auth import Permission

router = APIRouter()

SKIP_REASONS = {
    "already_reported": "đã gửi báo cáo",
    "already_requested": "đã được đôn đốc theo yêu cầu này",
}
FALLBACK_NOTICE = (
    "Dịch vụ tổng hợp chưa trả lời; số liệu dưới đây được lập trực tiếp từ danh sách "
    "đơn vị phải báo cáo và các báo cáo đã nhận."
)


async def _fallback(api: Backends, token: str, period: Mapping[str, Any]) -> CompletenessView:
    reports = await api.reports(token, period_id=str(period.get("period_id")))
    return completeness_from_reports(period, reports)


async def _overview(api: Backends, token: str) -> tuple[list[CompletenessView], list[str]]:
    """Every period with its completeness; rebuilt from registry and intake if need be."""
    try:
        views = [completeness_view(raw) for raw in await api.all_completeness(token)]
        return views, []
    except BackendError as exc:
        if exc.status == 401:
            raise
    periods = await api.periods(token)
    views = list(await asyncio.gather(*(_fallback(api, token, p) for p in periods)))
    return views, [FALLBACK_NOTICE]


async def _completeness(
    api: Backends, token: str, period_id: str
) -> tuple[CompletenessView, list[str]]:
    try:
        return completeness_view(await api.completeness(token, period_id)), []
    except BackendError as exc:
        # Consolidation may be down, or may not have heard of a new period yet: the
        # registry still knows who must report, and intake what has arrived.
        if exc.status == 401:
            raise
    period = await api.period(token, period_id)
    return await _fallback(api, token, period), [FALLBACK_NOTICE]


async def _withdrawals_shown(api: Backends, token: str, view: CompletenessView) -> CompletenessView:
    """Consolidation counts a withdrawn report as missing and forgets it; intake still has it."""
    if view.source != "consolidation" or not view.in_state("missing"):
        return view
    try:
        withdrawn = await api.reports(token, period_id=view.period_id, status="withdrawn")
    except BackendError as exc:
        if exc.status == 401:
            raise
        return view  # the rows still say "Chưa gửi", which is what counts
    return with_withdrawals(view, withdrawn)


def _deadline_of(view: CompletenessView, now: Any) -> Any:
    due_at = parse_instant(view.due_at)
    return describe_deadline(due_at, now, closed=view.status == "closed") if due_at else None


def _due_local(view: CompletenessView) -> tuple[str, str]:
    """The deadline as the date and time inputs show it (local time)."""
    due_at = parse_instant(view.due_at)
    return deadline_inputs(due_at) if due_at is not None else ("", "")


@router.get("/theo-doi", include_in_schema=False)
async def overview(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Every period at a glance: how many units reported, on time, late, missing."""
    require_permission(session, Permission.READ_REPORTS)
    views, notices = await _overview(portal.api(), token_of(session))
    views.sort(key=lambda v: str(v.due_at or ""), reverse=True)
    now = portal.clock.now()
    return render(
        request,
        portal,
        "dashboard_overview.html",
        {
            "title": "Theo dõi tình hình báo cáo",
            "periods": [(v, _deadline_of(v, now)) for v in views],
            "notices": notices,
        },
        session=session,
    )


@router.get("/theo-doi/{period_id}", include_in_schema=False)
async def period_dashboard(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """One period: counts, missing units, reports to review, reminders and documents."""
    require_permission(session, Permission.READ_REPORTS)
    api, token = portal.api(), token_of(session)
    view, notices = await _completeness(api, token, period_id)
    view = await _withdrawals_shown(api, token, view)
    log: list[Any] = []
    if session.may(Permission.URGE):
        try:
            log = await api.reminder_log(token, period_id, limit=20)
        except BackendError as exc:
            if exc.status == 401:
                raise
            notices.append(f"Chưa xem được nhật ký đôn đốc: {exc.message}")
    return render(
        request,
        portal,
        "dashboard_period.html",
        {
            "title": f"Theo dõi: {view.title}",
            "view": view,
            "deadline": _deadline_of(view, portal.clock.now()),
            "notices": notices,
            "reminder_log": [e for e in log if isinstance(e, Mapping)],
            "can_remind": session.may(Permission.URGE) and view.status == "open",
            "can_review": session.may(Permission.REVIEW),
            "can_adjust": session.may(Permission.MANAGE_PERIODS),
            "due_local": _due_local(view),
            "remind_request_id": uuid.uuid4().hex,
        },
        session=session,
    )


def _remind_notice(answer: Mapping[str, Any], names: Mapping[str, str]) -> str:
    queued = answer.get("queued") or []
    skipped = answer.get("skipped") or []
    if not queued and not skipped:
        return "Không có đơn vị nào cần đôn đốc."
    parts = []
    if queued:
        parts.append(f"Đã gửi yêu cầu đôn đốc tới {len(queued)} đơn vị.")
    if skipped:
        listed = "; ".join(
            f"{names.get(str(s.get('unit_code')), s.get('unit_code'))} "
            f"({SKIP_REASONS.get(str(s.get('reason')), str(s.get('reason')))})"
            for s in skipped
            if isinstance(s, Mapping)
        )
        parts.append(f"Bỏ qua {len(skipped)} đơn vị: {listed}.")
    return " ".join(parts)


@router.post("/theo-doi/{period_id}/don-doc", include_in_schema=False)
async def remind_now(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Urge the chosen units (or every unit still missing) now."""
    require_permission(session, Permission.URGE)
    posted = await checked_form(request, session)
    units = [u for u in posted.getlist("units") if isinstance(u, str) and u]
    request_id = posted.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        request_id = uuid.uuid4().hex
    names = {
        code: name
        for code, name in zip(
            posted.getlist("unit_codes"), posted.getlist("unit_names"), strict=False
        )
        if isinstance(code, str) and isinstance(name, str)
    }
    back = f"/theo-doi/{period_id}"
    try:
        answer = await portal.api().remind(token_of(session), period_id, units or None, request_id)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, back, session, notice=exc.message, kind="error")
    return redirect(portal, back, session, notice=_remind_notice(answer, names), kind="success")


async def _download(
    portal: Portal, session: Session, period_id: str, fetch: Awaitable[Download]
) -> Response:
    try:
        document = await fetch
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, f"/theo-doi/{period_id}", session, notice=exc.message, kind="error")
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/theo-doi/{period_id}/bao-cao-tong-hop.{suffix}", include_in_schema=False)
async def consolidated_report(
    period_id: str, suffix: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The consolidated report (.docx) or its figures (.xlsx), from consolidation."""
    require_permission(session, Permission.READ_REPORTS)
    if suffix not in ("docx", "xlsx"):
        return redirect(portal, f"/theo-doi/{period_id}")
    fetch = portal.api().consolidated_document(token_of(session), period_id, suffix)
    return await _download(portal, session, period_id, fetch)


@router.get("/theo-doi/{period_id}/cong-van-don-doc.docx", include_in_schema=False)
async def urging_letter(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The urging letter (công văn đôn đốc) to the units still missing, from reminders."""
    require_permission(session, Permission.READ_REPORTS)
    fetch = portal.api().urging_letter(token_of(session), period_id)
    return await _download(portal, session, period_id, fetch)
