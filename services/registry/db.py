"""Registry tables and queries."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.db import UtcDateTime
from shared.messaging.tables import outbox_table

metadata = MetaData()

units = Table(
    "units",
    metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("code", String(32), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("parent_code", String(32), nullable=True),
    Column("display_order", Integer, nullable=False, default=0),
    Column("must_report", Boolean, nullable=False, default=True),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("successor_codes", JSON, nullable=False, default=list),
    Column("leader", JSON, nullable=True),
    Column("contacts", JSON, nullable=False, default=dict),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("code", "valid_from", name="uq_units_code_valid_from"),
)

periods = Table(
    "periods",
    metadata,
    Column("period_id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("content", Text, nullable=False, default=""),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(32), nullable=False),
    Column("window_start", Date, nullable=True),
    Column("window_end", Date, nullable=True),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("scope", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("expected_units", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("unit_code", String(32), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", LargeBinary, nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime(), nullable=True),
)

outbox = outbox_table(metadata)
