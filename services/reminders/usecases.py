"""The reminders' use cases behind the HTTP API; each checks its permission and owns its
unit of work through the store. The background use cases (claiming and delivering
reminders, sending notices) are the dispatcher's (`dispatch.py`), started by the scheduler
(`scheduler.py`), by "urge now" below, and after the commit of an event that queued a notice.

- `missing_units`: who has not reported in a period, with why and whether they are reachable;
- `urge_now`: urge the missing (or listed) units now; delivery runs after the answer;
- `delivery_log`: what was sent to whom, over which channel, with what outcome;
- `planned_schedule`: the reminders the scheduler will send in the coming days, per unit;
- `urging_letter`: the công văn đôn đốc (.docx) listing the units still missing.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from services.reminders import store
from services.reminders.context import RemindersContext
from services.reminders.domain import (
    PlannedReminder,
    dedupe_key,
    manual_rule_id,
    rule_family,
    upcoming_reminders,
)
from services.reminders.domain.plan import missing_units as plan_missing_units
from services.reminders.letter import late_list
from services.reminders.letter import urging_letter as letter_spec
from shared.auth import Permission, Principal
from shared.contracts.api import reminders as api
from shared.documents import build_docx
from shared.errors import Conflict, Unprocessable
from shared.formatting import vn_date, vn_datetime

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Download:
    """A file to hand over: its name, media type and bytes."""

    filename: str
    media_type: str
    content: bytes


async def missing_units(
    context: RemindersContext, principal: Principal, period_id: str
) -> api.MissingUnits:
    """Units expected in the period that have not reported (or whose report is not standing)."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        row = await store.period_row(session, period_id)
        plan = await store.load_plan(session, row)
    units = plan_missing_units(plan)
    return api.MissingUnits(
        period_id=row.period_id,
        title=row.title,
        due_at=row.due_at,
        deadline=vn_date(row.due_at, context.policy.zone),
        status=row.status,
        expected=len(plan.expected),
        reported=len(plan.expected) - len(units),
        missing_count=len(units),
        missing=tuple(
            api.MissingUnit(
                code=u.code,
                name=u.name,
                state=u.state,
                reason=u.reason,
                has_contact=u.has_contact,
            )
            for u in units
        ),
    )


async def urge_now(
    context: RemindersContext,
    principal: Principal,
    period_id: str,
    request: api.RemindRequest | None,
    request_id: str | None,
) -> api.UrgeResult:
    """Urge the missing units (or the listed ones) now, once per request id; the deliveries
    run in the background after the answer, their outcomes go to the log."""
    principal.require(Permission.URGE)
    if request_id is not None and not _REQUEST_ID.fullmatch(request_id):
        raise Unprocessable(
            "Mã chống gửi trùng của yêu cầu chỉ gồm chữ, số, '.', '_', '-' (tối đa 64 ký tự).",
            code="invalid_idempotency_key",
        )
    request_id = request_id or uuid.uuid4().hex
    unit_codes: Sequence[str] | None = request.units if request is not None else None
    async with context.store.reading() as session:
        row = await store.period_row(session, period_id)
        plan = await store.load_plan(session, row)
    if plan.period.status != "open":
        raise Conflict(
            f"Kỳ báo cáo «{period_id}» không còn mở, không đôn đốc được.",
            code="period_not_open",
        )
    if unit_codes is None:
        chosen = plan.missing()
    else:
        expected = {u.code: u for u in plan.expected}
        unknown = sorted({c for c in unit_codes if c not in expected})
        if unknown:
            raise Unprocessable(
                "Có đơn vị không thuộc diện báo cáo của kỳ này: " + ", ".join(unknown),
                code="unit_not_expected",
                details={"units": unknown},
            )
        chosen = [expected[c] for c in dict.fromkeys(unit_codes)]
    dispatcher = context.dispatcher
    rule_id = manual_rule_id(request_id)
    queued: list[str] = []
    skipped: list[api.SkippedUnit] = []
    pending: list[int] = []
    for unit in chosen:
        if plan.states[unit.code].reported:
            skipped.append(api.SkippedUnit(unit_code=unit.code, reason="already_reported"))
            continue
        planned = PlannedReminder(
            rule_id=rule_id,
            scheduled_at=context.clock.now(),
            dedupe_key=dedupe_key(period_id, unit.code, rule_id),
            audience="unit",
            period_id=period_id,
            unit_code=unit.code,
        )
        # Each claim is its own short transaction; nothing is sent before the answer.
        claim = await dispatcher.claim(planned, trigger="manual", requested_by=principal.username)
        if not claim.claimed:
            skipped.append(api.SkippedUnit(unit_code=unit.code, reason="already_requested"))
            continue
        queued.append(unit.code)
        pending.extend(claim.pending)
    dispatcher.spawn(dispatcher.deliver_all(pending))
    return api.UrgeResult(request_id=request_id, queued=tuple(queued), skipped=tuple(skipped))


async def delivery_log(
    context: RemindersContext,
    principal: Principal,
    period_id: str,
    *,
    unit_code: str | None = None,
    limit: int = 1000,
) -> list[api.DeliveryEntry]:
    """The delivery log of a period, newest first: unit, rule, channel, recipient, outcome."""
    principal.require(Permission.URGE)
    async with context.store.reading() as session:
        await store.period_row(session, period_id)
        rows = await store.delivery_log(session, period_id, unit_code=unit_code, limit=limit)
        units = await store.known_units(session, {r.unit_code for r in rows})
    names = {code: unit.name for code, unit in units.items()}
    return [
        api.DeliveryEntry(
            unit_code=r.unit_code,
            unit_name=names.get(r.unit_code, r.unit_code),
            rule_id=r.rule_id,
            rule=rule_family(r.rule_id),
            audience=r.audience,
            trigger=r.trigger,
            requested_by=r.requested_by,
            channel=r.channel,
            recipient=shown_recipient(r.channel, r.recipient),
            scheduled_at=r.scheduled_at,
            at=r.finished_at or r.created_at,
            at_local=vn_datetime(r.finished_at or r.created_at),
            outcome=r.status,
            reason=r.reason,
            reason_code=r.reason_code,
            attempts=r.attempts,
            subject=r.subject,
            dedupe_key=r.dedupe_key,
        )
        for r in rows
    ]


def shown_recipient(channel: str, recipient: str) -> str:
    """A recipient as the log shows it: a webhook without its query string, which often
    carries the webhook's access token."""
    if channel == "webhook" and recipient.startswith(("http://", "https://")):
        parts = urlsplit(recipient)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return recipient


async def planned_schedule(
    context: RemindersContext, principal: Principal, period_id: str, *, days: int
) -> list[api.ScheduledReminder]:
    """The reminders the scheduler will send in the next `days` days to the units that have
    not reported, one entry per unit, rule and channel, in sending order (the same pure
    schedule the scheduler runs; what was already sent is left out)."""
    principal.require(Permission.READ_REPORTS)
    now = context.clock.now()
    async with context.store.reading() as session:
        row = await store.period_row(session, period_id)
        plan = await store.load_plan(session, row)
    entries: list[tuple[datetime, int, api.ScheduledReminder]] = []
    for position, unit in enumerate(plan.missing()):
        known = plan.units.get(unit.code)
        if known is None:
            continue  # the scheduler waits for the registry's unit event, so does the plan
        state = plan.states[unit.code]
        until = now + timedelta(days=days)
        for upcoming in upcoming_reminders(
            context.policy, plan.period, state, now, until, plan.sent
        ):
            reminder = upcoming.reminder
            targets = context.dispatcher.targets(reminder.audience, known)
            for channel in dict.fromkeys(t.channel for t in targets):
                entry = api.ScheduledReminder(
                    unit_code=unit.code,
                    unit_name=unit.name,
                    rule=rule_family(reminder.rule_id),
                    rule_id=reminder.rule_id,
                    audience=reminder.audience,
                    at=upcoming.at,
                    at_local=vn_datetime(upcoming.at, context.policy.zone),
                    channel=channel,
                )
                entries.append((upcoming.at, position, entry))
    entries.sort(key=lambda e: (e[0], e[1]))
    return [entry for _, _, entry in entries]


async def urging_letter(
    context: RemindersContext, principal: Principal, period_id: str
) -> Download:
    """The công văn đôn đốc (.docx, Nghị định 30/2020 layout) listing the units still missing;
    409 when every unit has reported."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        row = await store.period_row(session, period_id)
        plan = await store.load_plan(session, row)
    # The office that drafts the letter is neither listed nor counted.
    units, expected = late_list(plan_missing_units(plan), plan.expected, context.letter)
    if not units:
        raise Conflict(
            "Tất cả đơn vị đã gửi báo cáo, không cần công văn đôn đốc.", code="nothing_to_urge"
        )
    policy = context.policy
    spec = letter_spec(
        plan.period,
        units,
        expected=expected,
        today=context.clock.now().astimezone(policy.zone).date(),
        policy=policy,
        config=context.letter,
    )
    content = await asyncio.to_thread(build_docx, spec)
    return Download(f"cong-van-don-doc-{period_id}.docx", api.DOCX_MEDIA_TYPE, content)
