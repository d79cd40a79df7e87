"""Registry HTTP API: sign-in, keys, and the caller's own account. Each route calls one use
case and answers with its contract model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from services.registry import views
from services.registry.context import ContextDep
from services.registry.usecases import signin
from shared.auth import PrincipalDep
from shared.contracts.api.registry import (
    Activated,
    ActivationRequest,
    Jwks,
    KeyRotation,
    Me,
    PasswordChange,
    PasswordChanged,
    TokenAnswer,
)

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


@router.post("/v1/auth/token", tags=["đăng nhập"], response_model=TokenAnswer)
async def login(
    request: Request,
    context: ContextDep,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    api_key: Annotated[str | None, Form()] = None,
) -> TokenAnswer:
    """Exchange credentials for a short-lived bearer token (form-encoded):
    `grant_type=password` (default) with `username` and `password`, or
    `grant_type=api_key` with `api_key` (a machine client's key, role `unit`).
    Repeated failures per account/key and per client address answer 429 `too_many_attempts`
    with Retry-After until the lock ends."""
    grant = await signin.sign_in(
        context,
        signin.Credentials(grant_type, username, password, api_key),
        _client_address(request, context.settings.trust_forwarded_for),
    )
    return TokenAnswer(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        role=grant.principal.role,
        unit_code=grant.principal.unit_code,
    )


@router.post("/v1/auth/activate", tags=["đăng nhập"], response_model=Activated)
async def activate(body: ActivationRequest, request: Request, context: ContextDep) -> Activated:
    """Set one's password with the account's one-time activation code (from the admin, or
    the unit's handover sheet). Password policy: at least 10 characters, not containing the
    username, not a common password. Wrong codes count towards the sign-in slow-down."""
    username = await signin.activate(
        context, body, _client_address(request, context.settings.trust_forwarded_for)
    )
    return Activated(username=username)


@router.get("/.well-known/jwks.json", tags=["đăng nhập"], response_model=Jwks)
async def jwks(context: ContextDep) -> Jwks:
    """Public keys for verifying tokens (previous keys stay until their tokens expire)."""
    return Jwks.model_validate(await signin.public_keys(context))


@router.get("/v1/me", tags=["đăng nhập"], response_model=Me)
async def me(principal: PrincipalDep) -> Me:
    """Who the token belongs to."""
    return Me.model_validate(principal.claims())


@router.post("/v1/accounts/me/password", tags=["tài khoản"], response_model=PasswordChanged)
async def change_password(
    body: PasswordChange, request: Request, principal: PrincipalDep, context: ContextDep
) -> PasswordChanged:
    """Change one's own password (the current one is required; wrong guesses count towards
    the sign-in slow-down)."""
    await signin.change_own_password(
        context,
        principal,
        body.old_password,
        body.new_password,
        _client_address(request, context.settings.trust_forwarded_for),
    )
    return PasswordChanged(changed=True)


@router.post("/v1/keys/rotate", tags=["đăng nhập"], response_model=KeyRotation)
async def rotate_keys(principal: PrincipalDep, context: ContextDep) -> KeyRotation:
    """Start signing with a new key (admin); the previous keys stay in the JWKS until every
    token they signed has expired, then drop out."""
    return views.key_rotation(*await signin.rotate_keys(context, principal))
