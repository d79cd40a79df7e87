"""Registry HTTP API: the reporting calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from services.registry import db, handlers, periods
from services.registry.context import ContextDep
from services.registry.views import Body, as_local_instant, period_view
from shared.auth import Permission, PrincipalDep
from shared.errors import Conflict, Unprocessable
from shared.idempotency import Answer, IdempotentRequest, remember, replay

router = APIRouter(tags=["kỳ báo cáo"])


class PeriodIn(Body):
    """An ad-hoc request: what is asked, of whom, by when."""

    title: str
    content: str = ""
    due_at: datetime
    scope: dict[str, Any]
    window_start: date | None = None
    window_end: date | None = None


class PeriodPatch(Body):
    """Fields to change; `status: closed` stops submissions, `open` reopens."""

    title: str | None = None
    content: str | None = None
    due_at: datetime | None = None
    status: Literal["open", "closed"] | None = None
    scope: dict[str, Any] | None = None
    window_start: date | None = None
    window_end: date | None = None


class RegimeYearIn(Body):
    """The year whose periodic reports to create."""

    year: int


@router.get("/v1/periods")
async def list_periods(
    _: PrincipalDep,
    context: ContextDep,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    kind: Annotated[Literal["six_month", "annual", "ad_hoc"] | None, Query()] = None,
    year: Annotated[int | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Every reporting period, newest deadline first (optionally filtered)."""
    async with context.sessions() as session:
        found = await handlers.all_periods(session)
        scopes = await handlers.period_scopes(session)
    return [
        period_view(p, scopes.get(p.period_id))
        for p in found
        if status in (None, p.status) and kind in (None, p.kind) and year in (None, p.year)
    ]


@router.post("/v1/periods", status_code=201, response_model=None)
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
    principal.require(Permission.MANAGE_PERIODS)
    keyed = IdempotentRequest.of(
        idempotency_key,
        caller=f"user:{principal.username}",
        method="POST",
        path="/v1/periods",
        body=body.model_dump(mode="json"),
    )
    attempts = 0
    while True:
        attempts += 1
        try:
            async with context.sessions() as session, session.begin():
                if keyed and (earlier := await replay(session, db.idempotency_keys, keyed)):
                    return earlier.response()
                period, scope = await periods.create_ad_hoc(
                    session,
                    title=body.title,
                    content=body.content,
                    due_at=as_local_instant(body.due_at),
                    scope=body.scope,
                    window_start=body.window_start,
                    window_end=body.window_end,
                    now=context.clock.now(),
                )
                view = period_view(period, scope)
                view["id"] = period.period_id
                answer = Answer(201, view)
                if keyed:
                    await remember(session, db.idempotency_keys, keyed, answer, context.clock.now())
            return answer.response()
        except IntegrityError:
            # Two requests took the same number, or a twin stored the key first: the next
            # attempt takes the next number, or replays the twin's answer.
            if attempts == 3:
                raise Conflict(
                    "Không cấp được số yêu cầu báo cáo; hãy thử lại.", code="concurrent_change"
                ) from None


@router.post("/v1/periods/regime")
async def create_regime_year(
    body: RegimeYearIn, principal: PrincipalDep, context: ContextDep
) -> list[dict[str, Any]]:
    """Create the year's periodic reports from the configured regime (reviewer, admin);
    existing ones are left as they are."""
    principal.require(Permission.MANAGE_PERIODS)
    if not 2000 <= body.year <= 2100:
        raise Unprocessable(
            f"Năm {body.year} không hợp lệ.", code="invalid_year", details={"field": "year"}
        )
    async with context.sessions() as session, session.begin():
        created = await handlers.ensure_regime_year(
            session, body.year, context.regime, now=context.clock.now()
        )
        scopes = await handlers.period_scopes(session)
    return [period_view(p, scopes.get(p.period_id)) for p in created]


@router.get("/v1/periods/{period_id}")
async def read_period(period_id: str, _: PrincipalDep, context: ContextDep) -> dict[str, Any]:
    """One period with the codes of the units expected to report."""
    async with context.sessions() as session:
        period = await handlers.get_period(session, period_id)
        scopes = await handlers.period_scopes(session)
    return period_view(period, scopes.get(period_id))


@router.patch("/v1/periods/{period_id}")
async def update_period(
    period_id: str, body: PeriodPatch, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Change a period (reviewer, admin): extend the deadline, edit title or content, change
    the scope, close (stops submissions) or reopen; publishes PeriodChanged when it changed."""
    principal.require(Permission.MANAGE_PERIODS)
    fields: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in ("window_start", "window_end"):
            continue
        fields[name] = as_local_instant(value) if name == "due_at" else value
    async with context.sessions() as session, session.begin():
        period, scope = await periods.update_period(
            session, period_id, fields, now=context.clock.now()
        )
    return period_view(period, scope)
