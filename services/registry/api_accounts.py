"""Registry HTTP API: accounts and API keys (admin). Each route calls one use case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.registry.context import ContextDep
from services.registry.tabular import CSV_MEDIA_TYPE
from services.registry.usecases import accounts
from services.registry.views import handover_csv
from shared.auth import PrincipalDep
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

router = APIRouter()


@router.get("/v1/accounts", tags=["tài khoản"], response_model=list[AccountInfo])
async def list_accounts(principal: PrincipalDep, context: ContextDep) -> list[AccountInfo]:
    """Every account (admin)."""
    return await accounts.list_accounts(context, principal)


@router.post("/v1/accounts", tags=["tài khoản"], status_code=201, response_model=CreatedAccount)
async def create_account(
    body: AccountIn, principal: PrincipalDep, context: ContextDep
) -> CreatedAccount:
    """Add an account (admin); role `unit` needs the code of an existing unit. The answer
    carries its one-time activation code (shown once), with which its holder sets their own
    password at POST /v1/auth/activate."""
    return await accounts.create_account(context, principal, body)


@router.post(
    "/v1/accounts/{username}/activation", tags=["tài khoản"], response_model=ActivationCode
)
async def reset_password(
    username: str, principal: PrincipalDep, context: ContextDep
) -> ActivationCode:
    """Reset an account's password (admin): the old password stops working and a new
    activation code (shown once) lets its holder set a new one."""
    return await accounts.reset_password(context, principal, username)


@router.post(
    "/v1/units/{code}/handover.csv",
    tags=["tài khoản"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Phiếu bàn giao (.csv)"}},
)
async def handover_sheet(code: str, principal: PrincipalDep, context: ContextDep) -> Response:
    """The handover sheet of a unit (admin), to print and hand over: a new activation code
    for each of its accounts that has no password yet (its account is created when it has
    none). The codes are shown here only; earlier codes of these accounts stop working."""
    sheet = await accounts.handover_sheet(context, principal, code)
    return Response(
        handover_csv(code, sheet, context.settings.activation_code_hours),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="ban-giao-{code}.csv"'},
    )


@router.get("/v1/accounts/{username}", tags=["tài khoản"], response_model=AccountInfo)
async def read_account(username: str, principal: PrincipalDep, context: ContextDep) -> AccountInfo:
    """One account (admin)."""
    return await accounts.read_account(context, principal, username)


@router.patch("/v1/accounts/{username}", tags=["tài khoản"], response_model=AccountInfo)
async def update_account(
    username: str, body: AccountPatch, principal: PrincipalDep, context: ContextDep
) -> AccountInfo:
    """Change an account (admin): name, role, unit, active flag, or reset its password.
    Admins cannot deactivate or demote themselves (no locking the last door)."""
    return await accounts.update_account(context, principal, username, body)


@router.get("/v1/api-keys", tags=["khóa API"], response_model=list[ApiKeyInfo])
async def list_api_keys(
    principal: PrincipalDep,
    context: ContextDep,
    unit_code: Annotated[str | None, Query()] = None,
) -> list[ApiKeyInfo]:
    """Issued API keys without their secrets (admin)."""
    return await accounts.list_api_keys(context, principal, unit_code)


@router.post("/v1/api-keys", tags=["khóa API"], status_code=201, response_model=IssuedApiKey)
async def issue_api_key(
    body: ApiKeyIn, principal: PrincipalDep, context: ContextDep
) -> IssuedApiKey:
    """Issue a key for a unit's machine client (admin). The key is in `api_key` of this answer
    only; it is kept hashed. Exchange it at POST /v1/auth/token with grant_type=api_key."""
    return await accounts.issue_api_key(context, principal, body)


@router.post("/v1/api-keys/{key_id}/revoke", tags=["khóa API"], response_model=ApiKeyInfo)
async def revoke_api_key(key_id: str, principal: PrincipalDep, context: ContextDep) -> ApiKeyInfo:
    """Revoke a key (admin): it can no longer be exchanged for tokens."""
    return await accounts.revoke_api_key(context, principal, key_id)
