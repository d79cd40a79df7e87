"""Revoked tokens: what every service refuses although the signature is still good.

The registry decides (an account deactivated, a role or password changed, an API key revoked,
a sign-out) and publishes `TokensRevoked` through its outbox. Every service keeps the
revocations in its own `token_revocations` table, written by a durable JetStream consumer in
the same transaction as the processed-event claim, and in memory (`Revocations`), where
`TokenVerifier` looks every token up. The memory is loaded from the table when the service
starts and then re-read every `poll_seconds`, so a replica whose sibling got the event (a
durable consumer hands each event to one replica) refuses the token too; the replica that
applied the event knows at once. A restart therefore knows everything its database knew,
and the durable consumer (DeliverPolicy.ALL, a stream kept by limits, never by age) delivers
what was published while it was away.

Rows are kept until `forget_after` (every token they refuse has expired by then) and pruned
on the way. See docs/SECURITY.md, "Tokens and revocation".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.contracts.registry import RevocationReason, TokenRevocation, TokensRevoked
from shared.db import UtcDateTime

log = logging.getLogger(__name__)

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

# A transaction that wrote a revocation may commit a little after a later one (two replicas
# applying events at once): each poll re-reads rows recorded this long before the last seen.
POLL_OVERLAP = timedelta(seconds=60)


# Verifiers accept tokens up to 10 s past `exp` (shared/auth.py): keep entries longer than that.
FORGET_GRACE = timedelta(minutes=2)


def revoke_subject(
    subject: str, reason: RevocationReason, *, now: datetime, token_ttl: timedelta
) -> TokenRevocation:
    """Every token of `subject` issued before `now` (the registry, at the change)."""
    return TokenRevocation(
        subject=subject, valid_after=now, forget_after=now + token_ttl + FORGET_GRACE, reason=reason
    )


def revoke_token(subject: str, token_id: str, *, expires_at: datetime) -> TokenRevocation:
    """One token, by its `jti` (a sign-out); forgotten once it has expired."""
    return TokenRevocation(
        subject=subject, token_id=token_id, forget_after=expires_at + FORGET_GRACE, reason="logout"
    )


def revocations_table(metadata: MetaData) -> Table:
    """The revocations a service keeps (each service adds it to its metadata)."""
    table = Table(
        "token_revocations",
        metadata,
        Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        Column("subject", String(100), nullable=False),
        Column("token_id", String(64), nullable=True),
        Column("valid_after", UtcDateTime(), nullable=True),
        Column("forget_after", UtcDateTime(), nullable=False),
        Column("reason", String(30), nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
    )
    Index("ix_token_revocations_recorded_at", table.c.recorded_at)
    Index("ix_token_revocations_forget_after", table.c.forget_after)
    return table


def issued_at(claims: Mapping[str, Any]) -> float:
    """A token's `iat` in epoch seconds (the registry writes milliseconds)."""
    return float(claims["iat"])


def epoch(moment: datetime) -> float:
    """An instant as epoch seconds, at the millisecond the registry writes `iat` with."""
    return int(moment.timestamp() * 1000) / 1000


class Revocations:
    """In memory: per subject the latest `valid_after`, per token id a sign-out."""

    def __init__(self) -> None:
        # subject -> (valid_after, forget_after), epoch seconds
        self._subjects: dict[str, tuple[float, float]] = {}
        # jti -> forget_after
        self._tokens: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._subjects) + len(self._tokens)

    def apply(self, entry: TokenRevocation, *, now: datetime) -> None:
        """Remember a revocation (idempotent; a later `valid_after` wins)."""
        forget = entry.forget_after.timestamp()
        if forget <= now.timestamp():
            return
        if entry.valid_after is not None:
            valid_after = epoch(entry.valid_after)
            previous = self._subjects.get(entry.subject)
            if previous is not None:
                valid_after = max(valid_after, previous[0])
                forget = max(forget, previous[1])
            self._subjects[entry.subject] = (valid_after, forget)
        if entry.token_id is not None:
            self._tokens[entry.token_id] = max(forget, self._tokens.get(entry.token_id, 0.0))

    def refuses(self, subject: str, iat: float, token_id: str | None) -> bool:
        """Whether a token with these claims was revoked."""
        if token_id is not None and token_id in self._tokens:
            return True
        found = self._subjects.get(subject)
        return found is not None and iat < found[0]

    def prune(self, now: datetime) -> None:
        """Forget the entries whose tokens have all expired."""
        moment = now.timestamp()
        self._subjects = {k: v for k, v in self._subjects.items() if v[1] > moment}
        self._tokens = {k: v for k, v in self._tokens.items() if v > moment}


def _entry(row: Any) -> TokenRevocation:
    return TokenRevocation(
        subject=row.subject,
        valid_after=row.valid_after,
        token_id=row.token_id,
        forget_after=row.forget_after,
        reason=row.reason,
    )


async def record(
    session: AsyncSession, table: Table, entry: TokenRevocation, *, now: datetime
) -> None:
    """Keep a revocation in the caller's transaction; prunes rows no longer needed."""
    await session.execute(delete(table).where(table.c.forget_after <= now))
    if entry.forget_after <= now:
        return
    await session.execute(
        insert(table).values(
            subject=entry.subject,
            token_id=entry.token_id,
            valid_after=entry.valid_after,
            forget_after=entry.forget_after,
            reason=entry.reason,
            recorded_at=now,
        )
    )


@dataclass
class RevocationFeed:
    """Keeps `revocations` in line with the service's table (see the module's docstring)."""

    sessions: async_sessionmaker[AsyncSession]
    table: Table
    clock: Clock
    revocations: Revocations
    poll_seconds: float = 1.0

    def __post_init__(self) -> None:
        self._seen: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        """Read the rows recorded since the last read (all of them the first time)."""
        now = self.clock.now()
        statement = select(self.table).where(self.table.c.forget_after > now)
        if self._seen is not None:
            statement = statement.where(self.table.c.recorded_at >= self._seen - POLL_OVERLAP)
        async with self.sessions() as session:
            rows = (await session.execute(statement)).all()
        for row in rows:
            self.revocations.apply(_entry(row), now=now)
            if self._seen is None or row.recorded_at > self._seen:
                self._seen = row.recorded_at
        if self._seen is None:
            self._seen = now
        self.revocations.prune(now)

    async def on_event(self, session: AsyncSession, event: TokensRevoked) -> None:
        """The consumer's handler: keep the revocation, refuse its tokens here at once."""
        now = self.clock.now()
        await record(session, self.table, event.payload, now=now)
        self.revocations.apply(event.payload, now=now)

    async def start(self) -> None:
        """Load the table, then keep re-reading it in the background."""
        await self.load()
        self._task = asyncio.create_task(self._poll(), name="token-revocations")

    async def stop(self) -> None:
        """Stop re-reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.load()
            except Exception:
                log.warning("could not re-read the token revocations", exc_info=True)
