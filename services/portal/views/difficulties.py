"""Khó khăn, vướng mắc: units read the answers to what they raised; Phòng Nội vụ answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.clients import BackendError
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
from shared.auth import Permission
from shared.contracts.api.intake import DifficultyThread
from shared.contracts.api.registry import PeriodView

router = APIRouter()

PAGE = "/vuong-mac"
ANSWER_MAX = 20_000  # intake's limit
EMPTY_ANSWER = "Vui lòng nhập nội dung trả lời, hướng dẫn cho đơn vị."


@dataclass(frozen=True)
class DifficultyRow:
    """One difficulty as the page lists it: intake's thread, named for the reader."""

    thread: DifficultyThread
    period_title: str
    unit_name: str

    @property
    def answered(self) -> bool:
        """Phòng Nội vụ has answered (the unit may have asked again since)."""
        return self.thread.answered or self.thread.answered_at is not None


def difficulty_rows(
    threads: Sequence[DifficultyThread], periods: Sequence[PeriodView]
) -> list[DifficultyRow]:
    """The difficulties with period titles and unit names, newest raised first."""
    titles = {p.period_id: p.title for p in periods}
    names: dict[str, str] = {}
    for period in periods:
        for unit in period.expected_unit_details:
            names.setdefault(unit.code, unit.name)
    rows = [
        DifficultyRow(
            thread=d,
            period_title=titles.get(d.period_id, d.period_id),
            unit_name=names.get(d.unit_code, d.unit_code),
        )
        for d in threads
    ]
    return sorted(rows, key=lambda row: row.thread.raised_at, reverse=True)


async def _page(
    request: Request,
    portal: Portal,
    session: Session,
    period_id: str,
    *,
    failed: tuple[str, str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The list; ``failed`` = (difficulty id, error, typed answer) of a refused answer."""
    api, token = portal.api(), token_of(session)
    filters = {"period_id": period_id} if period_id else {}
    (raw, error), (periods, periods_error) = await asyncio.gather(
        attempt(api.difficulties(token, **filters)), attempt(api.periods(token))
    )
    rows = difficulty_rows(raw or [], periods or [])
    notices = [e.message for e in (error, periods_error) if e is not None]
    if failed and failed[0] not in {r.thread.difficulty_id for r in rows}:
        notices.insert(0, failed[1])  # the difficulty is gone from the list: say it on top
    return render(
        request,
        portal,
        "difficulties.html",
        {
            "title": "Khó khăn, vướng mắc",
            "periods": periods or [],
            "period_id": period_id,
            "unanswered": [r for r in rows if not r.answered],
            "answered": [r for r in rows if r.answered],
            "notices": notices,
            "can_answer": session.may(Permission.REVIEW),
            "failed_id": failed[0] if failed else None,
            "failed_error": failed[1] if failed else None,
            "failed_text": failed[2] if failed else "",
        },
        session=session,
        status_code=status_code,
    )


@router.get(PAGE, include_in_schema=False)
async def difficulties_page(
    request: Request, portal: PortalDep, session: SessionDep, ky: str = ""
) -> Response:
    """A unit's difficulties with the answers; for Phòng Nội vụ and leaders, every unit's."""
    require_permission(session, Permission.SUBMIT, Permission.READ_REPORTS)
    return await _page(request, portal, session, ky.strip())


@router.post(PAGE + "/{difficulty_id}/tra-loi", include_in_schema=False)
async def answer_difficulty(
    difficulty_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Phòng Nội vụ answers a difficulty (again: replaces the answer)."""
    require_permission(session, Permission.REVIEW)
    posted = await checked_form(request, session)
    answer = form_text(posted, "answer")
    period_id = form_text(posted, "ky").strip()
    if not answer.strip():
        failed = (difficulty_id, EMPTY_ANSWER, answer)
        return await _page(request, portal, session, period_id, failed=failed, status_code=422)
    if len(answer) > ANSWER_MAX:
        message = f"Nội dung trả lời dài quá {ANSWER_MAX} ký tự; vui lòng rút gọn."
        failed = (difficulty_id, message, answer)
        return await _page(request, portal, session, period_id, failed=failed, status_code=422)
    try:
        await portal.api().answer_difficulty(token_of(session), difficulty_id, answer.strip())
    except BackendError as exc:
        if exc.status == 401:
            raise
        failed = (difficulty_id, exc.message, answer)
        status = exc.status if exc.status in (404, 409, 422) else 422
        return await _page(request, portal, session, period_id, failed=failed, status_code=status)
    back = f"{PAGE}?ky={quote(period_id, safe='')}" if period_id else PAGE
    notice = "Đã gửi trả lời; đơn vị sẽ thấy hướng dẫn khi đăng nhập."
    return redirect(portal, back, session, notice=notice, kind="success")
