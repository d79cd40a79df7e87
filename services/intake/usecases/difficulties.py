"""Difficulty (vướng mắc) threads: raised in a report or at any time, followed up by both
sides, answered by Phòng Nội vụ (the unit is told by mail: reminders consumes
`DifficultyAnswered`), listed with how long they have waited."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import (
    clean_reason,
    difficulty_not_found,
    expected_unit,
    filing_period,
    period_not_found,
    text_digest,
)
from services.intake.usecases.common import PRODUCER, listing_unit, submitting_unit
from services.intake.views import difficulty_contract, difficulty_view, message_contract
from shared.auth import Permission, Principal
from shared.contracts.api.intake import (
    ANSWER_MAX,
    DIFFICULTY_TEXT_MAX,
    AnswerRequest,
    DifficultyRequest,
    DifficultyThread,
    MessageRequest,
)
from shared.contracts.intake import DifficultyAnswered, DifficultyFollowedUp, DifficultyRaised
from shared.errors import Conflict
from shared.idempotency import Answer, IdempotentRequest


async def _thread(session: AsyncSession, row: Any, now: datetime) -> DifficultyThread:
    messages = await store.thread_messages(session, [row.difficulty_id])
    return difficulty_view(row, messages[row.difficulty_id], now)


async def _visible(session: AsyncSession, principal: Principal, difficulty_id: str) -> Any:
    """The thread if the caller may see it; a unit never learns of another unit's."""
    row = await store.find_difficulty_row(session, difficulty_id)
    if row is None:
        raise difficulty_not_found(difficulty_id)
    if principal.role == "unit":
        if row.unit_code != principal.unit_code:
            raise difficulty_not_found(difficulty_id)
    elif not principal.may(Permission.READ_REPORTS):
        raise difficulty_not_found(difficulty_id)
    return row


def _keyed(principal: Principal, key: str | None, path: str, body: Any) -> IdempotentRequest | None:
    caller = (
        f"unit:{principal.unit_code}" if principal.role == "unit" else f"user:{principal.username}"
    )
    return IdempotentRequest.of(key, caller=caller, method="POST", path=path, body=body)


async def list_difficulties(
    context: IntakeContext,
    principal: Principal,
    *,
    period_id: str | None,
    unit_code: str | None,
    report_id: str | None,
    answered: bool | None,
    waiting: bool | None = None,
    limit: int,
    offset: int,
) -> list[DifficultyThread]:
    """Difficulty threads with their messages: a unit sees its own, readers see all;
    `waiting` keeps those that wait (or do not wait) for Phòng Nội vụ."""
    unit_code = listing_unit(principal, unit_code)
    async with store.reading(context.sessions) as session:
        rows = await store.list_difficulty_rows(
            session,
            period_id=period_id,
            unit_code=unit_code,
            report_id=report_id,
            answered=answered,
            waiting=waiting,
            limit=limit,
            offset=offset,
        )
        messages = await store.thread_messages(session, [row.difficulty_id for row in rows])
    now = context.clock.now()
    return [difficulty_view(row, messages[row.difficulty_id], now) for row in rows]


async def read_difficulty(
    context: IntakeContext, principal: Principal, difficulty_id: str
) -> DifficultyThread:
    """One thread with every message."""
    async with store.reading(context.sessions) as session:
        row = await _visible(session, principal, difficulty_id)
        return await _thread(session, row, context.clock.now())


async def raise_difficulty(
    context: IntakeContext,
    principal: Principal,
    request: DifficultyRequest,
    idempotency_key: str | None,
) -> Answer:
    """A unit raises a difficulty outside any report (201); it is filed under the period it
    names, or the unit's current one, and Phòng Nội vụ is told (`DifficultyRaised`)."""
    unit_code = submitting_unit(principal)
    keyed = _keyed(principal, idempotency_key, "/v1/difficulties", request.model_dump())
    text = clean_reason(
        request.text,
        label="Nội dung vướng mắc",
        code="text_required",
        required=True,
        max_length=DIFFICULTY_TEXT_MAX,
    )
    now = context.clock.now()
    async with store.reading(context.sessions) as session:
        if earlier := await store.replayed(session, keyed):
            return earlier
        if request.period_id is not None:
            period = await store.find_period(session, request.period_id)
            if period is None:
                raise period_not_found(request.period_id)
            expected_unit(period, unit_code)
        else:
            period = filing_period(await store.all_periods(session), unit_code, now)
            if period is None:
                raise Conflict(
                    "Chưa có kỳ báo cáo nào của đơn vị để ghi nhận vướng mắc; "
                    "đề nghị liên hệ Phòng Nội vụ.",
                    code="no_period_for_unit",
                )
    values: dict[str, Any] = {
        "difficulty_id": str(uuid.uuid4()),
        "report_id": None,
        "period_id": period.period_id,
        "unit_code": unit_code,
        "text": text,
        "text_sha256": text_digest(text),
        "raised_at": now,
        "raised_in_version": None,
        "position": 0,
        "answer": None,
        "answered_by": None,
        "answered_at": None,
        "open_since": now,
    }
    raised = SimpleNamespace(**values)
    answer = Answer(201, difficulty_view(raised, [], now).model_dump(mode="json"))
    try:
        async with store.transaction(context.sessions) as session:
            # The answer is written first: a concurrent twin blocks on the key, then fails.
            await store.remember_answer(session, keyed, answer, now)
            await store.insert_difficulty(
                session, **{k: v for k, v in values.items() if not k.startswith("answer")}
            )
            event = DifficultyRaised.new(
                difficulty_contract(raised), producer=PRODUCER, occurred_at=now
            )
            await store.publish(session, event)
            await store.record_audit(
                session,
                at=now,
                actor=principal.username,
                role=principal.role,
                action="difficulty_raised",
                difficulty_id=raised.difficulty_id,
                details={"period_id": period.period_id, "text_sha256": raised.text_sha256},
            )
    except IntegrityError:
        # The same keyed request on another replica got there first.
        async with store.reading(context.sessions) as session:
            if earlier := await store.replayed(session, keyed):
                return earlier
        raise
    return answer


async def post_message(
    context: IntakeContext,
    principal: Principal,
    difficulty_id: str,
    request: MessageRequest,
    idempotency_key: str | None,
) -> Answer:
    """A follow-up on a thread (201): the unit asks again (the thread waits for Phòng Nội vụ,
    `DifficultyFollowedUp`), or Phòng Nội vụ answers (`DifficultyAnswered`: the unit is
    told by mail)."""
    path = f"/v1/difficulties/{difficulty_id}/messages"
    keyed = _keyed(principal, idempotency_key, path, request.model_dump())
    if principal.role != "unit":
        thread = await _answer(
            context,
            principal,
            difficulty_id,
            request.text,
            code="text_required",
            keyed=keyed,
            status=201,
        )
        return thread
    submitting_unit(principal)
    text = clean_reason(
        request.text,
        label="Nội dung trao đổi",
        code="text_required",
        required=True,
        max_length=DIFFICULTY_TEXT_MAX,
    )
    now = context.clock.now()
    async with store.reading(context.sessions) as session:
        if earlier := await store.replayed(session, keyed):
            return earlier
        await _visible(session, principal, difficulty_id)
    try:
        async with store.transaction(context.sessions) as session:
            row = await store.find_difficulty_row(session, difficulty_id)
            message = _message("unit", principal, text, now)
            after = _changed(row, open_since=row.open_since or now)
            answer = await _remember_thread(session, keyed, after, message, 201, now)
            await store.insert_message(session, difficulty_id=difficulty_id, **vars(message))
            await store.reopen_difficulty(session, difficulty_id, now)
            event = DifficultyFollowedUp.new(
                message_contract(after, message), producer=PRODUCER, occurred_at=now
            )
            await store.publish(session, event)
            await store.record_audit(
                session,
                at=now,
                actor=principal.username,
                role=principal.role,
                action="difficulty_followed_up",
                report_id=row.report_id,
                difficulty_id=difficulty_id,
                details={"message_id": message.message_id, "text": text},
            )
    except IntegrityError:
        async with store.reading(context.sessions) as session:
            if earlier := await store.replayed(session, keyed):
                return earlier
        raise
    return answer


async def answer_difficulty(
    context: IntakeContext, principal: Principal, difficulty_id: str, request: AnswerRequest
) -> DifficultyThread:
    """Phòng Nội vụ answers (or answers again) a unit's difficulty."""
    answer = await _answer(
        context,
        principal,
        difficulty_id,
        request.answer,
        code="answer_required",
        keyed=None,
        status=200,
    )
    return DifficultyThread.model_validate(answer.body)


async def _answer(
    context: IntakeContext,
    principal: Principal,
    difficulty_id: str,
    raw: str,
    *,
    code: str,
    keyed: IdempotentRequest | None,
    status: int,
) -> Answer:
    """Phòng Nội vụ's message on a thread: the latest answer, a message, an event, an audit
    line, in one transaction."""
    answer_text = clean_reason(
        raw, label="Nội dung trả lời", code=code, required=True, max_length=ANSWER_MAX
    )
    principal.require(Permission.REVIEW)
    now = context.clock.now()
    async with store.reading(context.sessions) as session:
        if earlier := await store.replayed(session, keyed):
            return earlier
    try:
        async with store.transaction(context.sessions) as session:
            row = await store.find_difficulty_row(session, difficulty_id)
            if row is None:
                raise difficulty_not_found(difficulty_id)
            message = _message("office", principal, answer_text, now)
            after = _changed(
                row,
                answer=answer_text,
                answered_by=principal.username,
                answered_at=now,
                open_since=None,
            )
            answer = await _remember_thread(session, keyed, after, message, status, now)
            await store.insert_message(session, difficulty_id=difficulty_id, **vars(message))
            await store.answer_difficulty(
                session, difficulty_id, answer=answer_text, answered_by=principal.username, at=now
            )
            event = DifficultyAnswered.new(
                difficulty_contract(after), producer=PRODUCER, occurred_at=now
            )
            await store.publish(session, event)
            await store.record_audit(
                session,
                at=now,
                actor=principal.username,
                role=principal.role,
                action="difficulty_answered",
                report_id=row.report_id,
                difficulty_id=difficulty_id,
                details={"answer": answer_text, "message_id": message.message_id},
            )
    except IntegrityError:
        async with store.reading(context.sessions) as session:
            if earlier := await store.replayed(session, keyed):
                return earlier
        raise
    return answer


def _message(side: str, principal: Principal, text: str, now: datetime) -> SimpleNamespace:
    """A new message of a thread, as its row will be."""
    return SimpleNamespace(
        message_id=str(uuid.uuid4()),
        side=side,
        author=principal.username,
        role=principal.role,
        text=text,
        posted_at=now,
    )


def _changed(row: Any, **changes: Any) -> SimpleNamespace:
    """A thread's row as it will be once the changes are written."""
    return SimpleNamespace(**{**row._mapping, **changes})


async def _remember_thread(
    session: AsyncSession,
    keyed: IdempotentRequest | None,
    after: SimpleNamespace,
    message: SimpleNamespace,
    status: int,
    now: datetime,
) -> Answer:
    """The answer (the thread with its new message), stored first when the request is keyed:
    a concurrent twin blocks on the key, then fails on it."""
    earlier = await store.thread_messages(session, [after.difficulty_id])
    thread = difficulty_view(after, [*earlier[after.difficulty_id], message], now)
    answer = Answer(status, thread.model_dump(mode="json"))
    await store.remember_answer(session, keyed, answer, now)
    return answer
