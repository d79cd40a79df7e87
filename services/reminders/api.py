"""Reminders HTTP API: who has not reported, urge now, the delivery log, the urging letter."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.reminders import deliveries, projection
from services.reminders.context import ContextDep
from services.reminders.domain import rule_family
from services.reminders.letter import urging_letter
from shared.auth import Permission, PrincipalDep
from shared.documents import build_docx
from shared.errors import Conflict, Unprocessable
from shared.formatting import vn_date, vn_datetime

router = APIRouter()

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RemindRequest(BaseModel):
    """Which units to urge; all missing units when `units` is left out."""

    model_config = ConfigDict(extra="forbid")

    units: list[str] | None = Field(None, min_length=1, max_length=500)


@router.get("/v1/periods/{period_id}/missing", tags=["đôn đốc"])
async def missing(period_id: str, principal: PrincipalDep, context: ContextDep) -> dict[str, Any]:
    """Units expected in the period that have not reported (or whose report is not standing)."""
    principal.require(Permission.READ_REPORTS)
    async with context.sessions() as session:
        row = await projection.period_row(session, period_id)
        plan = await projection.load_plan(session, row)
    units = projection.missing_units(plan)
    return {
        "period_id": row.period_id,
        "title": row.title,
        "due_at": row.due_at.isoformat(),
        "deadline": vn_date(row.due_at, context.policy.zone),
        "status": row.status,
        "expected": len(plan.expected),
        "reported": len(plan.expected) - len(units),
        "missing_count": len(units),
        "missing": [
            {
                "code": u.code,
                "name": u.name,
                "state": u.state,
                "reason": u.reason,
                "has_contact": u.has_contact,
            }
            for u in units
        ],
    }


@router.post("/v1/periods/{period_id}/remind", status_code=202, tags=["đôn đốc"])
async def remind(
    period_id: str,
    principal: PrincipalDep,
    context: ContextDep,
    body: RemindRequest | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Urge now: all missing units, or the listed ones; delivery outcomes go to the log."""
    principal.require(Permission.URGE)
    if idempotency_key is not None and not _REQUEST_ID.fullmatch(idempotency_key):
        raise Unprocessable(
            "Mã chống gửi trùng của yêu cầu chỉ gồm chữ, số, '.', '_', '-' (tối đa 64 ký tự).",
            code="invalid_idempotency_key",
        )
    result = await context.dispatcher.urge(
        period_id,
        body.units if body is not None else None,
        requested_by=principal.username,
        request_id=idempotency_key,
    )
    return {
        "request_id": result.request_id,
        "queued": list(result.queued),
        "skipped": [{"unit_code": code, "reason": reason} for code, reason in result.skipped],
    }


@router.get("/v1/reminders", tags=["đôn đốc"])
async def reminder_log(
    principal: PrincipalDep,
    context: ContextDep,
    period_id: Annotated[str, Query(min_length=1, max_length=32)],
    unit_code: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[dict[str, Any]]:
    """The delivery log of a period, newest first: unit, rule, channel, recipient, outcome."""
    principal.require(Permission.URGE)
    async with context.sessions() as session:
        await projection.period_row(session, period_id)
        rows = await deliveries.delivery_log(session, period_id, unit_code=unit_code, limit=limit)
        names = {
            code: unit.name
            for code, unit in (
                await projection.known_units(session, {r.unit_code for r in rows})
            ).items()
        }
    return [
        {
            "unit_code": r.unit_code,
            "unit_name": names.get(r.unit_code, r.unit_code),
            "rule_id": r.rule_id,
            "rule": rule_family(r.rule_id),
            "audience": r.audience,
            "trigger": r.trigger,
            "requested_by": r.requested_by,
            "channel": r.channel,
            "recipient": _shown_recipient(r.channel, r.recipient),
            "scheduled_at": r.scheduled_at.isoformat(),
            "at": _at(r.finished_at or r.created_at),
            "at_local": vn_datetime(r.finished_at or r.created_at),
            "outcome": r.status,
            "reason": r.reason,
            "reason_code": r.reason_code,
            "attempts": r.attempts,
            "subject": r.subject,
            "dedupe_key": r.dedupe_key,
        }
        for r in rows
    ]


@router.get("/v1/periods/{period_id}/urging-letter.docx", tags=["đôn đốc"])
async def urging_letter_docx(
    period_id: str, principal: PrincipalDep, context: ContextDep
) -> Response:
    """The công văn đôn đốc (.docx, Nghị định 30/2020 layout) listing the units still missing."""
    principal.require(Permission.READ_REPORTS)
    async with context.sessions() as session:
        row = await projection.period_row(session, period_id)
        plan = await projection.load_plan(session, row)
    units = projection.missing_units(plan)
    if not units:
        raise Conflict(
            "Tất cả đơn vị đã gửi báo cáo, không cần công văn đôn đốc.", code="nothing_to_urge"
        )
    policy = context.policy
    spec = urging_letter(
        plan.period,
        units,
        expected=len(plan.expected),
        today=context.clock.now().astimezone(policy.zone).date(),
        policy=policy,
        config=context.letter,
    )
    content = await asyncio.to_thread(build_docx, spec)
    filename = f"cong-van-don-doc-{period_id}.docx"
    return Response(
        content,
        media_type=DOCX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _shown_recipient(channel: str, recipient: str) -> str:
    if channel == "webhook" and recipient.startswith(("http://", "https://")):
        # A webhook's query string often carries its access token.
        parts = urlsplit(recipient)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return recipient


def _at(value: datetime) -> str:
    return value.isoformat()
