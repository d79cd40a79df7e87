"""Intake tables and queries: projections of the registry, reports, versions, threads, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.domain import Period, Report
from shared.contracts.registry import ExpectedUnit, PeriodState, UnitState
from shared.db import UtcDateTime, upsert_newer
from shared.idempotency import idempotency_table
from shared.messaging.tables import outbox_table, processed_events_table

metadata = MetaData()

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

units = Table(
    "units",
    metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("code", String(32), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("must_report", Boolean, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("version", Integer, nullable=False),
)

periods = Table(
    "periods",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(32), nullable=False),
    Column("window_start", Date, nullable=True),
    Column("window_end", Date, nullable=True),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("content", Text, nullable=False),
    Column("expected_units", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("report_id", String(36), primary_key=True),
    Column("period_id", String(32), nullable=False),
    Column("unit_code", String(32), nullable=False, index=True),
    Column("unit_name", String(300), nullable=False),
    Column("status", String(12), nullable=False),
    Column("version", Integer, nullable=False),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(32), nullable=False),
    Column("first_submitted_at", UtcDateTime(), nullable=False),
    Column("on_time", Boolean, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("review_decision", String(10), nullable=True),
    Column("review_reason", Text, nullable=True),
    Column("review_version", Integer, nullable=True),
    Column("reviewed_by", String(64), nullable=True),
    Column("reviewed_at", UtcDateTime(), nullable=True),
    Column("withdrawn_at", UtcDateTime(), nullable=True),
    # One report per unit and period: a second POST is refused, even from another replica.
    UniqueConstraint("period_id", "unit_code", name="uq_reports_period_unit"),
)

report_versions = Table(
    "report_versions",
    metadata,
    Column("report_id", String(36), ForeignKey("reports.report_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content", JSON, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("submitted_by", String(64), nullable=False),
)

# The first answers to keyed submissions (shared.idempotency).
idempotency_keys = idempotency_table(metadata)

difficulties = Table(
    "difficulties",
    metadata,
    Column("difficulty_id", String(36), primary_key=True),
    Column("report_id", String(36), ForeignKey("reports.report_id"), nullable=True),
    Column("period_id", String(32), nullable=False, index=True),
    Column("unit_code", String(32), nullable=False, index=True),
    Column("text", Text, nullable=False),
    # Texts can exceed an index entry's size; their digest keeps one thread per entry.
    Column("text_sha256", String(64), nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("raised_in_version", Integer, nullable=False),
    # The entry's place in the version's list, so threads read in the order written.
    Column("position", Integer, nullable=False),
    Column("answer", Text, nullable=True),
    Column("answered_by", String(64), nullable=True),
    Column("answered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("report_id", "text_sha256", name="uq_difficulties_report_text"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("report_id", String(36), nullable=True, index=True),
    Column("difficulty_id", String(36), nullable=True),
    Column("details", JSON, nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    # Upload order, also for uploads within the same instant.
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("attachment_id", String(36), nullable=False, unique=True),
    Column("report_id", String(36), ForeignKey("reports.report_id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(200), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", UtcDateTime(), nullable=False),
)
Index("ix_attachments_report", attachments.c.report_id, attachments.c.version)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)


async def upsert_unit(session: AsyncSession, unit: UnitState) -> None:
    """Keep the newest version of a unit."""
    await upsert_newer(
        session,
        units,
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
        },
    )


async def upsert_period(session: AsyncSession, period: PeriodState) -> None:
    """Keep the newest version of a period with its expected units."""
    await upsert_newer(
        session,
        periods,
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
        },
    )


def period_from_row(row: Any) -> Period:
    """A period row as the domain's value."""
    return Period(
        period_id=row.period_id,
        kind=row.kind,
        title=row.title,
        form_id=row.form_id,
        form_version=row.form_version,
        due_at=row.due_at,
        status=row.status,
        expected_units=tuple(ExpectedUnit.model_validate(u) for u in row.expected_units or ()),
        version=row.version,
    )


async def find_period_row(session: AsyncSession, period_id: str) -> Any:
    """The period's row, or None."""
    query = select(periods).where(periods.c.period_id == period_id)
    return (await session.execute(query)).first()


async def find_period(session: AsyncSession, period_id: str) -> Period | None:
    """The period as projected, or None when intake has not heard of it."""
    row = await find_period_row(session, period_id)
    return period_from_row(row) if row is not None else None


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
    return (await session.execute(select(reports).where(reports.c.report_id == report_id))).first()


async def find_report_for(session: AsyncSession, period_id: str, unit_code: str) -> Any:
    """The unit's report row for the period, or None."""
    query = select(reports).where(
        reports.c.period_id == period_id, reports.c.unit_code == unit_code
    )
    return (await session.execute(query)).first()


async def find_version_row(session: AsyncSession, report_id: str, version: int) -> Any:
    """One stored version, or None."""
    query = select(report_versions).where(
        report_versions.c.report_id == report_id, report_versions.c.version == version
    )
    return (await session.execute(query)).first()


async def version_rows(session: AsyncSession, report_id: str) -> list[Any]:
    """Every version of a report, oldest first."""
    query = (
        select(report_versions)
        .where(report_versions.c.report_id == report_id)
        .order_by(report_versions.c.version)
    )
    return list((await session.execute(query)).all())


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
    query = select(reports)
    if period_id:
        query = query.where(reports.c.period_id == period_id)
    if unit_code:
        query = query.where(reports.c.unit_code == unit_code)
    if status:
        query = query.where(reports.c.status == status)
    query = query.order_by(reports.c.first_submitted_at, reports.c.report_id)
    return list((await session.execute(query.limit(limit).offset(offset))).all())


async def advance_report(session: AsyncSession, report: Report, values: dict[str, Any]) -> bool:
    """Update the report only if nobody changed it since it was read (optimistic lock)."""
    result = await session.execute(
        update(reports)
        .where(
            reports.c.report_id == report.report_id,
            reports.c.version == report.version,
            reports.c.status == report.status,
        )
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def raised_digests(session: AsyncSession, report_id: str) -> list[str]:
    """Digests of the difficulties already raised for a report."""
    query = select(difficulties.c.text_sha256).where(difficulties.c.report_id == report_id)
    return list((await session.execute(query)).scalars())


async def find_difficulty_row(session: AsyncSession, difficulty_id: str) -> Any:
    """One difficulty, or None."""
    query = select(difficulties).where(difficulties.c.difficulty_id == difficulty_id)
    return (await session.execute(query)).first()


async def list_difficulty_rows(
    session: AsyncSession,
    *,
    period_id: str | None,
    unit_code: str | None,
    report_id: str | None,
    answered: bool | None,
    limit: int,
    offset: int,
) -> list[Any]:
    """Difficulties matching the filters, oldest first."""
    query = select(difficulties)
    if period_id:
        query = query.where(difficulties.c.period_id == period_id)
    if unit_code:
        query = query.where(difficulties.c.unit_code == unit_code)
    if report_id:
        query = query.where(difficulties.c.report_id == report_id)
    if answered is True:
        query = query.where(difficulties.c.answered_at.is_not(None))
    elif answered is False:
        query = query.where(difficulties.c.answered_at.is_(None))
    query = query.order_by(
        difficulties.c.raised_at,
        difficulties.c.report_id,
        difficulties.c.raised_in_version,
        difficulties.c.position,
    )
    return list((await session.execute(query.limit(limit).offset(offset))).all())


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
        insert(audit_log).values(
            at=at,
            actor=actor,
            role=role,
            action=action,
            report_id=report_id,
            difficulty_id=difficulty_id,
            details=details or {},
        )
    )


async def audit_rows(session: AsyncSession, report_id: str) -> list[Any]:
    """The audit trail of a report (and its difficulties), oldest first."""
    thread_ids = select(difficulties.c.difficulty_id).where(difficulties.c.report_id == report_id)
    query = (
        select(audit_log)
        .where((audit_log.c.report_id == report_id) | audit_log.c.difficulty_id.in_(thread_ids))
        .order_by(audit_log.c.id)
    )
    return list((await session.execute(query)).all())


async def attachment_rows(session: AsyncSession, report_id: str) -> list[Any]:
    """Attachments of a report, oldest first."""
    query = (
        select(attachments).where(attachments.c.report_id == report_id).order_by(attachments.c.id)
    )
    return list((await session.execute(query)).all())


async def find_attachment_row(session: AsyncSession, attachment_id: str) -> Any:
    """One attachment, or None."""
    query = select(attachments).where(attachments.c.attachment_id == attachment_id)
    return (await session.execute(query)).first()
