"""Intake tables: projections of the registry, reports, versions, threads, audit, outbox.

The queries are in `store.py`."""

from __future__ import annotations

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
)

from shared.db import UtcDateTime
from shared.idempotency import idempotency_table
from shared.messaging.tables import outbox_table, processed_events_table
from shared.period_parts import period_parts_table
from shared.revocation import revocations_table

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
    # The leader in charge (plan II.5) as the registry holds it: {full_name, title, ...}.
    Column("leader", JSON, nullable=True),
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
    # The reporting year (null for periods projected before revision 0005: read from due_at).
    Column("year", Integer, nullable=True),
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
    # The leader check (plan II.5) of forms that have one: the leader the registry held when
    # the version was sent ({full_name, title} or null), and whether the unit reported a
    # change (null: the form has no leader check).
    Column("leader_on_record", JSON, nullable=True),
    Column("leader_changed", Boolean, nullable=True),
)

# A unit's draft of its report for a period: the body as last saved (problems and all), never
# an event; sending a version of the report removes it.
drafts = Table(
    "drafts",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("unit_code", String(32), primary_key=True),
    Column("content", JSON, nullable=False),
    Column("saved_at", UtcDateTime(), nullable=False),
    Column("saved_by", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    # Where the last head start came from: {report_id, period_id, period_title, version,
    # form_version, filled}.
    Column("prefilled_from", JSON, nullable=True),
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
    # The version whose vướng mắc raised it; null for one raised outside any report.
    Column("raised_in_version", Integer, nullable=True),
    # The entry's place in the version's list, so threads read in the order written.
    Column("position", Integer, nullable=False),
    # Phòng Nội vụ's latest answer (its messages are in difficulty_messages).
    Column("answer", Text, nullable=True),
    Column("answered_by", String(64), nullable=True),
    Column("answered_at", UtcDateTime(), nullable=True),
    # Since when the thread waits for Phòng Nội vụ (the unit wrote last); null once answered.
    Column("open_since", UtcDateTime(), nullable=True),
    UniqueConstraint("report_id", "text_sha256", name="uq_difficulties_report_text"),
)
Index("ix_difficulties_open_since", difficulties.c.open_since)

# The follow-up messages of a thread after its opening text: the unit's further questions
# ("unit") and Phòng Nội vụ's answers ("office"), in the order posted.
difficulty_messages = Table(
    "difficulty_messages",
    metadata,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("difficulty_id", String(36), ForeignKey("difficulties.difficulty_id"), nullable=False),
    Column("side", String(10), nullable=False),
    Column("author", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("posted_at", UtcDateTime(), nullable=False),
)
Index(
    "ix_difficulty_messages_thread", difficulty_messages.c.difficulty_id, difficulty_messages.c.id
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
# Period versions whose expected set is still arriving in parts (shared/period_parts.py).
period_parts = period_parts_table(metadata)
# Revoked tokens (shared/revocation.py), fed by the registry's TokensRevoked.
token_revocations = revocations_table(metadata)
