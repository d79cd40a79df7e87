"""Withdrawal by the unit and review by Phòng Nội vụ."""

from __future__ import annotations

from typing import Any

from services.intake import db
from services.intake.context import IntakeContext
from services.intake.domain import (
    Decision,
    check_can_review,
    check_can_withdraw,
    status_after_review,
    version_changed,
)
from services.intake.handlers.common import PRODUCER, period_of, visible_report
from services.intake.views import report_summary
from shared.auth import Permission, Principal
from shared.contracts.intake import (
    ReportReview,
    ReportReviewed,
    ReportStatus,
    ReportWithdrawal,
    ReportWithdrawn,
)
from shared.messaging.outbox import add_event


async def withdraw_report(
    context: IntakeContext, principal: Principal, report_id: str
) -> dict[str, Any]:
    """The unit takes its report back; it no longer counts until a new version is sent."""
    principal.require_unit()
    async with context.sessions() as session:
        report = db.report_from_row(await visible_report(session, principal, report_id))
        period = await period_of(session, report)
        check_can_withdraw(report, period)
    now = context.clock.now()
    async with context.sessions() as session, session.begin():
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
        await add_event(
            session, db.outbox, ReportWithdrawn.new(payload, producer=PRODUCER, occurred_at=now)
        )
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
    context: IntakeContext,
    principal: Principal,
    report_id: str,
    *,
    decision: Decision,
    reason: str,
    expected_version: int | None,
) -> dict[str, Any]:
    """Phòng Nội vụ accepts the current version, or returns it with a reason."""
    principal.require(Permission.REVIEW)
    async with context.sessions() as session:
        report = db.report_from_row(await visible_report(session, principal, report_id))
        period = await period_of(session, report)
        check_can_review(report, period, decision, expected_version)
    now = context.clock.now()
    status: ReportStatus = status_after_review(decision)
    async with context.sessions() as session, session.begin():
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
        await add_event(
            session, db.outbox, ReportReviewed.new(payload, producer=PRODUCER, occurred_at=now)
        )
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
