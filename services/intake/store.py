"""Intake's data access: every query, and the only place that opens database sessions.

Use cases open their unit of work with `reading(sessions)` (queries only) or
`transaction(sessions)` (committed when the block ends, rolled back if it raises) and pass
the session to the functions below. Tables are defined in `db.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake import db
from services.intake.domain import ExpectedUnits, Period, Report
from shared import period_parts
from shared.contracts.envelope import Envelope
from shared.contracts.registry import (
    ExpectedUnit,
    Leader,
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    PeriodState,
    UnitState,
)
from shared.db import dialect_insert, insert_into, upsert_newer
from shared.idempotency import Answer, IdempotentRequest, remember, replay, stored_answer
from shared.messaging.outbox import add_event
from shared.versioned import VersionedCache

Sessions = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def reading(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session for queries; nothing it does is committed."""
    async with sessions() as session:
        yield session


@asynccontextmanager
async def transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session in one transaction, committed when the block ends (rolled back on error)."""
    async with sessions() as session, session.begin():
        yield session


# --- the registry's projection -----------------------------------------------------------


async def upsert_unit(session: AsyncSession, unit: UnitState) -> None:
    """Keep the newest version of a unit."""
    await upsert_newer(
        session,
        db.units,
        "unit_id",
        {
            "unit_id": unit.unit_id,
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "tags": list(unit.tags),
            "must_report": unit.must_report,
            "valid_from": unit.valid_from,
            "valid_to": unit.valid_to,
            "version": unit.version,
            "leader": unit.leader.model_dump(mode="json") if unit.leader else None,
        },
    )


async def latest_unit_row(session: AsyncSession, unit_code: str) -> Any:
    """The unit's latest record (the one valid from the latest date), or None."""
    query = (
        select(db.units)
        .where(db.units.c.code == unit_code)
        .order_by(db.units.c.valid_from.desc(), db.units.c.version.desc())
        .limit(1)
    )
    return (await session.execute(query)).first()


async def unit_leader(session: AsyncSession, unit_code: str) -> Leader | None:
    """The leader in charge the registry holds for the unit now (its latest record)."""
    row = await latest_unit_row(session, unit_code)
    return Leader.model_validate(row.leader) if row is not None and row.leader else None


async def upsert_period(session: AsyncSession, period: PeriodState) -> None:
    """Keep the newest version of a period with its expected units."""
    await upsert_newer(
        session,
        db.periods,
        "period_id",
        {
            "period_id": period.period_id,
            "kind": period.kind,
            "title": period.title,
            "form_id": period.form_id,
            "form_version": period.form_version,
            "window_start": period.window_start,
            "window_end": period.window_end,
            "due_at": period.due_at,
            "status": period.status,
            "content": period.content,
            "expected_units": [u.model_dump(mode="json") for u in period.expected_units],
            "version": period.version,
            "year": period.year,
        },
    )


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


def _expected_units(value: Any) -> ExpectedUnits:
    return ExpectedUnits(ExpectedUnit.model_validate(u) for u in value or ())


def period_from_row(row: Any, expected_units: ExpectedUnits | None = None) -> Period:
    """A period row as the domain's value (its expected units parsed from the row unless
    given)."""
    return Period(
        period_id=row.period_id,
        kind=row.kind,
        title=row.title,
        form_id=row.form_id,
        form_version=row.form_version,
        due_at=row.due_at,
        status=row.status,
        expected_units=(
            expected_units if expected_units is not None else _expected_units(row.expected_units)
        ),
        version=row.version,
        year=row.year,
    )


# A period's expected units parsed once per version (up to ~10,000 entries: decoding and
# parsing them was most of a submission's cost at that scale); the rest of the row is read
# each time.
_EXPECTED_UNITS: VersionedCache[ExpectedUnits] = VersionedCache(size=32)
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


async def _period_of(session: AsyncSession, row: Any) -> Period | None:
    """The period of a row of `_period_columns`: its expected units parsed (and cached)
    when the row has them, else from the cache."""
    if row.expected_units is not None:
        units = _expected_units(row.expected_units)
        _EXPECTED_UNITS.put(session, row.period_id, row.version, units)
        return period_from_row(row, units)
    cached = _EXPECTED_UNITS.get(session, row.period_id, row.version)
    if cached is not None:
        return period_from_row(row, cached)
    # Dropped from the cache since the statement was built: read the whole row again.
    full = await find_period_row(session, row.period_id)
    return period_from_row(full) if full is not None else None


async def _periods(session: AsyncSession, query: Any) -> list[tuple[Any, Period]]:
    """The periods a query of `_period_columns` selects, with their rows."""
    found = []
    for row in (await session.execute(query)).all():
        period = await _period_of(session, row)
        if period is not None:
            found.append((row, period))
    return found


_PERIOD_NAMES = [*(c.key for c in _PERIOD_HEADER), "expected_units"]
# The amendment's read, built once per set of cached period versions and per keyed/unkeyed
# (bind parameters for the report and the key): SQLAlchemy then neither builds the
# statement nor its cache key again on each request.
_REPORT_WITH_PERIOD: dict[tuple[frozenset[tuple[Any, int]], bool], Any] = {}


def _report_with_period_query(known: frozenset[tuple[Any, int]], keyed: bool) -> Any:
    found = _REPORT_WITH_PERIOD.get((known, keyed))
    if found is not None:
        return found
    reports, periods, units, keys = db.reports, db.periods, db.units, db.idempotency_keys
    drafts, difficulties = db.drafts, db.difficulties
    leader = (
        select(units.c.leader)
        .where(units.c.code == reports.c.unit_code)
        .order_by(units.c.valid_from.desc(), units.c.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    # Whether the unit has a draft for the period (the amendment removes it), and the
    # digests of the difficulties the report raised (a new version raises only new ones).
    has_draft = (
        select(drafts.c.unit_code)
        .where(drafts.c.period_id == reports.c.period_id, drafts.c.unit_code == reports.c.unit_code)
        .exists()
    )
    raised = (
        select(func.aggregate_strings(difficulties.c.text_sha256, ","))
        .where(difficulties.c.report_id == reports.c.report_id)
        .scalar_subquery()
    )
    expected = VersionedCache.unless_in(
        known, periods.c.period_id, periods.c.version, periods.c.expected_units
    )
    columns = [c.label(f"period__{c.key}") for c in [*_PERIOD_HEADER, expected]]
    query = (
        select(
            reports,
            *columns,
            leader.label("unit_leader"),
            has_draft.label("has_draft"),
            raised.label("raised_digests"),
        )
        .outerjoin(periods, periods.c.period_id == reports.c.period_id)
        .where(reports.c.report_id == bindparam("find_report_id"))
    )
    if keyed:
        # The stored answer of this caller's key, if any (at most one row: its primary key).
        query = query.add_columns(
            keys.c.fingerprint.label("idem__fingerprint"),
            keys.c.status_code.label("idem__status_code"),
            keys.c.response.label("idem__response"),
        ).outerjoin(
            keys,
            and_(keys.c.scope == bindparam("find_scope"), keys.c.key == bindparam("find_key")),
        )
    if len(_REPORT_WITH_PERIOD) >= 64:
        _REPORT_WITH_PERIOD.clear()
    _REPORT_WITH_PERIOD[(known, keyed)] = query
    return query


async def find_report_with_period(
    session: AsyncSession, report_id: str, request: IdempotentRequest | None = None
) -> tuple[Any, Period | None, Leader | None] | None:
    """The report's row, its period as projected (None when intake has not heard of it)
    and the leader the registry holds for its unit now, in one statement (the period's
    expected units read only when they are not cached); None when there is no such report.
    The row also says whether the unit has a draft for the period (`has_draft`) and
    carries the digests of the report's difficulties (`raised_in`). With `request`, it also
    carries the stored answer of its key, if any, for `replayed_in`."""
    query = _report_with_period_query(_EXPECTED_UNITS.cached(session), request is not None)
    params: dict[str, Any] = {"find_report_id": report_id}
    if request is not None:
        params.update(find_scope=request.scope, find_key=request.key)
    row = (await session.execute(query, params)).first()
    if row is None:
        return None
    on_record = Leader.model_validate(row.unit_leader) if row.unit_leader else None
    if row.period__period_id is None:
        return row, None, on_record
    names = _PERIOD_NAMES
    period_row = SimpleNamespace(**{name: getattr(row, f"period__{name}") for name in names})
    return row, await _period_of(session, period_row), on_record


async def find_period_row(session: AsyncSession, period_id: str) -> Any:
    """The period's row, or None."""
    query = select(db.periods).where(db.periods.c.period_id == period_id)
    return (await session.execute(query)).first()


async def all_periods(session: AsyncSession) -> list[Period]:
    """Every period intake knows (a few a year)."""
    query = select(*_period_columns(session)).order_by(db.periods.c.due_at)
    return [period for _, period in await _periods(session, query)]


async def find_period_and_row(session: AsyncSession, period_id: str) -> tuple[Any, Period] | None:
    """The period as projected with its row (its expected units' column NULL when they were
    cached), or None when intake has not heard of it."""
    columns = _period_columns(session, period_id)
    found = await _periods(session, select(*columns).where(db.periods.c.period_id == period_id))
    return found[0] if found else None


async def find_period(session: AsyncSession, period_id: str) -> Period | None:
    """The period as projected, or None when intake has not heard of it."""
    found = await find_period_and_row(session, period_id)
    return found[1] if found else None


# --- reports and their versions ----------------------------------------------------------


def report_from_row(row: Any) -> Report:
    """A report row as the domain's value."""
    return Report(
        report_id=row.report_id,
        period_id=row.period_id,
        unit_code=row.unit_code,
        status=row.status,
        version=row.version,
        first_submitted_at=row.first_submitted_at,
        on_time=row.on_time,
    )


async def find_report_row(session: AsyncSession, report_id: str) -> Any:
    """The report's row, or None."""
    query = select(db.reports).where(db.reports.c.report_id == report_id)
    return (await session.execute(query)).first()


async def find_report_for(session: AsyncSession, period_id: str, unit_code: str) -> Any:
    """The unit's report row for the period, or None."""
    query = select(db.reports).where(
        db.reports.c.period_id == period_id, db.reports.c.unit_code == unit_code
    )
    return (await session.execute(query)).first()


async def insert_report(
    session: AsyncSession, report: Report, *, unit_name: str, period: Period, now: datetime
) -> None:
    """The row of a report sent for the first time."""
    await session.execute(
        insert(db.reports).values(
            report_id=report.report_id,
            period_id=report.period_id,
            unit_code=report.unit_code,
            unit_name=unit_name,
            status=report.status,
            version=report.version,
            form_id=period.form_id,
            form_version=period.form_version,
            first_submitted_at=report.first_submitted_at,
            on_time=report.on_time,
            submitted_at=now,
        )
    )


_ADVANCE_REPORT = update(db.reports).where(
    db.reports.c.report_id == bindparam("where_report_id"),
    db.reports.c.version == bindparam("where_version"),
    db.reports.c.status == bindparam("where_status"),
)


async def advance_report(session: AsyncSession, report: Report, values: dict[str, Any]) -> bool:
    """Update the report only if nobody changed it since it was read (optimistic lock)."""
    result = await session.execute(
        _ADVANCE_REPORT,
        {
            **values,
            "where_report_id": report.report_id,
            "where_version": report.version,
            "where_status": report.status,
        },
    )
    return bool(getattr(result, "rowcount", 0))


async def list_report_rows(
    session: AsyncSession,
    *,
    period_id: str | None,
    unit_code: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[Any]:
    """Reports matching the filters, oldest first submission first."""
    query = select(db.reports)
    if period_id:
        query = query.where(db.reports.c.period_id == period_id)
    if unit_code:
        query = query.where(db.reports.c.unit_code == unit_code)
    if status:
        query = query.where(db.reports.c.status == status)
    query = query.order_by(db.reports.c.first_submitted_at, db.reports.c.report_id)
    return list((await session.execute(query.limit(limit).offset(offset))).all())


async def insert_version(
    session: AsyncSession,
    *,
    report_id: str,
    version: int,
    content: dict[str, Any],
    content_sha256: str,
    warnings: list[dict[str, Any]],
    submitted_at: datetime,
    submitted_by: str,
    leader_on_record: Leader | None = None,
    leader_changed: bool | None = None,
) -> None:
    """One sent version of a report, with its canonical content and, for forms with a leader
    check, the leader it was checked against and whether the unit reported a change."""
    await session.execute(
        insert_into(db.report_versions),
        {
            "report_id": report_id,
            "version": version,
            "content": content,
            "content_sha256": content_sha256,
            "warnings": warnings,
            "submitted_at": submitted_at,
            "submitted_by": submitted_by,
            "leader_on_record": (
                leader_on_record.model_dump(mode="json") if leader_on_record else None
            ),
            "leader_changed": leader_changed,
        },
    )


async def find_version_row(session: AsyncSession, report_id: str, version: int) -> Any:
    """One stored version, or None."""
    query = select(db.report_versions).where(
        db.report_versions.c.report_id == report_id, db.report_versions.c.version == version
    )
    return (await session.execute(query)).first()


async def version_rows(session: AsyncSession, report_id: str) -> list[Any]:
    """Every version of a report, oldest first."""
    query = (
        select(db.report_versions)
        .where(db.report_versions.c.report_id == report_id)
        .order_by(db.report_versions.c.version)
    )
    return list((await session.execute(query)).all())


async def leader_change_rows(session: AsyncSession, period_id: str | None) -> list[Any]:
    """Reports (not withdrawn) whose current version reports a change of leader, with that
    version's content and the leader it was checked against, in unit order of sending."""
    reports, versions = db.reports, db.report_versions
    query = (
        select(
            reports,
            versions.c.content,
            versions.c.leader_on_record,
            versions.c.leader_changed,
            versions.c.submitted_at.label("version_submitted_at"),
        )
        .join(
            versions,
            (versions.c.report_id == reports.c.report_id)
            & (versions.c.version == reports.c.version),
        )
        .where(versions.c.leader_changed.is_(True), reports.c.status != "withdrawn")
        .order_by(versions.c.submitted_at, reports.c.report_id)
    )
    if period_id:
        query = query.where(reports.c.period_id == period_id)
    return list((await session.execute(query)).all())


async def earlier_periodic_reports(
    session: AsyncSession, unit_code: str, before: datetime
) -> list[Any]:
    """The unit's reports (not withdrawn) for 6-month and annual periods due before `before`,
    with their period's kind, year, title and deadline; latest deadline first."""
    reports, periods = db.reports, db.periods
    query = (
        select(
            reports,
            periods.c.kind.label("period_kind"),
            periods.c.year.label("period_year"),
            periods.c.title.label("period_title"),
            periods.c.due_at.label("period_due_at"),
        )
        .join(periods, periods.c.period_id == reports.c.period_id)
        .where(
            reports.c.unit_code == unit_code,
            reports.c.status != "withdrawn",
            periods.c.kind.in_(("six_month", "annual")),
            periods.c.due_at < before,
        )
        .order_by(periods.c.due_at.desc())
    )
    return list((await session.execute(query)).all())


# --- drafts ----------------------------------------------------------------------------------


async def find_draft_row(session: AsyncSession, period_id: str, unit_code: str) -> Any:
    """The unit's draft for the period, or None."""
    table = db.drafts
    query = select(table).where(table.c.period_id == period_id, table.c.unit_code == unit_code)
    return (await session.execute(query)).first()


async def save_draft(
    session: AsyncSession,
    *,
    period_id: str,
    unit_code: str,
    content: dict[str, Any],
    saved_at: datetime,
    saved_by: str,
    prefilled_from: dict[str, Any] | None,
) -> None:
    """Write the unit's draft (the last save wins; `revision` counts the saves)."""
    table = db.drafts
    statement = dialect_insert(session, table).values(
        period_id=period_id,
        unit_code=unit_code,
        content=content,
        saved_at=saved_at,
        saved_by=saved_by,
        revision=1,
        prefilled_from=prefilled_from,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.period_id, table.c.unit_code],
        set_={
            "content": statement.excluded.content,
            "saved_at": statement.excluded.saved_at,
            "saved_by": statement.excluded.saved_by,
            "prefilled_from": statement.excluded.prefilled_from,
            "revision": table.c.revision + 1,
        },
    )
    await session.execute(statement)


_DELETE_DRAFT = delete(db.drafts).where(
    db.drafts.c.period_id == bindparam("period_id"),
    db.drafts.c.unit_code == bindparam("unit_code"),
)


async def delete_draft(session: AsyncSession, period_id: str, unit_code: str) -> None:
    """Remove the unit's draft (a version of the report was sent)."""
    await session.execute(_DELETE_DRAFT, {"period_id": period_id, "unit_code": unit_code})


# --- difficulties --------------------------------------------------------------------------


_RAISED_DIGESTS = select(db.difficulties.c.text_sha256).where(
    db.difficulties.c.report_id == bindparam("report_id")
)


def raised_in(row: Any) -> list[str]:
    """`raised_digests` for a row of `find_report_with_period`: read with the report (its
    difficulties are raised only by its versions, which the version check serialises)."""
    return row.raised_digests.split(",") if row.raised_digests else []


async def raised_digests(session: AsyncSession, report_id: str) -> list[str]:
    """Digests of the difficulties already raised for a report."""
    return list((await session.execute(_RAISED_DIGESTS, {"report_id": report_id})).scalars())


async def insert_difficulty(session: AsyncSession, **values: Any) -> None:
    """A new difficulty thread."""
    await session.execute(insert(db.difficulties).values(**values))


async def find_difficulty_row(session: AsyncSession, difficulty_id: str) -> Any:
    """One difficulty, or None."""
    query = select(db.difficulties).where(db.difficulties.c.difficulty_id == difficulty_id)
    return (await session.execute(query)).first()


async def answer_difficulty(
    session: AsyncSession, difficulty_id: str, *, answer: str, answered_by: str, at: datetime
) -> None:
    """Record Phòng Nội vụ's (latest) answer on the thread, which then waits for nobody."""
    await session.execute(
        update(db.difficulties)
        .where(db.difficulties.c.difficulty_id == difficulty_id)
        .values(answer=answer, answered_by=answered_by, answered_at=at, open_since=None)
    )


async def reopen_difficulty(session: AsyncSession, difficulty_id: str, at: datetime) -> None:
    """The unit wrote again: the thread waits for Phòng Nội vụ (since its earlier wait, if
    it was already waiting)."""
    table = db.difficulties
    await session.execute(
        update(table)
        .where(table.c.difficulty_id == difficulty_id, table.c.open_since.is_(None))
        .values(open_since=at)
    )


async def insert_message(session: AsyncSession, **values: Any) -> None:
    """One follow-up message on a thread."""
    await session.execute(insert(db.difficulty_messages).values(**values))


async def thread_messages(session: AsyncSession, difficulty_ids: list[str]) -> dict[str, list[Any]]:
    """The follow-up messages of these threads, each thread's in the order posted."""
    found: dict[str, list[Any]] = {d: [] for d in difficulty_ids}
    if not difficulty_ids:
        return found
    table = db.difficulty_messages
    query = select(table).where(table.c.difficulty_id.in_(difficulty_ids)).order_by(table.c.id)
    for row in (await session.execute(query)).all():
        found[row.difficulty_id].append(row)
    return found


async def list_difficulty_rows(
    session: AsyncSession,
    *,
    period_id: str | None,
    unit_code: str | None,
    report_id: str | None,
    answered: bool | None,
    waiting: bool | None = None,
    limit: int,
    offset: int,
) -> list[Any]:
    """Difficulties matching the filters, oldest first; `waiting`: for Phòng Nội vụ."""
    table = db.difficulties
    query = select(table)
    if period_id:
        query = query.where(table.c.period_id == period_id)
    if unit_code:
        query = query.where(table.c.unit_code == unit_code)
    if report_id:
        query = query.where(table.c.report_id == report_id)
    if answered is True:
        query = query.where(table.c.answered_at.is_not(None))
    elif answered is False:
        query = query.where(table.c.answered_at.is_(None))
    if waiting is True:
        query = query.where(table.c.open_since.is_not(None))
    elif waiting is False:
        query = query.where(table.c.open_since.is_(None))
    query = query.order_by(
        table.c.raised_at, table.c.report_id, table.c.raised_in_version, table.c.position
    )
    return list((await session.execute(query.limit(limit).offset(offset))).all())


# --- audit trail ------------------------------------------------------------------------------


async def record_audit(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    role: str,
    action: str,
    report_id: str | None = None,
    difficulty_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One line of the audit trail, in the same transaction as the change it records."""
    await session.execute(
        insert_into(db.audit_log),
        {
            "at": at,
            "actor": actor,
            "role": role,
            "action": action,
            "report_id": report_id,
            "difficulty_id": difficulty_id,
            "details": details or {},
        },
    )


async def audit_rows(session: AsyncSession, report_id: str) -> list[Any]:
    """The audit trail of a report (and its difficulties), oldest first."""
    log, threads = db.audit_log, db.difficulties
    thread_ids = select(threads.c.difficulty_id).where(threads.c.report_id == report_id)
    query = (
        select(log)
        .where((log.c.report_id == report_id) | log.c.difficulty_id.in_(thread_ids))
        .order_by(log.c.id)
    )
    return list((await session.execute(query)).all())


# --- attachments -----------------------------------------------------------------------------


async def insert_attachment(session: AsyncSession, **values: Any) -> None:
    """The metadata row of a stored file."""
    await session.execute(insert(db.attachments).values(**values))


async def attachment_rows(session: AsyncSession, report_id: str) -> list[Any]:
    """Attachments of a report, oldest first."""
    table = db.attachments
    query = select(table).where(table.c.report_id == report_id).order_by(table.c.id)
    return list((await session.execute(query)).all())


async def find_attachment_row(session: AsyncSession, attachment_id: str) -> Any:
    """One attachment, or None."""
    query = select(db.attachments).where(db.attachments.c.attachment_id == attachment_id)
    return (await session.execute(query)).first()


# --- events and idempotency ------------------------------------------------------------------


async def publish(session: AsyncSession, event: Envelope[Any]) -> None:
    """Queue an event in the outbox; it leaves only if the transaction commits."""
    await add_event(session, db.outbox, event)


async def replayed(session: AsyncSession, request: IdempotentRequest | None) -> Answer | None:
    """The first answer to a keyed request already made (422 if the key asked otherwise)."""
    if request is None:
        return None
    return await replay(session, db.idempotency_keys, request)


def replayed_in(row: Any, request: IdempotentRequest | None) -> Answer | None:
    """`replayed` for a row of `find_report_with_period(…, request)`: the key's stored
    answer was read with the report."""
    if request is None:
        return None
    return stored_answer(request, row.idem__fingerprint, row.idem__status_code, row.idem__response)


async def remember_answer(
    session: AsyncSession, request: IdempotentRequest | None, answer: Answer, now: datetime
) -> None:
    """Store the answer of a keyed request, before its effects (a twin fails on the key)."""
    if request is not None:
        await remember(session, db.idempotency_keys, request, answer, now)
