"""The outbox and processed-event tables every service adds to its own metadata."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db import UtcDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    """Events written in the domain transaction, published later by the relay."""
    table = Table(
        "outbox",
        metadata,
        Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        # A relay's claim on the row while it publishes it (outside any transaction); another
        # relay takes the row only once the claim has expired (docs/ARCHITECTURE.md).
        Column("claimed_by", String(36), nullable=True),
        Column("claimed_until", UtcDateTime(), nullable=True),
        # Set when the row can never be published (too large for NATS, refused as a bad
        # request): the relay skips it, the rows after it flow (docs/OPERATIONS.md).
        Column("parked_at", UtcDateTime(), nullable=True),
    )
    Index(
        "ix_outbox_pending",
        table.c.id,
        postgresql_where=table.c.published_at.is_(None),
        sqlite_where=table.c.published_at.is_(None),
    )
    return table


def processed_events_table(metadata: MetaData) -> Table:
    """Event ids a consumer has applied, written in the same transaction as the effects."""
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
    )
