"""Reporting calendar use cases: reading periods, ad-hoc requests (with `Idempotency-Key`),
deadline changes, closing and reopening, a year's periodic reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.registry import store
from services.registry.context import RegistryContext
from services.registry.domain import (
    AD_HOC_FORM,
    Problem,
    Scope,
    basis_problems,
    content_problems,
    deadline_problems,
    empty_scope_problem,
    instant_problems,
    next_ad_hoc_id,
    parse_scope,
    period_window_problems,
    resolve_expected_units,
    title_problems,
)
from services.registry.usecases.common import (
    as_local_instant,
    ensure_regime_year,
    local_today,
    raise_problems,
)
from services.registry.views import created_period
from shared.auth import Permission, Principal
from shared.clock import VN_TZ
from shared.contracts.api.registry import PeriodIn, PeriodPatch, RequestBasisIn
from shared.contracts.registry import PeriodState, RequestBasis
from shared.errors import Conflict, Unprocessable
from shared.idempotency import Answer, IdempotentRequest

CREATE_ATTEMPTS = 3


@dataclass(frozen=True)
class ScopedPeriod:
    """A period with the scope it asks."""

    period: PeriodState
    scope: Scope


def _basis(body: RequestBasisIn | None) -> RequestBasis | None:
    if body is None:
        return None
    basis = RequestBasis(**body.model_dump())
    return None if basis == RequestBasis() else basis


async def list_periods(
    context: RegistryContext,
    *,
    status: str | None = None,
    kind: str | None = None,
    year: int | None = None,
) -> list[ScopedPeriod]:
    """Every reporting period, newest deadline first (optionally filtered)."""
    async with context.store.reading() as session:
        found = await store.all_periods(session)
        scopes = await store.period_scopes(session)
    return [
        ScopedPeriod(p, scopes[p.period_id])
        for p in found
        if status in (None, p.status) and kind in (None, p.kind) and year in (None, p.year)
    ]


async def read_period(context: RegistryContext, period_id: str) -> ScopedPeriod:
    """One period with its scope."""
    async with context.store.reading() as session:
        period = await store.get_period(session, period_id)
        scopes = await store.period_scopes(session)
    return ScopedPeriod(period, scopes[period_id])


async def create_ad_hoc(
    context: RegistryContext,
    principal: Principal,
    body: PeriodIn,
    idempotency_key: str | None,
) -> Answer:
    """Open an ad-hoc request ("báo cáo đột xuất") numbered YYYY-DX-NN in the year it is made
    (reviewer, admin). With an `Idempotency-Key` the same request again gets the first answer,
    another request under the key 422 (`shared.idempotency`)."""
    principal.require(Permission.MANAGE_PERIODS)
    keyed = IdempotentRequest.of(
        idempotency_key,
        caller=f"user:{principal.username}",
        method="POST",
        path="/v1/periods",
        body=body.model_dump(mode="json"),
    )
    due_at = as_local_instant(body.due_at)
    basis = _basis(body.basis)
    today = local_today(context.clock)
    raise_problems(instant_problems("due_at", due_at, label="Hạn gửi"))
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        now = context.clock.now()
        try:
            async with context.store.transaction() as session:
                if keyed and (earlier := await store.replay_answer(session, keyed)):
                    return earlier
                units = await store.all_units(session)
                parsed, problems = parse_scope(body.scope, {u.code for u in units})
                problems = title_problems(body.title) + deadline_problems(due_at, now) + problems
                problems += content_problems(body.content)
                problems += period_window_problems(body.window_start, body.window_end, due_at)
                problems += basis_problems(basis, today)
                raise_problems(problems)
                assert parsed is not None
                expected = tuple(resolve_expected_units(units, parsed, due_at))
                if not expected:
                    raise_problems([empty_scope_problem(due_at)])
                year = now.astimezone(VN_TZ).year
                existing = (p.period_id for p in await store.all_periods(session))
                period = PeriodState(
                    period_id=next_ad_hoc_id(year, existing),
                    kind="ad_hoc",
                    year=year,
                    title=body.title.strip(),
                    content=body.content.strip(),
                    form_id=AD_HOC_FORM[0],
                    form_version=AD_HOC_FORM[1],
                    window_start=body.window_start,
                    window_end=body.window_end,
                    due_at=due_at,
                    status="open",
                    basis=basis,
                    expected_units=expected,
                    version=1,
                )
                saved = await store.save_period(session, None, period, parsed, now=now)
                answer = Answer(201, created_period(saved, parsed).model_dump(mode="json"))
                if keyed:
                    await store.remember_answer(session, keyed, answer, now)
            return answer
        except IntegrityError:
            # Two requests took the same number, or a twin stored the key first: the next
            # attempt takes the next number, or replays the twin's answer.
            if attempt == CREATE_ATTEMPTS:
                break
    raise Conflict("Không cấp được số yêu cầu báo cáo; hãy thử lại.", code="concurrent_change")


async def update_period(
    context: RegistryContext, principal: Principal, period_id: str, body: PeriodPatch
) -> ScopedPeriod:
    """Change a period's title, content, deadline, data window, scope or status (reviewer,
    admin); an open period's expected units are re-resolved for its (new) deadline and scope;
    publishes PeriodChanged when it changed."""
    principal.require(Permission.MANAGE_PERIODS)
    fields: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in ("window_start", "window_end", "basis"):
            continue
        if name == "due_at":
            value = as_local_instant(value)
            raise_problems(instant_problems("due_at", value, label="Hạn gửi"))
        elif name == "basis":
            value = _basis(body.basis)
        fields[name] = value
    now = context.clock.now()
    today = local_today(context.clock)
    async with context.store.transaction() as session:
        current = await store.get_period(session, period_id)
        stored_scope = (await store.period_scopes(session))[period_id]
        scope = stored_scope
        units = await store.all_units(session)
        problems: list[Problem] = []
        if "title" in fields:
            problems += title_problems(fields["title"])
            fields["title"] = fields["title"].strip()
        if "content" in fields:
            problems += content_problems(fields["content"])
        if "basis" in fields:
            if current.kind != "ad_hoc" and fields["basis"] is not None:
                problems.append(
                    Problem(
                        "basis",
                        "basis_not_ad_hoc",
                        "Chỉ yêu cầu báo cáo đột xuất mới ghi văn bản yêu cầu; kỳ báo cáo định kỳ "
                        "thực hiện theo kế hoạch.",
                    )
                )
            problems += basis_problems(fields["basis"], today)
        if "due_at" in fields and fields["due_at"] != current.due_at:
            problems += deadline_problems(fields["due_at"], now)
        if "scope" in fields:
            parsed, scope_problems = parse_scope(fields.pop("scope"), {u.code for u in units})
            problems += scope_problems
            scope = parsed or scope
        window = ("window_start", "window_end", "due_at")
        if any(name in fields for name in window):
            problems += period_window_problems(
                fields.get("window_start", current.window_start),
                fields.get("window_end", current.window_end),
                fields.get("due_at", current.due_at),
            )
        raise_problems(problems)
        new = current.model_copy(update=fields)
        if new.status == "open":
            expected = tuple(resolve_expected_units(units, scope, new.due_at))
            if not expected:
                raise_problems([empty_scope_problem(new.due_at)])
            new = new.model_copy(update={"expected_units": expected})
        if new == current and scope == stored_scope:
            return ScopedPeriod(current, scope)  # nothing changed: no new version, no event
        new = new.model_copy(update={"version": current.version + 1})
        return ScopedPeriod(await store.save_period(session, current, new, scope, now=now), scope)


async def create_regime_year(
    context: RegistryContext, principal: Principal, year: int
) -> list[ScopedPeriod]:
    """Create the year's periodic reports from the configured regime (reviewer, admin);
    existing ones are left as they are."""
    principal.require(Permission.MANAGE_PERIODS)
    if not 2000 <= year <= 2100:
        raise Unprocessable(
            f"Năm {year} không hợp lệ.", code="invalid_year", details={"field": "year"}
        )
    async with context.store.transaction() as session:
        created = await ensure_regime_year(session, year, context.regime, now=context.clock.now())
        scopes = await store.period_scopes(session)
    return [ScopedPeriod(p, scopes[p.period_id]) for p in created]
