"""Registry HTTP API."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request

from services.registry import handlers
from services.registry.tokens import issue_token
from shared.auth import Principal, PrincipalDep
from shared.contracts.registry import PeriodState, UnitState

router = APIRouter()


def _state(request: Request) -> Any:
    return request.app.state


StateDep = Annotated[Any, Depends(_state)]


@router.post("/v1/auth/token", tags=["đăng nhập"])
async def login(
    state: StateDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> dict[str, Any]:
    """Sign in with username and password (OAuth2 password form); returns a bearer token."""
    runtime = state.runtime
    async with runtime.sessions() as session:
        try:
            principal = await handlers.authenticate(session, username.strip(), password)
        except Exception:
            state.metrics.login_failures.inc()
            raise
    ttl = timedelta(seconds=state.settings.token_ttl_seconds)
    token = issue_token(
        principal,
        state.keys.current(),
        issuer=state.settings.token_issuer,
        audience=state.settings.token_audience,
        now=state.clock.now(),
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
async def jwks(state: StateDep) -> dict[str, Any]:
    """Public keys for verifying tokens."""
    jwks: dict[str, Any] = state.keys.jwks()
    return jwks


@router.get("/v1/me", tags=["đăng nhập"])
async def me(principal: PrincipalDep) -> dict[str, Any]:
    """Who the token belongs to."""
    return principal.claims()


@router.get("/v1/units", tags=["đơn vị"])
async def list_units(principal: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    """Every unit, in registry order."""
    async with state.runtime.sessions() as session:
        units = await handlers.all_units(session)
    return [_unit_view(u, principal) for u in units]


@router.get("/v1/units/{code}", tags=["đơn vị"])
async def read_unit(code: str, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """One unit (the newest with this code)."""
    async with state.runtime.sessions() as session:
        unit = await handlers.get_unit(session, code)
    return _unit_view(unit, principal)


@router.get("/v1/periods", tags=["kỳ báo cáo"])
async def list_periods(_: PrincipalDep, state: StateDep) -> list[dict[str, Any]]:
    """Every reporting period, newest deadline first."""
    async with state.runtime.sessions() as session:
        periods = await handlers.all_periods(session)
    return [_period_view(p) for p in periods]


@router.get("/v1/periods/{period_id}", tags=["kỳ báo cáo"])
async def read_period(period_id: str, _: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """One period with the codes of the units expected to report."""
    async with state.runtime.sessions() as session:
        period = await handlers.get_period(session, period_id)
    return _period_view(period)


def _unit_view(unit: UnitState, principal: Principal) -> dict[str, Any]:
    view = unit.model_dump(mode="json")
    may_see_contacts = principal.role in ("reviewer", "admin") or (
        principal.role == "unit" and principal.unit_code == unit.code
    )
    if not may_see_contacts:
        # Officials' phone numbers and e-mail addresses are personal data.
        view["contacts"] = None
        if view.get("leader"):
            view["leader"] = {k: view["leader"][k] for k in ("full_name", "title")}
    return view


def _period_view(period: PeriodState) -> dict[str, Any]:
    view = period.model_dump(mode="json")
    view["expected_units"] = [u.code for u in period.expected_units]
    view["expected_unit_details"] = [u.model_dump(mode="json") for u in period.expected_units]
    return view
