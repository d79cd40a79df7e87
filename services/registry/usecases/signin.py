"""Signing in (password or API key) with the sign-in slow-down, changing one's own password,
the public keys and key rotation. Argon2 runs in a worker thread and outside every
transaction: the account is read, the hash checked, then the outcome written."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.registry import store
from services.registry.context import RegistryContext
from services.registry.domain import Problem
from services.registry.keyring import RingKey
from services.registry.passwords import DUMMY_HASH, hash_password, verify_password
from services.registry.settings import RegistrySettings
from services.registry.throttle import ThrottleKey, ThrottlePolicy, after_failure, longest_wait
from services.registry.tokens import issue_token
from services.registry.usecases.accounts import (
    account_changed,
    activation_code_hash,
    api_key_id,
    audit,
    exchange_api_key,
    password_problems,
)
from services.registry.usecases.common import raise_problems
from shared.auth import Permission, Principal
from shared.contracts.api.registry import ActivationRequest
from shared.errors import Conflict, DomainError, Forbidden, TooManyRequests, Unauthorized


@dataclass(frozen=True)
class Credentials:
    """What a sign-in presents: a username and password, or an API key."""

    grant_type: str
    username: str | None = None
    password: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class Grant:
    """A signed token and who it is for."""

    access_token: str
    expires_in: int
    principal: Principal


def policies(settings: RegistrySettings) -> tuple[ThrottlePolicy, ThrottlePolicy]:
    """Per-account and per-address policies from the settings."""
    base = timedelta(seconds=settings.login_lock_base_seconds)
    cap = timedelta(seconds=settings.login_lock_max_seconds)
    forget = timedelta(seconds=settings.login_failure_window_seconds)
    return (
        ThrottlePolicy(settings.login_free_failures, base, cap, forget),
        ThrottlePolicy(settings.login_ip_free_failures, base, cap, forget),
    )


def too_many_attempts(seconds: float, message: str) -> TooManyRequests:
    """429 with the wait in whole seconds, also as Retry-After."""
    wait = max(1, math.ceil(seconds))
    return TooManyRequests(message.format(wait=wait), retry_after=wait)


USERNAME_MAX = 64


def _counted_username(username: str) -> str:
    """The username a failure counts against; one no account can have counts as one name."""
    name = username.strip().casefold()
    if len(name) > USERNAME_MAX or not name.isprintable():
        return "~invalid"
    return name


def _subject_key(credentials: Credentials, policy: ThrottlePolicy) -> ThrottleKey:
    if credentials.grant_type == "password":
        if not credentials.username or credentials.password is None:
            raise DomainError(
                "Hãy nhập tên đăng nhập và mật khẩu.",
                code="credentials_required",
                status=422,
                details={"field": "username" if not credentials.username else "password"},
            )
        return ThrottleKey(f"user:{_counted_username(credentials.username)}", policy)
    if credentials.grant_type == "api_key":
        if not credentials.api_key:
            raise DomainError(
                "Thiếu khóa API.", code="api_key_required", status=422, details={"field": "api_key"}
            )
        return ThrottleKey(f"apikey:{api_key_id(credentials.api_key) or 'malformed'}", policy)
    raise DomainError(
        f"Kiểu cấp mã «{credentials.grant_type}» không được hỗ trợ; dùng «password» hoặc "
        "«api_key».",
        code="unsupported_grant_type",
        status=400,
        details={"field": "grant_type"},
    )


async def _wait(context: RegistryContext, keys: list[ThrottleKey], now: datetime) -> float | None:
    async with context.store.reading() as session:
        records = await store.failure_records(session, [k.key for k in keys])
    wait = longest_wait(keys, records, now)
    return None if wait is None else wait.total_seconds()


async def _record_failure(context: RegistryContext, keys: list[ThrottleKey], now: datetime) -> None:
    async with context.store.transaction() as session:
        records = await store.failure_records(session, [k.key for k in keys])
        for key in keys:
            previous = records.get(key.key)
            record = after_failure(key.policy, previous, now)
            await store.write_failure_record(
                session, key.key, record, existed=previous is not None, now=now
            )


async def _check_password(context: RegistryContext, username: str, password: str) -> Principal:
    async with context.store.reading() as session:
        row = await store.account_row(session, username) if username.isprintable() else None
    refused = Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", code="invalid_credentials")
    if row is None or not row.active:
        # Same cost whether or not the account exists, so timing does not reveal it.
        await verify_password(DUMMY_HASH, password)
        raise refused
    if not await verify_password(row.password_hash, password):
        raise refused
    return Principal(
        username=row.username, role=row.role, unit_code=row.unit_code, display_name=row.display_name
    )


async def sign_in(context: RegistryContext, credentials: Credentials, client_address: str) -> Grant:
    """A token for valid credentials. Failures count per account (or API key) and per client
    address; past the free failures, attempts are refused with 429 `too_many_attempts` until
    the lock ends; a success clears the account's counter."""
    now = context.clock.now()
    account_policy, address_policy = policies(context.settings)
    subject_key = _subject_key(credentials, account_policy)
    keys = [subject_key, ThrottleKey(f"ip:{client_address}", address_policy)]
    wait = await _wait(context, keys, now)
    if wait is not None:
        context.metrics.login_failures.inc()
        context.metrics.login_throttled.inc()
        raise too_many_attempts(
            wait, "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {wait} giây."
        )
    try:
        if credentials.grant_type == "password":
            assert credentials.username is not None and credentials.password is not None
            principal = await _check_password(
                context, credentials.username.strip(), credentials.password
            )
            async with context.store.transaction() as session:
                await store.clear_failures(session, subject_key.key)
        else:
            assert credentials.api_key is not None
            async with context.store.transaction() as session:
                principal = await exchange_api_key(session, credentials.api_key, now)
                await store.clear_failures(session, subject_key.key)
    except Unauthorized:
        context.metrics.login_failures.inc()
        await _record_failure(context, keys, now)
        raise
    return await issue(context, principal)


async def issue(context: RegistryContext, principal: Principal) -> Grant:
    """A token for the principal, signed with the current key."""
    await context.keys.refresh_if_stale()
    ttl = timedelta(seconds=context.settings.token_ttl_seconds)
    token = issue_token(
        principal,
        context.keys.current(),
        issuer=context.settings.token_issuer,
        audience=context.settings.token_audience,
        now=context.clock.now(),
        ttl=ttl,
    )
    return Grant(token, int(ttl.total_seconds()), principal)


async def change_own_password(
    context: RegistryContext,
    principal: Principal,
    old_password: str,
    new_password: str,
    client_address: str,
) -> None:
    """A user replaces their password, proving they know the current one (wrong guesses count
    towards the sign-in slow-down)."""
    if principal.username.startswith("apikey:"):
        raise Forbidden("Khóa API không có mật khẩu để đổi.", code="password_change_refused")
    now = context.clock.now()
    account_policy, address_policy = policies(context.settings)
    keys = [
        ThrottleKey(f"user:{principal.username.casefold()}", account_policy),
        ThrottleKey(f"ip:{client_address}", address_policy),
    ]
    wait = await _wait(context, keys, now)
    if wait is not None:
        context.metrics.login_throttled.inc()
        raise too_many_attempts(
            wait, "Nhập sai mật khẩu quá nhiều lần; vui lòng thử lại sau {wait} giây."
        )
    async with context.store.reading() as session:
        row = await store.account_row(session, principal.username)
    if row is None or not row.active:
        raise Forbidden("Tài khoản này không đổi được mật khẩu.", code="password_change_refused")
    if not await verify_password(row.password_hash, old_password):
        context.metrics.login_failures.inc()
        await _record_failure(context, keys, now)
        raise DomainError(
            "Mật khẩu hiện tại không đúng.",
            code="wrong_password",
            status=422,
            details={"field": "old_password"},
        )
    problems = password_problems(
        new_password,
        context.settings.password_min_length,
        field="new_password",
        username=principal.username,
    )
    if new_password == old_password:
        problems.append(
            Problem("new_password", "password_unchanged", "Mật khẩu mới phải khác mật khẩu cũ.")
        )
    raise_problems(problems)
    new_hash = await hash_password(new_password)
    async with context.store.transaction() as session:
        if not await store.replace_password_hash(
            session, principal.username, row.password_hash, new_hash
        ):
            raise store.concurrent_change()
        await account_changed(
            session, principal.username, ["password changed"], actor=principal.username, now=now
        )


async def rotate_keys(
    context: RegistryContext, principal: Principal
) -> tuple[RingKey, list[RingKey]]:
    """Start signing with a new key (admin); the previous keys stay in the JWKS until every
    token they signed has expired."""
    principal.require(Permission.ADMINISTER)
    new = await context.keys.rotate(timedelta(seconds=context.settings.token_ttl_seconds))
    return new, list(context.keys.keys)


async def public_keys(context: RegistryContext) -> dict[str, object]:
    """The JWKS verifiers accept now."""
    await context.keys.refresh_if_stale()
    return context.keys.jwks(context.clock.now())


async def activate(context: RegistryContext, body: ActivationRequest, client_address: str) -> str:
    """The holder of an account sets their password with its one-time activation code. A
    weak password is refused and the code stays usable; an unknown, used or wrong code is
    401 `invalid_activation_code`, an expired one 409 `activation_code_expired`, and wrong
    codes count towards the sign-in slow-down. Nothing changes on a refusal."""
    now = context.clock.now()
    account_policy, address_policy = policies(context.settings)
    username = body.username.strip()
    keys = [
        ThrottleKey(f"user:{_counted_username(username)}", account_policy),
        ThrottleKey(f"ip:{client_address}", address_policy),
    ]
    wait = await _wait(context, keys, now)
    if wait is not None:
        context.metrics.login_throttled.inc()
        raise too_many_attempts(
            wait, "Nhập sai mã kích hoạt quá nhiều lần; vui lòng thử lại sau {wait} giây."
        )
    raise_problems(
        password_problems(
            body.new_password,
            context.settings.password_min_length,
            field="new_password",
            username=username,
        )
    )
    new_hash = await hash_password(body.new_password)
    code_hash = activation_code_hash(body.code)
    outcome = "invalid"
    async with context.store.transaction() as session:
        account = await store.account_row(session, username)
        if account is not None and account.active:
            if await store.consume_activation_code(session, username, code_hash, now):
                await store.update_account(session, username, password_hash=new_hash)
                await account_changed(
                    session, username, ["activated (password set)"], actor=username, now=now
                )
                outcome = "activated"
            else:
                pending = await store.activation_code_row(session, username)
                if pending is not None and pending.code_hash == code_hash:
                    outcome = "expired"
    if outcome == "activated":
        async with context.store.transaction() as session:
            await store.clear_failures(session, keys[0].key)
        return username
    context.metrics.login_failures.inc()
    await _record_failure(context, keys, now)
    audit.info("account %s: activation refused (%s)", username[:64], outcome)
    if outcome == "expired":
        raise Conflict(
            "Mã kích hoạt đã hết hạn; hãy đề nghị quản trị hệ thống cấp mã mới.",
            code="activation_code_expired",
        )
    raise Unauthorized("Mã kích hoạt không đúng hoặc đã được dùng.", code="invalid_activation_code")
