"""Unit use cases: read, create, update, close, reorganise, import and export. Each change is
versioned, kept as history, published, and re-resolves who is expected in open periods."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import store, tabular
from services.registry.context import RegistryContext
from services.registry.domain import NOTE_MAX, Problem, date_problems, text_problems, valid_on
from services.registry.seed_files import closure_from_dict, merger_from_dict
from services.registry.tabular import SheetRow, draft_from_fields, parse_row, row_problem
from services.registry.unit_rules import (
    Closure,
    HistoryEntry,
    Merger,
    UnitDraft,
    UnitIndex,
    batch_problems,
    duplicate_problem,
    merge_contacts,
    merge_leader,
    plan_reorganisation,
    unit_id_for,
    unit_problems,
)
from services.registry.usecases.common import local_today, raise_problems, refresh_open_periods
from shared.auth import Permission, Principal
from shared.contracts.api.registry import (
    CloseIn,
    ContactsIn,
    LeaderIn,
    ReorganisationIn,
    UnitIn,
    UnitPatch,
)
from shared.contracts.registry import Contacts, UnitState
from shared.errors import Conflict, DomainError


def _leader_dict(body: LeaderIn | None) -> dict[str, Any] | None:
    leader = merge_leader(None, body.model_dump(exclude_none=True)) if body else None
    return leader.model_dump() if leader else None


def _contacts(body: ContactsIn | None) -> Contacts:
    if body is None:
        return Contacts()
    return merge_contacts(Contacts(), body.model_dump(exclude_none=True))


# --- reading -------------------------------------------------------------------------------


async def list_units(
    context: RegistryContext, *, on: date | None = None, kind: str | None = None
) -> list[UnitState]:
    """Every unit record, current and past, in registry order (optionally those valid on a
    day, or of one kind)."""
    async with context.store.reading() as session:
        found = await store.all_units(session)
    return [u for u in found if (on is None or valid_on(u, on)) and kind in (None, u.kind)]


async def read_unit(context: RegistryContext, code: str, on: date | None = None) -> UnitState:
    """The newest record with this code, the one valid on `on`, or exactly `code@YYYY-MM-DD`."""
    async with context.store.reading() as session:
        return await store.get_unit(session, code, on)


async def unit_history(context: RegistryContext, ref: str) -> list[HistoryEntry]:
    """Every recorded change of the records with this code (or of one record), oldest first;
    404 for an unknown unit."""
    async with context.store.reading() as session:
        entries = await store.unit_history(session, ref)
        if not entries:
            await store.get_unit(session, ref)  # 404 for an unknown unit
    return entries  # empty: records that predate the history table


async def exported_units(
    context: RegistryContext, principal: Principal, on: date | None
) -> list[UnitState]:
    """Every record for the export, contacts included (reviewer, admin)."""
    principal.require(Permission.READ_CONTACTS)
    return await list_units(context, on=on)


async def export_csv(context: RegistryContext, principal: Principal, on: date | None) -> bytes:
    """The units as CSV (formula-safe)."""
    return tabular.write_csv(await exported_units(context, principal, on))


async def export_xlsx(context: RegistryContext, principal: Principal, on: date | None) -> bytes:
    """The units as XLSX (text cells, never formulas)."""
    return tabular.write_xlsx(await exported_units(context, principal, on))


# --- changing ------------------------------------------------------------------------------


async def create_unit(context: RegistryContext, principal: Principal, body: UnitIn) -> UnitState:
    """Add a unit (admin); its validity starts today unless valid_from is given."""
    principal.require(Permission.ADMINISTER)
    draft = UnitDraft(
        code=body.code,
        name=body.name,
        kind=body.kind,
        valid_from=body.valid_from or local_today(context.clock),
        tags=tuple(body.tags),
        parent_code=body.parent_code or None,
        display_order=body.display_order,
        must_report=body.must_report,
        valid_to=body.valid_to,
        successor_codes=tuple(body.successor_codes),
        leader=merge_leader(None, body.leader.model_dump(exclude_none=True))
        if body.leader
        else None,
        contacts=_contacts(body.contacts),
    )
    now = context.clock.now()
    async with context.store.transaction() as session:
        units = await store.all_units(session)
        same_record = [u for u in units if u.unit_id == draft.unit_id]
        if same_record:
            raise_problems([duplicate_problem(draft, same_record[0])])
        raise_problems(unit_problems(draft, UnitIndex([*units, draft])))
        state = draft.to_state(version=1)
        if not await store.insert_unit_once(session, state, actor=principal.username, now=now):
            # The same record was created by a concurrent request after our check.
            raise_problems([duplicate_problem(draft, draft)])
        await refresh_open_periods(session, now)
    return state


def _patch_fields(current: UnitState, body: UnitPatch) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "leader":
            value = merge_leader(
                current.leader, value.model_dump(exclude_none=True) if value else None
            )
        elif name == "contacts":
            value = merge_contacts(
                current.contacts, value.model_dump(exclude_none=True) if value else None
            )
        elif name in ("tags", "successor_codes"):
            value = tuple(value or ())
        elif name == "parent_code":
            value = value or None
        elif value is None and name not in ("valid_to",):
            continue  # null for a required field means "leave it"
        fields[name] = value
    return fields


async def update_unit(
    context: RegistryContext,
    principal: Principal,
    code: str,
    body: UnitPatch,
    on: date | None = None,
) -> UnitState:
    """Change some fields of a unit (admin). `leader` and `contacts` are partial: the given
    fields replace, the others stay; `"leader": null` removes the leader."""
    principal.require(Permission.ADMINISTER)
    now = context.clock.now()
    async with context.store.transaction() as session:
        current = await store.get_unit(session, code, on)
        return await _change(
            session,
            current,
            _patch_fields(current, body),
            actor=principal.username,
            now=now,
            action="updated",
        )


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
    units = await store.all_units(session)
    others = [u for u in units if u.unit_id != current.unit_id]
    raise_problems(unit_problems(draft, UnitIndex([*others, draft])))
    new = draft.to_state(version=current.version + 1)
    if new.model_copy(update={"version": current.version}) == current:
        return current  # nothing changed: no new version, no event
    await store.save_unit(session, current, new, action=action, actor=actor, now=now)
    await refresh_open_periods(session, now)
    return new


async def close_unit(
    context: RegistryContext, principal: Principal, code: str, body: CloseIn
) -> UnitState:
    """End a unit's validity on `valid_to`, naming its successors (admin); each successor must
    be valid from the next day."""
    principal.require(Permission.ADMINISTER)
    now = context.clock.now()
    async with context.store.transaction() as session:
        current = await store.get_unit(session, code)
        if current.valid_to is not None:
            raise Conflict(
                f"Đơn vị «{current.name}» đã hết hiệu lực từ trước.",
                code="unit_already_closed",
                details={"field": "valid_to"},
            )
        return await _change(
            session,
            current,
            {"valid_to": body.valid_to, "successor_codes": tuple(body.successor_codes)},
            actor=principal.username,
            now=now,
            action="closed",
        )


async def reorganise(
    context: RegistryContext, principal: Principal, body: ReorganisationIn
) -> list[UnitState]:
    """Merge and close units on one day (admin), all of it or nothing."""
    principal.require(Permission.ADMINISTER)
    problems = date_problems("effective_from", body.effective_from, label="Ngày có hiệu lực")
    problems += text_problems(
        "note", body.note, label="Ghi chú", max_length=NOTE_MAX, required=False, multiline=True
    )
    raise_problems(problems)
    mergers = [
        merger_from_dict(
            s.model_dump(exclude_none=True)
            | {
                # Through merge_leader, so a leader without a name is a problem, not a 500.
                "leader": _leader_dict(s.leader),
                "contacts": s.contacts.model_dump(exclude_none=True) if s.contacts else None,
            },
            body.effective_from,
        )
        for s in body.successors
    ]
    closures = [closure_from_dict(c.model_dump()) for c in body.closures]
    now = context.clock.now()
    async with context.store.transaction() as session:
        return await reorganise_in(
            session,
            body.effective_from,
            mergers,
            actor=principal.username,
            now=now,
            note=body.note,
            closures=closures,
        )


async def reorganise_in(
    session: AsyncSession,
    effective_from: date,
    mergers: Sequence[Merger],
    *,
    actor: str,
    now: datetime,
    note: str = "",
    closures: Sequence[Closure] = (),
) -> list[UnitState]:
    """A reorganisation in the caller's transaction: predecessors and closed units end the
    day before, successors start that day."""
    plan, problems = plan_reorganisation(
        effective_from, mergers, await store.all_units(session), closures
    )
    raise_problems(problems)
    assert plan is not None
    written: list[UnitState] = []
    for old, draft in plan.closed:
        new = draft.to_state(version=old.version + 1)
        written.append(
            await store.save_unit(
                session, old, new, action="closed", actor=actor, now=now, note=note
            )
        )
    for draft in plan.created:
        written.append(
            await store.save_unit(
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


# --- import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote (or would write, on a dry run)."""

    dry_run: bool
    columns: list[str]
    rows: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]


async def import_units(
    context: RegistryContext,
    principal: Principal,
    data: bytes,
    filename: str,
    *,
    dry_run: bool,
) -> ImportResult:
    """Create or update units from a CSV or XLSX file (admin). Every row is checked first;
    any error means nothing is written; a dry run writes nothing either way."""
    principal.require(Permission.ADMINISTER)
    settings = context.settings
    header, rows = tabular.read_rows(
        data, filename, max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows
    )
    now = context.clock.now()
    unit_of_work = context.store.trial() if dry_run else context.store.transaction()
    async with unit_of_work as session:
        created, updated, unchanged = await _import_rows(
            session,
            rows,
            actor=principal.username,
            now=now,
            today=local_today(context.clock),
            filename=filename,
        )
    return ImportResult(dry_run, header, len(rows), created, updated, unchanged)


async def _import_rows(
    session: AsyncSession,
    rows: Sequence[SheetRow],
    *,
    actor: str,
    now: datetime,
    today: date,
    filename: str,
) -> tuple[list[str], list[str], list[str]]:
    units = await store.all_units(session)
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
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    note = f"Nhập từ tệp {filename}"
    for _, draft, base in planned:
        if base is None:
            await store.save_unit(
                session, None, draft.to_state(1), action="created", actor=actor, now=now, note=note
            )
            created.append(draft.unit_id)
            continue
        new = draft.to_state(base.version + 1)
        if new.model_copy(update={"version": base.version}) == base:
            unchanged.append(base.unit_id)
            continue
        await store.save_unit(session, base, new, action="updated", actor=actor, now=now, note=note)
        updated.append(base.unit_id)
    if created or updated:
        await refresh_open_periods(session, now)
    return created, updated, unchanged
