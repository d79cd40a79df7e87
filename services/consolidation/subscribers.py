"""The events consolidation consumes, each wired to one projector method."""

from __future__ import annotations

from typing import Any

from services.consolidation.projector import Projector
from shared.contracts.consolidation import DraftSaved, HighlightsChanged
from shared.contracts.intake import (
    DifficultyAnswered,
    DifficultyRaised,
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
from shared.messaging.consumer import Subscription, each


def _report_id(event: Any) -> str:
    return str(event.payload.report_id)


def _period_id(event: Any) -> str:
    return str(event.payload.period_id)


def subscriptions(projector: Projector) -> list[Subscription]:
    """Every subscription of the service; a rebuild replays the same list.

    Each applies a fetched batch in one transaction (`batch`); the report events with the
    projector's set-based form, the others one by one inside the batch's transaction. The
    keys are what their order matters for (the projector is order-independent anyway)."""
    p = projector
    return [
        Subscription(
            UnitChanged,
            p.on_unit_changed,
            batch=each(p.on_unit_changed),
            key=lambda e: str(e.payload.unit_id),
        ),
        # v1 (the whole set inline) is still consumed: the stream holds it from before v2.
        Subscription(
            PeriodChanged, p.on_period_changed, batch=each(p.on_period_changed), key=_period_id
        ),
        Subscription(
            PeriodChangedV2,
            p.on_period_changed_v2,
            batch=each(p.on_period_changed_v2),
            key=_period_id,
        ),
        Subscription(
            PeriodExpectedUnits,
            p.on_period_expected_units,
            batch=each(p.on_period_expected_units),
            key=_period_id,
        ),
        Subscription(
            ReportSubmitted, p.on_report_submitted, batch=p.on_report_events, key=_report_id
        ),
        Subscription(
            ReportWithdrawn, p.on_report_withdrawn, batch=p.on_report_events, key=_report_id
        ),
        Subscription(
            ReportReviewed, p.on_report_reviewed, batch=p.on_report_events, key=_report_id
        ),
        Subscription(
            DifficultyRaised,
            p.on_difficulty_raised,
            batch=each(p.on_difficulty_raised),
            key=lambda e: str(e.payload.difficulty_id),
        ),
        Subscription(
            DifficultyAnswered,
            p.on_difficulty_answered,
            batch=each(p.on_difficulty_answered),
            key=lambda e: str(e.payload.difficulty_id),
        ),
        # Its own events: the drafts and picked excerpts are projections like the others,
        # so `consolidation rebuild` restores them from the DANVAN_CONSOLIDATION stream.
        Subscription(DraftSaved, p.on_draft_saved, batch=each(p.on_draft_saved), key=_period_id),
        Subscription(
            HighlightsChanged,
            p.on_highlights_changed,
            batch=each(p.on_highlights_changed),
            key=_period_id,
        ),
    ]
