"""Registry HTTP API: units, their history, reorganisations, import and export. Each route
calls one use case and answers with its contract model (downloads with their media type)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from services.registry import tabular, views
from services.registry.context import ContextDep
from services.registry.usecases import units
from shared.auth import PrincipalDep
from shared.contracts.api.registry import (
    CloseIn,
    ImportReport,
    ReorganisationIn,
    Reorganised,
    UnitHistory,
    UnitIn,
    UnitPatch,
    UnitView,
)

router = APIRouter(tags=["đơn vị"])

OnQuery = Annotated[
    date | None, Query(description="Chỉ các bản ghi có hiệu lực vào ngày này (YYYY-MM-DD).")
]


def _download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _file(media_type: str, description: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type.split(";")[0]: {}}, "description": description}}


@router.get("/v1/units", response_model=list[UnitView])
async def list_units(
    principal: PrincipalDep,
    context: ContextDep,
    on: OnQuery = None,
    kind: Annotated[str | None, Query()] = None,
) -> list[UnitView]:
    """Every unit record, current and past, in registry order (optionally those valid on a
    day, or of one kind)."""
    found = await units.list_units(context, on=on, kind=kind)
    return [views.unit_view(u, principal) for u in found]


@router.post("/v1/units", status_code=201, response_model=UnitView)
async def create_unit(body: UnitIn, principal: PrincipalDep, context: ContextDep) -> UnitView:
    """Add a unit (admin); its validity starts today unless valid_from is given."""
    return views.unit_view(await units.create_unit(context, principal, body), principal)


@router.get(
    "/v1/units/template.csv",
    response_class=Response,
    responses=_file(tabular.CSV_MEDIA_TYPE, "Tệp mẫu (.csv)"),
)
async def template_csv(principal: PrincipalDep) -> Response:
    """An empty CSV with the import columns."""
    return _download(tabular.write_csv([]), "mau-danh-muc-don-vi.csv", tabular.CSV_MEDIA_TYPE)


@router.get(
    "/v1/units/template.xlsx",
    response_class=Response,
    responses=_file(tabular.XLSX_MEDIA_TYPE, "Tệp mẫu (.xlsx)"),
)
async def template_xlsx(principal: PrincipalDep) -> Response:
    """An empty workbook with the import columns and a sheet explaining them."""
    return _download(tabular.write_xlsx([]), "mau-danh-muc-don-vi.xlsx", tabular.XLSX_MEDIA_TYPE)


@router.get(
    "/v1/units/export.csv",
    response_class=Response,
    responses=_file(tabular.CSV_MEDIA_TYPE, "Danh mục đơn vị (.csv)"),
)
async def export_csv(principal: PrincipalDep, context: ContextDep, on: OnQuery = None) -> Response:
    """Every unit record as CSV, contacts included (reviewer, admin)."""
    content = await units.export_csv(context, principal, on)
    return _download(content, "danh-muc-don-vi.csv", tabular.CSV_MEDIA_TYPE)


@router.get(
    "/v1/units/export.xlsx",
    response_class=Response,
    responses=_file(tabular.XLSX_MEDIA_TYPE, "Danh mục đơn vị (.xlsx)"),
)
async def export_xlsx(principal: PrincipalDep, context: ContextDep, on: OnQuery = None) -> Response:
    """Every unit record as XLSX, contacts included (reviewer, admin)."""
    content = await units.export_xlsx(context, principal, on)
    return _download(content, "danh-muc-don-vi.xlsx", tabular.XLSX_MEDIA_TYPE)


@router.post("/v1/units/import", response_model=ImportReport)
async def import_units(
    principal: PrincipalDep,
    context: ContextDep,
    file: Annotated[UploadFile, File(description="Tệp .csv (UTF-8) hoặc .xlsx theo tệp mẫu")],
    dry_run: Annotated[bool, Query(description="Chỉ kiểm tra, không ghi")] = False,
) -> ImportReport:
    """Create or update units from a CSV or XLSX file (admin). Every row is checked first;
    any error (reported with its row number) means nothing is written. A row updates the
    record with its code and valid_from (blank: the record valid today) or creates one;
    columns missing from the file keep their values."""
    data = await file.read(context.settings.import_max_bytes + 1)
    result = await units.import_units(
        context, principal, data, file.filename or "", dry_run=dry_run
    )
    return ImportReport(
        dry_run=result.dry_run,
        columns=result.columns,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )


@router.post("/v1/units/reorganisations", status_code=201, response_model=Reorganised)
async def reorganise(
    body: ReorganisationIn, principal: PrincipalDep, context: ContextDep
) -> Reorganised:
    """Merge and close units on one day (admin): the predecessors end the day before
    `effective_from` with the successor as their successor; the successors start that day
    (a successor may reuse a predecessor's code); `closures` end that day too, with the
    successors they name, or none. Expected units of open periods are re-resolved."""
    written = await units.reorganise(context, principal, body)
    return Reorganised(units=[views.unit_view(u, principal) for u in written])


@router.get("/v1/units/{code}", response_model=UnitView)
async def read_unit(
    code: str, principal: PrincipalDep, context: ContextDep, on: OnQuery = None
) -> UnitView:
    """One unit: the newest record with this code, the one valid on `on`, or exactly
    `code@YYYY-MM-DD`."""
    return views.unit_view(await units.read_unit(context, code, on), principal)


@router.patch("/v1/units/{code}", response_model=UnitView)
async def update_unit(
    code: str, body: UnitPatch, principal: PrincipalDep, context: ContextDep, on: OnQuery = None
) -> UnitView:
    """Change some fields of a unit (admin). `leader` and `contacts` are partial: the given
    fields replace, the others stay; `"leader": null` removes the leader."""
    return views.unit_view(await units.update_unit(context, principal, code, body, on), principal)


@router.post("/v1/units/{code}/close", response_model=UnitView)
async def close_unit(
    code: str, body: CloseIn, principal: PrincipalDep, context: ContextDep
) -> UnitView:
    """End a unit's validity on `valid_to`, naming its successors (admin); each successor must
    be valid from the next day."""
    return views.unit_view(await units.close_unit(context, principal, code, body), principal)


@router.get("/v1/units/{code}/history", response_model=UnitHistory)
async def unit_history(code: str, principal: PrincipalDep, context: ContextDep) -> UnitHistory:
    """Who changed what and when, for every record with this code, and the leaders in charge
    over time (phone and e-mail only for reviewer, admin and the unit itself)."""
    entries = await units.unit_history(context, code)
    return views.history_view(code.split("@")[0], entries, principal)
