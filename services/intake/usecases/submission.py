"""Submitting and amending reports: validation, versions, receipts, idempotency."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from services.intake.context import IntakeContext
from services.intake.domain import (
    Period,
    Report,
    ReportInvalid,
    check_can_amend,
    check_can_submit,
    check_content,
    expected_unit,
    field_problem,
    is_on_time,
    leader_answer,
    leader_check_answer,
    new_difficulties,
    period_not_found,
    receipt,
    report_exists,
    text_digest,
    version_changed,
)
from services.intake.usecases.common import PRODUCER, check_visible, submitting_unit
from services.intake.views import difficulty_contract, warning_contracts
from shared.auth import Principal
from shared.contracts.api.intake import ContentIssue, ReportAccepted
from shared.contracts.intake import (
    DifficultyRaised,
    LeaderCheckAnswer,
    ReportSubmitted,
    ReportVersion,
)
from shared.contracts.registry import ExpectedUnit, Leader
from shared.forms import ValidationResult, content_sha256, load_form
from shared.idempotency import Answer, IdempotentRequest

log = logging.getLogger(__name__)


def _period_id(body: dict[str, Any]) -> str:
    period_id = body.get("period_id")
    if period_id is None:
        raise field_problem("period_id", "required", "Kỳ báo cáo", "Chưa chọn kỳ báo cáo.")
    if not isinstance(period_id, str) or not period_id.strip() or len(period_id) > 32:
        message = "Mã kỳ báo cáo phải là một chuỗi, ví dụ “2023-H1”."
        raise field_problem("period_id", "wrong_type", "Kỳ báo cáo", message)
    return period_id.strip()


def _validate(
    context: IntakeContext,
    period: Period,
    unit: ExpectedUnit,
    leader: Leader | None,
    body: dict[str, Any],
) -> ValidationResult:
    """The canonical content, or every problem at once as a 422."""
    result = check_content(period, unit, leader, body)
    if not result.ok:
        context.metrics.submissions_refused.labels("validation_failed").inc()
        raise ReportInvalid.from_result(result)
    return result


@dataclass(frozen=True)
class _Version:
    """What a version writes that needs no database: built before its transaction opens,
    so that the transaction (holding SQLite's one connection) only runs statements."""

    warnings: list[dict[str, Any]]
    check: LeaderCheckAnswer | None
    event: ReportSubmitted


def _prepare_version(
    *,
    report: Report,
    period: Period,
    result: ValidationResult,
    digest: str,
    now: datetime,
    leader: Leader | None,
) -> _Version:
    """The version's warnings, leader check and ReportSubmitted event."""
    warnings = [w.model_dump(mode="json") for w in result.warnings]
    form = load_form(period.form_id, period.form_version)
    check = leader_check_answer(leader, leader_answer(form, result.content))
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
        leader_check=check,
    )
    event = ReportSubmitted.new(payload, producer=PRODUCER, occurred_at=now)
    return _Version(warnings=warnings, check=check, event=event)


async def _store_version(
    session: AsyncSession,
    *,
    report: Report,
    prepared: _Version,
    result: ValidationResult,
    digest: str,
    principal: Principal,
    now: datetime,
    action: str,
    raised: list[str] | None = None,
) -> list[str]:
    """The version row, its ReportSubmitted event, new difficulties and the audit line
    (`raised`: the digests of the report's difficulties when already read)."""
    check = prepared.check
    await store.insert_version(
        session,
        report_id=report.report_id,
        version=report.version,
        content=result.content,
        content_sha256=digest,
        warnings=prepared.warnings,
        submitted_at=now,
        submitted_by=principal.username,
        leader_on_record=check.on_record if check else None,
        leader_changed=None if check is None else not check.confirmed,
    )
    await store.publish(session, prepared.event)
    entries: list[str] = result.content.get("vuong_mac") or []
    # Without entries there is nothing to compare with what was raised before.
    if not entries:
        raised = []
    elif raised is None:
        raised = await store.raised_digests(session, report.report_id)
    fresh = new_difficulties(entries, raised)
    thread_ids: list[str] = []
    for text in fresh:
        difficulty_id = str(uuid.uuid4())
        thread_ids.append(difficulty_id)
        await store.insert_difficulty(
            session,
            difficulty_id=difficulty_id,
            report_id=report.report_id,
            period_id=report.period_id,
            unit_code=report.unit_code,
            text=text,
            text_sha256=text_digest(text),
            raised_at=now,
            raised_in_version=report.version,
            position=entries.index(text),
            open_since=now,
        )
        row = await store.find_difficulty_row(session, difficulty_id)
        event = DifficultyRaised.new(difficulty_contract(row), producer=PRODUCER, occurred_at=now)
        await store.publish(session, event)
    await store.record_audit(
        session,
        at=now,
        actor=principal.username,
        role=principal.role,
        action=action,
        report_id=report.report_id,
        details={"version": report.version, "content_sha256": digest, "difficulties": thread_ids},
    )
    return thread_ids


def _accepted(
    report: Report,
    period: Period,
    unit: ExpectedUnit,
    result: ValidationResult,
    digest: str,
    submitted_at: datetime,
) -> ReportAccepted:
    return ReportAccepted(
        report_id=report.report_id,
        version=report.version,
        status="submitted",
        submitted_at=submitted_at,
        first_submitted_at=report.first_submitted_at,
        on_time=report.on_time,
        period_id=report.period_id,
        unit_code=report.unit_code,
        receipt=receipt(
            period=period,
            unit=unit,
            report_id=report.report_id,
            version=report.version,
            submitted_at=submitted_at,
            on_time=report.on_time,
            content_sha256=digest,
        ),
        content_sha256=digest,
        warnings=[ContentIssue.model_validate(w.model_dump()) for w in result.warnings],
    )


def _answer(status: int, accepted: ReportAccepted) -> Answer:
    return Answer(status, accepted.model_dump(mode="json"))


async def submit_report(
    context: IntakeContext, principal: Principal, body: dict[str, Any], idempotency_key: str | None
) -> Answer:
    """A unit's first report for a period; a retry with the same key gets the first answer."""
    unit_code = submitting_unit(principal)
    keyed = IdempotentRequest.of(
        idempotency_key, caller=f"unit:{unit_code}", method="POST", path="/v1/reports", body=body
    )
    async with store.reading(context.sessions) as session:
        if earlier := await store.replayed(session, keyed):
            return earlier
        period_id = _period_id(body)
        period = await store.find_period(session, period_id)
        if period is None:
            raise period_not_found(period_id)
        unit = check_can_submit(period, unit_code)
        existing = await store.find_report_for(session, period_id, unit_code)
        if existing is not None:
            raise report_exists(existing.report_id)
        leader = await store.unit_leader(session, unit_code)
    result = _validate(context, period, unit, leader, body)
    now = context.clock.now()
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
    answer = _answer(201, _accepted(report, period, unit, result, digest, now))
    prepared = _prepare_version(
        report=report, period=period, result=result, digest=digest, now=now, leader=leader
    )
    try:
        async with store.transaction(context.sessions) as session:
            # Written first: a concurrent twin blocks here and then fails on the key.
            await store.remember_answer(session, keyed, answer, now)
            await store.insert_report(session, report, unit_name=unit.name, period=period, now=now)
            await store.delete_draft(session, period.period_id, unit_code)
            await _store_version(
                session,
                report=report,
                prepared=prepared,
                result=result,
                digest=digest,
                principal=principal,
                now=now,
                action="report_submitted",
                raised=[],  # a new report: nothing was raised for it yet
            )
    except IntegrityError:
        # Another request (another replica, or the same retry) got there first.
        async with store.reading(context.sessions) as session:
            if earlier := await store.replayed(session, keyed):
                return earlier
            existing = await store.find_report_for(session, period.period_id, unit_code)
        if existing is not None:
            context.metrics.submissions_refused.labels("report_exists").inc()
            raise report_exists(existing.report_id) from None
        raise
    context.metrics.submitted(period.period_id, report.on_time)
    log.info(
        "report %s submitted by unit %s for %s (on time: %s)",
        report.report_id,
        unit_code,
        period.period_id,
        report.on_time,
    )
    return answer


async def amend_report(
    context: IntakeContext,
    principal: Principal,
    report_id: str,
    body: dict[str, Any],
    idempotency_key: str | None,
) -> Answer:
    """A full new version of the unit's report; the first submission's timeliness stays."""
    unit_code = submitting_unit(principal)
    path = f"/v1/reports/{report_id}"
    keyed = IdempotentRequest.of(
        idempotency_key, caller=f"unit:{unit_code}", method="PUT", path=path, body=body
    )
    async with store.reading(context.sessions) as session:
        # The report, its period, the unit's leader and the key's answer in one statement.
        found = await store.find_report_with_period(session, report_id, keyed)
        row, projected, leader = found or (None, None, None)
        row = check_visible(principal, report_id, row)
        if earlier := store.replayed_in(row, keyed):
            return earlier
    report = store.report_from_row(row)
    raised = store.raised_in(row)
    if "period_id" in body and body["period_id"] != report.period_id:
        message = f"Báo cáo này thuộc kỳ «{report.period_id}», không thể chuyển sang kỳ khác."
        raise field_problem("period_id", "period_mismatch", "Kỳ báo cáo", message)
    if projected is None:
        raise period_not_found(report.period_id)
    period = projected
    check_can_amend(report, period)
    unit = expected_unit(period, unit_code)
    result = _validate(context, period, unit, leader, body)
    now = context.clock.now()
    new = Report(**{**report.__dict__, "version": report.version + 1, "status": "submitted"})
    digest = content_sha256(result.content)
    answer = _answer(200, _accepted(new, period, unit, result, digest, now))
    prepared = _prepare_version(
        report=new, period=period, result=result, digest=digest, now=now, leader=leader
    )
    try:
        async with store.transaction(context.sessions) as session:
            await store.remember_answer(session, keyed, answer, now)
            changed = await store.advance_report(
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
            # Whether there is a draft was read with the report: one saved since is kept, as
            # if it had been saved just after this amendment (the two requests overlapped).
            if row.has_draft:
                await store.delete_draft(session, period.period_id, unit_code)
            await _store_version(
                session,
                report=new,
                prepared=prepared,
                result=result,
                digest=digest,
                principal=principal,
                now=now,
                action="report_amended",
                raised=raised,
            )
    except IntegrityError:
        async with store.reading(context.sessions) as session:
            if earlier := await store.replayed(session, keyed):
                return earlier
        raise version_changed(None) from None
    context.metrics.reports_amended.labels(period.period_id).inc()
    log.info("report %s amended to version %d", report.report_id, new.version)
    return answer
