"""All of the registry's data access: the only module that opens database sessions.

`RegistryStore.transaction()` gives a session inside one transaction (committed when the block
ends, rolled back on error), `reading()` a session for reads. The query functions below take
the session they run in, so a use case composes them into its own unit of work. Tables are in
`db.py`. Nothing here waits on the network or hashes a password: use cases do that before or
after their transaction (`RegistryStore.open_transactions` lets tests prove it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry import db
from services.registry.domain import Scope
from services.registry.throttle import FailureRecord
from services.registry.unit_rules import HistoryEntry, unit_changes
from shared.contracts.registry import (
    Contacts,
    Leader,
    PeriodChangedV2,
    PeriodExpectedUnits,
    PeriodState,
    RequestBasis,
    TokenRevocation,
    TokensRevoked,
    UnitChanged,
    UnitState,
    split_period,
)
from shared.errors import Conflict, NotFound
from shared.idempotency import Answer, IdempotentRequest, remember, replay
from shared.messaging.outbox import add_event, add_events
from shared.revocation import record as record_revocation

PRODUCER = "registry"


def _findable(value: str, max_length: int) -> bool:
    """Whether a key from a request can name a row at all (a NUL or an over-long value cannot,
    and PostgreSQL would refuse the query)."""
    return len(value) <= max_length and "\x00" not in value


class RegistryStore:
    """Opens the service's sessions: one place for every unit of work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.open_transactions = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed when the block ends."""
        async with self._sessions() as session, session.begin():
            self.open_transactions += 1
            try:
                yield session
            finally:
                self.open_transactions -= 1

    @asynccontextmanager
    async def trial(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction that is always rolled back (a dry run)."""
        async with self._sessions() as session:
            transaction = await session.begin()
            self.open_transactions += 1
            try:
                yield session
            finally:
                self.open_transactions -= 1
                await transaction.rollback()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (nothing is committed)."""
        async with self._sessions() as session:
            yield session


# --- units ---------------------------------------------------------------------------------


def unit_from_row(row: Row[Any]) -> UnitState:
    """A unit row as its contract."""
    return UnitState(
        unit_id=row.unit_id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        tags=tuple(row.tags or ()),
        parent_code=row.parent_code,
        display_order=row.display_order,
        must_report=row.must_report,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        successor_codes=tuple(row.successor_codes or ()),
        leader=Leader.model_validate(row.leader) if row.leader else None,
        contacts=Contacts.model_validate(row.contacts or {}),
        version=row.version,
    )


async def all_units(session: AsyncSession) -> list[UnitState]:
    """Every unit, current and past, in registry order."""
    rows = (
        await session.execute(select(db.units).order_by(db.units.c.display_order, db.units.c.code))
    ).all()
    return [unit_from_row(r) for r in rows]


async def get_unit(session: AsyncSession, code: str, on: date | None = None) -> UnitState:
    """The unit with this code (the one valid on `on`, else the newest); `code@YYYY-MM-DD`
    names one record exactly."""
    if "@" in code:
        exact = [u for u in await all_units(session) if u.unit_id == code]
        if not exact:
            raise NotFound(f"Không tìm thấy đơn vị «{code}».", code="unit_not_found")
        return exact[0]
    rows = [u for u in await all_units(session) if u.code == code]
    if on is not None:
        rows = [u for u in rows if u.valid_from <= on and (u.valid_to is None or u.valid_to >= on)]
    if not rows:
        raise NotFound(f"Không tìm thấy đơn vị có mã «{code}».", code="unit_not_found")
    return max(rows, key=lambda u: u.valid_from)


async def save_unit(
    session: AsyncSession,
    old: UnitState | None,
    new: UnitState,
    *,
    action: str,
    actor: str,
    now: datetime,
    note: str = "",
) -> UnitState:
    """Write a unit record with its history entry and UnitChanged event, in the caller's
    transaction; a record changed meanwhile by someone else gives 409."""
    if old is None:
        await session.execute(db.units.insert().values(**_unit_values(new, now)))
    else:
        result = await session.execute(
            update(db.units)
            .where(db.units.c.unit_id == old.unit_id, db.units.c.version == old.version)
            .values(**_unit_values(new, now))
        )
        if _rowcount(result) != 1:
            raise concurrent_change()
    await session.execute(
        db.unit_history.insert().values(
            unit_id=new.unit_id,
            code=new.code,
            version=new.version,
            action=action,
            changed_by=actor,
            changed_at=now,
            changes=unit_changes(old, new),
            note=note,
        )
    )
    await add_event(session, db.outbox, UnitChanged.new(new, producer=PRODUCER, occurred_at=now))
    return new


async def insert_unit_once(
    session: AsyncSession, new: UnitState, *, actor: str, now: datetime
) -> bool:
    """Create a record unless a concurrent request created the same one first (False then)."""
    try:
        async with session.begin_nested():
            await save_unit(session, None, new, action="created", actor=actor, now=now)
    except IntegrityError:
        return False
    return True


async def unit_history(session: AsyncSession, ref: str) -> list[HistoryEntry]:
    """Every recorded change of the records with this code (or of one record), oldest first."""
    if not _findable(ref, 64):
        return []
    column = db.unit_history.c.unit_id if "@" in ref else db.unit_history.c.code
    rows = (
        await session.execute(
            select(db.unit_history)
            .where(column == ref)
            .order_by(db.unit_history.c.changed_at, db.unit_history.c.id)
        )
    ).all()
    return [
        HistoryEntry(
            unit_id=r.unit_id,
            code=r.code,
            version=r.version,
            action=r.action,
            changed_by=r.changed_by,
            changed_at=r.changed_at,
            changes=dict(r.changes or {}),
            note=r.note or "",
        )
        for r in rows
    ]


def _unit_values(unit: UnitState, now: datetime) -> dict[str, Any]:
    values = unit.model_dump(mode="json")
    values.update(valid_from=unit.valid_from, valid_to=unit.valid_to, updated_at=now)
    return values


# --- periods -------------------------------------------------------------------------------


def period_from_row(row: Row[Any]) -> PeriodState:
    """A period row as its contract."""
    return PeriodState(
        period_id=row.period_id,
        kind=row.kind,
        year=row.year,
        title=row.title,
        content=row.content or "",
        form_id=row.form_id,
        form_version=row.form_version,
        window_start=row.window_start,
        window_end=row.window_end,
        due_at=row.due_at,
        status=row.status,
        basis=RequestBasis.model_validate(row.basis) if row.basis else None,
        expected_units=tuple(row.expected_units or ()),
        version=row.version,
    )


async def all_periods(session: AsyncSession) -> list[PeriodState]:
    """Every period, newest deadline first."""
    rows = (await session.execute(select(db.periods).order_by(db.periods.c.due_at.desc()))).all()
    return [period_from_row(r) for r in rows]


async def get_period(session: AsyncSession, period_id: str) -> PeriodState:
    """One period."""
    if not _findable(period_id, 32):
        raise NotFound(f"Không tìm thấy kỳ báo cáo «{period_id[:32]}».", code="period_not_found")
    row = (
        await session.execute(select(db.periods).where(db.periods.c.period_id == period_id))
    ).first()
    if row is None:
        raise NotFound(f"Không tìm thấy kỳ báo cáo «{period_id}».", code="period_not_found")
    return period_from_row(row)


async def period_scopes(session: AsyncSession) -> dict[str, Scope]:
    """The scope of every period, by id."""
    rows = (await session.execute(select(db.periods.c.period_id, db.periods.c.scope))).all()
    return {r.period_id: Scope.from_dict(r.scope or {}) for r in rows}


async def save_period(
    session: AsyncSession,
    old: PeriodState | None,
    new: PeriodState,
    scope: Scope,
    *,
    now: datetime,
) -> PeriodState:
    """Write a period and its events in the caller's transaction (the deadline travels in
    UTC, whatever offset it was given in): the parts of its expected set when it does not fit
    one (`PeriodExpectedUnits`), then its `PeriodChangedV2`, in that order in the outbox."""
    new = new.model_copy(update={"due_at": new.due_at.astimezone(UTC)})
    if old is None:
        await session.execute(db.periods.insert().values(**_period_values(new, scope, now)))
    else:
        result = await session.execute(
            update(db.periods)
            .where(db.periods.c.period_id == old.period_id, db.periods.c.version == old.version)
            .values(**_period_values(new, scope, now))
        )
        if _rowcount(result) != 1:
            raise concurrent_change()
    header, parts = split_period(new)
    await add_events(
        session,
        db.outbox,
        [
            *(PeriodExpectedUnits.new(p, producer=PRODUCER, occurred_at=now) for p in parts),
            PeriodChangedV2.new(header, producer=PRODUCER, occurred_at=now),
        ],
    )
    return new


def _period_values(period: PeriodState, scope: Scope, now: datetime) -> dict[str, Any]:
    values = period.model_dump(mode="json")
    values.update(
        window_start=period.window_start,
        window_end=period.window_end,
        due_at=period.due_at,
        scope=scope.as_dict(),
        basis=period.basis.model_dump(mode="json") if period.basis else None,
        updated_at=now,
    )
    return values


async def replay_answer(session: AsyncSession, request: IdempotentRequest) -> Answer | None:
    """The first answer to a keyed request (shared.idempotency), None if it is new."""
    return await replay(session, db.idempotency_keys, request)


async def remember_answer(
    session: AsyncSession, request: IdempotentRequest, answer: Answer, now: datetime
) -> None:
    """Store the first answer to a keyed request in the caller's transaction."""
    await remember(session, db.idempotency_keys, request, answer, now)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def concurrent_change() -> Conflict:
    """Someone else changed the record between our read and our write."""
    return Conflict(
        "Dữ liệu vừa được người khác thay đổi; hãy tải lại và thử lại.", code="concurrent_change"
    )


# --- accounts ------------------------------------------------------------------------------


async def account_row(session: AsyncSession, username: str) -> Row[Any] | None:
    """The account's row (with its password hash), None when there is none."""
    if not _findable(username, 64):
        return None
    return (
        await session.execute(select(db.accounts).where(db.accounts.c.username == username))
    ).first()


async def account_rows(session: AsyncSession) -> list[Row[Any]]:
    """Every account row, by username."""
    return list((await session.execute(select(db.accounts).order_by(db.accounts.c.username))).all())


async def usernames(session: AsyncSession) -> set[str]:
    """Every username."""
    return set((await session.execute(select(db.accounts.c.username))).scalars())


async def insert_account(session: AsyncSession, **values: Any) -> bool:
    """Add an account; False when the username is taken."""
    try:
        async with session.begin_nested():
            await session.execute(db.accounts.insert().values(**values))
    except IntegrityError:
        return False
    return True


async def update_account(session: AsyncSession, username: str, **values: Any) -> None:
    """Change an account's columns."""
    await session.execute(
        update(db.accounts).where(db.accounts.c.username == username).values(**values)
    )


async def replace_password_hash(
    session: AsyncSession, username: str, expected_hash: str, new_hash: str
) -> bool:
    """Replace the hash only if it is still the one the caller checked (False otherwise)."""
    result = await session.execute(
        update(db.accounts)
        .where(db.accounts.c.username == username, db.accounts.c.password_hash == expected_hash)
        .values(password_hash=new_hash)
    )
    return _rowcount(result) == 1


# --- the sign-in slow-down -----------------------------------------------------------------


async def failure_records(session: AsyncSession, keys: Sequence[str]) -> dict[str, FailureRecord]:
    """The remembered failures of these counters."""
    rows = (
        await session.execute(select(db.login_throttle).where(db.login_throttle.c.key.in_(keys)))
    ).all()
    return {r.key: FailureRecord(r.failures, r.last_failure_at, r.locked_until) for r in rows}


async def write_failure_record(
    session: AsyncSession, key: str, record: FailureRecord, *, existed: bool, now: datetime
) -> None:
    """Store a counter after one more failure (a concurrent first failure adds to it)."""
    values = {
        "failures": record.failures,
        "last_failure_at": record.last_failure_at,
        "locked_until": record.locked_until,
    }
    if existed:
        await session.execute(
            update(db.login_throttle).where(db.login_throttle.c.key == key).values(**values)
        )
        return
    try:
        async with session.begin_nested():
            await session.execute(db.login_throttle.insert().values(key=key, **values))
    except IntegrityError:
        await session.execute(
            update(db.login_throttle)
            .where(db.login_throttle.c.key == key)
            .values(failures=db.login_throttle.c.failures + 1, last_failure_at=now)
        )


async def clear_failures(session: AsyncSession, key: str) -> None:
    """Forget a counter after a successful sign-in."""
    await session.execute(delete(db.login_throttle).where(db.login_throttle.c.key == key))


# --- API keys ------------------------------------------------------------------------------


async def api_key_row(session: AsyncSession, key_id: str) -> Row[Any] | None:
    """One issued key's row, None when there is none."""
    if not _findable(key_id, 32):
        return None
    return (
        await session.execute(select(db.api_keys).where(db.api_keys.c.key_id == key_id))
    ).first()


async def api_key_rows(session: AsyncSession) -> list[Row[Any]]:
    """Every issued key, newest first."""
    return list(
        (await session.execute(select(db.api_keys).order_by(db.api_keys.c.created_at.desc()))).all()
    )


async def insert_api_key(session: AsyncSession, **values: Any) -> None:
    """Store a new key (its secret only hashed)."""
    await session.execute(db.api_keys.insert().values(**values))


async def update_api_key(session: AsyncSession, key_id: str, **values: Any) -> None:
    """Change an issued key's columns (revocation, last use)."""
    await session.execute(
        update(db.api_keys).where(db.api_keys.c.key_id == key_id).values(**values)
    )


# --- signing keys --------------------------------------------------------------------------


async def published_key_rows(session: AsyncSession, now: datetime) -> list[Row[Any]]:
    """Signing keys not yet retired at `now`, newest first."""
    return list(
        (
            await session.execute(
                select(db.signing_keys)
                .where(
                    or_(db.signing_keys.c.retired_at.is_(None), db.signing_keys.c.retired_at > now)
                )
                .order_by(db.signing_keys.c.created_at.desc())
            )
        ).all()
    )


async def insert_signing_key(
    session: AsyncSession,
    *,
    kid: str,
    private_pem: bytes,
    public_jwk: dict[str, Any],
    now: datetime,
) -> None:
    """Store a new (encrypted) signing key."""
    await session.execute(
        db.signing_keys.insert().values(
            kid=kid, private_pem=private_pem, public_jwk=public_jwk, created_at=now
        )
    )


async def retire_current_keys(session: AsyncSession, retires_at: datetime) -> None:
    """Give the keys that sign now their retirement time."""
    await session.execute(
        update(db.signing_keys)
        .where(db.signing_keys.c.retired_at.is_(None))
        .values(retired_at=retires_at)
    )


async def revoke_tokens(session: AsyncSession, entry: TokenRevocation, *, now: datetime) -> None:
    """Tokens refused from now on: kept for the registry's own check and published to every
    service (TokensRevoked, through the outbox), in the caller's transaction."""
    await record_revocation(session, db.token_revocations, entry, now=now)
    await add_event(
        session, db.outbox, TokensRevoked.new(entry, producer=PRODUCER, occurred_at=now)
    )


# --- activation codes ----------------------------------------------------------------------


async def replace_activation_code(
    session: AsyncSession,
    username: str,
    *,
    code_hash: str,
    issued_by: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """The account's one activation code from now on (an earlier one stops working)."""
    await session.execute(
        delete(db.activation_codes).where(db.activation_codes.c.username == username)
    )
    await session.execute(
        db.activation_codes.insert().values(
            username=username,
            code_hash=code_hash,
            issued_by=issued_by,
            issued_at=now,
            expires_at=expires_at,
        )
    )


async def consume_activation_code(
    session: AsyncSession, username: str, code_hash: str, now: datetime
) -> bool:
    """Use the code once: True when it was the account's unexpired code (it is gone now)."""
    if not _findable(username, 64):
        return False
    result = await session.execute(
        delete(db.activation_codes).where(
            db.activation_codes.c.username == username,
            db.activation_codes.c.code_hash == code_hash,
            db.activation_codes.c.expires_at > now,
        )
    )
    return _rowcount(result) == 1


async def activation_code_row(session: AsyncSession, username: str) -> Row[Any] | None:
    """The account's pending activation code, None when there is none."""
    if not _findable(username, 64):
        return None
    return (
        await session.execute(
            select(db.activation_codes).where(db.activation_codes.c.username == username)
        )
    ).first()


async def pending_activations(session: AsyncSession) -> set[str]:
    """Usernames with an activation code outstanding."""
    return set((await session.execute(select(db.activation_codes.c.username))).scalars())


async def admin_exists(session: AsyncSession) -> bool:
    """Whether any active admin account exists."""
    row = (
        await session.execute(
            select(db.accounts.c.username).where(
                db.accounts.c.role == "admin", db.accounts.c.active.is_(True)
            )
        )
    ).first()
    return row is not None


async def reserve_attempt(
    session: AsyncSession, key: str, previous: FailureRecord | None, record: FailureRecord
) -> bool:
    """Count one attempt on a counter before its password is checked, only if the counter is
    still as the caller read it (False: another attempt came first; read again)."""
    values = {
        "failures": record.failures,
        "last_failure_at": record.last_failure_at,
        "locked_until": record.locked_until,
    }
    if previous is None:
        try:
            async with session.begin_nested():
                await session.execute(db.login_throttle.insert().values(key=key, **values))
        except IntegrityError:
            return False
        return True
    result = await session.execute(
        update(db.login_throttle)
        .where(
            db.login_throttle.c.key == key,
            db.login_throttle.c.failures == previous.failures,
            db.login_throttle.c.last_failure_at == previous.last_failure_at,
        )
        .values(**values)
    )
    return _rowcount(result) == 1
