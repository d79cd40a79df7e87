"""Domain results as the service's HTTP answers (`shared.contracts.api.consolidation`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel

from services.consolidation.answers import Page, Spliced
from services.consolidation.domain import (
    STATE_LABELS,
    Completeness,
    DifficultyItem,
    Figure,
    IndicatorSummary,
    OwnProgress,
    ReportFacts,
    SectionSummary,
    Summary,
    Tally,
    TextFieldSummary,
    UnitProgress,
    UnitText,
    WarningItem,
    json_number,
    kind_label,
)
from services.consolidation.domain.draft import PartEdit, UnitRef
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.usecases.draft import DraftReading, PickedExcerpt
from shared.contracts.api import consolidation as api
from shared.formatting import data_window_phrase, vn_deadline


def rates(tally: Tally) -> api.Rates:
    """A tally's shares of the expected units."""
    return api.Rates.model_validate(tally.rates())


def kind_tally(kind: str, tally: Tally) -> api.KindTally:
    """The counts of one kind of unit."""
    return api.KindTally(
        expected=tally.expected,
        submitted=tally.submitted,
        on_time=tally.on_time,
        late=tally.late,
        missing=tally.missing,
        awaiting_revision=tally.awaiting_revision,
        accepted=tally.accepted,
        rates=rates(tally),
        label=kind_label(kind),
    )


def _withdrawn(facts: ReportFacts | None) -> api.WithdrawnReport | None:
    if facts is None:
        return None
    return api.WithdrawnReport(
        report_id=facts.report_id,
        version=facts.version,
        submitted_at=facts.submitted_at,
        first_submitted_at=facts.first_submitted_at,
        withdrawn_at=facts.withdrawn_at,
    )


def unit_row(unit: UnitProgress) -> api.UnitCompleteness:
    """One expected unit's row."""
    return api.UnitCompleteness(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        state=unit.state,
        report_id=unit.report_id,
        version=unit.version,
        submitted_at=unit.submitted_at,
        first_submitted_at=unit.first_submitted_at,
        on_time=unit.on_time,
        kind_label=kind_label(unit.kind),
        state_label=STATE_LABELS[unit.state],
        withdrawn=_withdrawn(unit.withdrawn),
    )


def completeness(status: Completeness) -> api.PeriodCompleteness:
    """A period's whole completeness."""
    p, t = status.period, status.tally
    return api.PeriodCompleteness(
        period_id=p.period_id,
        title=p.title,
        kind=p.kind,
        due_at=p.due_at,
        due_text=vn_deadline(p.due_at),
        window_start=p.window_start,
        window_end=p.window_end,
        data_window=data_window_phrase(p.window_start, p.window_end, p.due_at),
        status=p.status,
        expected=t.expected,
        submitted=t.submitted,
        on_time=t.on_time,
        late=t.late,
        missing=[api.MissingUnit(code=u.code, name=u.name) for u in status.in_state("missing")],
        missing_count=t.missing,
        awaiting_revision=t.awaiting_revision,
        accepted=t.accepted,
        rates=rates(t),
        by_kind={kind: kind_tally(kind, tally) for kind, tally in status.by_kind.items()},
        units=[unit_row(u) for u in status.units],
    )


def own_completeness(own: OwnProgress) -> api.OwnPeriodCompleteness:
    """What a unit account sees of a period."""
    p = own.period
    return api.OwnPeriodCompleteness(
        period_id=p.period_id,
        title=p.title,
        due_at=p.due_at,
        status=p.status,
        units=[unit_row(own.unit)] if own.unit is not None else [],
    )


def period_completeness(
    item: Completeness | OwnProgress,
) -> api.PeriodCompleteness | api.OwnPeriodCompleteness:
    """Either view, as the use case decided for the caller."""
    return own_completeness(item) if isinstance(item, OwnProgress) else completeness(item)


def as_json(model: BaseModel) -> bytes:
    """A model as its HTTP answer's body (what the route would send for it)."""
    return model.model_dump_json().encode()


@dataclass(frozen=True)
class CompletenessAnswer:
    """A period's completeness serialized for both views: the whole one (readers) and
    the shell of a unit account's, with each unit's row to put in it."""

    whole: Spliced
    own: Spliced
    rows: dict[str, bytes]

    def own_page(self, unit_code: str, page: Page) -> bytes:
        """What the unit account sees: the period and its own row, if it is expected."""
        row = self.rows.get(unit_code)
        return Spliced(self.own.head, (row,) if row is not None else (), self.own.tail).page(page)


def completeness_answer(status: Completeness) -> CompletenessAnswer:
    """`completeness` and `own_completeness` serialized once, around their units."""
    model = completeness(status)
    rows = tuple(as_json(u) for u in model.units)
    by_code: dict[str, bytes] = {}
    for unit, row in zip(model.units, rows, strict=True):
        by_code.setdefault(unit.code, row)  # `Completeness.unit` finds the first
    return CompletenessAnswer(
        whole=Spliced.of(as_json(model.model_copy(update={"units": []})), rows),
        own=Spliced.of(as_json(own_completeness(OwnProgress(status.period, None))), ()),
        rows=by_code,
    )


def summary_answer(s: Summary) -> Spliced:
    """`summary` serialized once, around its completeness' units."""
    model = summary(s)
    units = model.completeness.units
    shell = model.model_copy(
        update={"completeness": model.completeness.model_copy(update={"units": []})}
    )
    return Spliced.of(as_json(shell), tuple(as_json(u) for u in units))


def figure(fig: Figure) -> api.Figure:
    """A total with the number of units it is made of."""
    return api.Figure(total=json_number(fig.total), reported=fig.reported, yes=fig.yes, no=fig.no)


def indicator(ind: IndicatorSummary) -> api.IndicatorSummary:
    """One indicator across the period."""
    compared = ind.previous is not None
    return api.IndicatorSummary(
        section=ind.section,
        code=ind.code,
        label=ind.label,
        type=ind.type,
        total=json_number(ind.overall.total),
        reported=ind.overall.reported,
        yes=ind.overall.yes,
        no=ind.overall.no,
        applicable=ind.applicable,
        expected=ind.expected,
        by_kind={kind: figure(f) for kind, f in ind.by_kind.items()},
        by_unit={code: _value(v) for code, v in ind.values.items()},
        previous=figure(ind.previous) if ind.previous is not None else None,
        change=json_number(ind.change) if compared else None,
    )


def _value(value: bool | int | Decimal) -> api.FigureValue:
    number = json_number(value)
    assert number is not None  # a unit's value is never "not reported"
    return number


def unit_text(text: UnitText) -> api.UnitText:
    """A text one unit wrote."""
    return api.UnitText(
        unit_code=text.unit_code, unit_name=text.unit_name, kind=text.kind, text=text.text
    )


def section(s: SectionSummary) -> api.SectionSummary:
    """A task area."""
    return api.SectionSummary(
        key=s.key,
        title=s.title,
        plan_ref=s.plan_ref,
        expected=s.expected,
        indicators=[indicator(i) for i in s.indicators],
        narratives=[unit_text(n) for n in s.narratives],
    )


def text_field(t: TextFieldSummary) -> api.TextFieldSummary:
    """A whole-report text field compiled from every unit."""
    return api.TextFieldSummary(
        code=t.code, label=t.label, entries=[unit_text(e) for e in t.entries]
    )


def difficulty(d: DifficultyItem) -> api.DifficultySummary:
    """A difficulty with its answer."""
    return api.DifficultySummary(
        difficulty_id=d.difficulty_id,
        unit_code=d.unit_code,
        unit_name=d.unit_name,
        text=d.text,
        raised_at=d.raised_at,
        answered=d.answered,
        answer=d.answer,
        answered_by=d.answered_by,
        answered_at=d.answered_at,
    )


def warning(w: WarningItem) -> api.ReportWarning:
    """A validation warning of a unit's current report."""
    return api.ReportWarning(
        unit_code=w.unit_code,
        unit_name=w.unit_name,
        state=w.state,
        path=w.path,
        code=w.code,
        field=w.field,
        label=w.label,
        message=w.message,
    )


def summary(s: Summary) -> api.PeriodSummary:
    """A period's consolidation."""
    p = s.period
    return api.PeriodSummary(
        period_id=p.period_id,
        title=p.title,
        kind=p.kind,
        year=p.year,
        due_at=p.due_at,
        window_start=p.window_start,
        window_end=p.window_end,
        form=api.FormRef(form_id=p.form_id, version=p.form_version, title=s.form_title),
        completeness=completeness(s.completeness),
        sections=[section(x) for x in s.sections],
        text_fields=[text_field(t) for t in s.text_fields],
        difficulties=[difficulty(d) for d in s.difficulties],
        warnings=[warning(w) for w in s.warnings],
        comparison=(
            api.PeriodRef(period_id=s.earlier.period_id, title=s.earlier.title)
            if s.earlier
            else None
        ),
    )


def _unit_refs(units: tuple[UnitRef, ...]) -> list[api.UnitRef]:
    return [api.UnitRef(code=u.code, name=u.name) for u in units]


def draft(reading: DraftReading, settings: ConsolidationSettings) -> api.Draft:
    """A period's draft as the reader sees it."""
    d, saved, changes = reading.draft, reading.draft.saved, reading.draft.changes
    warnings = []
    if reading.frame.cites_plan and settings.plan.unfilled:
        warnings.append(
            api.DraftWarning(
                code="plan_reference_unfilled",
                message=(
                    "Số, ngày của Kế hoạch được trích dẫn chưa được điền "
                    f"(«{settings.plan.text}»); đề nghị cấu hình DANVAN_PLAN_REFERENCE."
                ),
            )
        )
    return api.Draft(
        period_id=d.period_id,
        version=d.version,
        saved_at=saved.saved_at if saved else None,
        saved_by=saved.saved_by if saved else None,
        saved_by_name=saved.saved_by_name if saved else None,
        parts=[
            api.DraftPart(
                key=p.key,
                heading=p.heading,
                title=p.title,
                text=p.text,
                edited=p.edited,
                changed=p.changed,
                digest=p.digest,
            )
            for p in d.parts
        ],
        recipients=list(settings.recipients),
        archive=settings.archive,
        basis=reading.frame.basis,
        subject=reading.frame.subject,
        plan_reference_unfilled=settings.plan.unfilled,
        warnings=warnings,
        changes=(
            api.DraftChanges(
                since_version=changes.since_version,
                parts=list(changes.parts),
                outdated_edits=list(changes.outdated_edits),
                units_added=_unit_refs(changes.added),
                units_updated=_unit_refs(changes.updated),
                units_removed=_unit_refs(changes.removed),
                notice=changes.notice,
            )
            if changes is not None
            else None
        ),
        history=[
            api.DraftSaveEntry(
                version=h.version,
                saved_at=h.saved_at,
                saved_by=h.saved_by,
                saved_by_name=h.saved_by_name,
            )
            for h in reading.history
        ],
        editable=reading.editable,
    )


def edits(body: api.DraftSave) -> dict[str, PartEdit]:
    """A save's parts as the domain takes them."""
    return {key: PartEdit(text=e.text, reset=e.reset, base=e.base) for key, e in body.parts.items()}


def picked(excerpt: PickedExcerpt) -> api.PickedExcerpt:
    """An excerpt picked for the town report."""
    h = excerpt.highlight
    return api.PickedExcerpt(
        highlight_id=h.highlight_id,
        unit_code=h.unit_code,
        unit_name=excerpt.unit_name,
        field=h.field,
        field_label=excerpt.field_label,
        text=h.text,
        marked_by=h.marked_by,
        marked_at=h.marked_at,
        in_report=excerpt.in_report,
    )
