"""Khó khăn, vướng mắc: a unit raises one at any time (outside any report too), both sides
follow up on the thread, Phòng Nội vụ answers; leaders only read."""

from __future__ import annotations

import asyncio
import uuid
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
from shared.contracts.api.intake import ANSWER_MAX as ANSWER_LIMIT
from shared.contracts.api.intake import DIFFICULTY_TEXT_MAX, DifficultyThread
from shared.contracts.api.registry import PeriodView

router = APIRouter()

PAGE = "/vuong-mac"
ANSWER_MAX = ANSWER_LIMIT  # intake's limits
TEXT_MAX = DIFFICULTY_TEXT_MAX
EMPTY_ANSWER = "Vui lòng nhập nội dung trả lời, hướng dẫn cho đơn vị."
EMPTY_TEXT = "Vui lòng nhập nội dung khó khăn, vướng mắc."
EMPTY_FOLLOW_UP = "Vui lòng nhập nội dung trao đổi thêm."
NEW = "moi"  # the id the "raise a new one" form stands under in ``failed``


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

    @property
    def waiting(self) -> bool:
        """The thread waits for Phòng Nội vụ: never answered, or the unit wrote last."""
        return self.thread.open or not self.answered


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
    new_period: str = "",
    idempotency_key: str | None = None,
) -> Response:
    """The list; ``failed`` = (difficulty id or NEW, error, typed text) of a refused post."""
    api, token = portal.api(), token_of(session)
    filters = {"period_id": period_id} if period_id else {}
    (raw, error), (periods, periods_error) = await asyncio.gather(
        attempt(api.difficulties(token, **filters)), attempt(api.periods(token))
    )
    rows = difficulty_rows(raw or [], periods or [])
    notices = [e.message for e in (error, periods_error) if e is not None]
    if failed and failed[0] not in {r.thread.difficulty_id for r in rows} | {NEW}:
        notices.insert(0, failed[1])  # the difficulty is gone from the list: say it on top
    return render(
        request,
        portal,
        "difficulties.html",
        {
            "title": "Khó khăn, vướng mắc",
            "periods": periods or [],
            "period_id": period_id,
            "unanswered": [r for r in rows if r.waiting],
            "answered": [r for r in rows if not r.waiting],
            "notices": notices,
            "can_answer": session.may(Permission.REVIEW),
            "can_raise": session.may(Permission.SUBMIT),
            "raise_periods": _raise_periods(periods or [], session.unit_code),
            "new_period": new_period,
            "idempotency_key": idempotency_key or str(uuid.uuid4()),
            "text_max": TEXT_MAX,
            "failed_id": failed[0] if failed else None,
            "failed_error": failed[1] if failed else None,
            "failed_text": failed[2] if failed else "",
        },
        session=session,
        status_code=status_code,
    )


def _raise_periods(periods: Sequence[PeriodView], unit_code: str | None) -> list[PeriodView]:
    """The open periods that expect the unit, to file a new difficulty under."""
    return [p for p in periods if p.status == "open" and unit_code in p.expected_units]


def _back(period_id: str) -> str:
    return f"{PAGE}?ky={quote(period_id, safe='')}" if period_id else PAGE


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
    key = form_text(posted, "idempotency_key").strip() or str(uuid.uuid4())
    try:
        await portal.api().post_difficulty_message(
            token_of(session), difficulty_id, answer.strip(), key
        )
    except BackendError as exc:
        if exc.status == 401:
            raise
        failed = (difficulty_id, exc.message, answer)
        status = exc.status if exc.status in (404, 409, 422) else 422
        return await _page(request, portal, session, period_id, failed=failed, status_code=status)
    notice = "Đã gửi trả lời; đơn vị được báo qua thư điện tử và thấy hướng dẫn khi đăng nhập."
    return redirect(portal, _back(period_id), session, notice=notice, kind="success")


@router.post(PAGE + "/" + NEW, include_in_schema=False)
async def raise_difficulty(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """A unit raises a difficulty outside any report; Phòng Nội vụ is told and answers."""
    require_permission(session, Permission.SUBMIT)
    posted = await checked_form(request, session)
    text = form_text(posted, "text")
    period_id = form_text(posted, "period_id").strip()
    key = form_text(posted, "idempotency_key").strip() or str(uuid.uuid4())

    async def again(message: str, status_code: int, *, keep_key: bool = False) -> Response:
        return await _page(
            request,
            portal,
            session,
            "",
            failed=(NEW, message, text),
            status_code=status_code,
            new_period=period_id,
            idempotency_key=key if keep_key else None,
        )

    if not text.strip():
        return await again(EMPTY_TEXT, 422)
    if len(text) > TEXT_MAX:
        return await again(f"Nội dung dài quá {TEXT_MAX} ký tự; vui lòng rút gọn.", 422)
    try:
        await portal.api().raise_difficulty(token_of(session), text.strip(), period_id or None, key)
    except BackendError as exc:
        if exc.status == 401:
            raise
        # After a timeout the same key is sent again, so a difficulty that did arrive is not
        # raised twice.
        status = exc.status if exc.status in (404, 409, 422) else 503
        return await again(exc.message, status, keep_key=exc.unavailable or exc.status >= 500)
    notice = "Đã gửi khó khăn, vướng mắc đến Phòng Nội vụ; trả lời sẽ hiện trên trang này."
    return redirect(portal, PAGE, session, notice=notice, kind="success")


@router.post(PAGE + "/{difficulty_id}/trao-doi", include_in_schema=False)
async def follow_up(
    difficulty_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The unit writes again on its thread (the thread then waits for Phòng Nội vụ)."""
    require_permission(session, Permission.SUBMIT)
    posted = await checked_form(request, session)
    text = form_text(posted, "text")
    period_id = form_text(posted, "ky").strip()
    key = form_text(posted, "idempotency_key").strip() or str(uuid.uuid4())
    problem = (
        EMPTY_FOLLOW_UP
        if not text.strip()
        else f"Nội dung dài quá {TEXT_MAX} ký tự; vui lòng rút gọn."
        if len(text) > TEXT_MAX
        else None
    )
    if problem is None:
        try:
            await portal.api().post_difficulty_message(
                token_of(session), difficulty_id, text.strip(), key
            )
        except BackendError as exc:
            if exc.status == 401:
                raise
            problem = exc.message
            status = exc.status if exc.status in (404, 409, 422) else 503
        else:
            notice = "Đã gửi ý kiến trao đổi thêm đến Phòng Nội vụ."
            return redirect(portal, _back(period_id), session, notice=notice, kind="success")
    else:
        status = 422
    failed = (difficulty_id, problem, text)
    return await _page(request, portal, session, period_id, failed=failed, status_code=status)
