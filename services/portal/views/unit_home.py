"""The unit's home page: its periods, deadlines and report states."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.overview import unit_period_rows
from services.portal.views.common import (
    PortalDep,
    SessionDep,
    attempt,
    redirect,
    render,
    require_permission,
    token_of,
)
from shared.auth import Permission

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Units see their periods; Phòng Nội vụ and leaders go to the dashboard."""
    if session.may(Permission.READ_REPORTS):
        return redirect(portal, "/theo-doi")
    require_permission(session, Permission.SUBMIT)
    api, token = portal.api(), token_of(session)
    (periods, periods_error), (reports, reports_error), (difficulties, _) = await asyncio.gather(
        attempt(api.periods(token)), attempt(api.reports(token)), attempt(api.difficulties(token))
    )
    rows = unit_period_rows(periods or [], reports or [], session.unit_code, portal.clock.now())
    notices = [e.message for e in (periods_error, reports_error) if e is not None]
    return render(
        request,
        portal,
        "unit_home.html",
        {
            "title": "Báo cáo của đơn vị",
            "rows": rows,
            "notices": notices,
            # The difficulties page has the details; home only says whether answers arrived.
            "difficulties_raised": len(difficulties or []),
            "difficulties_answered": sum(1 for d in difficulties or [] if d.answered),
        },
        session=session,
    )
