"""Phòng Nội vụ's dashboard (leaders read it too): completeness per period, review links,
"Đôn đốc ngay", and the documents to download."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal import panels
from services.portal.ad_hoc import deadline_inputs
from services.portal.clients import BackendError, Backends, Download
from services.portal.session import Session
from services.portal.views.common import (
    Portal,
    PortalDep,
    SessionDep,
    attempt,
    checked_form,
    redirect,
    render,
    require_permission,
    token_of,
)
from services.portal.wording import Deadline, describe_deadline
from shared.auth import Permission
from shared.contracts.api.consolidation import PeriodCompleteness
from shared.contracts.api.registry import PeriodView
from shared.contracts.api.reminders import DeliveryEntry, UrgeResult
from shared.contracts.registry import RequestBasis

router = APIRouter()

SKIP_REASONS = {
    "already_reported": "đã gửi báo cáo",
    "already_requested": "đã được đôn đốc theo yêu cầu này",
}
NO_CONSOLIDATION = (
    "Dịch vụ tổng hợp chưa trả lời nên chưa xem được số đơn vị đã gửi báo cáo: {reason} "
    "Các đơn vị vẫn gửi báo cáo bình thường."
)
NOT_CONSOLIDATED_YET = (
    "Dịch vụ tổng hợp chưa có số liệu của kỳ này (kỳ vừa tạo cần ít phút để dịch vụ tổng hợp "
    "cập nhật). Vui lòng tải lại trang sau ít phút."
)


@dataclass(frozen=True)
class PeriodHeading:
    """What the dashboard shows of a period besides its figures: title, deadline, state.

    Read from consolidation's answer, or from the registry when consolidation cannot say
    (the page then shows no figures, rather than figures counted anew by the portal)."""

    period_id: str
    title: str
    status: str
    due_at: datetime
    kind: str = ""  # six_month, annual, ad_hoc (an ad-hoc request can be edited)
    basis: RequestBasis | None = None  # an ad-hoc request's asking document (the registry's)

    @classmethod
    def of_completeness(cls, view: PeriodCompleteness) -> PeriodHeading:
        return cls(view.period_id, view.title, view.status, view.due_at, view.kind)

    @classmethod
    def of_period(cls, period: PeriodView) -> PeriodHeading:
        return cls(
            period.period_id, period.title, period.status, period.due_at, period.kind, period.basis
        )


def _consolidation_notice(exc: BackendError) -> str:
    if exc.code == "period_not_found":
        return NOT_CONSOLIDATED_YET
    return NO_CONSOLIDATION.format(reason=exc.message)


async def _overview(
    api: Backends, token: str
) -> tuple[list[PeriodCompleteness], list[PeriodHeading], list[str]]:
    """Every period with consolidation's completeness; without it, the registry's periods
    (no figures) and a notice."""
    try:
        return await api.all_completeness(token), [], []
    except BackendError as exc:
        if exc.status == 401:
            raise
        notice = _consolidation_notice(exc)
    periods, problem = await attempt(api.periods(token))
    notices = [notice] + ([problem.message] if problem else [])
    return [], [PeriodHeading.of_period(p) for p in periods or []], notices


async def _completeness(
    api: Backends, token: str, period_id: str
) -> tuple[PeriodCompleteness | None, PeriodHeading, list[str]]:
    try:
        view = await api.completeness(token, period_id)
    except BackendError as exc:
        # Consolidation may be down, or may not have heard of a new period yet: the page
        # says so and still offers what does not need its figures.
        if exc.status == 401:
            raise
        notice = _consolidation_notice(exc)
    else:
        heading = PeriodHeading.of_completeness(view)
        if heading.kind != "ad_hoc":
            return view, heading, []
        # The asking document is the registry's: consolidation's figures do not carry it.
        period, problem = await attempt(api.period(token, period_id))
        if period is None:
            reason = problem.message if problem else ""
            return view, heading, [f"Chưa xem được căn cứ của yêu cầu báo cáo: {reason}"]
        return view, replace(heading, basis=period.basis), []
    period = await api.period(token, period_id)
    return None, PeriodHeading.of_period(period), [notice]


def _deadline_of(heading: PeriodHeading, now: datetime) -> Deadline:
    return describe_deadline(heading.due_at, now, closed=heading.status == "closed")


@router.get("/theo-doi", include_in_schema=False)
async def overview(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Every period at a glance: how many units reported, on time, late, missing."""
    require_permission(session, Permission.READ_REPORTS)
    (views, headings, notices), threads = await asyncio.gather(
        _overview(portal.api(), token_of(session)),
        panels.open_threads(portal.api(), token_of(session)),
    )
    views = sorted(views, key=lambda v: v.due_at, reverse=True)
    headings.sort(key=lambda h: h.due_at, reverse=True)
    now = portal.clock.now()
    return render(
        request,
        portal,
        "dashboard_overview.html",
        {
            "title": "Theo dõi tình hình báo cáo",
            "periods": [(v, _deadline_of(PeriodHeading.of_completeness(v), now)) for v in views],
            "without_figures": [(h, _deadline_of(h, now)) for h in headings],
            "notices": notices,
            "open_threads": threads,
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
    days = panels.schedule_days(request.query_params.get("lich"))
    (view, heading, notices), threads, schedule = await asyncio.gather(
        _completeness(api, token, period_id),
        panels.open_threads(api, token, period_id),
        panels.reminder_schedule(api, token, period_id, days),
    )
    log: list[DeliveryEntry] = []
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
            "title": f"Theo dõi: {heading.title}",
            "period": heading,
            "view": view,
            "deadline": _deadline_of(heading, portal.clock.now()),
            "notices": notices,
            "reminder_log": log,
            "can_remind": session.may(Permission.URGE) and heading.status == "open",
            "can_review": session.may(Permission.REVIEW),
            "can_adjust": session.may(Permission.MANAGE_PERIODS),
            "due_local": deadline_inputs(heading.due_at),
            "remind_request_id": uuid.uuid4().hex,
            "open_threads": threads,
            "schedule": schedule,
        },
        session=session,
    )


def _remind_notice(answer: UrgeResult, names: Mapping[str, str]) -> str:
    if not answer.queued and not answer.skipped:
        return "Không có đơn vị nào cần đôn đốc."
    parts = []
    if answer.queued:
        parts.append(f"Đã gửi yêu cầu đôn đốc tới {len(answer.queued)} đơn vị.")
    if answer.skipped:
        listed = "; ".join(
            f"{names.get(s.unit_code, s.unit_code)} ({SKIP_REASONS.get(s.reason, s.reason)})"
            for s in answer.skipped
        )
        parts.append(f"Bỏ qua {len(answer.skipped)} đơn vị: {listed}.")
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
