"""Registry tables and queries."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.db import UtcDateTime
from shared.idempotency import idempotency_table
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
    # Ad-hoc requests: the asking document (RequestBasis), when recorded.
    Column("basis", JSON, nullable=True),
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

# One-time activation codes: the first sign-in of an account an admin created, or after an
# admin's reset. Only a SHA-256 of the code is kept (it is 128 random bits); using it deletes
# the row, so a code works once.
activation_codes = Table(
    "activation_codes",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("issued_by", String(100), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
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

# Every change of a unit record: who, when, which fields from what to what. The leader's
# earlier holders stay on record here after the unit itself shows the new one.
unit_history = Table(
    "unit_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("unit_id", String(64), nullable=False),
    Column("code", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(20), nullable=False),
    Column("changed_by", String(100), nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Index("ix_unit_history_code", "code"),
)

# Failed sign-ins per username and per client address, for the slow-down.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
)

# Machine clients' keys: only a hash of the secret is kept; the key is shown once.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("unit_code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoked_by", String(100), nullable=True),
    Column("last_used_at", UtcDateTime(), nullable=True),
)

# Idempotency-Key of a request that created something (an ad-hoc period): a resent or
# double-clicked form returns the first result instead of creating a second one.
# The first answers to keyed ad-hoc requests (shared.idempotency).
idempotency_keys = idempotency_table(metadata)

outbox = outbox_table(metadata)
