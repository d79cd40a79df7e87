"""Reminders HTTP API: who has not reported, urge now, the delivery log, the planned
schedule, the urging letter.

Each route hands its request to one use case (`usecases.py`) and answers with its result.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from services.reminders import usecases
from services.reminders.context import ContextDep
from shared.auth import PrincipalDep
from shared.contracts.api import reminders as api

router = APIRouter(tags=["đôn đốc"])

_DOCX: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The .docx file.",
        "content": {api.DOCX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/v1/periods/{period_id}/missing", response_model=api.MissingUnits)
async def missing(period_id: str, principal: PrincipalDep, context: ContextDep) -> api.MissingUnits:
    """Units expected in the period that have not reported (or whose report is not standing)."""
    return await usecases.missing_units(context, principal, period_id)


@router.post("/v1/periods/{period_id}/remind", status_code=202, response_model=api.UrgeResult)
async def remind(
    period_id: str,
    principal: PrincipalDep,
    context: ContextDep,
    body: api.RemindRequest | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> api.UrgeResult:
    """Urge now: all missing units, or the listed ones; delivery outcomes go to the log."""
    return await usecases.urge_now(context, principal, period_id, body, idempotency_key)


@router.get("/v1/reminders", response_model=list[api.DeliveryEntry])
async def reminder_log(
    principal: PrincipalDep,
    context: ContextDep,
    period_id: Annotated[str, Query(min_length=1, max_length=32)],
    unit_code: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[api.DeliveryEntry]:
    """The delivery log of a period, newest first: unit, rule, channel, recipient, outcome."""
    return await usecases.delivery_log(
        context, principal, period_id, unit_code=unit_code, limit=limit
    )


@router.get("/v1/periods/{period_id}/schedule", response_model=list[api.ScheduledReminder])
async def schedule(
    period_id: str,
    principal: PrincipalDep,
    context: ContextDep,
    days: Annotated[int, Query(ge=1, le=366)] = 31,
) -> list[api.ScheduledReminder]:
    """The reminders planned for the next `days` days (lịch đôn đốc): per unit that has not
    reported, the rule, when and over which channel; what was already sent is left out."""
    return await usecases.planned_schedule(context, principal, period_id, days=days)


@router.get("/v1/periods/{period_id}/urging-letter.docx", response_class=Response, responses=_DOCX)
async def urging_letter_docx(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> Response:
    """The công văn đôn đốc (.docx, Nghị định 30/2020 layout) listing the units still missing."""
    document = await usecases.urging_letter(context, principal, period_id)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )
