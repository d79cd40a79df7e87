"""The events consolidation consumes, each wired to one projector method."""

from __future__ import annotations

from services.consolidation.projector import Projector
from shared.contracts.consolidation import DraftSaved, HighlightsChanged
from shared.contracts.intake import (
    DifficultyAnswered,
    DifficultyRaised,
    ReportReviewed,
    ReportSubmitted,
    ReportWithdrawn,
)
from shared.contracts.registry import PeriodChanged, UnitChanged
from shared.messaging.consumer import Subscription


def subscriptions(projector: Projector) -> list[Subscription]:
    """Every subscription of the service; a rebuild replays the same list."""
    return [
        Subscription(contract=UnitChanged, handler=projector.on_unit_changed),
        Subscription(contract=PeriodChanged, handler=projector.on_period_changed),
        Subscription(contract=ReportSubmitted, handler=projector.on_report_submitted),
        Subscription(contract=ReportWithdrawn, handler=projector.on_report_withdrawn),
        Subscription(contract=ReportReviewed, handler=projector.on_report_reviewed),
        Subscription(contract=DifficultyRaised, handler=projector.on_difficulty_raised),
        Subscription(contract=DifficultyAnswered, handler=projector.on_difficulty_answered),
        # Its own events: the drafts and picked excerpts are projections like the others,
        # so `consolidation rebuild` restores them from the DANVAN_CONSOLIDATION stream.
        Subscription(contract=DraftSaved, handler=projector.on_draft_saved),
        Subscription(contract=HighlightsChanged, handler=projector.on_highlights_changed),
    ]
