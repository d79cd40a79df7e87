"""Consolidation's projection tables, all rebuilt from the event streams (queries: store.py)."""

from __future__ import annotations

import secrets

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
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


def new_stamp() -> str:
    """A fresh answers' stamp (`period_progress.stamp`): 128 random bits, never repeated."""
    return secrets.token_hex(16)


periods = Table(
    "periods",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(32), nullable=False),
    Column("window_start", Date, nullable=True),
    Column("window_end", Date, nullable=True),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("status", String(10), nullable=False),
    Column("expected_units", JSON, nullable=False),
    # Ad-hoc periods: the asking document (RequestBasis), when recorded.
    Column("basis", JSON, nullable=True),
    Column("version", Integer, nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("code", String(32), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("display_order", Integer, nullable=False, default=0),
    Column("valid_from", Date, nullable=False),
    Column("version", Integer, nullable=False),
)

# One row per report; the submission, review and withdrawal parts each keep their newest.
reports = Table(
    "reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("period_id", String(32), nullable=False),
    Column("unit_code", String(32), nullable=False),
    Column("version", Integer, nullable=True),
    Column("status", String(20), nullable=True),
    Column("form_id", String(64), nullable=True),
    Column("form_version", String(32), nullable=True),
    Column("on_time", Boolean, nullable=True),
    Column("first_submitted_at", UtcDateTime(), nullable=True),
    Column("submitted_at", UtcDateTime(), nullable=True),
    Column("content", JSON, nullable=True),
    Column("content_sha256", String(64), nullable=True),
    Column("warnings", JSON, nullable=True),
    Column("review_version", Integer, nullable=True),
    Column("review_decision", String(20), nullable=True),
    Column("review_reason", Text, nullable=True),
    Column("reviewed_by", String(64), nullable=True),
    Column("reviewed_at", UtcDateTime(), nullable=True),
    Column("withdrawn_version", Integer, nullable=True),
    Column("withdrawn_at", UtcDateTime(), nullable=True),
    Index("ix_reports_period_unit", "period_id", "unit_code"),
)

difficulties = Table(
    "difficulties",
    metadata,
    Column("difficulty_id", String(64), primary_key=True),
    Column("report_id", String(64), nullable=True),
    Column("period_id", String(32), nullable=False, index=True),
    Column("unit_code", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("answer", Text, nullable=False, default=""),
    Column("answered_by", String(64), nullable=False, default=""),
    Column("answered_at", UtcDateTime(), nullable=True),
    # A unit event finds the periods whose summaries name the unit (`Projector`).
    Index("ix_difficulties_unit_period", "unit_code", "period_id"),
)

# A period's running completeness counters. Its row is also the lock every event of the
# period takes first (SELECT ... FOR UPDATE on PostgreSQL), so replicas sharing the durable
# consumers apply a period's events one at a time and never lose a counter update. The row
# may exist before the period does: a report can arrive first.
period_progress = Table(
    "period_progress",
    metadata,
    Column("period_id", String(32), primary_key=True),
    # The period version the counters were computed for; NULL until the period arrives.
    Column("period_version", Integer, nullable=True),
    Column("expected", Integer, nullable=False, default=0),
    Column("submitted", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0),
    Column("late", Integer, nullable=False, default=0),
    Column("awaiting_revision", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    # The answers' stamp: a new random value, in the same transaction, whenever anything
    # the period's completeness or summary is made of changes (a report, difficulty or
    # period event of the period; another period's event, which can change the
    # year-earlier comparison; a unit event naming a unit that raised a difficulty in
    # the period; a rebuild). The readers cache their
    # serialized answer per (period, stamp): random, so it never repeats, even after a
    # rebuild emptied the table (usecases/reading.py).
    Column("stamp", String(32), nullable=False, default=new_stamp),
    # Snapshots published so far; the next ConsolidationUpdated carries revision + 1. Here,
    # not in `periods`: that row holds the expected set (~1 MB at 10,000 units), which
    # SQLite rewrote at every event when the counter lived there (migration 0010).
    Column("revision", Integer, nullable=False, default=0, server_default="0"),
)

# The standing of each expected unit of a period (only expected units have a row), so an
# event can move the counters by one unit's change without reading the other units.
unit_progress = Table(
    "unit_progress",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("unit_code", String(32), primary_key=True),
    # Position in registry order, so the missing units list in order without collations.
    Column("registry_order", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("on_time", Boolean, nullable=True),
    Column("report_id", String(64), nullable=True),
    # A unit without a current report whose last report was withdrawn: that report, so
    # readers can show "withdrawn" with a link (it counts as missing all the same).
    Column("withdrawn_report_id", String(64), nullable=True),
    Index("ix_unit_progress_state", "period_id", "state", "registry_order"),
)

# The draft (dự thảo) of a period's town report as last saved: the parts written by hand, and
# what was generated at the save. Written by the save use case and by the projector from
# the DraftSaved events (newer version wins), so a rebuild restores it from the stream.
drafts = Table(
    "drafts",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("saved_at", UtcDateTime(), nullable=False),
    Column("saved_by", String(64), nullable=False),
    Column("saved_by_name", String(200), nullable=False, default=""),
    Column("parts", JSON, nullable=False),
    Column("reports", JSON, nullable=False),
)

# Who saved which version of a draft when (one row per save).
draft_saves = Table(
    "draft_saves",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("saved_at", UtcDateTime(), nullable=False),
    Column("saved_by", String(64), nullable=False),
    Column("saved_by_name", String(200), nullable=False, default=""),
)

# The excerpts of units' reports picked for a period's town report, as one set per period.
highlights = Table(
    "highlights",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("highlights", JSON, nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
# Period versions whose expected set is still arriving in parts (shared/period_parts.py).
period_parts = period_parts_table(metadata)
# Revoked tokens (shared/revocation.py), fed by the registry's TokensRevoked.
token_revocations = revocations_table(metadata)

PROJECTIONS: tuple[Table, ...] = (
    periods,
    units,
    reports,
    difficulties,
    period_progress,
    unit_progress,
    drafts,
    draft_saves,
    highlights,
)
