"""Registry HTTP API: units, their history, reorganisations, import and export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import Field

from services.registry import handlers, tabular, units
from services.registry.context import ContextDep, RegistryContext
from services.registry.domain import valid_on
from services.registry.unit_rules import UnitDraft, merge_contacts, merge_leader
from services.registry.views import Body, history_view, local_today, unit_view
from shared.auth import Permission, Principal, PrincipalDep
from shared.contracts.registry import Contacts

router = APIRouter(tags=["đơn vị"])

OnQuery = Annotated[
    date | None, Query(description="Chỉ các bản ghi có hiệu lực vào ngày này (YYYY-MM-DD).")
]


class LeaderIn(Body):
    """The leader in charge of mass-mobilisation work; on PATCH, given fields replace."""

    full_name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None


class ContactsIn(Body):
    """Contact channels; on PATCH, given channels replace."""

    emails: list[str] | None = None
    phone: str | None = None
    webhook_url: str | None = None


class UnitIn(Body):
    """A new unit record."""

    code: str
    name: str
    kind: str
    tags: list[str] = Field(default_factory=list)
    parent_code: str | None = None
    display_order: int = 0
    must_report: bool = True
    valid_from: date | None = None
    valid_to: date | None = None
    successor_codes: list[str] = Field(default_factory=list)
    leader: LeaderIn | None = None
    contacts: ContactsIn | None = None


class UnitPatch(Body):
    """Fields to change; code and valid_from identify the record and cannot change."""

    name: str | None = None
    kind: str | None = None
    tags: list[str] | None = None
    parent_code: str | None = None
    display_order: int | None = None
    must_report: bool | None = None
    valid_to: date | None = None
    successor_codes: list[str] | None = None
    leader: LeaderIn | None = None
    contacts: ContactsIn | None = None


class CloseIn(Body):
    """The last day of validity and the units that take over."""

    valid_to: date
    successor_codes: list[str] = Field(default_factory=list)


class SuccessorIn(Body):
    """A unit created by a reorganisation and the units merged into it."""

    code: str
    name: str
    kind: str
    predecessors: list[str]
    display_order: int = 0
    tags: list[str] = Field(default_factory=list)
    parent_code: str | None = None
    must_report: bool = True
    leader: LeaderIn | None = None
    contacts: ContactsIn | None = None


class ClosureIn(Body):
    """A unit that ends with the reorganisation without merging into a new one."""

    code: str
    successor_codes: list[str] = Field(default_factory=list)


class ReorganisationIn(Body):
    """Mergers and closures taking effect on one day (e.g. from 01/7/2025, Nghị quyết
    1665/NQ-UBTVQH15 and the end of the district level)."""

    effective_from: date
    note: str = ""
    successors: list[SuccessorIn] = Field(default_factory=list)
    closures: list[ClosureIn] = Field(default_factory=list)


def _contacts(body: ContactsIn | None) -> Contacts:
    if body is None:
        return Contacts()
    return merge_contacts(Contacts(), body.model_dump(exclude_none=True))


@router.get("/v1/units")
async def list_units(
    principal: PrincipalDep,
    context: ContextDep,
    on: OnQuery = None,
    kind: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Every unit record, current and past, in registry order (optionally those valid on a
    day, or of one kind)."""
    async with context.sessions() as session:
        found = await handlers.all_units(session)
    found = [u for u in found if (on is None or valid_on(u, on)) and (kind in (None, u.kind))]
    return [unit_view(u, principal) for u in found]


@router.post("/v1/units", status_code=201)
async def create_unit(body: UnitIn, principal: PrincipalDep, context: ContextDep) -> dict[str, Any]:
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
    async with context.sessions() as session, session.begin():
        unit = await units.create_unit(
            session, draft, actor=principal.username, now=context.clock.now()
        )
    return unit_view(unit, principal)


@router.get("/v1/units/template.csv")
async def template_csv(principal: PrincipalDep) -> Response:
    """An empty CSV with the import columns."""
    return _download(tabular.write_csv([]), "mau-danh-muc-don-vi.csv", tabular.CSV_MEDIA_TYPE)


@router.get("/v1/units/template.xlsx")
async def template_xlsx(principal: PrincipalDep) -> Response:
    """An empty workbook with the import columns and a sheet explaining them."""
    return _download(tabular.write_xlsx([]), "mau-danh-muc-don-vi.xlsx", tabular.XLSX_MEDIA_TYPE)


@router.get("/v1/units/export.csv")
async def export_csv(principal: PrincipalDep, context: ContextDep, on: OnQuery = None) -> Response:
    """Every unit record as CSV, contacts included (reviewer, admin)."""
    return _download(
        tabular.write_csv(await _exported(principal, context, on)),
        "danh-muc-don-vi.csv",
        tabular.CSV_MEDIA_TYPE,
    )


@router.get("/v1/units/export.xlsx")
async def export_xlsx(principal: PrincipalDep, context: ContextDep, on: OnQuery = None) -> Response:
    """Every unit record as XLSX, contacts included (reviewer, admin)."""
    return _download(
        tabular.write_xlsx(await _exported(principal, context, on)),
        "danh-muc-don-vi.xlsx",
        tabular.XLSX_MEDIA_TYPE,
    )


async def _exported(principal: Principal, context: RegistryContext, on: date | None) -> list[Any]:
    principal.require(Permission.READ_CONTACTS)
    async with context.sessions() as session:
        found = await handlers.all_units(session)
    return [u for u in found if on is None or valid_on(u, on)]


def _download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/v1/units/import")
async def import_units(
    principal: PrincipalDep,
    context: ContextDep,
    file: Annotated[UploadFile, File(description="Tệp .csv (UTF-8) hoặc .xlsx theo tệp mẫu")],
    dry_run: Annotated[bool, Query(description="Chỉ kiểm tra, không ghi")] = False,
) -> dict[str, Any]:
    """Create or update units from a CSV or XLSX file (admin). Every row is checked first;
    any error (reported with its row number) means nothing is written. A row updates the
    record with its code and valid_from (blank: the record valid today) or creates one;
    columns missing from the file keep their values."""
    principal.require(Permission.ADMINISTER)
    settings = context.settings
    data = await file.read(settings.import_max_bytes + 1)
    header, rows = tabular.read_rows(
        data,
        file.filename or "",
        max_bytes=settings.import_max_bytes,
        max_rows=settings.import_max_rows,
    )
    async with context.sessions() as session:
        transaction = await session.begin()
        try:
            result = await units.import_units(
                session,
                rows,
                actor=principal.username,
                now=context.clock.now(),
                today=local_today(context.clock),
                filename=file.filename or "",
            )
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return {
        "dry_run": dry_run,
        "columns": header,
        "rows": len(rows),
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }


@router.post("/v1/units/reorganisations", status_code=201)
async def reorganise(
    body: ReorganisationIn, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """Merge and close units on one day (admin): the predecessors end the day before
    `effective_from` with the successor as their successor; the successors start that day
    (a successor may reuse a predecessor's code); `closures` end that day too, with the
    successors they name, or none. Expected units of open periods are re-resolved."""
    principal.require(Permission.ADMINISTER)
    mergers = [
        units.merger_from_dict(
            s.model_dump(exclude_none=True)
            | {
                "leader": s.leader.model_dump(exclude_none=True) if s.leader else None,
                "contacts": s.contacts.model_dump(exclude_none=True) if s.contacts else None,
            },
            body.effective_from,
        )
        for s in body.successors
    ]
    async with context.sessions() as session, session.begin():
        written = await units.reorganise(
            session,
            body.effective_from,
            mergers,
            actor=principal.username,
            now=context.clock.now(),
            note=body.note,
            closures=[units.closure_from_dict(c.model_dump()) for c in body.closures],
        )
    return {"units": [unit_view(u, principal) for u in written]}


@router.get("/v1/units/{code}")
async def read_unit(
    code: str, principal: PrincipalDep, context: ContextDep, on: OnQuery = None
) -> dict[str, Any]:
    """One unit: the newest record with this code, the one valid on `on`, or exactly
    `code@YYYY-MM-DD`."""
    async with context.sessions() as session:
        unit = await handlers.get_unit(session, code, on)
    return unit_view(unit, principal)


@router.patch("/v1/units/{code}")
async def update_unit(
    code: str, body: UnitPatch, principal: PrincipalDep, context: ContextDep, on: OnQuery = None
) -> dict[str, Any]:
    """Change some fields of a unit (admin). `leader` and `contacts` are partial: the given
    fields replace, the others stay; `"leader": null` removes the leader."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session, session.begin():
        current = await handlers.get_unit(session, code, on)
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
        unit = await units.update_unit(
            session, current.unit_id, fields, actor=principal.username, now=context.clock.now()
        )
    return unit_view(unit, principal)


@router.post("/v1/units/{code}/close")
async def close_unit(
    code: str, body: CloseIn, principal: PrincipalDep, context: ContextDep
) -> dict[str, Any]:
    """End a unit's validity on `valid_to`, naming its successors (admin); each successor must
    be valid from the next day."""
    principal.require(Permission.ADMINISTER)
    async with context.sessions() as session, session.begin():
        unit = await units.close_unit(
            session,
            code,
            body.valid_to,
            tuple(body.successor_codes),
            actor=principal.username,
            now=context.clock.now(),
        )
    return unit_view(unit, principal)


@router.get("/v1/units/{code}/history")
async def unit_history(code: str, principal: PrincipalDep, context: ContextDep) -> dict[str, Any]:
    """Who changed what and when, for every record with this code, and the leaders in charge
    over time (phone and e-mail only for reviewer, admin and the unit itself)."""
    async with context.sessions() as session:
        entries = await units.unit_history(session, code)
    return history_view(code.split("@")[0], entries, principal)
