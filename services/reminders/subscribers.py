"""Event wiring: which events the reminders service consumes, and the projection update each
one calls (`projections.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
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
from shared.messaging.consumer import Handler, KeyOf, Subscription, each


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
        # Each applies a fetched batch in one transaction (the shared layer claims every
        # event in the inbox, keeps the order per key and isolates a poison event); the
        # keys are what the order matters for.
        _batched(UnitChanged, on_unit_changed, _unit_id),
        # v1 (the whole set inline) is still consumed: the stream holds it from before v2.
        _batched(PeriodChanged, on_period_changed, _period_id),
        _batched(PeriodChangedV2, on_period_changed_v2, _period_id),
        _batched(PeriodExpectedUnits, on_period_expected_units, _period_id),
        _batched(ReportSubmitted, projections.report_submitted, _report_id),
        _batched(ReportWithdrawn, projections.report_withdrawn, _report_id),
        _batched(ReportReviewed, on_report_reviewed, _report_id),
        _batched(DifficultyAnswered, on_difficulty_answered, _difficulty_id),
    ]


def _batched(contract: type[BaseModel], handler: Handler, key: KeyOf) -> Subscription:
    """A subscription applying each fetched batch in one transaction, event by event."""
    return Subscription(contract=contract, handler=handler, batch=each(handler), key=key)


def _unit_id(event: Any) -> str:
    return str(event.payload.unit_id)


def _period_id(event: Any) -> str:
    return str(event.payload.period_id)


def _report_id(event: Any) -> str:
    return str(event.payload.report_id)


def _difficulty_id(event: Any) -> str:
    return str(event.payload.difficulty_id)
