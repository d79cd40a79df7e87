"""Ad-hoc requests (báo cáo đột xuất) and deadline changes, by Phòng Nội vụ."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.ad_hoc import (
    AdHocDraft,
    checked_request,
    draft_from_form,
    field_errors,
    local_deadline,
)
from services.portal.clients import BackendError
from services.portal.session import Session
from services.portal.views.common import (
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
    token_of,
)
from shared.auth import Permission
from shared.clock import VN_TZ
from shared.contracts.api.registry import UnitView
from shared.contracts.registry import UNIT_KIND_LABELS as KIND_LABELS
from shared.contracts.registry import UNIT_KIND_ORDER as KIND_ORDER
from shared.formatting import vn_deadline

router = APIRouter()

PAGE = "/yeu-cau-dot-xuat"
# Registry field names, as the form calls them ("basis.<name>" is "basis_<name>").
_FIELD_OF = {"due_at": "due_date", "title": "title", "content": "content", "scope": "scope"}


def _unit_choices(units: list[UnitView]) -> list[UnitView]:
    """Units that report, grouped by kind in the usual order."""
    reporting = [u for u in units if u.must_report and u.valid_to is None]
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    reporting.sort(key=lambda u: (order.get(u.kind, 99), u.display_order, u.code))
    return reporting


async def _page(
    request: Request,
    portal: Portal,
    session: Session,
    draft: AdHocDraft,
    *,
    errors: Mapping[str, str] | None = None,
    notices: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    api, token = portal.api(), token_of(session)
    today = portal.clock.now().astimezone(VN_TZ).date()
    (periods, periods_error), (units, units_error) = await asyncio.gather(
        attempt(api.periods(token)), attempt(api.units(token, on=today.isoformat()))
    )
    shown = list(notices or [])
    shown += [e.message for e in (periods_error, units_error) if e is not None]
    return render(
        request,
        portal,
        "ad_hoc.html",
        {
            "title": "Yêu cầu báo cáo đột xuất",
            "requests": [p for p in periods or [] if p.kind == "ad_hoc"],
            "units": _unit_choices(units or []),
            "kinds": list(KIND_LABELS.items()),
            "draft": draft,
            "errors": dict(errors or {}),
            "notices": shown,
        },
        session=session,
        status_code=status_code,
    )


@router.get(PAGE, include_in_schema=False)
async def ad_hoc_page(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """The ad-hoc requests made so far and the form for a new one."""
    require_permission(session, Permission.MANAGE_PERIODS)
    week = portal.clock.now().astimezone(VN_TZ).date() + timedelta(days=7)
    draft = AdHocDraft(due_date=week.isoformat(), idempotency_key=uuid.uuid4().hex)
    return await _page(request, portal, session, draft)


@router.post(PAGE, include_in_schema=False)
async def create_ad_hoc(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Send the ad-hoc request to the registry; the units see it on their home pages."""
    require_permission(session, Permission.MANAGE_PERIODS)
    posted = await checked_form(request, session)
    draft = draft_from_form(form_lists(posted))
    if not draft.idempotency_key:
        draft = replace(draft, idempotency_key=uuid.uuid4().hex)
    checked = checked_request(draft, portal.clock.now())
    if checked.body is None:
        return await _page(request, portal, session, draft, errors=checked.errors, status_code=422)
    try:
        answer = await portal.api().create_period(
            token_of(session), checked.body, draft.idempotency_key
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        errors, notices = field_errors(exc.details, exc.message, _FIELD_OF)
        status = exc.status if 400 <= exc.status < 500 else 422
        return await _page(
            request, portal, session, draft, errors=errors, notices=notices, status_code=status
        )
    period_id = answer.period_id
    notice = (
        f"Đã tạo yêu cầu báo cáo đột xuất «{answer.title}» "
        f"(số {period_id}), giao cho {len(answer.expected_units)} đơn vị."
    )
    return redirect(
        portal, f"/theo-doi/{quote(period_id, safe='')}", session, notice=notice, kind="success"
    )


@router.post("/theo-doi/{period_id}/han-nop", include_in_schema=False)
async def change_deadline(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Move the period's deadline, later or earlier: "trước [giờ] ngày …" in local time."""
    require_permission(session, Permission.MANAGE_PERIODS)
    posted = await checked_form(request, session)
    back = f"/theo-doi/{quote(period_id, safe='')}"
    due_at, errors = local_deadline(form_text(posted, "due_date"), form_text(posted, "due_time"))
    if due_at is None:
        return redirect(portal, back, session, notice=" ".join(errors.values()), kind="error")
    try:
        await portal.api().update_period(
            token_of(session), period_id, {"due_at": due_at.isoformat()}
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, back, session, notice=exc.message, kind="error")
    notice = f"Đã đổi hạn gửi thành {vn_deadline(due_at)}."
    return redirect(portal, back, session, notice=notice, kind="success")


@router.get("/theo-doi/{period_id}/khoa-so", include_in_schema=False)
async def close_confirmation(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Explain what closing the period means before the reviewer confirms it."""
    require_permission(session, Permission.MANAGE_PERIODS)
    period = await portal.api().period(token_of(session), period_id)
    if period.status != "open":
        return redirect(portal, f"/theo-doi/{quote(period_id, safe='')}", session)
    return render(
        request,
        portal,
        "period_close.html",
        {"title": "Khóa sổ kỳ báo cáo", "period": period, "period_id": period_id},
        session=session,
    )


@router.post("/theo-doi/{period_id}/trang-thai", include_in_schema=False)
async def change_status(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Close the period (no more submissions) or reopen it."""
    require_permission(session, Permission.MANAGE_PERIODS)
    posted = await checked_form(request, session)
    back = f"/theo-doi/{quote(period_id, safe='')}"
    status = form_text(posted, "status")
    if status not in ("open", "closed"):
        return redirect(portal, back, session, notice="Thao tác không hợp lệ.", kind="error")
    try:
        await portal.api().update_period(token_of(session), period_id, {"status": status})
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, back, session, notice=exc.message, kind="error")
    notice = (
        "Đã khóa sổ kỳ báo cáo: các đơn vị không gửi, sửa hay rút báo cáo được nữa."
        if status == "closed"
        else "Đã mở lại kỳ báo cáo: các đơn vị gửi và sửa báo cáo được như trước."
    )
    return redirect(portal, back, session, notice=notice, kind="success")
