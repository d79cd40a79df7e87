"""Events consolidation publishes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.contracts.envelope import Contract, Envelope

CONSOLIDATION_UPDATED = "danvan.consolidation.period.updated.v1"
DRAFT_SAVED = "danvan.consolidation.draft.saved.v1"
HIGHLIGHTS_CHANGED = "danvan.consolidation.highlights.changed.v1"


class CompletenessSnapshot(Contract):
    """A period's completeness after a change."""

    period_id: str
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    as_of: datetime
    title: str = ""
    awaiting_revision: int = 0
    accepted: int = 0
    missing_units: tuple[str, ...] = ()
    # Grows by one with every snapshot of the period, so consumers can ignore older ones.
    revision: int = 0


class ConsolidationUpdated(Envelope[CompletenessSnapshot]):
    """A period's consolidated state changed."""

    subject: ClassVar[str] = CONSOLIDATION_UPDATED


class DraftPart(Contract):
    """One part of the town report's draft as saved: the text a reviewer wrote by hand (kept
    when the figures change; empty for a part that follows the reports), and a digest of the
    text generated from the reports at the save, so a later read can say what changed since.
    Only hand-written text travels, which keeps the event far below the NATS payload limit."""

    key: str
    edited: bool
    text: str = ""
    generated_digest: str = ""


class CountedReport(Contract):
    """A unit's report the draft's figures were computed from at the save."""

    unit_code: str
    report_id: str
    version: int


class DraftState(Contract):
    """A period's draft (dự thảo) of the town report after a save; `version` grows by one
    per save, so consumers keep the newest."""

    period_id: str
    version: int
    saved_at: datetime
    saved_by: str
    saved_by_name: str = ""
    parts: tuple[DraftPart, ...] = ()
    reports: tuple[CountedReport, ...] = ()


class DraftSaved(Envelope[DraftState]):
    """A reviewer saved the draft of a period's town report; carries the whole draft."""

    subject: ClassVar[str] = DRAFT_SAVED


class Highlight(Contract):
    """An excerpt of a unit's report a reviewer picked for the town report: `field` is a
    section's key ("1", "2" …) for its narrative, or a text field's code."""

    highlight_id: str
    unit_code: str
    field: str
    text: str
    marked_by: str
    marked_at: datetime


class HighlightSet(Contract):
    """Every excerpt picked in a period; `version` grows by one per change."""

    period_id: str
    version: int
    highlights: tuple[Highlight, ...] = ()
    changed_by: str
    changed_at: datetime


class HighlightsChanged(Envelope[HighlightSet]):
    """A reviewer marked or unmarked an excerpt; carries the period's whole set."""

    subject: ClassVar[str] = HIGHLIGHTS_CHANGED
