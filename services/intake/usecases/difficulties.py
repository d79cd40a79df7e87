"""Difficulty (vướng mắc) threads: listing and answers."""

from __future__ import annotations

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import clean_reason, difficulty_not_found
from services.intake.usecases.common import PRODUCER, listing_unit
from services.intake.views import difficulty_contract, difficulty_view
from shared.auth import Permission, Principal
from shared.contracts.api.intake import ANSWER_MAX, AnswerRequest, DifficultyThread
from shared.contracts.intake import DifficultyAnswered


async def list_difficulties(
    context: IntakeContext,
    principal: Principal,
    *,
    period_id: str | None,
    unit_code: str | None,
    report_id: str | None,
    answered: bool | None,
    limit: int,
    offset: int,
) -> list[DifficultyThread]:
    """Difficulty threads: a unit sees its own, readers see all."""
    unit_code = listing_unit(principal, unit_code)
    async with store.reading(context.sessions) as session:
        rows = await store.list_difficulty_rows(
            session,
            period_id=period_id,
            unit_code=unit_code,
            report_id=report_id,
            answered=answered,
            limit=limit,
            offset=offset,
        )
    return [difficulty_view(row) for row in rows]


async def answer_difficulty(
    context: IntakeContext, principal: Principal, difficulty_id: str, request: AnswerRequest
) -> DifficultyThread:
    """Phòng Nội vụ answers (or corrects its answer to) a unit's difficulty."""
    answer = clean_reason(
        request.answer,
        label="Nội dung trả lời",
        code="answer_required",
        required=True,
        max_length=ANSWER_MAX,
    )
    principal.require(Permission.REVIEW)
    now = context.clock.now()
    async with store.transaction(context.sessions) as session:
        row = await store.find_difficulty_row(session, difficulty_id)
        if row is None:
            raise difficulty_not_found(difficulty_id)
        await store.answer_difficulty(
            session, difficulty_id, answer=answer, answered_by=principal.username, at=now
        )
        row = await store.find_difficulty_row(session, difficulty_id)
        event = DifficultyAnswered.new(difficulty_contract(row), producer=PRODUCER, occurred_at=now)
        await store.publish(session, event)
        await store.record_audit(
            session,
            at=now,
            actor=principal.username,
            role=principal.role,
            action="difficulty_answered",
            report_id=row.report_id,
            difficulty_id=difficulty_id,
            details={"answer": answer},
        )
    return difficulty_view(row)
