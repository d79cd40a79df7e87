"""All of consolidation's data access: the only module that opens database sessions.

`ConsolidationStore.transaction()` gives a session inside one transaction (committed when the
block ends, rolled back on error), `reading()` a session for reads. The query functions take
the session they run in, so a use case, or the consumer applying an event, composes them
into its own unit of work. Tables are in `db.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, delete, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.consolidation import db
from services.consolidation.domain import (
    Counters,
    DifficultyRecord,
    PeriodInfo,
    PeriodProgress,
    ReportFacts,
    ReportRecord,
    Review,
    Standing,
    StoredStanding,
    Submission,
    Withdrawal,
)
from shared import period_parts
from shared.contracts.consolidation import DraftState, HighlightSet
from shared.contracts.registry import (
    ExpectedUnit,
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    RequestBasis,
)
from shared.db import dialect_insert, notify_on_commit, upsert_newer
from shared.versioned import VersionedCache


class ConsolidationStore:
    """Opens the service's sessions: one place for every unit of work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed when the block ends."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (nothing is committed)."""
        async with self._sessions() as session:
            yield session


# Columns enough for completeness; the content stays in the database.
_STATUS_COLUMNS = [c for c in db.reports.c if c.name not in ("content", "warnings")]


def _expected_units(value: Any) -> tuple[ExpectedUnit, ...]:
    return tuple(ExpectedUnit.model_validate(u) for u in value or ())


def period_from_row(
    row: Row[Any], expected_units: tuple[ExpectedUnit, ...] | None = None
) -> PeriodInfo:
    """A period row as domain data (its expected units parsed from the row unless given)."""
    return PeriodInfo(
        period_id=row.period_id,
        kind=row.kind,
        year=row.year,
        title=row.title,
        form_id=row.form_id,
        form_version=row.form_version,
        due_at=row.due_at,
        status=row.status,
        expected_units=(
            expected_units if expected_units is not None else _expected_units(row.expected_units)
        ),
        version=row.version,
        window_start=row.window_start,
        window_end=row.window_end,
        basis=RequestBasis.model_validate(row.basis) if row.basis else None,
    )


def period_values(period: PeriodInfo) -> dict[str, Any]:
    """Column values of a period."""
    return {
        "period_id": period.period_id,
        "kind": period.kind,
        "year": period.year,
        "title": period.title,
        "form_id": period.form_id,
        "form_version": period.form_version,
        "window_start": period.window_start,
        "window_end": period.window_end,
        "due_at": period.due_at,
        "status": period.status,
        "expected_units": [u.model_dump(mode="json") for u in period.expected_units],
        "basis": period.basis.model_dump(mode="json") if period.basis else None,
        "version": period.version,
    }


def report_from_row(row: Row[Any]) -> ReportRecord:
    """A report row as domain data (content empty when not selected)."""
    m = row._mapping
    submission = None
    if m["version"] is not None:
        submission = Submission(
            version=m["version"],
            status=m["status"],
            on_time=bool(m["on_time"]),
            first_submitted_at=m["first_submitted_at"],
            submitted_at=m["submitted_at"],
            content=m.get("content") or {},
            content_sha256=m["content_sha256"] or "",
            warnings=tuple(m.get("warnings") or ()),
            form_id=m["form_id"] or "",
            form_version=m["form_version"] or "",
        )
    review = None
    if m["review_version"] is not None:
        review = Review(
            version=m["review_version"],
            decision=m["review_decision"],
            reason=m["review_reason"] or "",
            reviewed_by=m["reviewed_by"] or "",
            reviewed_at=m["reviewed_at"],
        )
    withdrawal = None
    if m["withdrawn_version"] is not None:
        withdrawal = Withdrawal(version=m["withdrawn_version"], withdrawn_at=m["withdrawn_at"])
    return ReportRecord(
        report_id=m["report_id"],
        period_id=m["period_id"],
        unit_code=m["unit_code"],
        submission=submission,
        review=review,
        withdrawal=withdrawal,
    )


def report_values(record: ReportRecord) -> dict[str, Any]:
    """Column values of a report record."""
    s, r, w = record.submission, record.review, record.withdrawal
    return {
        "report_id": record.report_id,
        "period_id": record.period_id,
        "unit_code": record.unit_code,
        "version": s.version if s else None,
        "status": s.status if s else None,
        "form_id": s.form_id if s else None,
        "form_version": s.form_version if s else None,
        "on_time": s.on_time if s else None,
        "first_submitted_at": s.first_submitted_at if s else None,
        "submitted_at": s.submitted_at if s else None,
        "content": s.content if s else None,
        "content_sha256": s.content_sha256 if s else None,
        "warnings": list(s.warnings) if s else None,
        "review_version": r.version if r else None,
        "review_decision": r.decision if r else None,
        "review_reason": r.reason if r else None,
        "reviewed_by": r.reviewed_by if r else None,
        "reviewed_at": r.reviewed_at if r else None,
        "withdrawn_version": w.version if w else None,
        "withdrawn_at": w.withdrawn_at if w else None,
    }


def difficulty_from_row(row: Row[Any]) -> DifficultyRecord:
    """A difficulty row as domain data."""
    return DifficultyRecord(
        difficulty_id=row.difficulty_id,
        report_id=row.report_id,
        period_id=row.period_id,
        unit_code=row.unit_code,
        text=row.text,
        raised_at=row.raised_at,
        answer=row.answer or "",
        answered_by=row.answered_by or "",
        answered_at=row.answered_at,
    )


def difficulty_values(record: DifficultyRecord) -> dict[str, Any]:
    """Column values of a difficulty."""
    return {
        "difficulty_id": record.difficulty_id,
        "report_id": record.report_id,
        "period_id": record.period_id,
        "unit_code": record.unit_code,
        "text": record.text,
        "raised_at": record.raised_at,
        "answer": record.answer,
        "answered_by": record.answered_by,
        "answered_at": record.answered_at,
    }


# A period's expected units parsed once per version (`shared.versioned`): decoding and
# parsing 10,000 of them was about half of every completeness read at that scale. The rest of
# the row is read each time.
_EXPECTED_UNITS: VersionedCache[tuple[ExpectedUnit, ...]] = VersionedCache(size=32)
_PERIOD_HEADER = [c for c in db.periods.c if c.name != "expected_units"]


def _period_columns(session: AsyncSession, period_id: str | None = None) -> list[Any]:
    """A period's columns, its expected units NULL when they are cached at its version."""
    table = db.periods
    units = _EXPECTED_UNITS.unless_cached(
        session,
        table.c.period_id,
        table.c.version,
        table.c.expected_units,
        keys=None if period_id is None else (period_id,),
    )
    return [*_PERIOD_HEADER, units]


async def _periods(session: AsyncSession, query: Any) -> list[PeriodInfo]:
    """The periods a query of `_period_columns` selects: expected units parsed (and cached)
    when the row has them, else from the cache."""
    periods = []
    for row in (await session.execute(query)).all():
        if row.expected_units is not None:
            units = _expected_units(row.expected_units)
            _EXPECTED_UNITS.put(session, row.period_id, row.version, units)
            periods.append(period_from_row(row, units))
        elif (cached := _EXPECTED_UNITS.get(session, row.period_id, row.version)) is not None:
            periods.append(period_from_row(row, cached))
        else:  # dropped from the cache since the statement was built: read the row again
            query = select(db.periods).where(db.periods.c.period_id == row.period_id)
            full = (await session.execute(query)).first()
            if full is not None:
                periods.append(period_from_row(full))
    return periods


async def load_period(
    session: AsyncSession, period_id: str, *, for_update: bool = False
) -> PeriodInfo | None:
    """A period, if its event has arrived (locked for the transaction when asked)."""
    columns = _period_columns(session, period_id)
    query = select(*columns).where(db.periods.c.period_id == period_id)
    found = await _periods(session, query.with_for_update() if for_update else query)
    return found[0] if found else None


async def all_periods(session: AsyncSession) -> list[PeriodInfo]:
    """Every known period, newest deadline first."""
    query = select(*_period_columns(session)).order_by(db.periods.c.due_at.desc())
    return await _periods(session, query)


async def save_period(session: AsyncSession, period: PeriodInfo, *, exists: bool) -> None:
    """Insert or replace a period (its revision counter is kept)."""
    values = period_values(period)
    if exists:
        await session.execute(
            update(db.periods).where(db.periods.c.period_id == period.period_id).values(**values)
        )
    else:
        await session.execute(db.periods.insert().values(**values))


def _count_revisions(where: ColumnElement[bool]) -> Any:
    """Count one more snapshot in `period_progress` (the small row the event already locked;
    the `periods` row holds the expected set and is never rewritten for it), returning
    the period id, the new revision and the period's title."""
    title = (
        select(db.periods.c.title)
        .where(db.periods.c.period_id == db.period_progress.c.period_id)
        .scalar_subquery()
    )
    return (
        update(db.period_progress)
        .where(where)
        .values(revision=db.period_progress.c.revision + 1)
        .returning(
            db.period_progress.c.period_id, db.period_progress.c.revision, title.label("title")
        )
    )


async def next_revision(session: AsyncSession, period_id: str) -> tuple[int, str]:
    """Count one more published snapshot of the period; its number and the period's title."""
    where = db.period_progress.c.period_id == period_id
    row = (await session.execute(_count_revisions(where))).one()
    return int(row.revision), str(row.title)


async def load_report(session: AsyncSession, report_id: str) -> ReportRecord | None:
    """One report record, locked for the transaction (PostgreSQL; SQLite has one writer)."""
    query = select(db.reports).where(db.reports.c.report_id == report_id).with_for_update()
    row = (await session.execute(query)).first()
    return report_from_row(row) if row else None


async def load_reports(session: AsyncSession, report_ids: Iterable[str]) -> dict[str, ReportRecord]:
    """Report records by id, locked for the transaction (a batch's `load_report`)."""
    ids = sorted(set(report_ids))
    if not ids:
        return {}
    query = select(db.reports).where(db.reports.c.report_id.in_(ids)).with_for_update()
    return {r.report_id: report_from_row(r) for r in (await session.execute(query)).all()}


async def save_reports(
    session: AsyncSession, records: Iterable[ReportRecord], *, existing: set[str]
) -> None:
    """Insert the new records and replace the existing ones, one statement each."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for record in records:
        values = report_values(record)
        if record.report_id in existing:
            values["b_report_id"] = values.pop("report_id")
            updates.append(values)
        else:
            inserts.append(values)
    if inserts:
        await session.execute(db.reports.insert(), inserts)
    if updates:
        await session.execute(
            update(db.reports).where(db.reports.c.report_id == bindparam("b_report_id")),
            updates,
        )


async def save_report(session: AsyncSession, record: ReportRecord, *, exists: bool) -> None:
    """Insert or replace a report record."""
    values = report_values(record)
    if exists:
        await session.execute(
            update(db.reports).where(db.reports.c.report_id == record.report_id).values(**values)
        )
    else:
        await session.execute(db.reports.insert().values(**values))


async def period_reports(
    session: AsyncSession, period_id: str, *, with_content: bool
) -> list[ReportRecord]:
    """Every report record of a period; without content for completeness alone."""
    columns = list(db.reports.c) if with_content else _STATUS_COLUMNS
    rows = (
        await session.execute(
            select(*columns)
            .where(db.reports.c.period_id == period_id)
            .order_by(db.reports.c.report_id)
        )
    ).all()
    return [report_from_row(r) for r in rows]


async def unit_reports(
    session: AsyncSession, period_id: str, unit_code: str, *, with_content: bool = False
) -> list[ReportRecord]:
    """A unit's report records in a period, without content unless asked (usually one)."""
    columns = list(db.reports.c) if with_content else _STATUS_COLUMNS
    rows = (
        await session.execute(
            select(*columns)
            .where(db.reports.c.period_id == period_id, db.reports.c.unit_code == unit_code)
            .order_by(db.reports.c.report_id)
        )
    ).all()
    return [report_from_row(r) for r in rows]


async def units_reports(
    session: AsyncSession, units: dict[str, set[str]]
) -> dict[tuple[str, str], list[ReportRecord]]:
    """Several units' report records, by (period, unit), without content (a batch's
    `unit_reports`): one query for every period of the batch."""
    found: dict[tuple[str, str], list[ReportRecord]] = {
        (p, code): [] for p, codes in units.items() for code in codes
    }
    if not found:
        return found
    rows = (
        await session.execute(
            select(*_STATUS_COLUMNS)
            .where(
                db.reports.c.period_id.in_(sorted(units)),
                db.reports.c.unit_code.in_(sorted({c for codes in units.values() for c in codes})),
            )
            .order_by(db.reports.c.report_id)
        )
    ).all()
    for row in rows:
        key = (row.period_id, row.unit_code)
        if key in found:
            found[key].append(report_from_row(row))
    return found


async def load_difficulty(session: AsyncSession, difficulty_id: str) -> DifficultyRecord | None:
    """One difficulty, locked for the transaction."""
    query = select(db.difficulties).where(db.difficulties.c.difficulty_id == difficulty_id)
    row = (await session.execute(query.with_for_update())).first()
    return difficulty_from_row(row) if row else None


async def save_difficulty(session: AsyncSession, record: DifficultyRecord, *, exists: bool) -> None:
    """Insert or replace a difficulty."""
    values = difficulty_values(record)
    if exists:
        await session.execute(
            update(db.difficulties)
            .where(db.difficulties.c.difficulty_id == record.difficulty_id)
            .values(**values)
        )
    else:
        await session.execute(db.difficulties.insert().values(**values))


async def period_difficulties(session: AsyncSession, period_id: str) -> list[DifficultyRecord]:
    """Every difficulty raised in a period."""
    rows = (
        await session.execute(
            select(db.difficulties)
            .where(db.difficulties.c.period_id == period_id)
            .order_by(db.difficulties.c.difficulty_id)
        )
    ).all()
    return [difficulty_from_row(r) for r in rows]


async def periods_with_difficulties_of(session: AsyncSession, unit_code: str) -> list[str]:
    """The periods a unit raised difficulties in (their summaries name the unit)."""
    rows = await session.scalars(
        select(db.difficulties.c.period_id)
        .where(db.difficulties.c.unit_code == unit_code)
        .distinct()
        .order_by(db.difficulties.c.period_id)
    )
    return list(rows)


async def save_unit(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a unit unless a newer or equal version is already held; True when stored."""
    return await upsert_newer(session, db.units, "unit_id", values)


async def unit_names(session: AsyncSession) -> dict[str, str]:
    """The newest name of every unit code (for units outside a period's expected set)."""
    rows = (
        await session.execute(
            select(db.units.c.code, db.units.c.name).order_by(db.units.c.valid_from)
        )
    ).all()
    return {r.code: r.name for r in rows}


async def stage_period_header(
    session: AsyncSession, event: PeriodChangedV2
) -> PeriodChanged | None:
    """Stage a period version's header; the whole version once its parts are all here."""
    return await period_parts.on_header(session, db.period_parts, event)


async def stage_period_part(
    session: AsyncSession, event: PeriodExpectedUnits
) -> PeriodChanged | None:
    """Stage a part of a period version's expected set; the whole version once complete."""
    return await period_parts.on_part(session, db.period_parts, event)


async def clear_projections(session: AsyncSession) -> None:
    """Empty every projection, the staged period parts and the processed-event claims, for
    a rebuild."""
    for table in (*db.PROJECTIONS, db.period_parts, db.processed_events):
        await session.execute(delete(table))


def _progress_from_row(row: Row[Any]) -> PeriodProgress:
    return PeriodProgress(
        period_id=row.period_id,
        period_version=row.period_version,
        counters=Counters(**{name: getattr(row, name) for name in _COUNTER_FIELDS}),
    )


_COUNTER_FIELDS = tuple(f.name for f in fields(Counters))


def _counter_values(counters: Counters) -> dict[str, int]:
    return asdict(counters)


async def lock_progress(session: AsyncSession, period_id: str) -> PeriodProgress:
    """The period's counters, locked for the transaction; created (zero) when absent.

    Every event of a period takes this lock before reading anything else of the period,
    so each reads what the one before it committed (PostgreSQL; SQLite has one writer).
    """
    query = select(db.period_progress).where(db.period_progress.c.period_id == period_id)
    row = (await session.execute(query.with_for_update())).first()
    if row is None:
        # Two replicas may both find no row: one insert wins, the other waits for its
        # commit and inserts nothing, then both lock the same row.
        values = {"period_id": period_id, "period_version": None, **_counter_values(Counters())}
        await session.execute(
            dialect_insert(session, db.period_progress).values(**values).on_conflict_do_nothing()
        )
        row = (await session.execute(query.with_for_update())).one()
    return _progress_from_row(row)


async def load_progress(session: AsyncSession, period_id: str) -> PeriodProgress | None:
    """The period's stored counters, without locking (tests, diagnostics)."""
    query = select(db.period_progress).where(db.period_progress.c.period_id == period_id)
    row = (await session.execute(query)).first()
    return _progress_from_row(row) if row else None


async def save_counters(
    session: AsyncSession, period_id: str, counters: Counters, *, period_version: int | None = None
) -> None:
    """Store the period's counters (and the period version they now match, when given)."""
    values: dict[str, Any] = _counter_values(counters)
    if period_version is not None:
        values["period_version"] = period_version
    await session.execute(
        update(db.period_progress)
        .where(db.period_progress.c.period_id == period_id)
        .values(**values)
    )


async def load_standing(session: AsyncSession, period_id: str, unit_code: str) -> Standing | None:
    """An expected unit's standing; None when the unit is not expected in the period."""
    row = (
        await session.execute(
            select(
                db.unit_progress.c.state,
                db.unit_progress.c.on_time,
                db.unit_progress.c.report_id,
                db.unit_progress.c.withdrawn_report_id,
            ).where(
                db.unit_progress.c.period_id == period_id,
                db.unit_progress.c.unit_code == unit_code,
            )
        )
    ).first()
    return _standing(row) if row is not None else None


async def load_standings(
    session: AsyncSession, units: dict[str, set[str]]
) -> dict[tuple[str, str], Standing]:
    """The standings, by (period, unit), of those of the units expected in their period."""
    codes = sorted({c for unit_codes in units.values() for c in unit_codes})
    if not codes:
        return {}
    rows = (
        await session.execute(
            select(
                db.unit_progress.c.period_id,
                db.unit_progress.c.unit_code,
                db.unit_progress.c.state,
                db.unit_progress.c.on_time,
                db.unit_progress.c.report_id,
                db.unit_progress.c.withdrawn_report_id,
            ).where(
                db.unit_progress.c.period_id.in_(sorted(units)),
                db.unit_progress.c.unit_code.in_(codes),
            )
        )
    ).all()
    return {
        (row.period_id, row.unit_code): _standing(row)
        for row in rows
        if row.unit_code in units.get(row.period_id, ())
    }


async def save_standings(session: AsyncSession, standings: dict[tuple[str, str], Standing]) -> None:
    """Store several expected units' new standings, by (period, unit), in one statement."""
    if not standings:
        return
    await session.execute(
        update(db.unit_progress).where(
            db.unit_progress.c.period_id == bindparam("b_period_id"),
            db.unit_progress.c.unit_code == bindparam("b_unit_code"),
        ),
        [
            {"b_period_id": period_id, "b_unit_code": code, **_standing_values(standing)}
            for (period_id, code), standing in standings.items()
        ],
    )


async def save_many_counters(session: AsyncSession, counters: dict[str, Counters]) -> None:
    """Store several periods' counters in one statement."""
    if not counters:
        return
    await session.execute(
        update(db.period_progress).where(
            db.period_progress.c.period_id == bindparam("b_period_id")
        ),
        [{"b_period_id": p, **_counter_values(c)} for p, c in counters.items()],
    )


async def lock_many_progress(
    session: AsyncSession, period_ids: Iterable[str]
) -> dict[str, PeriodProgress]:
    """`lock_progress` for several periods at once, locked in period order."""
    ids = sorted(set(period_ids))
    if not ids:
        return {}
    query = (
        select(db.period_progress)
        .where(db.period_progress.c.period_id.in_(ids))
        .order_by(db.period_progress.c.period_id)
        .with_for_update()
    )
    found = {r.period_id: _progress_from_row(r) for r in (await session.execute(query)).all()}
    absent = [p for p in ids if p not in found]
    if absent:
        zero = _counter_values(Counters())
        await session.execute(
            dialect_insert(session, db.period_progress).on_conflict_do_nothing(),
            [{"period_id": p, "period_version": None, **zero} for p in absent],
        )
        again = query.where(db.period_progress.c.period_id.in_(absent))
        found.update(
            {r.period_id: _progress_from_row(r) for r in (await session.execute(again)).all()}
        )
    return found


# The commit topic of a transaction that moved answers' stamps (`shared.db.notify_on_commit`).
ANSWERS_MOVED = "consolidation.answers_moved"


async def move_stamps(session: AsyncSession, period_ids: Iterable[str] | None = None) -> None:
    """Give the periods (every period when None) a new answers' stamp, in the caller's
    transaction: one statement, whatever the number of periods (`db.period_progress`).

    Every period is locked in period order first, as `lock_many_progress` does, so a unit
    event moving them all never deadlocks with a batch holding some of them. The commit
    wakes the process's `AnswerRefresher` (`ANSWERS_MOVED`)."""
    notify_on_commit(session, ANSWERS_MOVED)
    if period_ids is None:
        await session.execute(
            select(db.period_progress.c.period_id)
            .order_by(db.period_progress.c.period_id)
            .with_for_update()
        )
        where: Any = true()
    else:
        ids = sorted(set(period_ids))
        if not ids:
            return
        where = db.period_progress.c.period_id.in_(ids)
    await session.execute(update(db.period_progress).where(where).values(stamp=db.new_stamp()))


async def answer_stamps(session: AsyncSession, period_ids: Iterable[str]) -> dict[str, str]:
    """The periods' answers' stamps (a period without a counter row has none): one indexed
    read of at most a few rows."""
    ids = sorted(set(period_ids))
    rows = await session.execute(
        select(db.period_progress.c.period_id, db.period_progress.c.stamp).where(
            db.period_progress.c.period_id.in_(ids)
        )
    )
    return {r.period_id: r.stamp for r in rows.all()}


async def every_answer_stamp(session: AsyncSession) -> dict[str, str]:
    """Every period's answers' stamp (a few rows: one per period)."""
    rows = await session.execute(select(db.period_progress.c.period_id, db.period_progress.c.stamp))
    return {r.period_id: r.stamp for r in rows.all()}


async def lock_every_progress(session: AsyncSession, *, also: str) -> None:
    """Lock every period's counter row in period order (`also`'s created when absent), as
    a batch locks its periods: for an event that changes what other periods' answers are
    made of (a new period can be another's year-earlier comparison)."""
    known = await session.scalars(select(db.period_progress.c.period_id))
    await lock_many_progress(session, {also, *known})


async def next_revisions(
    session: AsyncSession, period_ids: Iterable[str]
) -> dict[str, tuple[int, str]]:
    """`next_revision` for several periods in one statement."""
    ids = sorted(set(period_ids))
    if not ids:
        return {}
    rows = (await session.execute(_count_revisions(db.period_progress.c.period_id.in_(ids)))).all()
    return {r.period_id: (int(r.revision), str(r.title)) for r in rows}


async def missing_units_of(
    session: AsyncSession, period_ids: Iterable[str], *, limit: int
) -> dict[str, list[str]]:
    """`missing_unit_codes` for several periods in one query."""
    ids = sorted(set(period_ids))
    found: dict[str, list[str]] = {p: [] for p in ids}
    if not ids:
        return found
    u = db.unit_progress
    ranked = (
        select(
            u.c.period_id,
            u.c.unit_code,
            u.c.registry_order,
            func.row_number()
            .over(partition_by=u.c.period_id, order_by=u.c.registry_order)
            .label("n"),
        )
        .where(u.c.period_id.in_(ids), u.c.state == "missing")
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.period_id, ranked.c.unit_code)
        .where(ranked.c.n <= limit)
        .order_by(ranked.c.period_id, ranked.c.registry_order)
    )
    for period_id, code in rows.all():
        found[period_id].append(code)
    return found


def _standing(row: Any) -> Standing:
    return Standing(
        state=row.state,
        on_time=row.on_time,
        report_id=row.report_id,
        withdrawn_report_id=row.withdrawn_report_id,
    )


def _standing_values(standing: Standing) -> dict[str, Any]:
    return {
        "state": standing.state,
        "on_time": standing.on_time,
        "report_id": standing.report_id,
        "withdrawn_report_id": standing.withdrawn_report_id,
    }


async def save_standing(
    session: AsyncSession, period_id: str, unit_code: str, standing: Standing
) -> None:
    """Store an expected unit's new standing."""
    await session.execute(
        update(db.unit_progress)
        .where(db.unit_progress.c.period_id == period_id, db.unit_progress.c.unit_code == unit_code)
        .values(**_standing_values(standing))
    )


async def replace_standings(
    session: AsyncSession, period_id: str, standings: tuple[tuple[str, Standing], ...]
) -> None:
    """Replace the standings of a period's expected units (given in registry order)."""
    await session.execute(delete(db.unit_progress).where(db.unit_progress.c.period_id == period_id))
    if standings:
        await session.execute(
            db.unit_progress.insert(),
            [
                {
                    "period_id": period_id,
                    "unit_code": code,
                    "registry_order": order,
                    **_standing_values(s),
                }
                for order, (code, s) in enumerate(standings)
            ],
        )


async def period_standings(session: AsyncSession, period_id: str) -> list[tuple[str, Standing]]:
    """Every expected unit's stored standing in registry order (tests, diagnostics)."""
    rows = (
        await session.execute(
            select(db.unit_progress)
            .where(db.unit_progress.c.period_id == period_id)
            .order_by(db.unit_progress.c.registry_order)
        )
    ).all()
    return [(r.unit_code, _standing(r)) for r in rows]


async def missing_unit_codes(session: AsyncSession, period_id: str, *, limit: int) -> list[str]:
    """The first `limit` expected units without a current report, in registry order."""
    rows = await session.scalars(
        select(db.unit_progress.c.unit_code)
        .where(db.unit_progress.c.period_id == period_id, db.unit_progress.c.state == "missing")
        .order_by(db.unit_progress.c.registry_order)
        .limit(limit)
    )
    return list(rows)


# --- completeness, read from the counters -------------------------------------------------

_current = db.reports.alias("current_report")
_withdrawn = db.reports.alias("withdrawn_report")


async def stored_completeness(
    session: AsyncSession, period_ids: Iterable[str] | None = None
) -> tuple[dict[str, PeriodProgress], dict[str, dict[str, StoredStanding]]]:
    """The counters and every expected unit's standing (with the facts of the reports the
    standings name) of the given periods, or of every period: two statements, whatever the
    number of periods or units."""
    progress_query = select(db.period_progress)
    standings_query = (
        select(
            db.unit_progress,
            _current.c.version.label("current_version"),
            _current.c.submitted_at.label("current_submitted_at"),
            _current.c.first_submitted_at.label("current_first_submitted_at"),
            _withdrawn.c.version.label("withdrawn_version"),
            _withdrawn.c.submitted_at.label("withdrawn_submitted_at"),
            _withdrawn.c.first_submitted_at.label("withdrawn_first_submitted_at"),
            _withdrawn.c.withdrawn_at.label("withdrawn_at"),
        )
        .outerjoin(_current, _current.c.report_id == db.unit_progress.c.report_id)
        .outerjoin(_withdrawn, _withdrawn.c.report_id == db.unit_progress.c.withdrawn_report_id)
        .order_by(db.unit_progress.c.period_id, db.unit_progress.c.registry_order)
    )
    if period_ids is not None:
        ids = list(period_ids)
        progress_query = progress_query.where(db.period_progress.c.period_id.in_(ids))
        standings_query = standings_query.where(db.unit_progress.c.period_id.in_(ids))
    progress = {
        row.period_id: _progress_from_row(row)
        for row in (await session.execute(progress_query)).all()
    }
    standings: dict[str, dict[str, StoredStanding]] = {}
    for row in (await session.execute(standings_query)).all():
        standings.setdefault(row.period_id, {})[row.unit_code] = StoredStanding(
            code=row.unit_code,
            standing=_standing(row),
            report=(
                ReportFacts(
                    report_id=row.report_id,
                    version=row.current_version,
                    submitted_at=row.current_submitted_at,
                    first_submitted_at=row.current_first_submitted_at,
                )
                if row.report_id
                else None
            ),
            withdrawn=(
                ReportFacts(
                    report_id=row.withdrawn_report_id,
                    version=row.withdrawn_version,
                    submitted_at=row.withdrawn_submitted_at,
                    first_submitted_at=row.withdrawn_first_submitted_at,
                    withdrawn_at=row.withdrawn_at,
                )
                if row.withdrawn_report_id
                else None
            ),
        )
    return progress, standings


# --- the town report's draft and the picked excerpts --------------------------------------


def _draft_values(state: DraftState) -> dict[str, Any]:
    return {
        "period_id": state.period_id,
        "version": state.version,
        "saved_at": state.saved_at,
        "saved_by": state.saved_by,
        "saved_by_name": state.saved_by_name,
        "parts": [p.model_dump(mode="json") for p in state.parts],
        "reports": [r.model_dump(mode="json") for r in state.reports],
    }


async def load_draft(session: AsyncSession, period_id: str) -> DraftState | None:
    """The period's draft as last saved; None until someone saves it."""
    row = (
        await session.execute(select(db.drafts).where(db.drafts.c.period_id == period_id))
    ).first()
    if row is None:
        return None
    return DraftState.model_validate(
        {
            "period_id": row.period_id,
            "version": row.version,
            "saved_at": row.saved_at,
            "saved_by": row.saved_by,
            "saved_by_name": row.saved_by_name,
            "parts": row.parts,
            "reports": row.reports,
        }
    )


async def write_draft(session: AsyncSession, state: DraftState, *, over_version: int) -> bool:
    """Store a save made over `over_version` (0: the first save), and its history line;
    False, writing nothing, when the stored draft is no longer at that version (somebody
    saved in between). Safe between replicas: the check and the write are one statement."""
    values = _draft_values(state)
    if over_version == 0:
        statement = (
            dialect_insert(session, db.drafts)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(db.drafts.c.period_id)
        )
    else:
        statement = (
            update(db.drafts)
            .where(db.drafts.c.period_id == state.period_id, db.drafts.c.version == over_version)
            .values(**values)
            .returning(db.drafts.c.period_id)
        )
    if (await session.execute(statement)).first() is None:
        return False
    await _record_save(session, state)
    return True


async def upsert_draft(session: AsyncSession, state: DraftState) -> bool:
    """Store a saved draft unless a newer or equal version is held (the projector)."""
    written = await upsert_newer(session, db.drafts, "period_id", _draft_values(state))
    await _record_save(session, state)
    return written


async def _record_save(session: AsyncSession, state: DraftState) -> None:
    await session.execute(
        dialect_insert(session, db.draft_saves)
        .values(
            period_id=state.period_id,
            version=state.version,
            saved_at=state.saved_at,
            saved_by=state.saved_by,
            saved_by_name=state.saved_by_name,
        )
        .on_conflict_do_nothing()
    )


async def draft_saves(session: AsyncSession, period_id: str, *, limit: int) -> list[Row[Any]]:
    """Who saved which version of the period's draft when, newest first."""
    rows = await session.execute(
        select(db.draft_saves)
        .where(db.draft_saves.c.period_id == period_id)
        .order_by(db.draft_saves.c.version.desc())
        .limit(limit)
    )
    return list(rows.all())


def _highlight_values(picked: HighlightSet) -> dict[str, Any]:
    return {
        "period_id": picked.period_id,
        "version": picked.version,
        "highlights": [h.model_dump(mode="json") for h in picked.highlights],
        "changed_by": picked.changed_by,
        "changed_at": picked.changed_at,
    }


async def load_highlights(session: AsyncSession, period_id: str) -> HighlightSet | None:
    """The excerpts picked in a period; None until the first is picked."""
    row = (
        await session.execute(select(db.highlights).where(db.highlights.c.period_id == period_id))
    ).first()
    if row is None:
        return None
    return HighlightSet.model_validate(
        {
            "period_id": row.period_id,
            "version": row.version,
            "highlights": row.highlights,
            "changed_by": row.changed_by,
            "changed_at": row.changed_at,
        }
    )


async def write_highlights(
    session: AsyncSession, picked: HighlightSet, *, over_version: int
) -> bool:
    """Store a change of the picked set made over `over_version` (0: none picked yet);
    False, writing nothing, when another change came in between."""
    values = _highlight_values(picked)
    if over_version == 0:
        statement = (
            dialect_insert(session, db.highlights)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(db.highlights.c.period_id)
        )
    else:
        statement = (
            update(db.highlights)
            .where(
                db.highlights.c.period_id == picked.period_id,
                db.highlights.c.version == over_version,
            )
            .values(**values)
            .returning(db.highlights.c.period_id)
        )
    return (await session.execute(statement)).first() is not None


async def upsert_highlights(session: AsyncSession, picked: HighlightSet) -> bool:
    """Store a picked set unless a newer or equal version is held (the projector)."""
    return await upsert_newer(session, db.highlights, "period_id", _highlight_values(picked))
