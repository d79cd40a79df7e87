"""Registry HTTP API: the reporting calendar. Each route calls one use case."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from services.registry import views
from services.registry.context import ContextDep
from services.registry.usecases import periods
from shared.auth import PrincipalDep
from shared.contracts.api.registry import (
    CreatedPeriod,
    PeriodIn,
    PeriodPatch,
    PeriodView,
    RegimeYearIn,
)

router = APIRouter(tags=["kỳ báo cáo"])


@router.get("/v1/periods", response_model=list[PeriodView])
async def list_periods(
    _: PrincipalDep,
    context: ContextDep,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    kind: Annotated[Literal["six_month", "annual", "ad_hoc"] | None, Query()] = None,
    year: Annotated[int | None, Query()] = None,
) -> list[PeriodView]:
    """Every reporting period, newest deadline first (optionally filtered)."""
    found = await periods.list_periods(context, status=status, kind=kind, year=year)
    return [views.period_view(p.period, p.scope) for p in found]


@router.post("/v1/periods", status_code=201, response_model=CreatedPeriod)
async def create_period(
    body: PeriodIn,
    principal: PrincipalDep,
    context: ContextDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Open an ad-hoc request (reviewer, admin): `id` is YYYY-DX-NN; the deadline must lie in
    the future (`due_in_past`); scope is `{"all": true}`, `{"kinds": [...]}` or
    `{"units": [...]}`; a deadline without an offset is read as Asia/Ho_Chi_Minh time. With an
    `Idempotency-Key`, the same request again gets the first answer; the key with another
    request is refused (422 `idempotency_key_reused`)."""
    answer = await periods.create_ad_hoc(context, principal, body, idempotency_key)
    return answer.response()


@router.post("/v1/periods/regime", response_model=list[PeriodView])
async def create_regime_year(
    body: RegimeYearIn, principal: PrincipalDep, context: ContextDep
) -> list[PeriodView]:
    """Create the year's periodic reports from the configured regime (reviewer, admin);
    existing ones are left as they are."""
    created = await periods.create_regime_year(context, principal, body.year)
    return [views.period_view(p.period, p.scope) for p in created]


@router.get("/v1/periods/{period_id}", response_model=PeriodView)
async def read_period(period_id: str, _: PrincipalDep, context: ContextDep) -> PeriodView:
    """One period with the codes of the units expected to report."""
    found = await periods.read_period(context, period_id)
    return views.period_view(found.period, found.scope)


@router.patch("/v1/periods/{period_id}", response_model=PeriodView)
async def update_period(
    period_id: str, body: PeriodPatch, principal: PrincipalDep, context: ContextDep
) -> PeriodView:
    """Change a period (reviewer, admin): extend the deadline, edit title or content, change
    the scope, close (stops submissions) or reopen; publishes PeriodChanged when it changed."""
    changed = await periods.update_period(context, principal, period_id, body)
    return views.period_view(changed.period, changed.scope)
