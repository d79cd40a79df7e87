"""Event wiring: which events the reminders service consumes and the handler of each."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import handlers
from services.reminders.domain import ReminderPolicy
from services.reminders.notices import NOTICES_QUEUED
from shared.clock import Clock
from shared.contracts.intake import (
    DifficultyAnswered,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.db import notify_on_commit
from shared.messaging.consumer import Subscription


def subscriptions(clock: Clock, policy: ReminderPolicy) -> list[Subscription]:
    """Projection events, plus answers and acceptances queued as notices (sent once the
    event's transaction has committed: `NOTICES_QUEUED`)."""

    async def on_period_changed(session: AsyncSession, event: PeriodChanged) -> None:
        """Keep the period, its deadline and expected units, and when it opened."""
        await handlers.apply_period_changed(session, event, clock.now())

    async def on_report_reviewed(session: AsyncSession, event: ReportReviewed) -> None:
        """Keep the review's effect on the report; tell the unit when it was accepted."""
        await handlers.on_report_reviewed(session, event)
        if await handlers.queue_acceptance_notice(session, event, policy, clock.now()):
            notify_on_commit(session, NOTICES_QUEUED)

    async def on_difficulty_answered(session: AsyncSession, event: DifficultyAnswered) -> None:
        """Tell the unit that Phòng Nội vụ answered its difficulty."""
        if await handlers.queue_answer_notice(session, event, policy, clock.now()):
            notify_on_commit(session, NOTICES_QUEUED)

    return [
        Subscription(contract=UnitChanged, handler=handlers.on_unit_changed),
        Subscription(contract=PeriodChanged, handler=on_period_changed),
        Subscription(contract=ReportSubmitted, handler=handlers.on_report_submitted),
        Subscription(contract=ReportWithdrawn, handler=handlers.on_report_withdrawn),
        Subscription(contract=ReportReviewed, handler=on_report_reviewed),
        Subscription(contract=DifficultyAnswered, handler=on_difficulty_answered),
    ]
