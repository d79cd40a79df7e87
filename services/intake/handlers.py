"""Intake use cases: submit, amend, withdraw and review reports; keep the registry projection.

Each change writes its rows, its events (outbox) and its audit line in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake import db
from services.intake.domain import (
    Decision,
    Period,
    Report,
    ReportInvalid,
    check_can_amend,
    check_can_review,
    check_can_submit,
    check_can_withdraw,
    check_idempotency_key,
    content_body,
    expected_unit,
    field_problem,
    idempotency_key_reused,
    is_on_time,
    new_difficulties,
    period_not_found,
    receipt,
    report_exists,
    report_not_found,
    request_fingerprint,
    status_after_review,
    text_digest,
    version_changed,
)
from services.intake.metrics import IntakeMetrics
from services.intake.views import (
    difficulty_contract,
    difficulty_view,
    report_summary,
    report_view,
    warning_contracts,
)
from shared.auth import Principal
from shared.clock import Clock, format_vn_date
from shared.contracts.intake import (
    DifficultyAnswered,
    DifficultyRaised,
    ReportReview,
    ReportReviewed,
    ReportStatus,
    ReportSubmitted,
    ReportVersion,
    ReportWithdrawal,
    ReportWithdrawn,
)
from shared.contracts.registry import ExpectedUnit, PeriodChanged, UnitChanged
from shared.errors import DomainError, NotFound
from shared.forms import (
    ValidationResult,
    content_sha256,
    form_for_unit,
    load_form,
    validate_report,
)
from shared.messaging.outbox import add_event

PRODUCER = "intake"
READER_ROLES = ("reviewer", "leader", "admin", "service")


@dataclass(frozen=True)
class Desk:
    """What the use cases need: sessions, the clock and the metrics."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    metrics: IntakeMetrics


@dataclass(frozen=True)
class Outcome:
    """An answer to replay verbatim for a retried request."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


async def on_unit_changed(session: AsyncSession, event: UnitChanged) -> None:
    """Keep the local copy of a unit (the newest version wins)."""
    await db.upsert_unit(session, event.payload)


async def on_period_changed(session: AsyncSession, event: PeriodChanged) -> None:
    """Keep the local copy of a period and its expected units (the newest version wins)."""
    await db.upsert_period(session, event.payload)


async def _replay(session: AsyncSession, scope: str, key: str, fingerprint: str) -> Outcome | None:
    row = await db.find_idempotent(session, scope, key)
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise idempotency_key_reused()
    return Outcome(row.status_code, row.response, replayed=True)


def _period_id(body: dict[str, Any]) -> str:
    period_id = body.get("period_id")
    if period_id is None:
        raise field_problem("period_id", "required", "Kỳ báo cáo", "Chưa chọn kỳ báo cáo.")
    if not isinstance(period_id, str) or not period_id.strip() or len(period_id) > 32:
        message = "Kỳ báo cáo (period_id) phải là mã kỳ dạng chuỗi, ví dụ “2023-H1”."
        raise field_problem("period_id", "wrong_type", "Kỳ báo cáo", message)
    return period_id.strip()


def _validate(desk: Desk, period: Period, unit: ExpectedUnit, body: dict[str, Any]) -> Any:
    form = load_form(period.form_id, period.form_version)
    result: ValidationResult = validate_report(form, unit.kind, set(unit.tags), content_body(body))
    if not result.ok:
        desk.metrics.submissions_refused.labels("validation_failed").inc()
        raise ReportInvalid(result)
    return result


async def _store_version(
    session: AsyncSession,
    *,
    report: Report,
    period: Period,
    result: ValidationResult,
    digest: str,
    principal: Principal,
    now: datetime,
    action: str,
) -> list[str]:
    """The version row, its ReportSubmitted event, new difficulties and the audit line."""
    warnings = [w.model_dump(mode="json") for w in result.warnings]
    await session.execute(
        insert(db.report_versions).values(
            report_id=report.report_id,
            version=report.version,
            content=result.content,
            content_sha256=digest,
            warnings=warnings,
            submitted_at=now,
            submitted_by=principal.username,
        )
    )
    payload = ReportVersion(
        report_id=report.report_id,
        period_id=report.period_id,
        unit_code=report.unit_code,
        version=report.version,
        status="submitted",
        form_id=period.form_id,
        form_version=period.form_version,
        first_submitted_at=report.first_submitted_at,
        submitted_at=now,
        on_time=report.on_time,
        content=result.content,
        content_sha256=digest,
        warnings=warning_contracts(warnings),
    )
    await add_event(session, db.outbox, ReportSubmitted.new(payload, producer=PRODUCER))
    raised = await db.raised_digests(session, report.report_id)
    fresh = new_difficulties(result.content.get("vuong_mac") or [], raised)
    thread_ids: list[str] = []
    for text in fresh:
        difficulty_id = str(uuid.uuid4())
        thread_ids.append(difficulty_id)
        await session.execute(
            insert(db.difficulties).values(
                difficulty_id=difficulty_id,
                report_id=report.report_id,
                period_id=report.period_id,
                unit_code=report.unit_code,
                text=text,
                text_sha256=text_digest(text),
                raised_at=now,
                raised_in_version=report.version,
            )
        )
        row = await db.find_difficulty_row(session, difficulty_id)
        event = DifficultyRaised.new(difficulty_contract(row), producer=PRODUCER, occurred_at=now)
        await add_event(session, db.outbox, event)
    await db.record_audit(
        session,
        at=now,
        actor=principal.username,
        role=principal.role,
        action=action,
        report_id=report.report_id,
        details={"version": report.version, "content_sha256": digest, "difficulties": thread_ids},
    )
    return thread_ids


def _accepted_body(
    report: Report,
    period: Period,
    unit: ExpectedUnit,
    result: ValidationResult,
    digest: str,
    submitted_at: datetime,
) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "version": report.version,
        "status": "submitted",
        "submitted_at": submitted_at.isoformat(),
        "first_submitted_at": report.first_submitted_at.isoformat(),
        "on_time": report.on_time,
        "period_id": report.period_id,
        "unit_code": report.unit_code,
        "receipt": receipt(
            period=period,
            unit=unit,
            report_id=report.report_id,
            version=report.version,
            submitted_at=submitted_at,
            on_time=report.on_time,
            content_sha256=digest,
        ),
        "content_sha256": digest,
        "warnings": [w.model_dump(mode="json") for w in result.warnings],
    }


async def submit_report(
    desk: Desk, principal: Principal, body: dict[str, Any], idempotency_key: str | None
) -> Outcome:
    """A unit's first report for a period; a retry with the same key gets the first answer."""
    unit_code = principal.require_unit()
    key = check_idempotency_key(idempotency_key)
    scope = f"unit:{unit_code}"
    fingerprint = request_fingerprint("POST /v1/reports", body)
    async with desk.sessions() as session:
        if key and (earlier := await _replay(session, scope, key, fingerprint)):
            return earlier
        period_id = _period_id(body)
        period = await db.find_period(session, period_id)
        if period is None:
            raise period_not_found(period_id)
        unit = check_can_submit(period, unit_code)
        existing = await db.find_report_for(session, period_id, unit_code)
        if existing is not None:
            raise report_exists(existing.report_id)
    result = _validate(desk, period, unit, body)
    now = desk.clock.now()
    report = Report(
        report_id=str(uuid.uuid4()),
        period_id=period.period_id,
        unit_code=unit_code,
        status="submitted",
        version=1,
        first_submitted_at=now,
        on_time=is_on_time(now, period.due_at),
    )
    digest = content_sha256(result.content)
    answer = _accepted_body(report, period, unit, result, digest, now)
    try:
        async with desk.sessions() as session, session.begin():
            if key:
                # Written first: a concurrent twin blocks here and then fails on the key.
                await db.remember_idempotent(
                    session,
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    report_id=report.report_id,
                    status_code=201,
                    response=answer,
                    now=now,
                )
            await session.execute(
                insert(db.reports).values(
                    report_id=report.report_id,
                    period_id=report.period_id,
                    unit_code=unit_code,
                    unit_name=unit.name,
                    status=report.status,
                    version=report.version,
                    form_id=period.form_id,
                    form_version=period.form_version,
                    first_submitted_at=now,
                    on_time=report.on_time,
                    submitted_at=now,
                )
            )
            await _store_version(
                session,
                report=report,
                period=period,
                result=result,
                digest=digest,
                principal=principal,
                now=now,
                action="report_submitted",
            )
    except IntegrityError:
        # Another request (another replica, or the same retry) got there first.
        async with desk.sessions() as session:
            if key and (earlier := await _replay(session, scope, key, fingerprint)):
                return earlier
            existing = await db.find_report_for(session, period.period_id, unit_code)
        if existing is not None:
            desk.metrics.submissions_refused.labels("report_exists").inc()
            raise report_exists(existing.report_id) from None
        raise
    desk.metrics.submitted(period.period_id, report.on_time)
    return Outcome(201, answer)


async def _own_report(session: AsyncSession, principal: Principal, report_id: str) -> Any:
    """The report row if the caller may see it; a unit never learns of another's report."""
    row = await db.find_report_row(session, report_id)
    if row is None:
        raise report_not_found(report_id)
    if principal.role == "unit":
        if row.unit_code != principal.unit_code:
            raise report_not_found(report_id)
    elif principal.role not in READER_ROLES:
        raise report_not_found(report_id)
    return row


async def _period_of(session: AsyncSession, report: Report) -> Period:
    period = await db.find_period(session, report.period_id)
    if period is None:
        raise period_not_found(report.period_id)
    return period


async def amend_report(
    desk: Desk,
    principal: Principal,
    report_id: str,
    body: dict[str, Any],
    idempotency_key: str | None,
) -> Outcome:
    """A full new version of the unit's report; the first submission's timeliness stays."""
    unit_code = principal.require_unit()
    key = check_idempotency_key(idempotency_key)
    scope = f"unit:{unit_code}"
    fingerprint = request_fingerprint(f"PUT /v1/reports/{report_id}", body)
    async with desk.sessions() as session:
        row = await _own_report(session, principal, report_id)
        if key and (earlier := await _replay(session, scope, key, fingerprint)):
            return earlier
        report = db.report_from_row(row)
        if "period_id" in body and body["period_id"] != report.period_id:
            message = f"Báo cáo này thuộc kỳ «{report.period_id}», không thể chuyển sang kỳ khác."
            raise field_problem("period_id", "period_mismatch", "Kỳ báo cáo", message)
        period = await _period_of(session, report)
        check_can_amend(report, period)
        unit = expected_unit(period, unit_code)
    result = _validate(desk, period, unit, body)
    now = desk.clock.now()
    new = Report(**{**report.__dict__, "version": report.version + 1, "status": "submitted"})
    digest = content_sha256(result.content)
    answer = _accepted_body(new, period, unit, result, digest, now)
    try:
        async with desk.sessions() as session, session.begin():
            if key:
                await db.remember_idempotent(
                    session,
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    report_id=report.report_id,
                    status_code=200,
                    response=answer,
                    now=now,
                )
            changed = await db.advance_report(
                session,
                report,
                {
                    "version": new.version,
                    "status": "submitted",
                    "submitted_at": now,
                    "withdrawn_at": None,
                    "unit_name": unit.name,
                },
            )
            if not changed:
                raise version_changed(None)
            await _store_version(
                session,
                report=new,
                period=period,
                result=result,
                digest=digest,
                principal=principal,
                now=now,
                action="report_amended",
            )
    except IntegrityError:
        async with desk.sessions() as session:
            if key and (earlier := await _replay(session, scope, key, fingerprint)):
                return earlier
        raise version_changed(None) from None
    desk.metrics.reports_amended.labels(period.period_id).inc()
    return Outcome(200, answer)


async def withdraw_report(desk: Desk, principal: Principal, report_id: str) -> dict[str, Any]:
    """The unit takes its report back; it no longer counts until a new version is sent."""
    principal.require_unit()
    async with desk.sessions() as session:
        report = db.report_from_row(await _own_report(session, principal, report_id))
        period = await _period_of(session, report)
        check_can_withdraw(report, period)
    now = desk.clock.now()
    async with desk.sessions() as session, session.begin():
        if not await db.advance_report(
            session, report, {"status": "withdrawn", "withdrawn_at": now}
        ):
            raise version_changed(None)
        payload = ReportWithdrawal(
            report_id=report.report_id,
            period_id=report.period_id,
            unit_code=report.unit_code,
            version=report.version,
            withdrawn_at=now,
        )
        await add_event(session, db.outbox, ReportWithdrawn.new(payload, producer=PRODUCER))
        await db.record_audit(
            session,
            at=now,
            actor=principal.username,
            role=principal.role,
            action="report_withdrawn",
            report_id=report.report_id,
            details={"version": report.version},
        )
        row = await db.find_report_row(session, report_id)
    return report_summary(row)


async def review_report(
    desk: Desk,
    principal: Principal,
    report_id: str,
    *,
    decision: Decision,
    reason: str,
    expected_version: int | None,
) -> dict[str, Any]:
    """Phòng Nội vụ accepts the current version, or returns it with a reason."""
    principal.require("reviewer", "admin")
    async with desk.sessions() as session:
        report = db.report_from_row(await _own_report(session, principal, report_id))
        period = await _period_of(session, report)
        check_can_review(report, period, decision, expected_version)
    now = desk.clock.now()
    status: ReportStatus = status_after_review(decision)
    async with desk.sessions() as session, session.begin():
        changed = await db.advance_report(
            session,
            report,
            {
                "status": status,
                "review_decision": decision,
                "review_reason": reason,
                "review_version": report.version,
                "reviewed_by": principal.username,
                "reviewed_at": now,
            },
        )
        if not changed:
            raise version_changed(None)
        payload = ReportReview(
            report_id=report.report_id,
            period_id=report.period_id,
            unit_code=report.unit_code,
            version=report.version,
            decision=decision,
            reason=reason,
            reviewed_by=principal.username,
            reviewed_at=now,
        )
        await add_event(session, db.outbox, ReportReviewed.new(payload, producer=PRODUCER))
        await db.record_audit(
            session,
            at=now,
            actor=principal.username,
            role=principal.role,
            action=f"report_{decision}",
            report_id=report.report_id,
            details={"version": report.version, "reason": reason},
        )
        row = await db.find_report_row(session, report_id)
    return report_summary(row)


async def read_report(desk: Desk, principal: Principal, report_id: str) -> dict[str, Any]:
    """The report with its current content."""
    async with desk.sessions() as session:
        row = await _own_report(session, principal, report_id)
        version = await db.find_version_row(session, report_id, row.version)
    return report_view(row, version)


async def report_versions(desk: Desk, principal: Principal, report_id: str) -> list[Any]:
    """Every version's row, oldest first."""
    async with desk.sessions() as session:
        await _own_report(session, principal, report_id)
        return await db.version_rows(session, report_id)


async def report_audit(desk: Desk, principal: Principal, report_id: str) -> list[Any]:
    """The audit trail of a report the caller may see."""
    async with desk.sessions() as session:
        await _own_report(session, principal, report_id)
        return await db.audit_rows(session, report_id)


def listing_unit(principal: Principal, unit_code: str | None) -> str | None:
    """Units list only their own reports; readers may filter by any unit."""
    if principal.role == "unit":
        own = principal.require_unit()
        if unit_code and unit_code != own:
            raise DomainError(
                "Đơn vị chỉ xem được báo cáo của chính mình.", code="forbidden_unit", status=403
            )
        return own
    principal.require(*READER_ROLES)
    return unit_code


async def list_difficulties(
    desk: Desk,
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
    async with desk.sessions() as session:
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
    desk: Desk, principal: Principal, difficulty_id: str, answer: str
) -> dict[str, Any]:
    """Phòng Nội vụ answers (or corrects its answer to) a unit's difficulty."""
    principal.require("reviewer", "admin")
    now = desk.clock.now()
    async with desk.sessions() as session, session.begin():
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


async def unit_form(
    desk: Desk, principal: Principal, period_id: str, unit_code: str | None
) -> dict[str, Any]:
    """The form a unit fills for a period, without the parts that do not apply to it."""
    if principal.role == "unit":
        unit_code = principal.require_unit()
    else:
        principal.require(*READER_ROLES)
    async with desk.sessions() as session:
        row = await db.find_period_row(session, period_id)
    if row is None:
        raise period_not_found(period_id)
    period = db.period_from_row(row)
    form = load_form(period.form_id, period.form_version)
    unit_view: dict[str, Any] | None = None
    if unit_code:
        unit = expected_unit(period, unit_code)
        form = form_for_unit(form, unit.kind, set(unit.tags))
        unit_view = unit.model_dump(mode="json")
    return {
        "period": {
            "period_id": period.period_id,
            "kind": period.kind,
            "title": period.title,
            "status": period.status,
            "due_at": period.due_at.isoformat(),
            "due_text": f"Trước ngày {format_vn_date(period.due_at)}",
            "window_start": row.window_start.isoformat() if row.window_start else None,
            "window_end": row.window_end.isoformat() if row.window_end else None,
            "content": row.content,
        },
        "unit": unit_view,
        "form": form.model_dump(mode="json"),
    }
