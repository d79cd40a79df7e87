"""Registry use cases: seeding, sign-in, keys, reading units and periods."""

from __future__ import annotations

import asyncio
import importlib.resources
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import db
from services.registry.domain import Scope, regime_periods, resolve_expected_units
from services.registry.tokens import SigningKey, encrypt_key, generate_key, load_key
from shared.auth import Principal, Role
from shared.contracts.registry import (
    Contacts,
    Leader,
    PeriodChanged,
    PeriodState,
    UnitChanged,
    UnitState,
)
from shared.errors import NotFound, Unauthorized
from shared.messaging.outbox import add_event

PRODUCER = "registry"
_hasher = PasswordHasher()


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
    """The unit with this code (the one valid on `on`, else the newest)."""
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
            version=1,
        )
        await session.execute(db.units.insert().values(**_unit_values(state, now)))
        await add_event(session, db.outbox, UnitChanged.new(state, producer=PRODUCER))
    known_units = await all_units(session)
    known_periods = {p.period_id for p in await all_periods(session)}
    for year in years:
        for planned in regime_periods(year):
            if planned.period_id in known_periods:
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
                expected_units=tuple(resolve_expected_units(known_units, scope, planned.due_at)),
                version=1,
            )
            await session.execute(db.periods.insert().values(**_period_values(period, scope, now)))
            await add_event(session, db.outbox, PeriodChanged.new(period, producer=PRODUCER))
    if demo_password:
        await _seed_demo_accounts(session, known_units, demo_password, now)


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
    password_hash = await asyncio.to_thread(_hasher.hash, password)
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
    values = period.model_dump(mode="json")
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
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        raise refused
    if not await asyncio.to_thread(_verify, row.password_hash, password):
        raise refused
    return Principal(
        username=row.username,
        role=row.role,
        unit_code=row.unit_code,
        display_name=row.display_name,
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$"
    "Gk0cF0d3m3Yl4b2r8nqk0u3rWJ0W0fQdXq8bY3vJb3A"
)


async def signing_keys(session: AsyncSession, passphrase: str, now: datetime) -> list[SigningKey]:
    """Active signing keys, newest first; creates the first key when there is none."""
    rows = (
        await session.execute(
            select(db.signing_keys)
            .where(db.signing_keys.c.retired_at.is_(None))
            .order_by(db.signing_keys.c.created_at.desc())
        )
    ).all()
    if rows:
        return [load_key(r.kid, r.private_pem, r.public_jwk, passphrase) for r in rows]
    key = generate_key(now)
    await session.execute(
        db.signing_keys.insert().values(
            kid=key.kid,
            private_pem=encrypt_key(key, passphrase),
            public_jwk=key.public_jwk,
            created_at=now,
        )
    )
    return [key]


TOKEN_TTL_DEFAULT = timedelta(hours=1)
