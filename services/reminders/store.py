"""All of the reminders service's data access, and the only place that opens sessions.

`RemindersStore.transaction()` and `.reading()` open a unit of work for the use cases, the
dispatcher and the scheduler; the event consumers get their session (with the inbox claim)
from `shared.messaging`. Every function below takes the session it runs in. Functions that
write at all start with the write, so SQLite takes its write lock first instead of failing
to upgrade a read.

- projections: units, periods (with their expected units) and each unit's report state;
- reminders and their deliveries: the durable record of what was (to be) sent;
- notifications: notices an event queued, until the dispatcher claims them;
- the outbox (events leave through `add_event`) and the scheduler's leadership lock.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, exists, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.reminders import db
from services.reminders.domain import (
    Notice,
    PeriodStatus,
    PeriodView,
    PlannedReminder,
    ReturnedForRevision,
    UnitState,
)
from services.reminders.domain.plan import ExpectedUnit, KnownUnit, PeriodPlan, reminder_title
from shared import period_parts
from shared.contracts.envelope import Envelope
from shared.contracts.registry import (
    Contacts,
    Leader,
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
)
from shared.db import Database, dialect_insert, insert_into, upsert_newer
from shared.errors import NotFound
from shared.messaging.outbox import add_event as add_outbox_event
from shared.versioned import VersionedCache

log = logging.getLogger(__name__)

PENDING = "pending"
"""A delivery being sent, or a notice waiting to be claimed."""
NOTICE_CLAIMED = "claimed"
NOTICE_SUPERSEDED = "superseded"

LOCK_KEY = zlib.crc32(b"danvan.reminders.scheduler") & 0x7FFFFFFF


class RemindersStore:
    """Opens the units of work over the service's database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed when the block ends (rolled back on error)."""
        async with self._database.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing it does is committed."""
        async with self._database.sessions() as session:
            yield session

    def scheduler_lock(self) -> SchedulerLock:
        """Leadership of the scheduler: an advisory lock on PostgreSQL, always ours on SQLite."""
        if self._database.is_postgres:
            return PostgresAdvisoryLock(self._database.engine)
        return LocalLock()


async def add_event(session: AsyncSession, event: Envelope[Any]) -> None:
    """Write an event to the outbox in the session's transaction (the relay publishes it)."""
    await add_outbox_event(session, db.outbox, event)


# --- projections: units ------------------------------------------------------------------


async def upsert_unit(session: AsyncSession, unit_id: str, values: dict[str, Any]) -> None:
    """Store the unit's description unless a newer version is stored."""
    await upsert_newer(session, db.units, "unit_id", {"unit_id": unit_id, **values})


async def known_units(session: AsyncSession, codes: Iterable[str]) -> dict[str, KnownUnit]:
    """The current description of each unit code the registry has published."""
    query = select(db.units).where(db.units.c.code.in_(list(codes)))
    rows = (await session.execute(query)).all()
    newest: dict[str, Row[Any]] = {}
    for r in rows:
        # A code can be reused after a merger; the version still in force is the current one.
        current = newest.get(r.code)
        if current is None or (r.valid_to is None, r.valid_from) > (
            current.valid_to is None,
            current.valid_from,
        ):
            newest[r.code] = r
    return {
        code: KnownUnit(
            code=code,
            name=r.name,
            leader=Leader.model_validate(r.leader) if r.leader else None,
            contacts=Contacts.model_validate(r.contacts or {}),
        )
        for code, r in newest.items()
    }


# --- projections: periods ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredPeriodVersion:
    """The stored period's version and when this service first saw it open."""

    version: int
    opened_at: datetime | None


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


async def period_version(session: AsyncSession, period_id: str) -> StoredPeriodVersion | None:
    """The stored period's version and opening, if its event has arrived."""
    table = db.periods
    row = (
        await session.execute(
            select(table.c.version, table.c.opened_at).where(table.c.period_id == period_id)
        )
    ).first()
    return None if row is None else StoredPeriodVersion(int(row.version), row.opened_at)


async def save_period(
    session: AsyncSession, period_id: str, values: dict[str, Any], *, exists_: bool
) -> None:
    """Insert the period, or replace the stored one."""
    table = db.periods
    if not exists_:
        await session.execute(insert(table).values(period_id=period_id, **values))
    else:
        await session.execute(update(table).where(table.c.period_id == period_id).values(**values))


@dataclass(frozen=True)
class StoredPeriod:
    """A stored period: its row without the expected units' column (attributes read through),
    and its expected units, parsed once per version (`shared.versioned`): a period of 10,000
    units made every reminder and notice decode and parse the whole list again."""

    row: Row[Any]
    expected: tuple[ExpectedUnit, ...]
    positions: dict[str, list[int]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)

    def only(self, codes: Iterable[str]) -> list[ExpectedUnit]:
        """The expected units with these codes, in the registry's order."""
        found = sorted(i for code in set(codes) for i in self.positions.get(code, ()))
        return [self.expected[i] for i in found]


_EXPECTED_UNITS: VersionedCache[tuple[tuple[ExpectedUnit, ...], dict[str, list[int]]]]
_EXPECTED_UNITS = VersionedCache(size=32)
_PERIOD_HEADER = [c for c in db.periods.c if c.name != "expected_units"]


def _parse_expected(value: Any) -> tuple[tuple[ExpectedUnit, ...], dict[str, list[int]]]:
    expected = tuple(
        ExpectedUnit(str(u["code"]), str(u["name"]), int(u.get("display_order", 0)), u.get("kind"))
        for u in value or ()
    )
    positions: dict[str, list[int]] = {}
    for i, unit in enumerate(expected):
        positions.setdefault(unit.code, []).append(i)
    return expected, positions


def _period_columns(session: AsyncSession, period_id: str | None = None) -> list[Any]:
    """A period's columns, its expected units NULL when they are parsed at its version."""
    table = db.periods
    units = _EXPECTED_UNITS.unless_cached(
        session,
        table.c.period_id,
        table.c.version,
        table.c.expected_units,
        keys=None if period_id is None else (period_id,),
    )
    return [*_PERIOD_HEADER, units]


async def _stored_periods(session: AsyncSession, query: Any) -> list[StoredPeriod]:
    """The periods a query of `_period_columns` selects, with their expected units (parsed
    when the row has them, else from the cache)."""
    stored = []
    for row in (await session.execute(query)).all():
        if row.expected_units is not None:
            value = _parse_expected(row.expected_units)
            _EXPECTED_UNITS.put(session, row.period_id, row.version, value)
        elif (cached := _EXPECTED_UNITS.get(session, row.period_id, row.version)) is not None:
            value = cached
        else:  # dropped from the cache since the statement was built: read the row again
            query = select(db.periods).where(db.periods.c.period_id == row.period_id)
            full = (await session.execute(query)).first()
            if full is None:
                continue
            row, value = full, _parse_expected(full.expected_units)
        stored.append(StoredPeriod(row, *value))
    return stored


async def find_period_row(session: AsyncSession, period_id: str) -> StoredPeriod | None:
    """The stored period, if its event has arrived."""
    columns = _period_columns(session, period_id)
    found = await _stored_periods(
        session, select(*columns).where(db.periods.c.period_id == period_id)
    )
    return found[0] if found else None


async def period_row(session: AsyncSession, period_id: str) -> StoredPeriod:
    """The stored period, or a 404 error."""
    row = await find_period_row(session, period_id)
    if row is None:
        raise NotFound(f"Không tìm thấy kỳ báo cáo «{period_id}».", code="period_not_found")
    return row


async def open_period_rows(session: AsyncSession) -> list[StoredPeriod]:
    """Every open period, earliest deadline first."""
    return await _stored_periods(
        session,
        select(*_period_columns(session))
        .where(db.periods.c.status == "open")
        .order_by(db.periods.c.due_at, db.periods.c.period_id),
    )


def period_view(row: StoredPeriod) -> PeriodView:
    """What the schedule needs of a stored period."""
    status = {"open": PeriodStatus.OPEN, "closed": PeriodStatus.CLOSED}.get(
        row.status, PeriodStatus.DRAFT
    )
    return PeriodView(
        period_id=row.period_id,
        title=reminder_title(row.title),
        due_at=row.due_at,
        status=status,
        data_window_start=row.window_start,
        data_window_end=row.window_end,
        opened_at=row.opened_at or row.updated_at,
        content=row.content or None,
    )


def expected_units(row: StoredPeriod | None) -> list[ExpectedUnit]:
    """The units a stored period expects, in the registry's order of the event."""
    if row is None:
        return []
    return list(row.expected)


async def load_plan(
    session: AsyncSession, row: StoredPeriod, *, only: Iterable[str] | None = None
) -> PeriodPlan:
    """The period's expected units with their report state, contacts and sent reminder keys."""
    expected = expected_units(row) if only is None else row.only(only)
    codes = [u.code for u in expected]
    table = db.unit_reports
    reports = {
        r.unit_code: r
        for r in (
            await session.execute(
                select(table).where(
                    table.c.period_id == row.period_id, table.c.unit_code.in_(codes)
                )
            )
        ).all()
    }
    states = {code: unit_state(code, reports.get(code)) for code in codes}
    sent = set(
        (
            await session.execute(
                select(db.reminders.c.dedupe_key).where(
                    db.reminders.c.period_id == row.period_id,
                    db.reminders.c.unit_code.in_(codes),
                )
            )
        ).scalars()
    )
    return PeriodPlan(
        period=period_view(row),
        expected=expected,
        states=states,
        units=await known_units(session, codes),
        sent=sent,
        report_status={code: r.status for code, r in reports.items()},
    )


async def open_plans(session: AsyncSession) -> list[PeriodPlan]:
    """The plan of every open period, earliest deadline first."""
    return [await load_plan(session, row) for row in await open_period_rows(session)]


# --- projections: report states ----------------------------------------------------------


def unit_state(code: str, report: Row[Any] | None) -> UnitState:
    """The schedule's view of a unit's report row (no row: not reported)."""
    if report is None:
        return UnitState(unit_code=code, reported=False)
    returned = None
    if report.status == "returned" and report.return_event_id and report.returned_at:
        returned = ReturnedForRevision(
            event_id=report.return_event_id,
            reason=report.return_reason or "",
            returned_at=report.returned_at,
        )
    return UnitState(unit_code=code, reported=bool(report.reported), returned=returned)


@dataclass(frozen=True, slots=True)
class StoredReportStep:
    """The last step stored for a unit's report in a period."""

    report_id: str
    version: int
    stage: int
    changed_at: datetime


# One of each per report event: built once, with bind parameters (SQLAlchemy then skips
# building them and their cache keys on every event).
_REPORT_STEP = select(
    db.unit_reports.c.report_id,
    db.unit_reports.c.report_version,
    db.unit_reports.c.stage,
    db.unit_reports.c.changed_at,
).where(
    db.unit_reports.c.period_id == bindparam("period_id"),
    db.unit_reports.c.unit_code == bindparam("unit_code"),
)
_REPLACE_REPORT_STEP = update(db.unit_reports).where(
    db.unit_reports.c.period_id == bindparam("where_period_id"),
    db.unit_reports.c.unit_code == bindparam("where_unit_code"),
)


async def report_step(
    session: AsyncSession, period_id: str, unit_code: str
) -> StoredReportStep | None:
    """The stored step of the unit's report in the period, if any."""
    params = {"period_id": period_id, "unit_code": unit_code}
    row = (await session.execute(_REPORT_STEP, params)).first()
    if row is None:
        return None
    return StoredReportStep(row.report_id, int(row.report_version), int(row.stage), row.changed_at)


async def save_report_step(
    session: AsyncSession, period_id: str, unit_code: str, values: dict[str, Any], *, exists_: bool
) -> None:
    """Insert the unit's report state, or replace the stored one."""
    if not exists_:
        row = {"period_id": period_id, "unit_code": unit_code, **values}
        await session.execute(insert_into(db.unit_reports), row)
    else:
        key = {"where_period_id": period_id, "where_unit_code": unit_code}
        await session.execute(_REPLACE_REPORT_STEP, {**values, **key})


# --- reminders and deliveries ------------------------------------------------------------


async def claim_reminder(
    session: AsyncSession,
    planned: PlannedReminder,
    *,
    trigger: str,
    requested_by: str | None,
    now: datetime,
) -> int | None:
    """Insert the reminder under its unique dedupe key; None when it was already claimed."""
    statement = dialect_insert(session, db.reminders)
    result = await session.execute(
        statement.values(
            dedupe_key=planned.dedupe_key,
            period_id=planned.period_id,
            unit_code=planned.unit_code,
            rule_id=planned.rule_id,
            audience=planned.audience,
            trigger=trigger,
            requested_by=requested_by,
            scheduled_at=planned.scheduled_at,
            claimed_at=now,
        )
        .on_conflict_do_nothing(index_elements=[db.reminders.c.dedupe_key])
        .returning(db.reminders.c.id)
    )
    reminder_id = result.scalar_one_or_none()
    return int(reminder_id) if reminder_id is not None else None


async def set_message(session: AsyncSession, reminder_id: int, subject: str, body: str) -> None:
    """Store the rendered message, so a resumed delivery sends exactly the same text."""
    await session.execute(
        update(db.reminders)
        .where(db.reminders.c.id == reminder_id)
        .values(subject=subject, body=body)
    )


async def add_pending_delivery(
    session: AsyncSession,
    reminder_id: int,
    *,
    channel: str,
    recipient: str,
    now: datetime,
    lease_until: datetime,
) -> int:
    """A delivery to send, leased to this process; its id."""
    result = await session.execute(
        insert(db.deliveries)
        .values(
            reminder_id=reminder_id,
            channel=channel,
            recipient=recipient,
            status=PENDING,
            reason="",
            reason_code="",
            attempts=0,
            created_at=now,
            leased_until=lease_until,
        )
        .returning(db.deliveries.c.id)
    )
    return int(result.scalar_one())


async def add_finished_delivery(
    session: AsyncSession,
    reminder_id: int,
    *,
    channel: str,
    recipient: str,
    outcome: str,
    reason: str,
    reason_code: str,
    now: datetime,
) -> None:
    """A delivery that cannot be attempted, recorded with its outcome at once."""
    await session.execute(
        insert(db.deliveries).values(
            reminder_id=reminder_id,
            channel=channel,
            recipient=recipient,
            status=outcome,
            reason=reason,
            reason_code=reason_code,
            attempts=0,
            created_at=now,
            finished_at=now,
        )
    )


async def load_delivery(session: AsyncSession, delivery_id: int) -> Any:
    """A delivery with its reminder's message, if it is still pending."""
    query = (
        select(
            db.deliveries.c.id,
            db.deliveries.c.channel,
            db.deliveries.c.recipient,
            db.reminders.c.dedupe_key,
            db.reminders.c.period_id,
            db.reminders.c.unit_code,
            db.reminders.c.rule_id,
            db.reminders.c.audience,
            db.reminders.c.subject,
            db.reminders.c.body,
        )
        .join(db.reminders, db.reminders.c.id == db.deliveries.c.reminder_id)
        .where(db.deliveries.c.id == delivery_id, db.deliveries.c.status == PENDING)
    )
    return (await session.execute(query)).first()


async def finish_delivery(
    session: AsyncSession,
    delivery_id: int,
    *,
    outcome: str,
    reason: str,
    reason_code: str,
    attempts: int,
    now: datetime,
) -> bool:
    """Store a pending delivery's final outcome; False if another process already did."""
    result = await session.execute(
        update(db.deliveries)
        .where(db.deliveries.c.id == delivery_id, db.deliveries.c.status == PENDING)
        .values(
            status=outcome,
            reason=reason,
            reason_code=reason_code,
            attempts=attempts,
            finished_at=now,
            leased_until=None,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def orphaned_deliveries(session: AsyncSession, wall_now: datetime) -> list[Any]:
    """Pending deliveries whose lease ran out: their process died while sending."""
    table = db.deliveries
    query = (
        select(table.c.id, table.c.leased_until)
        .where(table.c.status == PENDING, table.c.leased_until < wall_now)
        .order_by(table.c.id)
    )
    return list((await session.execute(query)).all())


async def take_over(
    session: AsyncSession, delivery_id: int, previous: datetime, lease_until: datetime
) -> bool:
    """Move an expired lease to this process; False if another process was faster."""
    table = db.deliveries
    result = await session.execute(
        update(table)
        .where(
            table.c.id == delivery_id,
            table.c.status == PENDING,
            table.c.leased_until == previous,
        )
        .values(leased_until=lease_until)
    )
    return bool(getattr(result, "rowcount", 0))


async def delivery_log(
    session: AsyncSession, period_id: str, *, unit_code: str | None = None, limit: int = 1000
) -> list[Any]:
    """Deliveries of a period, newest first."""
    query = (
        select(
            db.deliveries.c.id,
            db.deliveries.c.channel,
            db.deliveries.c.recipient,
            db.deliveries.c.status,
            db.deliveries.c.reason,
            db.deliveries.c.reason_code,
            db.deliveries.c.attempts,
            db.deliveries.c.created_at,
            db.deliveries.c.finished_at,
            db.reminders.c.dedupe_key,
            db.reminders.c.period_id,
            db.reminders.c.unit_code,
            db.reminders.c.rule_id,
            db.reminders.c.audience,
            db.reminders.c.trigger,
            db.reminders.c.requested_by,
            db.reminders.c.scheduled_at,
            db.reminders.c.subject,
        )
        .join(db.reminders, db.reminders.c.id == db.deliveries.c.reminder_id)
        .where(db.reminders.c.period_id == period_id)
        .order_by(db.deliveries.c.id.desc())
        .limit(limit)
    )
    if unit_code is not None:
        query = query.where(db.reminders.c.unit_code == unit_code)
    return list((await session.execute(query)).all())


# --- notifications -----------------------------------------------------------------------


async def queue_notice(session: AsyncSession, notice: Notice, now: datetime) -> bool:
    """Queue a notice unless it is known or outdated; True when it was queued.

    A newer answer to the same difficulty supersedes an older one still waiting, and an
    older answer arriving late is dropped, so a unit never gets a stale answer after the
    current one.
    """
    table = db.notifications
    same_subject = (table.c.kind == notice.kind) & (table.c.subject_id == notice.subject_id)
    if notice.kind == "answered":
        # Writes first: SQLite takes its write lock before reading.
        await session.execute(
            update(table)
            .where(
                same_subject,
                table.c.status == PENDING,
                table.c.version_at < notice.version_at,
            )
            .values(status=NOTICE_SUPERSEDED)
        )
        newer = await session.execute(
            select(exists().where(same_subject, table.c.version_at > notice.version_at))
        )
        if newer.scalar():
            log.info("notice %s is older than a known answer; dropped", notice.dedupe_key)
            return False
    result = await session.execute(
        dialect_insert(session, table)
        .values(
            dedupe_key=notice.dedupe_key,
            kind=notice.kind,
            rule_id=notice.rule_id,
            period_id=notice.period_id,
            unit_code=notice.unit_code,
            subject_id=notice.subject_id,
            version_at=notice.version_at,
            details=dict(notice.details),
            queued_at=now,
            not_before=notice.not_before,
            status=PENDING,
        )
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id)
    )
    return result.scalar_one_or_none() is not None


async def due_notice_ids(session: AsyncSession, now: datetime, *, limit: int = 500) -> list[int]:
    """Pending notices whose time has come, oldest first."""
    table = db.notifications
    query = (
        select(table.c.id)
        .where(table.c.status == PENDING, table.c.not_before <= now)
        .order_by(table.c.not_before, table.c.id)
        .limit(limit)
    )
    return [int(i) for i in (await session.execute(query)).scalars()]


async def take_notice(session: AsyncSession, notice_id: int, now: datetime) -> Any:
    """Mark a due pending notice claimed and return it; None if another process took it."""
    table = db.notifications
    result = await session.execute(
        update(table)
        .where(table.c.id == notice_id, table.c.status == PENDING, table.c.not_before <= now)
        .values(status=NOTICE_CLAIMED, claimed_at=now)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return (await session.execute(select(table).where(table.c.id == notice_id))).first()


async def next_notice_at(session: AsyncSession, now: datetime) -> datetime | None:
    """When the earliest waiting notice may be sent, if it is still in the future."""
    table = db.notifications
    query = select(func.min(table.c.not_before)).where(
        table.c.status == PENDING, table.c.not_before > now
    )
    value: datetime | None = (await session.execute(query)).scalar()
    return value


# --- the scheduler's leadership ----------------------------------------------------------


class SchedulerLock(Protocol):
    """Leadership: only the holder sends scheduled reminders."""

    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class LocalLock:
    """SQLite: one process owns the database file, so it is always the scheduler."""

    async def acquire(self) -> bool:
        """Always granted."""
        return True

    async def release(self) -> None:
        """Nothing to release."""


class PostgresAdvisoryLock:
    """A session-level advisory lock on a connection kept open while this instance leads.

    If the connection dies the server drops the lock and another replica takes over; the
    lost holder notices on its next pass and becomes a standby.
    """

    def __init__(self, engine: AsyncEngine, key: int = LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """True while this instance holds the lock (checked, or taken if free)."""
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            except Exception:
                log.warning("scheduler lock connection lost; standing by", exc_info=True)
                await self._discard()
        connection = await self._engine.connect()
        try:
            held = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                )
            ).scalar()
            await connection.commit()
        except Exception:
            await connection.invalidate()
            raise
        if held:
            self._connection = connection
            log.info("this instance is now the active reminder scheduler")
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        """Give the lock up so a standby can take over at once."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            await connection.commit()
            await connection.close()
        except Exception:
            # A pooled connection must never keep the lock: drop it for good.
            await connection.invalidate()

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
