"""The town report's draft of a period: reading it, saving it, picking excerpts for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import db, store
from services.consolidation.context import ConsolidationContext
from services.consolidation.domain import Summary
from services.consolidation.domain.draft import (
    DraftView,
    GeneratedDraft,
    PartEdit,
    ReportFrame,
    checked_excerpt,
    compose,
    draft_conflict,
    excerpt_in,
    field_label,
    field_texts,
    find_highlight,
    report_frame,
    saved_after,
    view,
    with_highlight,
    without_highlight,
)
from services.consolidation.projector import PRODUCER
from services.consolidation.usecases.common import known_period, period_summary
from shared.auth import Permission, Principal
from shared.contracts.consolidation import (
    DraftSaved,
    DraftState,
    Highlight,
    HighlightsChanged,
    HighlightSet,
)
from shared.errors import Conflict
from shared.forms import FormDefinition, load_form
from shared.messaging.outbox import add_event

HISTORY_SHOWN = 20


@dataclass(frozen=True)
class DraftSave:
    """One line of a draft's history: who saved which version when."""

    version: int
    saved_at: datetime
    saved_by: str
    saved_by_name: str


@dataclass(frozen=True)
class DraftReading:
    """A period's draft as the caller may see it, with what the page needs around it."""

    draft: DraftView
    frame: ReportFrame
    history: tuple[DraftSave, ...]
    editable: bool  # the caller may save it (Phòng Nội vụ, admins)


@dataclass(frozen=True)
class Composition:
    """Everything a draft is made from, read in one unit of work."""

    summary: Summary
    form: FormDefinition
    frame: ReportFrame
    highlights: HighlightSet | None
    saved: DraftState | None
    generated: GeneratedDraft

    def view(self, saved: DraftState | None = None) -> DraftView:
        """The draft with the saved edits (those read, unless another save is given)."""
        return view(self.generated, saved or self.saved, self.summary.completeness)


async def composition(
    context: ConsolidationContext, session: AsyncSession, period_id: str
) -> Composition:
    """The period's summary, picked excerpts and saved draft, and the draft they give."""
    summary = await period_summary(session, period_id)
    period = summary.period
    form = load_form(period.form_id, period.form_version)
    frame = report_frame(period, context.settings.plan, context.settings.issuer_prose)
    highlights = await store.load_highlights(session, period_id)
    saved = await store.load_draft(session, period_id)
    generated = compose(summary, form, frame, highlights)
    return Composition(summary, form, frame, highlights, saved, generated)


async def _history(session: AsyncSession, period_id: str) -> tuple[DraftSave, ...]:
    rows = await store.draft_saves(session, period_id, limit=HISTORY_SHOWN)
    return tuple(DraftSave(r.version, r.saved_at, r.saved_by, r.saved_by_name) for r in rows)


async def read_draft(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> DraftReading:
    """The period's draft: hand-written parts as saved, the rest from the latest reports,
    and what changed since the last save. A period without any report gets a draft that
    says so."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        made = await composition(context, session, period_id)
        history = await _history(session, period_id)
    return DraftReading(made.view(), made.frame, history, principal.may(Permission.REVIEW))


async def save_draft(
    context: ConsolidationContext,
    principal: Principal,
    period_id: str,
    *,
    version: int,
    edits: Mapping[str, PartEdit],
) -> DraftReading:
    """Save the draft over the version the reviewer read (409 when somebody saved in
    between, naming who); the DraftSaved event leaves through the outbox in the same
    transaction, so a rebuild restores the draft from the stream."""
    principal.require(Permission.REVIEW)
    now = context.clock.now()
    async with context.store.transaction() as session:
        made = await composition(context, session, period_id)
        state = saved_after(
            made.generated,
            made.saved,
            period_id=period_id,
            version_read=version,
            edits=edits,
            by=principal.username,
            by_name=principal.display_name,
            at=now,
        )
        if not await store.write_draft(session, state, over_version=version):
            # Saved by someone else between this save's read and its write.
            current = await store.load_draft(session, period_id)
            assert current is not None
            raise draft_conflict(current)
        await add_event(
            session, db.outbox, DraftSaved.new(state, producer=PRODUCER, occurred_at=now)
        )
        history = await _history(session, period_id)
    return DraftReading(made.view(state), made.frame, history, editable=True)


# --- the excerpts picked for the town report ---------------------------------------------


@dataclass(frozen=True)
class PickedExcerpt:
    """A picked excerpt with what a page shows of it."""

    highlight: Highlight
    unit_name: str
    field_label: str
    # Still in the unit's current report: only then does the draft use it.
    in_report: bool


async def _picked(
    session: AsyncSession, summary: Summary, form: FormDefinition, period_id: str
) -> list[PickedExcerpt]:
    highlights = await store.load_highlights(session, period_id)
    names = {u.code: u.name for u in summary.completeness.units}
    return [
        PickedExcerpt(
            highlight=h,
            unit_name=names.get(h.unit_code, h.unit_code),
            field_label=field_label(form, h.field) or h.field,
            in_report=excerpt_in(field_texts(summary, h.field).get(h.unit_code, ""), h.text),
        )
        for h in (highlights.highlights if highlights is not None else ())
    ]


async def list_highlights(
    context: ConsolidationContext, principal: Principal, period_id: str
) -> list[PickedExcerpt]:
    """The excerpts picked in a period, in the order they were picked."""
    principal.require(Permission.READ_REPORTS)
    async with context.store.reading() as session:
        summary = await period_summary(session, period_id)
        form = load_form(summary.period.form_id, summary.period.form_version)
        return await _picked(session, summary, form, period_id)


# A concurrent change of the same period's set makes the conditional write fail; the set is
# then read again and the change applied to it (marking and unmarking commute).
_SET_ATTEMPTS = 5


async def mark_highlight(
    context: ConsolidationContext,
    principal: Principal,
    period_id: str,
    *,
    unit_code: str,
    field: str,
    text: str,
) -> PickedExcerpt:
    """Pick an excerpt of a unit's current report for the town report (422 when it is not
    in the report); picking the same excerpt again changes nothing."""
    principal.require(Permission.REVIEW)
    now = context.clock.now()
    async with context.store.transaction() as session:
        summary = await period_summary(session, period_id)
        form = load_form(summary.period.form_id, summary.period.form_version)
        excerpt = checked_excerpt(form, summary, unit_code, field, text)
        candidate = Highlight(
            highlight_id=uuid.uuid4().hex,
            unit_code=unit_code,
            field=field,
            text=excerpt,
            marked_by=principal.username,
            marked_at=now,
        )
        picked = await _change_set(
            session,
            period_id,
            lambda held: with_highlight(
                held, candidate, period_id=period_id, by=principal.username, at=now
            ),
        )
        chosen = find_highlight(picked, unit_code, field, excerpt)
    names = {u.code: u.name for u in summary.completeness.units}
    return PickedExcerpt(
        chosen, names.get(unit_code, unit_code), field_label(form, field) or field, True
    )


async def unmark_highlight(
    context: ConsolidationContext, principal: Principal, period_id: str, highlight_id: str
) -> None:
    """Take an excerpt out of the town report (404 when it is not picked)."""
    principal.require(Permission.REVIEW)
    now = context.clock.now()
    async with context.store.transaction() as session:
        await known_period(session, period_id)
        await _change_set(
            session,
            period_id,
            lambda held: without_highlight(held, highlight_id, by=principal.username, at=now),
        )


async def _change_set(
    session: AsyncSession,
    period_id: str,
    change: Callable[[HighlightSet | None], HighlightSet],
) -> HighlightSet:
    for _ in range(_SET_ATTEMPTS):
        held = await store.load_highlights(session, period_id)
        updated = change(held)
        if updated is held:
            return updated  # nothing to change
        over = held.version if held is not None else 0
        if await store.write_highlights(session, updated, over_version=over):
            await add_event(
                session,
                db.outbox,
                HighlightsChanged.new(updated, producer=PRODUCER, occurred_at=updated.changed_at),
            )
            return updated
    raise Conflict(
        "Các đoạn trích của kỳ báo cáo đang được người khác thay đổi; vui lòng thử lại.",
        code="highlights_busy",
    )
