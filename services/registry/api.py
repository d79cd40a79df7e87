"""Registry HTTP API: sign-in, keys, and the caller's own account."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from services.registry import accounts, handlers
from services.registry.accounts import ThrottleKey
from services.registry.context import ContextDep, RegistryContext
from services.registry.settings import RegistrySettings
from services.registry.throttle import ThrottlePolicy
from services.registry.tokens import issue_token
from services.registry.views import Body
from shared.auth import Permission, Principal, PrincipalDep
from shared.errors import DomainError, Forbidden, Unauthorized

router = APIRouter()


def _client_address(request: Request, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        # The right-most entry is the one our own proxy (gateway or portal) wrote; entries to
        # its left come from the client and can be forged.
        forwarded = request.headers.get("x-forwarded-for", "")
        nearest = forwarded.split(",")[-1].strip()
        if nearest:
            return nearest
    return request.client.host if request.client else "unknown"


def _policies(settings: RegistrySettings) -> tuple[ThrottlePolicy, ThrottlePolicy]:
    """Per-account and per-address policies from the settings."""
    common = {
        "base_lock": timedelta(seconds=settings.login_lock_base_seconds),
        "max_lock": timedelta(seconds=settings.login_lock_max_seconds),
        "forget_after": timedelta(seconds=settings.login_failure_window_seconds),
    }
    return (
        ThrottlePolicy(free_failures=settings.login_free_failures, **common),
        ThrottlePolicy(free_failures=settings.login_ip_free_failures, **common),
    )


def _too_many_attempts(seconds: float) -> JSONResponse:
    wait = max(1, math.ceil(seconds))
    error = DomainError(
        f"Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {wait} giây.",
        code="too_many_attempts",
        status=429,
        details={"retry_after_seconds": wait},
    )
    return JSONResponse(error.body(), status_code=429, headers={"Retry-After": str(wait)})


@router.post("/v1/auth/token", tags=["đăng nhập"], response_model=None)
async def login(
    request: Request,
    context: ContextDep,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    api_key: Annotated[str | None, Form()] = None,
) -> dict[str, Any] | JSONResponse:
    """Exchange credentials for a short-lived bearer token (form-encoded):
    `grant_type=password` (default) with `username` and `password`, or
    `grant_type=api_key` with `api_key` (a machine client's key, role `unit`).
    Repeated failures per account/key and per client address answer 429 `too_many_attempts`
    with Retry-After until the lock ends."""
    settings = context.settings
    now = context.clock.now()
    account_policy, address_policy = _policies(settings)
    address_key = ThrottleKey(
        f"ip:{_client_address(request, settings.trust_forwarded_for)}", address_policy
    )
    if grant_type == "password":
        if not username or password is None:
            raise DomainError(
                "Hãy nhập tên đăng nhập và mật khẩu.",
                code="credentials_required",
                status=422,
                details={"field": "username" if not username else "password"},
            )
        subject_key = ThrottleKey(f"user:{username.strip().casefold()}", account_policy)
    elif grant_type == "api_key":
        if not api_key:
            raise DomainError(
                "Thiếu khóa API.", code="api_key_required", status=422, details={"field": "api_key"}
            )
        key_id = accounts.api_key_id(api_key) or "malformed"
        subject_key = ThrottleKey(f"apikey:{key_id}", account_policy)
    else:
        raise DomainError(
            f"Kiểu cấp mã «{grant_type}» không được hỗ trợ; dùng «password» hoặc «api_key».",
            code="unsupported_grant_type",
            status=400,
            details={"field": "grant_type"},
        )
    keys = [subject_key, address_key]
    async with context.sessions() as session:
        wait = await accounts.locked_for(session, keys, now)
    if wait is not None:
        context.metrics.login_failures.inc()
        context.metrics.login_throttled.inc()
        return _too_many_attempts(wait)
    try:
        async with context.sessions() as session, session.begin():
            if grant_type == "password":
                assert username is not None and password is not None
                principal = await handlers.authenticate(session, username.strip(), password)
            else:
                assert api_key is not None
                principal = await accounts.exchange_api_key(session, api_key, now)
            await accounts.clear_failures(session, subject_key.key)
    except Unauthorized:
        context.metrics.login_failures.inc()
        async with context.sessions() as session, session.begin():
            await accounts.record_failure(session, keys, now)
        raise
    return await _token_response(context, principal)


async def _token_response(context: RegistryContext, principal: Principal) -> dict[str, Any]:
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
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": int(ttl.total_seconds()),
        "role": principal.role,
        "unit_code": principal.unit_code,
    }


@router.get("/.well-known/jwks.json", tags=["đăng nhập"])
async def jwks(context: ContextDep) -> dict[str, Any]:
    """Public keys for verifying tokens (previous keys stay until their tokens expire)."""
    await context.keys.refresh_if_stale()
    keys: dict[str, Any] = context.keys.jwks(context.clock.now())
    return keys


@router.get("/v1/me", tags=["đăng nhập"])
async def me(principal: PrincipalDep) -> dict[str, Any]:
    """Who the token belongs to."""
    return principal.claims()


class PasswordChange(Body):
    """The current password and the new one."""

    old_password: str
    new_password: str


@router.post("/v1/accounts/me/password", tags=["tài khoản"])
async def change_password(
    body: PasswordChange, request: Request, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Change one's own password (the current one is required; wrong guesses count towards
    the sign-in slow-down)."""
    if principal.username.startswith("apikey:"):
        raise Forbidden("Khóa API không có mật khẩu để đổi.", code="password_change_refused")
    settings = context.settings
    now = context.clock.now()
    account_policy, address_policy = _policies(settings)
    keys = [
        ThrottleKey(f"user:{principal.username.casefold()}", account_policy),
        ThrottleKey(f"ip:{_client_address(request, settings.trust_forwarded_for)}", address_policy),
    ]
    async with context.sessions() as session:
        wait = await accounts.locked_for(session, keys, now)
    if wait is not None:
        context.metrics.login_throttled.inc()
        raise DomainError(
            f"Nhập sai mật khẩu quá nhiều lần; vui lòng thử lại sau {max(1, math.ceil(wait))} "
            "giây.",
            code="too_many_attempts",
            status=429,
            details={"retry_after_seconds": max(1, math.ceil(wait))},
        )
    try:
        async with context.sessions() as session, session.begin():
            await accounts.change_own_password(
                session,
                principal.username,
                body.old_password,
                body.new_password,
                min_length=settings.password_min_length,
            )
    except DomainError as error:
        if error.code == "wrong_password":
            context.metrics.login_failures.inc()
            async with context.sessions() as session, session.begin():
                await accounts.record_failure(session, keys, now)
        raise
    return {"changed": True}


@router.post("/v1/keys/rotate", tags=["đăng nhập"])
async def rotate_keys(principal: PrincipalDep, context: ContextDep) -> dict[str, Any]:
    """Start signing with a new key (admin); the previous keys stay in the JWKS until every
    token they signed has expired, then drop out."""
    principal.require(Permission.ADMINISTER)
    ttl = timedelta(seconds=context.settings.token_ttl_seconds)
    new = await context.keys.rotate(ttl)
    return {
        "kid": new.key.kid,
        "keys": [
            {
                "kid": k.key.kid,
                "created_at": k.created_at.isoformat(),
                "retires_at": k.retires_at.isoformat() if k.retires_at else None,
            }
            for k in context.keys.keys
        ],
    }
