"""Unit use cases: create, update, close, reorganise, import; each change is versioned, kept as
history, published, and re-resolves who is expected in open periods."""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import db
from services.registry.domain import Problem, valid_on
from services.registry.handlers import (
    all_units,
    get_unit,
    refresh_open_periods,
    save_unit,
)
from services.registry.tabular import SheetRow, draft_from_fields, parse_row, row_problem
from services.registry.unit_rules import (
    Closure,
    HistoryEntry,
    Merger,
    UnitDraft,
    UnitIndex,
    batch_problems,
    duplicate_problem,
    pending_parts,
    plan_reorganisation,
    unit_id_for,
    unit_problems,
)
from shared.contracts.registry import Contacts, Leader, UnitState
from shared.errors import Conflict, DomainError

CONFLICT_CODES = frozenset({"duplicate_code", "reorganisation_already_applied"})


def raise_problems(problems: Sequence[Problem]) -> None:
    """Refuse with the first problem's message and code, listing them all in the details."""
    if not problems:
        return
    first = problems[0]
    raise DomainError(
        first.message,
        code=first.code,
        status=409 if first.code in CONFLICT_CODES else 422,
        details={"field": first.field, "problems": [p.as_dict() for p in problems]},
    )


async def create_unit(
    session: AsyncSession, draft: UnitDraft, *, actor: str, now: datetime
) -> UnitState:
    """Add a unit record."""
    units = await all_units(session)
    same_record = [u for u in units if u.unit_id == draft.unit_id]
    if same_record:
        raise_problems([duplicate_problem(draft, same_record[0])])
    raise_problems(unit_problems(draft, UnitIndex([*units, draft])))
    state = draft.to_state(version=1)
    try:
        async with session.begin_nested():
            await save_unit(session, None, state, action="created", actor=actor, now=now)
    except IntegrityError:
        # The same record was created by a concurrent request after our check.
        raise_problems([duplicate_problem(draft, draft)])
    await refresh_open_periods(session, now)
    return state


async def update_unit(
    session: AsyncSession,
    ref: str,
    fields: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    on: date | None = None,
    action: str = "updated",
) -> UnitState:
    """Change some fields of a record (code and valid_from identify it and stay)."""
    current = await get_unit(session, ref, on)
    return await _change(session, current, fields, actor=actor, now=now, action=action)


async def _change(
    session: AsyncSession,
    current: UnitState,
    fields: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    action: str,
) -> UnitState:
    draft = replace(UnitDraft.from_state(current), **fields)
    units = await all_units(session)
    others = [u for u in units if u.unit_id != current.unit_id]
    raise_problems(unit_problems(draft, UnitIndex([*others, draft])))
    new = draft.to_state(version=current.version + 1)
    if new.model_copy(update={"version": current.version}) == current:
        return current  # nothing changed: no new version, no event
    await save_unit(session, current, new, action=action, actor=actor, now=now)
    await refresh_open_periods(session, now)
    return new


async def close_unit(
    session: AsyncSession,
    ref: str,
    valid_to: date,
    successor_codes: tuple[str, ...],
    *,
    actor: str,
    now: datetime,
) -> UnitState:
    """End a record's validity, naming the units that continue its work."""
    current = await get_unit(session, ref)
    if current.valid_to is not None:
        raise Conflict(
            f"Đơn vị «{current.name}» đã hết hiệu lực từ trước.",
            code="unit_already_closed",
            details={"field": "valid_to"},
        )
    return await _change(
        session,
        current,
        {"valid_to": valid_to, "successor_codes": successor_codes},
        actor=actor,
        now=now,
        action="closed",
    )


async def reorganise(
    session: AsyncSession,
    effective_from: date,
    mergers: Sequence[Merger],
    *,
    actor: str,
    now: datetime,
    note: str = "",
    closures: Sequence[Closure] = (),
) -> list[UnitState]:
    """Merge and close units at once: predecessors and closed units end the day before,
    successors start that day."""
    plan, problems = plan_reorganisation(
        effective_from, mergers, await all_units(session), closures
    )
    raise_problems(problems)
    assert plan is not None
    written: list[UnitState] = []
    for old, draft in plan.closed:
        new = draft.to_state(version=old.version + 1)
        written.append(
            await save_unit(session, old, new, action="closed", actor=actor, now=now, note=note)
        )
    for draft in plan.created:
        written.append(
            await save_unit(
                session,
                None,
                draft.to_state(version=1),
                action="created",
                actor=actor,
                now=now,
                note=note,
            )
        )
    await refresh_open_periods(session, now)
    return written


@dataclass(frozen=True)
class ReorganisationFile:
    """A reorganisation described in YAML (see seed/hong_linh_2025.yaml)."""

    effective_from: date
    mergers: tuple[Merger, ...]
    note: str
    closures: tuple[Closure, ...] = ()


def load_reorganisation(name: str) -> ReorganisationFile:
    """Read a reorganisation file: a path, or the name of a file packaged under seed/."""
    path = Path(name)
    if path.exists():
        text = path.read_text("utf-8")
    else:
        text = importlib.resources.files("services.registry.seed").joinpath(name).read_text("utf-8")
    raw = yaml.safe_load(text)["reorganisation"]
    effective_from = date.fromisoformat(str(raw["effective_from"]))
    return ReorganisationFile(
        effective_from=effective_from,
        mergers=tuple(merger_from_dict(item, effective_from) for item in raw["successors"]),
        note=str(raw.get("note", "")),
        closures=tuple(closure_from_dict(item) for item in raw.get("closures") or ()),
    )


def closure_from_dict(item: dict[str, Any]) -> Closure:
    """A unit closed without a merger, from the API body or a YAML file."""
    return Closure(
        code=str(item["code"]),
        successor_codes=tuple(str(code) for code in item.get("successor_codes") or ()),
    )


def merger_from_dict(item: dict[str, Any], effective_from: date) -> Merger:
    """One successor and its predecessors, from the API body or a YAML file."""
    leader = item.get("leader")
    return Merger(
        successor=UnitDraft(
            code=str(item["code"]),
            name=str(item["name"]),
            kind=str(item["kind"]),
            valid_from=effective_from,
            tags=tuple(str(t) for t in item.get("tags", ()) or ()),
            parent_code=item.get("parent_code"),
            display_order=int(item.get("display_order", item.get("order", 0))),
            must_report=bool(item.get("must_report", True)),
            leader=Leader.model_validate(leader) if leader else None,
            contacts=Contacts.model_validate(item.get("contacts") or {}),
        ),
        predecessors=tuple(str(code) for code in item.get("predecessors", ())),
    )


async def apply_reorganisation_file(
    session: AsyncSession, name: str, *, now: datetime
) -> list[UnitState]:
    """Apply a reorganisation file once: only what is not applied yet (successors that do not
    exist, units still open), so a file extended later applies its new parts on the next
    start and a second start applies nothing."""
    plan = load_reorganisation(name)
    mergers, closures = pending_parts(
        plan.effective_from, plan.mergers, plan.closures, await all_units(session)
    )
    if not mergers and not closures:
        return []
    return await reorganise(
        session,
        plan.effective_from,
        mergers,
        actor="system:seed",
        now=now,
        note=plan.note,
        closures=closures,
    )


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]


async def import_units(
    session: AsyncSession,
    rows: Sequence[SheetRow],
    *,
    actor: str,
    now: datetime,
    today: date,
    filename: str,
) -> ImportResult:
    """Create or update units from sheet rows; every row is checked first and nothing is
    written unless all of them are valid."""
    units = await all_units(session)
    by_id = {u.unit_id: u for u in units}
    errors: list[dict[str, Any]] = []
    planned: list[tuple[int, UnitDraft, UnitState | None]] = []
    for row in rows:
        fields, problems = parse_row(row)
        code = fields.get("code", "")
        if not code:
            problems.insert(0, Problem("code", "code_required", "Thiếu mã đơn vị."))
        base: UnitState | None = None
        if code and "valid_from" in fields:
            base = by_id.get(unit_id_for(code, fields["valid_from"]))
        elif code and not any(p.field == "valid_from" for p in problems):
            # No start date: the record of this code valid today, if there is one.
            base = next((u for u in units if u.code == code and valid_on(u, today)), None)
        if problems:
            errors += [row_problem(row.number, p) for p in problems]
            continue
        draft = draft_from_fields(fields, UnitDraft.from_state(base) if base else None, today)
        planned.append((row.number, draft, base))
    touched = {draft.unit_id for _, draft, _ in planned}
    untouched = [u for u in units if u.unit_id not in touched]
    found = batch_problems([draft for _, draft, _ in planned], untouched)
    for position, problems in found.items():
        errors += [row_problem(planned[position][0], p) for p in problems]
    if errors:
        errors.sort(key=lambda e: (e["row"], e["column"]))
        raise DomainError(
            f"Tệp nhập có {len(errors)} lỗi; chưa ghi đơn vị nào. {errors[0]['message']}",
            code="import_invalid",
            status=422,
            details={"errors": errors},
        )
    result = ImportResult([], [], [])
    note = f"Nhập từ tệp {filename}"
    for _, draft, base in planned:
        if base is None:
            await save_unit(
                session, None, draft.to_state(1), action="created", actor=actor, now=now, note=note
            )
            result.created.append(draft.unit_id)
            continue
        new = draft.to_state(base.version + 1)
        if new.model_copy(update={"version": base.version}) == base:
            result.unchanged.append(base.unit_id)
            continue
        await save_unit(session, base, new, action="updated", actor=actor, now=now, note=note)
        result.updated.append(base.unit_id)
    if result.created or result.updated:
        await refresh_open_periods(session, now)
    return result


async def unit_history(session: AsyncSession, ref: str) -> list[HistoryEntry]:
    """Every recorded change of the records with this code (or of one record), oldest first."""
    column = db.unit_history.c.unit_id if "@" in ref else db.unit_history.c.code
    rows = (
        await session.execute(
            select(db.unit_history)
            .where(column == ref)
            .order_by(db.unit_history.c.changed_at, db.unit_history.c.id)
        )
    ).all()
    if not rows:
        await get_unit(session, ref)  # 404 for an unknown unit
        return []  # records that predate the history table
    return [
        HistoryEntry(
            unit_id=r.unit_id,
            code=r.code,
            version=r.version,
            action=r.action,
            changed_by=r.changed_by,
            changed_at=r.changed_at,
            changes=dict(r.changes or {}),
            note=r.note or "",
        )
        for r in rows
    ]
