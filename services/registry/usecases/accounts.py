"""Account and API-key use cases (admin), and the one place that records what happened to an
account (`account_changed`): deactivation, a role change, a password reset, a revoked key."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import store
from services.registry.common_passwords import is_common, normalised
from services.registry.context import RegistryContext
from services.registry.domain import Problem, instant_problems, text_problems
from services.registry.usecases.common import as_local_instant, raise_problems
from shared.auth import ROLES, Permission, Principal
from shared.contracts.api.registry import (
    AccountIn,
    AccountInfo,
    AccountPatch,
    ActivationCode,
    ApiKeyIn,
    ApiKeyInfo,
    CreatedAccount,
    IssuedApiKey,
)
from shared.errors import Conflict, NotFound, Unauthorized

audit = logging.getLogger("danvan.registry.audit")

DISPLAY_NAME_MAX = 200
PASSWORD_MAX = 200
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
API_KEY_PREFIX = "dvk"
API_KEY_PATTERN = re.compile(r"^dvk\.([0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})$")


def account_info(row: Row[Any]) -> AccountInfo:
    """An account row as admins see it (never the password hash)."""
    return AccountInfo(
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        unit_code=row.unit_code,
        active=row.active,
        created_at=row.created_at,
        password_set=bool(row.password_hash),
    )


async def _account(session: AsyncSession, username: str) -> Row[Any]:
    row = await store.account_row(session, username)
    if row is None:
        raise NotFound(f"Không tìm thấy tài khoản «{username}».", code="account_not_found")
    return row


async def account_changed(
    session: AsyncSession, username: str, changes: list[str], *, actor: str, now: datetime
) -> None:
    """What happened to an account, in the transaction that did it: every use case that
    deactivates or reactivates an account, changes its role or unit, resets or changes its
    password, or revokes an API key comes through here (an audit line for each)."""
    del session, now  # the same transaction, for what is recorded with the change
    audit.info("account %s: %s (by %s)", username, ", ".join(changes), actor)


# --- passwords -----------------------------------------------------------------------------


def password_problems(
    password: str, min_length: int, field: str = "password", *, username: str = ""
) -> list[Problem]:
    """The password policy: at least `min_length` characters (10 or more), not the username,
    not a common password."""
    if len(password) < min_length or not password.strip():
        return [
            Problem(field, "password_too_short", f"Mật khẩu phải có ít nhất {min_length} ký tự.")
        ]
    if len(password) > PASSWORD_MAX:
        return [Problem(field, "password_too_long", f"Mật khẩu dài quá {PASSWORD_MAX} ký tự.")]
    if username and normalised(username) in normalised(password):
        return [
            Problem(
                field,
                "password_is_username",
                "Mật khẩu không được chứa tên đăng nhập.",
            )
        ]
    if is_common(password):
        return [
            Problem(
                field,
                "password_too_common",
                "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác.",
            )
        ]
    return []


# --- accounts ------------------------------------------------------------------------------


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
        if unit_code not in {u.code for u in await store.all_units(session)}:
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


async def list_accounts(context: RegistryContext, principal: Principal) -> list[AccountInfo]:
    """Every account, by username (admin)."""
    principal.require(Permission.ADMINISTER)
    async with context.store.reading() as session:
        return [account_info(r) for r in await store.account_rows(session)]


async def read_account(
    context: RegistryContext, principal: Principal, username: str
) -> AccountInfo:
    """One account (admin)."""
    principal.require(Permission.ADMINISTER)
    async with context.store.reading() as session:
        return account_info(await _account(session, username))


async def create_account(
    context: RegistryContext, principal: Principal, body: AccountIn
) -> CreatedAccount:
    """Add an account (admin); role `unit` needs an existing unit. It has no password: the
    answer carries a one-time activation code with which its holder sets their own."""
    principal.require(Permission.ADMINISTER)
    problems: list[Problem] = []
    if not USERNAME_PATTERN.match(body.username):
        problems.append(
            Problem(
                "username",
                "invalid_username",
                f"Tên đăng nhập «{body.username}» không hợp lệ: 3–64 ký tự gồm chữ thường không "
                "dấu, chữ số, «.», «-» hoặc «_».",
            )
        )
    problems += _display_name_problems(body.display_name)
    unit_code = body.unit_code or None
    now = context.clock.now()
    async with context.store.transaction() as session:
        problems += await _role_problems(session, body.role, unit_code)
        raise_problems(problems)
        inserted = await store.insert_account(
            session,
            username=body.username,
            display_name=body.display_name.strip(),
            role=body.role,
            unit_code=unit_code,
            password_hash=NO_PASSWORD,
            active=True,
            created_at=now,
        )
        if not inserted:
            raise Conflict(
                f"Tên đăng nhập «{body.username}» đã có.",
                code="duplicate_username",
                details={"field": "username"},
            )
        activation = await _issue_code(context, session, body.username, principal.username, now)
        await account_changed(
            session, body.username, [f"created ({body.role})"], actor=principal.username, now=now
        )
        info = account_info(await _account(session, body.username))
    return CreatedAccount(**info.model_dump(), activation=activation)


# --- activation codes ----------------------------------------------------------------------

NO_PASSWORD = ""  # no password matches an empty hash
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_CODE_GROUPS = 4
_CODE_GROUP = 5


def new_activation_code() -> str:
    """100 random bits as four groups of five characters that read aloud without doubt."""
    groups = (
        "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUP))
        for _ in range(_CODE_GROUPS)
    )
    return "-".join(groups)


def activation_code_hash(code: str) -> str:
    """The stored form of a code as typed (case, spaces and dashes do not matter)."""
    typed = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(typed.encode()).hexdigest()


async def _issue_code(
    context: RegistryContext, session: AsyncSession, username: str, actor: str, now: datetime
) -> ActivationCode:
    code = new_activation_code()
    expires_at = now + timedelta(hours=context.settings.activation_code_hours)
    await store.replace_activation_code(
        session,
        username,
        code_hash=activation_code_hash(code),
        issued_by=actor,
        now=now,
        expires_at=expires_at,
    )
    audit.info("account %s: activation code issued (by %s)", username, actor)
    return ActivationCode(username=username, code=code, expires_at=expires_at)


async def reset_password(
    context: RegistryContext, principal: Principal, username: str
) -> ActivationCode:
    """An admin's password reset: the account's password stops working at once and a new
    activation code (shown once) lets its holder set a new one. Not one's own account (an
    admin changes their own password with the current one)."""
    principal.require(Permission.ADMINISTER)
    if username == principal.username:
        raise Conflict(
            "Hãy đổi mật khẩu của chính mình bằng mật khẩu hiện tại.",
            code="cannot_reset_own_password",
        )
    now = context.clock.now()
    async with context.store.transaction() as session:
        await _account(session, username)
        await store.update_account(session, username, password_hash=NO_PASSWORD)
        activation = await _issue_code(context, session, username, principal.username, now)
        await account_changed(
            session, username, ["password reset"], actor=principal.username, now=now
        )
    return activation


async def handover_sheet(
    context: RegistryContext, principal: Principal, unit_code: str
) -> list[tuple[AccountInfo, ActivationCode]]:
    """The handover sheet of a unit (admin): a new activation code for each active account of
    the unit that has no password yet (the unit's account, named by its code as in
    development, is created when the unit has none). Earlier codes of these accounts stop
    working; codes are shown on this sheet only."""
    principal.require(Permission.ADMINISTER)
    now = context.clock.now()
    sheet: list[tuple[AccountInfo, ActivationCode]] = []
    async with context.store.transaction() as session:
        unit = await store.get_unit(session, unit_code)
        rows = [
            r
            for r in await store.account_rows(session)
            if r.role == "unit" and r.unit_code == unit.code
        ]
        if not rows:
            username = unit.code  # as the development's demo accounts are named
            if not await store.insert_account(
                session,
                username=username,
                display_name=unit.name,
                role="unit",
                unit_code=unit.code,
                password_hash=NO_PASSWORD,
                active=True,
                created_at=now,
            ):
                raise Conflict(
                    f"Không tạo được tài khoản «{username}» cho đơn vị; hãy tạo tài khoản "
                    "với tên khác rồi lập lại phiếu bàn giao.",
                    code="unit_account_not_created",
                )
            await account_changed(
                session, username, ["created (unit)"], actor=principal.username, now=now
            )
            rows = [await _account(session, username)]
        for row in rows:
            if not row.active or row.password_hash:
                continue
            code = await _issue_code(context, session, row.username, principal.username, now)
            sheet.append((account_info(row), code))
    return sheet


async def update_account(
    context: RegistryContext, principal: Principal, username: str, body: AccountPatch
) -> AccountInfo:
    """Change an account (admin): name, role, unit, active flag (a password reset is
    `reset_password`). Admins cannot deactivate or demote themselves (no locking the last door)."""
    principal.require(Permission.ADMINISTER)
    fields = {name: getattr(body, name) for name in body.model_fields_set}
    fields = {k: v for k, v in fields.items() if v is not None or k == "unit_code"}
    if username == principal.username and (
        fields.get("active") is False or fields.get("role", "admin") != "admin"
    ):
        raise Conflict(
            "Không thể tự khóa hoặc tự hạ quyền tài khoản quản trị đang dùng.",
            code="cannot_change_own_admin",
        )
    now = context.clock.now()
    async with context.store.transaction() as session:
        current = await _account(session, username)
        role, unit_code = _planned(current, fields)
        raise_problems(await _update_problems(session, current, fields))
        values: dict[str, Any] = {"role": role, "unit_code": unit_code or None}
        if "display_name" in fields:
            values["display_name"] = str(fields["display_name"]).strip()
        if "active" in fields:
            values["active"] = bool(fields["active"])
        await store.update_account(session, username, **values)
        changes = _changes(current, values)
        if changes:
            await account_changed(session, username, changes, actor=principal.username, now=now)
        return account_info(await _account(session, username))


def _planned(current: Row[Any], fields: dict[str, Any]) -> tuple[str, str | None]:
    role = fields.get("role", current.role)
    unit_code = fields.get("unit_code", current.unit_code)
    if "role" in fields and role != "unit" and "unit_code" not in fields:
        unit_code = None  # leaving the unit role leaves the unit
    return role, unit_code


async def _update_problems(
    session: AsyncSession, current: Row[Any], fields: dict[str, Any]
) -> list[Problem]:
    role, unit_code = _planned(current, fields)
    problems = await _role_problems(session, role, unit_code)
    if "display_name" in fields:
        problems += _display_name_problems(str(fields["display_name"]))
    return problems


def _display_name_problems(display_name: str) -> list[Problem]:
    return text_problems(
        "display_name", display_name, label="Tên hiển thị", max_length=DISPLAY_NAME_MAX
    )


def _changes(current: Row[Any], values: dict[str, Any]) -> list[str]:
    changes: list[str] = []
    if "active" in values and values["active"] != current.active:
        changes.append("activated" if values["active"] else "deactivated")
    if values["role"] != current.role:
        changes.append(f"role {current.role} → {values['role']}")
    if values["unit_code"] != current.unit_code:
        changes.append(f"unit {current.unit_code or '-'} → {values['unit_code'] or '-'}")
    if "display_name" in values and values["display_name"] != current.display_name:
        changes.append("display name changed")
    return changes


# --- API keys ------------------------------------------------------------------------------


def api_key_info(row: Row[Any]) -> ApiKeyInfo:
    """An issued key as admins see it (never its secret)."""
    return ApiKeyInfo(
        key_id=row.key_id,
        prefix=f"{API_KEY_PREFIX}.{row.key_id}",
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


async def _key(session: AsyncSession, key_id: str) -> Row[Any]:
    row = await store.api_key_row(session, key_id)
    if row is None:
        raise NotFound(f"Không tìm thấy khóa API «{key_id}».", code="api_key_not_found")
    return row


async def list_api_keys(
    context: RegistryContext, principal: Principal, unit_code: str | None = None
) -> list[ApiKeyInfo]:
    """Issued API keys without their secrets, newest first (admin)."""
    principal.require(Permission.ADMINISTER)
    async with context.store.reading() as session:
        rows = await store.api_key_rows(session)
    return [api_key_info(r) for r in rows if unit_code in (None, r.unit_code)]


async def issue_api_key(
    context: RegistryContext, principal: Principal, body: ApiKeyIn
) -> IssuedApiKey:
    """A new key for a unit's machine client (admin); the full key is in this answer only."""
    principal.require(Permission.ADMINISTER)
    now = context.clock.now()
    expires_at = as_local_instant(body.expires_at) if body.expires_at else None
    async with context.store.transaction() as session:
        problems: list[Problem] = []
        if body.unit_code not in {u.code for u in await store.all_units(session)}:
            problems.append(
                Problem(
                    "unit_code",
                    "unknown_unit",
                    f"Đơn vị «{body.unit_code}» không có trong danh mục.",
                )
            )
        if not body.name.strip():
            problems.append(Problem("name", "name_required", "Hãy đặt tên cho khóa (dùng ở đâu)."))
        else:
            problems += text_problems(
                "name", body.name, label="Tên khóa", max_length=DISPLAY_NAME_MAX
            )
        if expires_at is not None and instant_problems(
            "expires_at", expires_at, label="Thời hạn của khóa"
        ):
            problems += instant_problems("expires_at", expires_at, label="Thời hạn của khóa")
        elif expires_at is not None and expires_at <= now:
            problems.append(
                Problem("expires_at", "expires_in_past", "Thời hạn của khóa phải ở tương lai.")
            )
        raise_problems(problems)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        await store.insert_api_key(
            session,
            key_id=key_id,
            unit_code=body.unit_code,
            name=body.name.strip(),
            secret_hash=_secret_hash(secret),
            created_by=principal.username,
            created_at=now,
            expires_at=expires_at,
        )
        issued = api_key_info(await _key(session, key_id))
    return IssuedApiKey(**issued.model_dump(), api_key=f"{API_KEY_PREFIX}.{key_id}.{secret}")


async def revoke_api_key(context: RegistryContext, principal: Principal, key_id: str) -> ApiKeyInfo:
    """Revoke a key (admin): it can no longer be exchanged for tokens."""
    principal.require(Permission.ADMINISTER)
    now = context.clock.now()
    async with context.store.transaction() as session:
        current = await _key(session, key_id)
        if current.revoked_at is None:
            await store.update_api_key(
                session, key_id, revoked_at=now, revoked_by=principal.username
            )
            await account_changed(
                session,
                f"apikey:{key_id}",
                ["api key revoked"],
                actor=principal.username,
                now=now,
            )
        return api_key_info(await _key(session, key_id))


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
    row = await store.api_key_row(session, match[1])
    if row is None or not hmac.compare_digest(row.secret_hash, _secret_hash(match[2])):
        raise refused
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise refused
    await store.update_api_key(session, row.key_id, last_used_at=now)
    return Principal(
        username=f"apikey:{row.key_id}",
        role="unit",
        unit_code=row.unit_code,
        display_name=f"{row.name} (khóa API)",
    )
