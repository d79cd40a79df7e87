"""Units as CSV and XLSX: the template, export, and reading an import file (bytes in, rows out)."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from services.registry.domain import Problem
from services.registry.unit_rules import UnitDraft
from shared.contracts.registry import Contacts, Leader, UnitState
from shared.errors import DomainError
from shared.formatting import vn_date


@dataclass(frozen=True)
class Column:
    """One column of the unit sheet: its key (the header), a Vietnamese label, a hint."""

    key: str
    label: str
    hint: str


COLUMNS: tuple[Column, ...] = (
    Column("code", "Mã đơn vị", "Bắt buộc. Mã GSO của phường, xã; mã riêng cho phòng, ban."),
    Column("name", "Tên đơn vị", "Bắt buộc với đơn vị mới."),
    Column("kind", "Loại đơn vị", "department, centre, ward, commune hoặc agency."),
    Column("tags", "Nhãn", "Cách nhau bởi dấu ;, ví dụ: consolidator; communication."),
    Column("parent_code", "Mã đơn vị cấp trên", "Để trống nếu không có."),
    Column("display_order", "Thứ tự hiển thị", "Số nguyên từ 0."),
    Column("must_report", "Phải báo cáo", "có hoặc không (mặc định: có)."),
    Column(
        "valid_from",
        "Hiệu lực từ ngày",
        "dd/mm/yyyy. Để trống: bản ghi đang hiệu lực của mã này, hoặc hôm nay với đơn vị mới.",
    ),
    Column("valid_to", "Hiệu lực đến ngày", "dd/mm/yyyy; để trống nếu còn hiệu lực."),
    Column("successor_codes", "Mã đơn vị kế thừa", "Cách nhau bởi dấu ;."),
    Column("leader_full_name", "Lãnh đạo phụ trách: họ và tên", ""),
    Column("leader_title", "Lãnh đạo phụ trách: chức vụ", ""),
    Column("leader_phone", "Lãnh đạo phụ trách: điện thoại", ""),
    Column("leader_email", "Lãnh đạo phụ trách: thư điện tử", ""),
    Column("contact_emails", "Thư điện tử nhận thông báo", "Cách nhau bởi dấu ;."),
    Column("contact_phone", "Điện thoại đơn vị", ""),
    Column("contact_webhook_url", "Địa chỉ webhook (SMS/Zalo)", "http:// hoặc https://"),
)
KEYS = tuple(c.key for c in COLUMNS)
_BY_HEADER = {
    **{_k: _k for _k in KEYS},
    **{unicodedata.normalize("NFC", c.label).casefold(): c.key for c in COLUMNS},
}
# Where a problem with a record field shows in the sheet.
FIELD_COLUMNS = {
    "leader.full_name": "leader_full_name",
    "leader.title": "leader_title",
    "leader.phone": "leader_phone",
    "leader.email": "leader_email",
    "contacts.emails": "contact_emails",
    "contacts.phone": "contact_phone",
    "contacts.webhook_url": "contact_webhook_url",
}
_LEADER = ("leader_full_name", "leader_title", "leader_phone", "leader_email")
_CONTACTS = ("contact_emails", "contact_phone", "contact_webhook_url")
_TRUE = {"có", "co", "x", "yes", "y", "true", "1", "đúng"}
_FALSE = {"không", "khong", "no", "n", "false", "0", "sai"}
XLSX_MAGIC = b"PK\x03\x04"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A small upload can inflate a lot; refuse archives that unpack beyond this.
XLSX_MAX_UNPACKED = 40 * 1024 * 1024
_WIDTHS = (10, 40, 12, 20, 12, 8, 10, 12, 12, 14, 25, 25, 14, 28, 30, 14, 30)


def file_error(code: str, message: str, *, status: int = 422) -> DomainError:
    """An error about the uploaded file as a whole."""
    return DomainError(message, code=code, status=status, details={"field": "file"})


@dataclass(frozen=True)
class SheetRow:
    """A non-empty data row: its number in the file and its cells by column key."""

    number: int
    cells: dict[str, Any]


def read_rows(
    data: bytes, filename: str, *, max_bytes: int, max_rows: int
) -> tuple[list[str], list[SheetRow]]:
    """The header keys and the data rows of a CSV or XLSX upload; DomainError if unreadable."""
    if len(data) > max_bytes:
        raise file_error(
            "import_too_large",
            f"Tệp nhập vượt quá dung lượng cho phép ({max_bytes // 1024} KB).",
            status=413,
        )
    if not data.strip():
        raise file_error("empty_file", "Tệp nhập không có dữ liệu.")
    lowered = filename.lower()
    if data.startswith(XLSX_MAGIC):
        raw_rows = _xlsx_rows(data, max_rows)
    elif lowered.endswith(".xlsx"):
        raise file_error("malformed_file", "Tệp .xlsx bị hỏng hoặc không phải bảng tính Excel.")
    elif lowered.endswith((".xls", ".ods")):
        raise file_error(
            "unsupported_format", "Chỉ nhận tệp .csv hoặc .xlsx; hãy lưu lại bảng tính dạng .xlsx."
        )
    else:
        raw_rows = _csv_rows(data)
    return _rows_by_header(raw_rows, max_rows)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise file_error(
            "malformed_file", "Tệp CSV phải được lưu với bảng mã UTF-8 (CSV UTF-8)."
        ) from None
    if "\x00" in text:
        raise file_error("malformed_file", "Tệp CSV chứa ký tự không hợp lệ.")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            yield reader.line_num, list(row)
    except csv.Error as exc:
        raise file_error(
            "malformed_file", f"Tệp CSV sai định dạng ở dòng {reader.line_num}: {exc}."
        ) from None


def _xlsx_rows(data: bytes, max_rows: int) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise file_error(
            "malformed_file", "Tệp .xlsx bị hỏng hoặc không phải bảng tính Excel."
        ) from None
    if unpacked > XLSX_MAX_UNPACKED:
        raise file_error("import_too_large", "Bảng tính quá lớn.", status=413)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise file_error(
            "malformed_file", "Tệp .xlsx bị hỏng hoặc không phải bảng tính Excel."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(
            sheet.iter_rows(max_col=len(COLUMNS) + 10, values_only=True), start=1
        ):
            if number > max_rows + 50:
                # Blank rows count too; far past the limit there is nothing worth reading.
                break
            yield number, list(row)
    except DomainError:
        raise
    except Exception:
        raise file_error("malformed_file", "Không đọc được nội dung bảng tính.") from None
    finally:
        workbook.close()


def _rows_by_header(
    raw_rows: Iterable[tuple[int, list[Any]]], max_rows: int
) -> tuple[list[str], list[SheetRow]]:
    header: list[str | None] | None = None
    rows: list[SheetRow] = []
    for number, values in raw_rows:
        if header is None:
            if not any(_text(v) for v in values):
                continue
            header = _header(values)
            continue
        cells = {key: value for key, value in zip(header, values, strict=False) if key is not None}
        extra = values[len(header) :]
        if not any(_text(v) for v in cells.values()) and not any(_text(v) for v in extra):
            continue
        if len(rows) >= max_rows:
            raise file_error(
                "too_many_rows", f"Tệp nhập có quá {max_rows} dòng dữ liệu; hãy chia nhỏ tệp."
            )
        rows.append(SheetRow(number, cells))
    if header is None:
        raise file_error("empty_file", "Tệp nhập không có dòng tiêu đề.")
    if not rows:
        raise file_error("no_rows", "Tệp nhập chỉ có dòng tiêu đề, không có đơn vị nào.")
    return [k for k in header if k is not None], rows


def _header(values: Sequence[Any]) -> list[str | None]:
    keys: list[str | None] = []
    unknown: list[str] = []
    for value in values:
        text = unicodedata.normalize("NFC", _text(value)).casefold()
        if not text:
            keys.append(None)
            continue
        key = _BY_HEADER.get(text)
        if key is None:
            unknown.append(_text(value))
        keys.append(key)
    if unknown:
        raise file_error(
            "unknown_columns",
            "Tệp nhập có cột không nhận ra: "
            + ", ".join(f"«{u}»" for u in unknown)
            + ". Hãy dùng tệp mẫu.",
        )
    present = [k for k in keys if k]
    repeated = sorted({k for k in present if present.count(k) > 1})
    if repeated:
        raise file_error("duplicate_columns", f"Cột lặp lại: {', '.join(repeated)}.")
    if "code" not in present:
        raise file_error("missing_columns", "Tệp nhập thiếu cột bắt buộc «code» (mã đơn vị).")
    return keys


# A spreadsheet reads a cell beginning with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: str) -> str:
    """A CSV cell that no spreadsheet runs: text beginning like a formula gets a leading
    apostrophe (which spreadsheets show as text and the import takes off again)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value)
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]  # written by formula_safe
    return unicodedata.normalize("NFC", text).strip()


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for parse in (_dmy, date.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    raise ValueError(text)


def _dmy(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def _split(value: Any) -> tuple[str, ...]:
    text = _text(value).replace(",", ";")
    return tuple(part.strip() for part in text.split(";") if part.strip())


def parse_row(row: SheetRow) -> tuple[dict[str, Any], list[Problem]]:
    """The record fields a row gives (only for columns the file has), and cell problems."""
    cells = row.cells
    fields: dict[str, Any] = {}
    problems: list[Problem] = []
    for key in ("code", "name", "kind"):
        if key in cells:
            fields[key] = _text(cells[key])
    if "parent_code" in cells:
        fields["parent_code"] = _text(cells["parent_code"]) or None
    for key in ("tags", "successor_codes"):
        if key in cells:
            fields[key] = _split(cells[key])
    if "display_order" in cells:
        text = _text(cells["display_order"])
        try:
            fields["display_order"] = int(text) if text else 0
        except ValueError:
            problems.append(
                Problem("display_order", "invalid_number", f"Thứ tự «{text}» không phải số nguyên.")
            )
    if "must_report" in cells:
        text = _text(cells["must_report"]).casefold()
        if text in _TRUE or not text:
            fields["must_report"] = True
        elif text in _FALSE:
            fields["must_report"] = False
        else:
            problems.append(
                Problem(
                    "must_report",
                    "invalid_boolean",
                    f"Giá trị «{text}» không hợp lệ; ghi «có» hoặc «không».",
                )
            )
    for key in ("valid_from", "valid_to"):
        if key in cells and _text(cells[key]):
            try:
                fields[key] = _parse_date(cells[key])
            except ValueError:
                problems.append(
                    Problem(
                        key,
                        "invalid_date",
                        f"Ngày «{_text(cells[key])}» không hợp lệ; ghi theo dạng dd/mm/yyyy.",
                    )
                )
        elif key == "valid_to" and key in cells:
            fields[key] = None
    if any(k in cells for k in _LEADER):
        values = {k.removeprefix("leader_"): _text(cells.get(k)) for k in _LEADER}
        fields["leader"] = Leader.model_validate(values) if any(values.values()) else None
    if any(k in cells for k in _CONTACTS):
        fields["contacts"] = Contacts(
            emails=_split(cells.get("contact_emails")),
            phone=_text(cells.get("contact_phone")),
            webhook_url=_text(cells.get("contact_webhook_url")),
        )
    return fields, problems


def draft_from_fields(fields: dict[str, Any], base: UnitDraft | None, today: date) -> UnitDraft:
    """The draft a row describes: a new record, or `base` with the row's columns applied."""
    if base is not None:
        return replace(base, **{k: v for k, v in fields.items() if k != "valid_from"})
    return UnitDraft(
        code=fields.get("code", ""),
        name=fields.get("name", ""),
        kind=fields.get("kind", ""),
        valid_from=fields.get("valid_from") or today,
        tags=fields.get("tags", ()),
        parent_code=fields.get("parent_code"),
        display_order=fields.get("display_order", 0),
        must_report=fields.get("must_report", True),
        valid_to=fields.get("valid_to"),
        successor_codes=fields.get("successor_codes", ()),
        leader=fields.get("leader"),
        contacts=fields.get("contacts", Contacts()),
    )


def row_problem(number: int, problem: Problem) -> dict[str, Any]:
    """A problem placed at its row and column."""
    column = FIELD_COLUMNS.get(problem.field, problem.field)
    return {
        "row": number,
        "column": column,
        "code": problem.code,
        "message": f"Dòng {number}, cột «{column}»: {problem.message}",
    }


def unit_cells(unit: UnitState) -> dict[str, Any]:
    """A unit as sheet cells (dates as date objects)."""
    leader = unit.leader
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "tags": "; ".join(unit.tags),
        "parent_code": unit.parent_code or "",
        "display_order": unit.display_order,
        "must_report": "có" if unit.must_report else "không",
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "successor_codes": "; ".join(unit.successor_codes),
        "leader_full_name": leader.full_name if leader else "",
        "leader_title": leader.title if leader else "",
        "leader_phone": leader.phone if leader else "",
        "leader_email": leader.email if leader else "",
        "contact_emails": "; ".join(unit.contacts.emails),
        "contact_phone": unit.contacts.phone,
        "contact_webhook_url": unit.contacts.webhook_url,
    }


def write_csv(units: Sequence[UnitState]) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel shows Vietnamese correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(KEYS)
    for unit in units:
        cells = unit_cells(unit)
        writer.writerow([_csv_cell(cells[k]) for k in KEYS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, date):
        return vn_date(value)
    if value is None:
        return ""
    return formula_safe(value) if isinstance(value, str) else value


def write_xlsx(units: Sequence[UnitState]) -> bytes:
    """A workbook with the units sheet and a sheet explaining the columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Đơn vị"
    sheet.append(list(KEYS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for unit in units:
        cells = unit_cells(unit)
        sheet.append([cells[k] for k in KEYS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: "=…" is never a live formula
    for column in ("H", "I"):
        for cell in sheet[column][1:]:
            cell.number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCDEFGHIJKLMNOPQ", _WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Ý nghĩa", "Cách ghi"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for spec in COLUMNS:
        guide.append([spec.key, spec.label, spec.hint])
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 34
    guide.column_dimensions["C"].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
