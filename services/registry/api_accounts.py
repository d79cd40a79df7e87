"""Registry HTTP API: accounts and API keys (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.registry import accounts
from services.registry.context import ContextDep
from services.registry.views import Body, as_local_instant
from shared.auth import Permission, PrincipalDep
from shared.errors import Conflict

router = APIRouter()


class AccountIn(Body):
    """A new account with its initial password."""

    username: str
    display_name: str
    role: str
    unit_code: str | None = None
    password: str


class AccountPatch(Body):
    """Fields to change; `password` resets it."""

    display_name: str | None = None
    role: str | None = None
    unit_code: str | None = None
    active: bool | None = None
    password: str | None = None


class ApiKeyIn(Body):
    """A key for one unit's machine client."""

    unit_code: str
    name: str
    expires_at: datetime | None = None


@router.get("/v1/accounts", tags=["tài khoản"])
async def list_accounts(principal: PrincipalDep, context: ContextDep) -> list[dict[str, Any]]:
    """Every account (admin)."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session:
        found = await accounts.list_accounts(session)
    return [a.as_dict() for a in found]


@router.post("/v1/accounts", tags=["tài khoản"], status_code=201)
async def create_account(
    body: AccountIn, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Add an account (admin); role `unit` needs the code of an existing unit."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session, session.begin():
        account = await accounts.create_account(
            session,
            username=body.username,
            display_name=body.display_name,
            role=body.role,
            unit_code=body.unit_code or None,
            password=body.password,
            min_length=context.settings.password_min_length,
            now=context.clock.now(),
        )
    return account.as_dict()


@router.get("/v1/accounts/{username}", tags=["tài khoản"])
async def read_account(
    username: str, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """One account (admin)."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session:
        account = await accounts.get_account(session, username)
    return account.as_dict()


@router.patch("/v1/accounts/{username}", tags=["tài khoản"])
async def update_account(
    username: str, body: AccountPatch, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Change an account (admin): name, role, unit, active flag, or reset its password.
    Admins cannot deactivate or demote themselves (no locking the last door)."""
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
    async with context.sessions() as session, session.begin():
        account = await accounts.update_account(
            session, username, fields, min_length=context.settings.password_min_length
        )
    return account.as_dict()


@router.get("/v1/api-keys", tags=["khóa API"])
async def list_api_keys(
    principal: PrincipalDep,
    context: ContextDep,
    unit_code: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Issued API keys without their secrets (admin)."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session:
        found = await accounts.list_api_keys(session)
    return [k.as_dict() for k in found if unit_code in (None, k.unit_code)]


@router.post("/v1/api-keys", tags=["khóa API"], status_code=201)
async def issue_api_key(
    body: ApiKeyIn, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Issue a key for a unit's machine client (admin). The key is in `api_key` of this answer
    only; it is kept hashed. Exchange it at POST /v1/auth/token with grant_type=api_key."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session, session.begin():
        issued, full_key = await accounts.issue_api_key(
            session,
            unit_code=body.unit_code,
            name=body.name,
            expires_at=as_local_instant(body.expires_at) if body.expires_at else None,
            actor=principal.username,
            now=context.clock.now(),
        )
    return issued.as_dict() | {"api_key": full_key}


@router.post("/v1/api-keys/{key_id}/revoke", tags=["khóa API"])
async def revoke_api_key(
    key_id: str, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Revoke a key (admin): it can no longer be exchanged for tokens."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session, session.begin():
        revoked = await accounts.revoke_api_key(
            session, key_id, actor=principal.username, now=context.clock.now()
        )
    return revoked.as_dict()
