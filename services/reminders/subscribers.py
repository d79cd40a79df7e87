"""Event wiring: which events the reminders service consumes, and the projection update each
one calls (`projections.py`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import projections, store
from services.reminders.domain import ReminderPolicy
from services.reminders.webhook_addresses import WebhookAddressPolicy
from shared.clock import Clock
from shared.contracts.intake import (
    DifficultyAnswered,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.contracts.registry import (
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    UnitChanged,
)
from shared.messaging.consumer import Subscription


def subscriptions(
    clock: Clock, policy: ReminderPolicy, webhooks: WebhookAddressPolicy
) -> list[Subscription]:
    """Projection events, plus answers and acceptances queued as notices (sent once the
    event's transaction has committed: `projections.NOTICES_QUEUED`)."""

    async def on_unit_changed(session: AsyncSession, event: UnitChanged) -> None:
        """Keep the unit's name, leader and contacts (newest wins); log a refused webhook."""
        await projections.unit_changed(session, event, webhooks=webhooks)

    async def on_period_changed(session: AsyncSession, event: PeriodChanged) -> None:
        """Keep the period, its deadline and expected units, and when it opened."""
        await projections.period_changed(session, event, clock.now())

    async def on_period_changed_v2(session: AsyncSession, event: PeriodChangedV2) -> None:
        """A period version's header: applied once its expected set is whole."""
        whole = await store.stage_period_header(session, event)
        if whole is not None:
            await projections.period_changed(session, whole, clock.now())

    async def on_period_expected_units(session: AsyncSession, event: PeriodExpectedUnits) -> None:
        """A part of a period version's expected set: applied once the set is whole."""
        whole = await store.stage_period_part(session, event)
        if whole is not None:
            await projections.period_changed(session, whole, clock.now())

    async def on_report_reviewed(session: AsyncSession, event: ReportReviewed) -> None:
        """Keep the review's effect on the report; tell the unit when it was accepted."""
        await projections.report_reviewed(session, event)
        await projections.queue_acceptance_notice(session, event, policy, clock.now())

    async def on_difficulty_answered(session: AsyncSession, event: DifficultyAnswered) -> None:
        """Tell the unit that Phòng Nội vụ answered its difficulty."""
        await projections.queue_answer_notice(session, event, policy, clock.now())

    return [
        Subscription(contract=UnitChanged, handler=on_unit_changed),
        # v1 (the whole set inline) is still consumed: the stream holds it from before v2.
        Subscription(contract=PeriodChanged, handler=on_period_changed),
        Subscription(contract=PeriodChangedV2, handler=on_period_changed_v2),
        Subscription(contract=PeriodExpectedUnits, handler=on_period_expected_units),
        Subscription(contract=ReportSubmitted, handler=projections.report_submitted),
        Subscription(contract=ReportWithdrawn, handler=projections.report_withdrawn),
        Subscription(contract=ReportReviewed, handler=on_report_reviewed),
        Subscription(contract=DifficultyAnswered, handler=on_difficulty_answered),
    ]
