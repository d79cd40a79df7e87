"""Accounts, passwords, the sign-in slow-down and API keys of machine clients."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import db
from services.registry.domain import Problem
from services.registry.handlers import all_units, password_hasher, verify_password
from services.registry.throttle import FailureRecord, ThrottlePolicy, after_failure, retry_after
from services.registry.units import raise_problems
from shared.auth import ROLES, Principal
from shared.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
API_KEY_PREFIX = "dvk"
API_KEY_PATTERN = re.compile(r"^dvk\.([0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class Account:
    """An account as admins see it (never the password hash)."""

    username: str
    display_name: str
    role: str
    unit_code: str | None
    active: bool
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "unit_code": self.unit_code,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
        }


def _account(row: Row[Any]) -> Account:
    return Account(
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        unit_code=row.unit_code,
        active=row.active,
        created_at=row.created_at,
    )


async def list_accounts(session: AsyncSession) -> list[Account]:
    """Every account, by username."""
    rows = (await session.execute(select(db.accounts).order_by(db.accounts.c.username))).all()
    return [_account(r) for r in rows]


async def get_account(session: AsyncSession, username: str) -> Account:
    """One account."""
    row = (
        await session.execute(select(db.accounts).where(db.accounts.c.username == username))
    ).first()
    if row is None:
        raise NotFound(f"Không tìm thấy tài khoản «{username}».", code="account_not_found")
    return _account(row)


def password_problems(password: str, min_length: int, field: str = "password") -> list[Problem]:
    """A new password is long enough and not blank."""
    if len(password) < min_length or not password.strip():
        return [
            Problem(field, "password_too_short", f"Mật khẩu phải có ít nhất {min_length} ký tự.")
        ]
    return []


async def _role_problems(session: AsyncSession, role: str, unit_code: str | None) -> list[Problem]:
    if role not in ROLES:
        return [
            Problem(
                "role",
                "unknown_role",
                f"Vai trò «{role}» không hợp lệ; chọn một trong: {', '.join(ROLES)}.",
            )
        ]
    if role == "unit":
        if not unit_code:
            return [
                Problem(
                    "unit_code",
                    "unit_required",
                    "Tài khoản của đơn vị phải gắn với một mã đơn vị.",
                )
            ]
        if unit_code not in {u.code for u in await all_units(session)}:
            return [
                Problem(
                    "unit_code", "unknown_unit", f"Đơn vị «{unit_code}» không có trong danh mục."
                )
            ]
    elif unit_code:
        return [
            Problem(
                "unit_code",
                "unit_not_allowed",
                "Chỉ tài khoản có vai trò «unit» mới gắn với một đơn vị.",
            )
        ]
    return []


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    display_name: str,
    role: str,
    unit_code: str | None,
    password: str,
    min_length: int,
    now: datetime,
) -> Account:
    """Add an account with an initial password."""
    problems: list[Problem] = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            Problem(
                "username",
                "invalid_username",
                f"Tên đăng nhập «{username}» không hợp lệ: 3–64 ký tự gồm chữ thường không dấu, "
                "chữ số, «.», «-» hoặc «_».",
            )
        )
    if not display_name.strip():
        problems.append(
            Problem("display_name", "display_name_required", "Tên hiển thị không được để trống.")
        )
    problems += await _role_problems(session, role, unit_code)
    problems += password_problems(password, min_length)
    raise_problems(problems)
    password_hash = await asyncio.to_thread(password_hasher.hash, password)
    try:
        async with session.begin_nested():
            await session.execute(
                db.accounts.insert().values(
                    username=username,
                    display_name=display_name.strip(),
                    role=role,
                    unit_code=unit_code or None,
                    password_hash=password_hash,
                    active=True,
                    created_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(
            f"Tên đăng nhập «{username}» đã có.",
            code="duplicate_username",
            details={"field": "username"},
        ) from None
    return await get_account(session, username)


async def update_account(
    session: AsyncSession, username: str, fields: dict[str, Any], *, min_length: int
) -> Account:
    """Change an account's name, role, unit, active flag, or reset its password."""
    current = await get_account(session, username)
    role = fields.get("role", current.role)
    unit_code = fields.get("unit_code", current.unit_code)
    if "role" in fields and role != "unit" and "unit_code" not in fields:
        unit_code = None  # leaving the unit role leaves the unit
    problems = await _role_problems(session, role, unit_code)
    if "display_name" in fields and not str(fields["display_name"]).strip():
        problems.append(
            Problem("display_name", "display_name_required", "Tên hiển thị không được để trống.")
        )
    if "password" in fields:
        problems += password_problems(fields["password"], min_length)
    raise_problems(problems)
    values: dict[str, Any] = {"role": role, "unit_code": unit_code or None}
    if "display_name" in fields:
        values["display_name"] = str(fields["display_name"]).strip()
    if "active" in fields:
        values["active"] = bool(fields["active"])
    if "password" in fields:
        values["password_hash"] = await asyncio.to_thread(password_hasher.hash, fields["password"])
    await session.execute(
        update(db.accounts).where(db.accounts.c.username == username).values(**values)
    )
    return await get_account(session, username)


async def change_own_password(
    session: AsyncSession, username: str, old: str, new: str, *, min_length: int
) -> None:
    """A user replaces their password, proving they know the current one."""
    row = (
        await session.execute(select(db.accounts).where(db.accounts.c.username == username))
    ).first()
    if row is None or not row.active:
        raise Forbidden("Tài khoản này không đổi được mật khẩu.", code="password_change_refused")
    if not await asyncio.to_thread(verify_password, row.password_hash, old):
        raise DomainError(
            "Mật khẩu hiện tại không đúng.",
            code="wrong_password",
            status=422,
            details={"field": "old_password"},
        )
    problems = password_problems(new, min_length, field="new_password")
    if new == old:
        problems.append(
            Problem("new_password", "password_unchanged", "Mật khẩu mới phải khác mật khẩu cũ.")
        )
    raise_problems(problems)
    password_hash = await asyncio.to_thread(password_hasher.hash, new)
    await session.execute(
        update(db.accounts)
        .where(db.accounts.c.username == username)
        .values(password_hash=password_hash)
    )


# --- the sign-in slow-down --------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleKey:
    """A counter (per username or per client address) and the policy it follows."""

    key: str
    policy: ThrottlePolicy


async def _records(session: AsyncSession, keys: Sequence[str]) -> dict[str, FailureRecord]:
    rows = (
        await session.execute(select(db.login_throttle).where(db.login_throttle.c.key.in_(keys)))
    ).all()
    return {r.key: FailureRecord(r.failures, r.last_failure_at, r.locked_until) for r in rows}


async def locked_for(
    session: AsyncSession, keys: Sequence[ThrottleKey], now: datetime
) -> float | None:
    """Seconds the caller must still wait, or None when an attempt is allowed."""
    records = await _records(session, [k.key for k in keys])
    waits = [retry_after(records.get(k.key), now) for k in keys]
    longest = max((w for w in waits if w is not None), default=None)
    return None if longest is None else longest.total_seconds()


async def record_failure(session: AsyncSession, keys: Sequence[ThrottleKey], now: datetime) -> None:
    """Count one failed attempt on every counter."""
    records = await _records(session, [k.key for k in keys])
    for throttle_key in keys:
        previous = records.get(throttle_key.key)
        record = after_failure(throttle_key.policy, previous, now)
        values = {
            "failures": record.failures,
            "last_failure_at": record.last_failure_at,
            "locked_until": record.locked_until,
        }
        if previous is not None:
            await session.execute(
                update(db.login_throttle)
                .where(db.login_throttle.c.key == throttle_key.key)
                .values(**values)
            )
            continue
        try:
            async with session.begin_nested():
                await session.execute(
                    db.login_throttle.insert().values(key=throttle_key.key, **values)
                )
        except IntegrityError:
            # Another attempt created the counter at the same moment; count on it.
            await session.execute(
                update(db.login_throttle)
                .where(db.login_throttle.c.key == throttle_key.key)
                .values(failures=db.login_throttle.c.failures + 1, last_failure_at=now)
            )


async def clear_failures(session: AsyncSession, key: str) -> None:
    """Forget a counter after a successful sign-in."""
    await session.execute(delete(db.login_throttle).where(db.login_throttle.c.key == key))


# --- API keys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiKey:
    """An issued API key, without its secret."""

    key_id: str
    unit_code: str
    name: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "key_id": self.key_id,
            "prefix": f"{API_KEY_PREFIX}.{self.key_id}",
            "unit_code": self.unit_code,
            "name": self.name,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def _api_key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        unit_code=row.unit_code,
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _secret_hash(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_api_key(
    session: AsyncSession,
    *,
    unit_code: str,
    name: str,
    expires_at: datetime | None,
    actor: str,
    now: datetime,
) -> tuple[ApiKey, str]:
    """A new key for a unit's machine client; the full key is returned only here."""
    problems: list[Problem] = []
    if unit_code not in {u.code for u in await all_units(session)}:
        problems.append(
            Problem("unit_code", "unknown_unit", f"Đơn vị «{unit_code}» không có trong danh mục.")
        )
    if not name.strip():
        problems.append(Problem("name", "name_required", "Hãy đặt tên cho khóa (dùng ở đâu)."))
    if expires_at is not None and expires_at <= now:
        problems.append(
            Problem("expires_at", "expires_in_past", "Thời hạn của khóa phải ở tương lai.")
        )
    raise_problems(problems)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    await session.execute(
        db.api_keys.insert().values(
            key_id=key_id,
            unit_code=unit_code,
            name=name.strip(),
            secret_hash=_secret_hash(secret),
            created_by=actor,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return await get_api_key(session, key_id), f"{API_KEY_PREFIX}.{key_id}.{secret}"


async def get_api_key(session: AsyncSession, key_id: str) -> ApiKey:
    """One issued key."""
    row = (await session.execute(select(db.api_keys).where(db.api_keys.c.key_id == key_id))).first()
    if row is None:
        raise NotFound(f"Không tìm thấy khóa API «{key_id}».", code="api_key_not_found")
    return _api_key(row)


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    """Every issued key, newest first."""
    rows = (
        await session.execute(select(db.api_keys).order_by(db.api_keys.c.created_at.desc()))
    ).all()
    return [_api_key(r) for r in rows]


async def revoke_api_key(
    session: AsyncSession, key_id: str, *, actor: str, now: datetime
) -> ApiKey:
    """Stop a key from being exchanged (tokens already issued expire on their own)."""
    current = await get_api_key(session, key_id)
    if current.revoked_at is None:
        await session.execute(
            update(db.api_keys)
            .where(db.api_keys.c.key_id == key_id)
            .values(revoked_at=now, revoked_by=actor)
        )
    return await get_api_key(session, key_id)


def api_key_id(presented: str) -> str | None:
    """The key id a presented key claims, if it is shaped like one of ours."""
    match = API_KEY_PATTERN.match(presented.strip())
    return match[1] if match else None


async def exchange_api_key(session: AsyncSession, presented: str, now: datetime) -> Principal:
    """The unit principal of a valid, unrevoked, unexpired key; Unauthorized otherwise."""
    refused = Unauthorized(
        "Khóa API không hợp lệ, đã hết hạn hoặc đã bị thu hồi.", code="invalid_api_key"
    )
    match = API_KEY_PATTERN.match(presented.strip())
    if not match:
        raise refused
    row = (
        await session.execute(select(db.api_keys).where(db.api_keys.c.key_id == match[1]))
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _secret_hash(match[2])):
        raise refused
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise refused
    await session.execute(
        update(db.api_keys).where(db.api_keys.c.key_id == row.key_id).values(last_used_at=now)
    )
    return Principal(
        username=f"apikey:{row.key_id}",
        role="unit",
        unit_code=row.unit_code,
        display_name=f"{row.name} (khóa API)",
    )
