"""Difficulty (vướng mắc) threads: listing and answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from services.intake import db
from services.intake.context import IntakeContext
from services.intake.handlers.common import PRODUCER, listing_unit
from services.intake.views import difficulty_contract, difficulty_view
from shared.auth import Permission, Principal
from shared.contracts.intake import DifficultyAnswered
from shared.errors import NotFound
from shared.messaging.outbox import add_event


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
) -> list[dict[str, Any]]:
    """Difficulty threads: a unit sees its own, readers see all."""
    unit_code = listing_unit(principal, unit_code)
    async with context.sessions() as session:
        rows = await db.list_difficulty_rows(
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
    context: IntakeContext, principal: Principal, difficulty_id: str, answer: str
) -> dict[str, Any]:
    """Phòng Nội vụ answers (or corrects its answer to) a unit's difficulty."""
    principal.require(Permission.REVIEW)
    now = context.clock.now()
    async with context.sessions() as session, session.begin():
        row = await db.find_difficulty_row(session, difficulty_id)
        if row is None:
            raise NotFound(
                f"Không tìm thấy vướng mắc «{difficulty_id}».", code="difficulty_not_found"
            )
        await session.execute(
            update(db.difficulties)
            .where(db.difficulties.c.difficulty_id == difficulty_id)
            .values(answer=answer, answered_by=principal.username, answered_at=now)
        )
        row = await db.find_difficulty_row(session, difficulty_id)
        event = DifficultyAnswered.new(difficulty_contract(row), producer=PRODUCER, occurred_at=now)
        await add_event(session, db.outbox, event)
        await db.record_audit(
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
