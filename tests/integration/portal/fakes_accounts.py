"""Fake registry routes for the portal's "Tài khoản" and "Kích hoạt tài khoản" pages.

Each answer is built from the registry's own models (shared/contracts/api/registry.py) and
each route matches the real one (test_fakes_contract.py). The codes and refusals follow the
registry's use cases: a code works once, an expired code is 409, a weak password 422 with
`details.field`, an unknown or used code 401.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from shared.contracts.api import registry as registry_api

if TYPE_CHECKING:
    from tests.integration.portal.fakes import FakeSystem

CODE_HOURS = 72
PASSWORD_MIN = 10


@dataclass
class PendingCode:
    code: str
    expires_at: datetime


@dataclass
class AccountsState:
    """The fake registry's accounts (beyond the fixed ACCOUNTS of fakes.py) and codes."""

    accounts: dict[str, registry_api.AccountInfo] = field(default_factory=dict)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    handovers: list[str] = field(default_factory=list)


def initial_accounts(created_at: datetime) -> dict[str, registry_api.AccountInfo]:
    from tests.integration.portal.fakes import ACCOUNTS

    return {
        name: registry_api.AccountInfo(
            username=name,
            display_name=a["name"],
            role=a["role"],
            unit_code=a["unit"],
            active=True,
            created_at=created_at,
            password_set=True,
        )
        for name, a in ACCOUNTS.items()
    }


def _refuse(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    from tests.integration.portal.fakes import error

    return error(status, code, message, **extra)


def _admin(request: Request) -> JSONResponse | None:
    from tests.integration.portal.fakes import caller

    who = caller(request)
    if who is None:
        return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
    if who["role"] != "admin":
        return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
    return None


def install(system: FakeSystem, app: FastAPI) -> None:
    """Add the account routes to the fake registry."""
    state = system.accounts
    if not state.accounts:
        state.accounts = initial_accounts(system.clock.now() - timedelta(days=30))
    before = len(app.router.routes)

    def issue(username: str) -> registry_api.ActivationCode:
        code = secrets.token_hex(6).upper()
        expires_at = system.clock.now() + timedelta(hours=CODE_HOURS)
        state.codes[username] = PendingCode(code, expires_at)
        return registry_api.ActivationCode(username=username, code=code, expires_at=expires_at)

    def role_problem(role: str, unit_code: str | None) -> JSONResponse | None:
        if role not in ("unit", "reviewer", "leader", "admin", "service"):
            return _refuse(422, "unknown_role", f"Vai trò «{role}» không hợp lệ.")
        if role == "unit" and unit_code not in system.units:
            return _refuse(
                422,
                "unknown_unit",
                f"Không có đơn vị mã «{unit_code}».",
                details={"field": "unit_code"},
            )
        return None

    @app.get("/v1/accounts", response_model=list[registry_api.AccountInfo])
    async def list_accounts(request: Request) -> Any:
        if (refused := _admin(request)) is not None:
            return refused
        return list(state.accounts.values())

    @app.post("/v1/accounts", status_code=201, response_model=registry_api.CreatedAccount)
    async def create_account(request: Request) -> Any:
        body = registry_api.AccountIn.model_validate(await system.record(request))
        if (refused := _admin(request)) is not None:
            return refused
        if body.username in state.accounts:
            return _refuse(
                409,
                "account_exists",
                f"Tài khoản «{body.username}» đã có.",
                details={"field": "username"},
            )
        if (problem := role_problem(body.role, body.unit_code)) is not None:
            return problem
        account = registry_api.AccountInfo(
            username=body.username,
            display_name=body.display_name,
            role=body.role,
            unit_code=body.unit_code,
            active=True,
            created_at=system.clock.now(),
            password_set=False,
        )
        state.accounts[body.username] = account
        return registry_api.CreatedAccount(**account.model_dump(), activation=issue(body.username))

    @app.patch("/v1/accounts/{username}", response_model=registry_api.AccountInfo)
    async def update_account(username: str, request: Request) -> Any:
        body = registry_api.AccountPatch.model_validate(await system.record(request))
        if (refused := _admin(request)) is not None:
            return refused
        account = state.accounts.get(username)
        if account is None:
            return _refuse(404, "account_not_found", f"Không tìm thấy tài khoản «{username}».")
        changes = body.model_dump(exclude_unset=True)
        role = changes.get("role", account.role)
        unit_code = changes.get("unit_code", account.unit_code)
        if (problem := role_problem(role, unit_code)) is not None:
            return problem
        changed = account.model_copy(update=changes)
        state.accounts[username] = changed
        return changed

    @app.post("/v1/accounts/{username}/activation", response_model=registry_api.ActivationCode)
    async def reset(username: str, request: Request) -> Any:
        await system.record(request)
        if (refused := _admin(request)) is not None:
            return refused
        account = state.accounts.get(username)
        if account is None:
            return _refuse(404, "account_not_found", f"Không tìm thấy tài khoản «{username}».")
        state.accounts[username] = account.model_copy(update={"password_set": False})
        return issue(username)

    @app.post(
        "/v1/units/{code}/handover.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}, "description": "Phiếu bàn giao (.csv)"}},
    )
    async def handover(code: str, request: Request) -> Response:
        if (refused := _admin(request)) is not None:
            return refused
        if code not in system.units:
            return _refuse(404, "unit_not_found", f"Không tìm thấy đơn vị có mã «{code}».")
        state.handovers.append(code)
        rows = ["Tên đăng nhập,Mã kích hoạt,Hiệu lực đến"]
        for account in state.accounts.values():
            if account.unit_code == code and not account.password_set:
                issued = issue(account.username)
                rows.append(f"{account.username},{issued.code},{issued.expires_at.isoformat()}")
        return Response(
            ("\ufeff" + "\r\n".join(rows) + "\r\n").encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ban-giao-{code}.csv"'},
        )

    @app.post("/v1/auth/activate", response_model=registry_api.Activated)
    async def activate(request: Request) -> Any:
        body = registry_api.ActivationRequest.model_validate(await system.record(request))
        if len(body.new_password) < PASSWORD_MIN:
            return _refuse(
                422,
                "password_too_short",
                f"Mật khẩu phải có ít nhất {PASSWORD_MIN} ký tự.",
                details={"field": "new_password", "problems": []},
            )
        if body.username.lower() in body.new_password.lower():
            return _refuse(
                422,
                "password_is_username",
                "Mật khẩu không được chứa tên đăng nhập.",
                details={"field": "new_password", "problems": []},
            )
        pending = state.codes.get(body.username)
        account = state.accounts.get(body.username)
        if pending is None or account is None or not account.active or pending.code != body.code:
            return _refuse(
                401, "invalid_activation_code", "Mã kích hoạt không đúng hoặc đã được dùng."
            )
        if pending.expires_at <= system.clock.now():
            return _refuse(
                409,
                "activation_code_expired",
                "Mã kích hoạt đã hết hạn; hãy đề nghị quản trị hệ thống cấp mã mới.",
            )
        del state.codes[body.username]
        state.passwords[body.username] = body.new_password
        state.accounts[body.username] = account.model_copy(update={"password_set": True})
        return registry_api.Activated(username=body.username)

    # Ahead of the fake's own /v1/units/{code}… routes, as the real registry orders them.
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[:0] = added
