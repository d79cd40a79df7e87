"""A period version whose expected set comes in parts: staged until whole, then applied.

The registry publishes a period version as `PeriodChangedV2` (the header) and, when its
expected set is larger than one part, `PeriodExpectedUnits` parts 1…n, all from one outbox
transaction. Each subject has its own durable consumer, so a consumer may see the header and
the parts in any order, and see any of them again. Each consumer service keeps them in its
`period_parts` table, keyed (period_id, version, part) with the header as part 0, and gets
back the whole version (a `PeriodChanged` v1 event, so its existing handler applies it) only
once the header and all n parts are there and the set's count and digest match the header's;
until then the version it holds stays in force. A set that does not match raises
`PeriodPartsMismatch`: the event that completed it is retried, then dead-lettered, like any
failing event, and the version is never applied.

Every handler starts with an upsert of the header row that takes its row lock, so two
transactions completing the same version (PostgreSQL, several replicas) run one after the
other and the second sees the first's rows. Once a version is applied, only its header row
is kept, marked applied: later copies of it or of older versions are ignored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.registry import (
    ExpectedUnit,
    PeriodChanged,
    PeriodChangedV2,
    PeriodExpectedUnits,
    PeriodHeader,
    PeriodState,
    expected_units_digest,
)
from shared.db import UtcDateTime, dialect_insert

HEADER_PART = 0
_HEADER_ONLY = {"expected_count", "expected_sha256", "expected_parts"}


class PeriodPartsMismatch(ValueError):
    """The parts of a period version do not make the set its header announces."""


def period_parts_table(metadata: MetaData) -> Table:
    """The staged headers (part 0) and parts of period versions not yet applied."""
    return Table(
        "period_parts",
        metadata,
        Column("period_id", String(32), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("part", Integer, primary_key=True),
        # The header's payload (part 0: None until the header arrived), or a part's units.
        Column("payload", Text, nullable=True),
        # Part 0 only: the header event's envelope fields, for the assembled event.
        Column("event_id", String(36), nullable=True),
        Column("occurred_at", UtcDateTime(), nullable=True),
        Column("producer", String(64), nullable=True),
        # Part 0 only: when the version was applied. Its row stays (its parts are deleted)
        # so that a copy of a header or part of it, or of an older version, arriving later
        # is not staged again.
        Column("applied_at", UtcDateTime(), nullable=True),
    )


def whole(header: PeriodHeader, units: tuple[ExpectedUnit, ...]) -> PeriodState:
    """The period version with its expected set, checked against the header."""
    if len(units) != header.expected_count:
        raise PeriodPartsMismatch(
            f"period {header.period_id} v{header.version}: {len(units)} expected units, "
            f"the header announces {header.expected_count}"
        )
    if expected_units_digest(units) != header.expected_sha256:
        raise PeriodPartsMismatch(
            f"period {header.period_id} v{header.version}: the expected set's digest "
            "does not match the header's"
        )
    return PeriodState(
        **header.model_dump(exclude=_HEADER_ONLY | {"expected_units"}), expected_units=units
    )


def _as_v1(
    period: PeriodState, event_id: Any, occurred_at: datetime, producer: str
) -> PeriodChanged:
    return PeriodChanged(
        event_id=event_id, occurred_at=occurred_at, producer=producer, payload=period
    )


async def on_header(
    session: AsyncSession, table: Table, event: PeriodChangedV2
) -> PeriodChanged | None:
    """A header arrived: the whole version when it is complete (inline, or its last part was
    already staged), else None (staged)."""
    header = event.payload
    inline = header.expected_parts == 0
    period = whole(header, header.expected_units) if inline else None
    envelope = {
        "event_id": str(event.event_id),
        "occurred_at": event.occurred_at,
        "producer": event.producer,
    }
    staged = await _lock_version(
        session,
        table,
        header.period_id,
        header.version,
        envelope if inline else {"payload": header.model_dump_json(), **envelope},
    )
    if not staged:
        return None
    if period is not None:
        await _applied(session, table, period.period_id, period.version)
        return _as_v1(period, event.event_id, event.occurred_at, event.producer)
    return await _complete(session, table, header.period_id, header.version)


async def on_part(
    session: AsyncSession, table: Table, event: PeriodExpectedUnits
) -> PeriodChanged | None:
    """A part arrived: the whole version when it completed it, else None (staged)."""
    part = event.payload
    if part.part < 1:
        raise PeriodPartsMismatch(f"period {part.period_id} v{part.version}: part {part.part}")
    if not await _lock_version(session, table, part.period_id, part.version, None):
        return None
    units = json.dumps([u.model_dump(mode="json") for u in part.units], ensure_ascii=False)
    await session.execute(
        dialect_insert(session, table)
        .values(period_id=part.period_id, version=part.version, part=part.part, payload=units)
        .on_conflict_do_nothing()
    )
    return await _complete(session, table, part.period_id, part.version)


async def forget_applied(session: AsyncSession, table: Table, period_id: str, version: int) -> None:
    """Drop what is staged for the period's versions up to one that was applied (a version
    older than the one held would change nothing)."""
    await session.execute(
        delete(table).where(
            table.c.period_id == period_id,
            table.c.version <= version,
            or_(table.c.version < version, table.c.part != HEADER_PART),
        )
    )


async def _lock_version(
    session: AsyncSession,
    table: Table,
    period_id: str,
    version: int,
    header: dict[str, Any] | None,
) -> bool:
    """Insert or update the version's header row: its row lock orders the transactions that
    stage the same version. A part leaves the header's fields as they are. False when this
    version or a newer one was applied already (nothing is to be staged)."""
    statement = dialect_insert(session, table).values(
        period_id=period_id, version=version, part=HEADER_PART, **(header or {})
    )
    kept: dict[str, Any] = {"producer": table.c.producer}  # a part: the row as it is
    if header is not None:
        # An applied version's header keeps its fields.
        kept = {
            name: case(
                (table.c.applied_at.is_(None), statement.excluded[name]), else_=table.c[name]
            )
            for name in header
        }
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.period_id, table.c.version, table.c.part], set_=kept
        )
    )
    applied = await session.scalar(
        select(func.max(table.c.version)).where(
            table.c.period_id == period_id, table.c.applied_at.is_not(None)
        )
    )
    if applied is None or applied < version:
        return True
    if applied > version:  # an older version: drop the row this call just made
        await forget_applied(session, table, period_id, applied)
    return False


async def _applied(session: AsyncSession, table: Table, period_id: str, version: int) -> None:
    """Mark the version applied: its header row stays, its parts and older versions go."""
    await forget_applied(session, table, period_id, version)
    await session.execute(
        update(table)
        .where(
            table.c.period_id == period_id,
            table.c.version == version,
            table.c.part == HEADER_PART,
        )
        .values(applied_at=datetime.now(UTC), payload=None)
    )


async def _complete(
    session: AsyncSession, table: Table, period_id: str, version: int
) -> PeriodChanged | None:
    rows = (
        await session.execute(
            select(table)
            .where(table.c.period_id == period_id, table.c.version == version)
            .order_by(table.c.part)
        )
    ).all()
    head = rows[0] if rows and rows[0].part == HEADER_PART else None
    if head is None or head.payload is None:
        return None
    if head.applied_at is not None:
        return None
    header = PeriodHeader.model_validate_json(head.payload)
    parts = rows[1:]
    if any(r.part > header.expected_parts for r in parts):
        raise PeriodPartsMismatch(
            f"period {period_id} v{version}: a part beyond the {header.expected_parts} announced"
        )
    if len(parts) < header.expected_parts:
        return None
    units = tuple(ExpectedUnit.model_validate(u) for r in parts for u in json.loads(r.payload))
    period = whole(header, units)
    await _applied(session, table, period_id, version)
    return _as_v1(period, head.event_id, head.occurred_at, head.producer or "registry")
