"""Reminders tables: projections of units, periods and reports; reminders and their deliveries.

A `reminders` row is the durable claim of one (period, unit, rule): its UNIQUE dedupe key is
written before anything is sent, so a restart or a second replica never sends it again.
Each reminder has one `deliveries` row per channel and recipient, carrying the outcome.
A `notifications` row is a notice queued by an event (an answer, an accepted report) until
it may be sent; it then becomes a reminder under the same dedupe key.
"""

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
)

from shared.db import UtcDateTime
from shared.messaging.tables import outbox_table, processed_events_table
from shared.period_parts import period_parts_table
from shared.revocation import revocations_table

metadata = MetaData()

_ID = BigInteger().with_variant(Integer(), "sqlite")

units = Table(
    "units",
    metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("code", String(32), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("must_report", Boolean, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("leader", JSON, nullable=True),
    Column("contacts", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

periods = Table(
    "periods",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("content", Text, nullable=False),
    Column("window_start", Date, nullable=True),
    Column("window_end", Date, nullable=True),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("expected_units", JSON, nullable=False),
    # When this service first saw the period open; the `opened` reminder follows it.
    Column("opened_at", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

unit_reports = Table(
    "unit_reports",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("unit_code", String(32), primary_key=True),
    Column("report_id", String(64), nullable=False),
    Column("report_version", Integer, nullable=False),
    # Order of the steps within one version: submitted < reviewed < withdrawn.
    Column("stage", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("reported", Boolean, nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
    Column("return_event_id", String(36), nullable=True),
    Column("return_reason", Text, nullable=True),
    Column("returned_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(300), nullable=False, unique=True),
    Column("period_id", String(32), nullable=False, index=True),
    Column("unit_code", String(32), nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("audience", String(12), nullable=False),
    Column("trigger", String(10), nullable=False),
    Column("requested_by", String(64), nullable=True),
    Column("scheduled_at", UtcDateTime(), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=False),
    Column("subject", Text, nullable=True),
    Column("body", Text, nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("reminder_id", _ID, ForeignKey("reminders.id"), nullable=False, index=True),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(500), nullable=False),
    Column("status", String(14), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reason_code", String(40), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Wall-clock lease of the process delivering a pending row; an expired lease is an orphan.
    Column("leased_until", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
)
Index("ix_deliveries_status_lease", deliveries.c.status, deliveries.c.leased_until)

notifications = Table(
    "notifications",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(300), nullable=False, unique=True),
    Column("kind", String(12), nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("period_id", String(32), nullable=False),
    Column("unit_code", String(32), nullable=False),
    # The difficulty or report the notice is about, and the instant of that answer or review.
    Column("subject_id", String(64), nullable=False),
    Column("version_at", UtcDateTime(), nullable=False),
    Column("details", JSON, nullable=False),
    Column("queued_at", UtcDateTime(), nullable=False),
    # Service-clock instant from which it may be sent (the end of a quiet spell, if it fell in one).
    Column("not_before", UtcDateTime(), nullable=False),
    # pending -> claimed (now a reminder), or superseded by a newer answer while still waiting.
    Column("status", String(12), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=True),
)
Index("ix_notifications_status_not_before", notifications.c.status, notifications.c.not_before)
Index("ix_notifications_subject", notifications.c.kind, notifications.c.subject_id)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
# Period versions whose expected set is still arriving in parts (shared/period_parts.py).
period_parts = period_parts_table(metadata)
# Revoked tokens (shared/revocation.py), fed by the registry's TokensRevoked.
token_revocations = revocations_table(metadata)
