"""The registry's store: seeding, sign-in, reading units and periods, and writing them with
their history and events (the use cases in units.py and periods.py build on it)."""

from __future__ import annotations

import asyncio
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import db
from services.registry.domain import (
    DEFAULT_REGIME,
    RegimeRule,
    Scope,
    regime_periods,
    resolve_expected_units,
)
from services.registry.unit_rules import unit_changes
from shared.auth import Principal, Role
from shared.contracts.registry import (
    Contacts,
    Leader,
    PeriodChanged,
    PeriodState,
    UnitChanged,
    UnitState,
)
from shared.errors import Conflict, NotFound, Unauthorized
from shared.messaging.outbox import add_event

PRODUCER = "registry"
SEED_ACTOR = "system:seed"
password_hasher = PasswordHasher()


@dataclass(frozen=True)
class SeedUnit:
    """One unit of a seed file."""

    code: str
    name: str
    kind: str
    order: int
    tags: tuple[str, ...]
    must_report: bool
    valid_from: date


def load_seed(path: Path | None) -> list[SeedUnit]:
    """Parse a seed file (the packaged Hồng Lĩnh data when no path is given)."""
    if path is None:
        text = (
            importlib.resources.files("services.registry.seed")
            .joinpath("hong_linh.yaml")
            .read_text("utf-8")
        )
    else:
        text = path.read_text("utf-8")
    raw = yaml.safe_load(text)
    default_from = date.fromisoformat(str(raw.get("defaults", {}).get("valid_from", "2019-01-01")))
    return [
        SeedUnit(
            code=str(item["code"]),
            name=str(item["name"]),
            kind=str(item["kind"]),
            order=int(item.get("order", 0)),
            tags=tuple(item.get("tags", ())),
            must_report=bool(item.get("must_report", True)),
            valid_from=date.fromisoformat(str(item.get("valid_from", default_from))),
        )
        for item in raw["units"]
    ]


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
        expected_units=tuple(row.expected_units or ()),
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


async def all_periods(session: AsyncSession) -> list[PeriodState]:
    """Every period, newest deadline first."""
    rows = (await session.execute(select(db.periods).order_by(db.periods.c.due_at.desc()))).all()
    return [period_from_row(r) for r in rows]


async def get_period(session: AsyncSession, period_id: str) -> PeriodState:
    """One period."""
    row = (
        await session.execute(select(db.periods).where(db.periods.c.period_id == period_id))
    ).first()
    if row is None:
        raise NotFound(f"Không tìm thấy kỳ báo cáo «{period_id}».", code="period_not_found")
    return period_from_row(row)


async def seed(
    session: AsyncSession,
    *,
    units: list[SeedUnit],
    years: tuple[int, ...],
    demo_password: str | None,
    now: datetime,
    rules: Sequence[RegimeRule] = DEFAULT_REGIME,
    demo_contacts: bool = False,
) -> None:
    """Insert what is missing of the seed; existing rows are left as they are."""
    existing = {u.unit_id for u in await all_units(session)}
    for item in units:
        unit_id = f"{item.code}@{item.valid_from.isoformat()}"
        if unit_id in existing:
            continue
        state = UnitState(
            unit_id=unit_id,
            code=item.code,
            name=item.name,
            kind=item.kind,  # type: ignore[arg-type]
            tags=item.tags,
            display_order=item.order,
            must_report=item.must_report,
            valid_from=item.valid_from,
            contacts=demo_mailbox(item.code) if demo_contacts else Contacts(),
            version=1,
        )
        await save_unit(session, None, state, action="created", actor=SEED_ACTOR, now=now)
    for year in years:
        await ensure_regime_year(session, year, rules, now=now)
    # Units added to an existing registry change who is expected in open periods.
    await refresh_open_periods(session, now)
    if demo_password:
        await _seed_demo_accounts(session, await all_units(session), demo_password, now)


def demo_mailbox(code: str) -> Contacts:
    """A demo mailbox per unit (the reserved .invalid domain), so reminders reach the
    embedded SMTP sink; real contacts are entered by admins."""
    return Contacts(emails=(f"vanthu.{code.lower()}@honglinh.invalid",))


async def ensure_regime_year(
    session: AsyncSession, year: int, rules: Sequence[RegimeRule], *, now: datetime
) -> list[PeriodState]:
    """Create the year's periodic reports that do not exist yet; returns the year's periods."""
    known = {p.period_id: p for p in await all_periods(session)}
    units = await all_units(session)
    result: list[PeriodState] = []
    for planned in regime_periods(year, rules):
        if planned.period_id in known:
            result.append(known[planned.period_id])
            continue
        scope = Scope(all=True)
        period = PeriodState(
            period_id=planned.period_id,
            kind=planned.kind,
            year=planned.year,
            title=planned.title,
            form_id=planned.form[0],
            form_version=planned.form[1],
            window_start=planned.window_start,
            window_end=planned.window_end,
            due_at=planned.due_at,
            status="open",
            expected_units=tuple(resolve_expected_units(units, scope, planned.due_at)),
            version=1,
        )
        result.append(await save_period(session, None, period, scope, now=now))
    return result


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


async def save_period(
    session: AsyncSession,
    old: PeriodState | None,
    new: PeriodState,
    scope: Scope,
    *,
    now: datetime,
) -> PeriodState:
    """Write a period and its PeriodChanged event in the caller's transaction (the deadline
    travels in UTC, whatever offset it was given in)."""
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
    await add_event(session, db.outbox, PeriodChanged.new(new, producer=PRODUCER, occurred_at=now))
    return new


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def concurrent_change() -> Conflict:
    """Someone else changed the record between our read and our write."""
    return Conflict(
        "Dữ liệu vừa được người khác thay đổi; hãy tải lại và thử lại.", code="concurrent_change"
    )


async def period_scopes(session: AsyncSession) -> dict[str, Scope]:
    """The scope of every period, by id."""
    rows = (await session.execute(select(db.periods.c.period_id, db.periods.c.scope))).all()
    return {r.period_id: Scope.from_dict(r.scope or {}) for r in rows}


async def refresh_open_periods(session: AsyncSession, now: datetime) -> list[PeriodState]:
    """Re-resolve the expected units of every open period after units changed; a period whose
    set changed gets a new version and a PeriodChanged (consumers never recompute)."""
    units = await all_units(session)
    scopes = await period_scopes(session)
    changed: list[PeriodState] = []
    for period in await all_periods(session):
        if period.status != "open":
            continue
        scope = scopes[period.period_id]
        expected = tuple(resolve_expected_units(units, scope, period.due_at))
        if expected == period.expected_units:
            continue
        new = period.model_copy(update={"expected_units": expected, "version": period.version + 1})
        changed.append(await save_period(session, period, new, scope, now=now))
    return changed


async def _seed_demo_accounts(
    session: AsyncSession, units: list[UnitState], password: str, now: datetime
) -> None:
    present = set((await session.execute(select(db.accounts.c.username))).scalars())
    wanted: list[tuple[str, str, Role, str | None]] = [
        (u.code, u.name, "unit", u.code) for u in units if u.must_report and u.valid_to is None
    ]
    wanted += [
        ("pnv", "Phòng Nội vụ (chuyên viên tổng hợp)", "reviewer", None),
        ("lanhdao", "Lãnh đạo UBND thị xã", "leader", None),
        ("admin", "Quản trị hệ thống", "admin", None),
    ]
    missing = [w for w in wanted if w[0] not in present]
    if not missing:
        return
    # Demo accounts share one password; one hash keeps the first start quick.
    password_hash = await asyncio.to_thread(password_hasher.hash, password)
    for username, display_name, role, unit_code in missing:
        await session.execute(
            db.accounts.insert().values(
                username=username,
                display_name=display_name,
                role=role,
                unit_code=unit_code,
                password_hash=password_hash,
                active=True,
                created_at=now,
            )
        )


def _unit_values(unit: UnitState, now: datetime) -> dict[str, Any]:
    values = unit.model_dump(mode="json")
    values.update(valid_from=unit.valid_from, valid_to=unit.valid_to, updated_at=now)
    return values


def _period_values(period: PeriodState, scope: Scope, now: datetime) -> dict[str, Any]:
    values = period.model_dump(mode="json", exclude={"basis"})  # no column yet
    values.update(
        window_start=period.window_start,
        window_end=period.window_end,
        due_at=period.due_at,
        scope=scope.as_dict(),
        updated_at=now,
    )
    return values


async def authenticate(session: AsyncSession, username: str, password: str) -> Principal:
    """The principal for valid, active credentials; Unauthorized otherwise."""
    row = (
        await session.execute(select(db.accounts).where(db.accounts.c.username == username))
    ).first()
    refused = Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", code="invalid_credentials")
    if row is None or not row.active:
        # Same cost whether or not the account exists, so timing does not reveal it.
        await asyncio.to_thread(verify_password, _DUMMY_HASH, password)
        raise refused
    if not await asyncio.to_thread(verify_password, row.password_hash, password):
        raise refused
    return Principal(
        username=row.username,
        role=row.role,
        unit_code=row.unit_code,
        display_name=row.display_name,
    )


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored argon2 hash (blocking; run in a thread)."""
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$"
    "Gk0cF0d3m3Yl4b2r8nqk0u3rWJ0W0fQdXq8bY3vJb3A"
)
