"""Unit sheets: reading CSV and XLSX uploads, refusing bad files, and round-tripping exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from services.registry.tabular import (
    draft_from_fields,
    formula_safe,
    parse_row,
    read_rows,
    write_csv,
    write_xlsx,
)
from shared.contracts.registry import Contacts, Leader, UnitState
from shared.errors import DomainError

LIMITS = {"max_bytes": 100_000, "max_rows": 50}


def read(data: bytes, name: str = "units.csv", **limits: int):
    return read_rows(data, name, **(LIMITS | limits))


def error_code(data: bytes, name: str = "units.csv", **limits: int) -> str:
    with pytest.raises(DomainError) as caught:
        read(data, name, **limits)
    return caught.value.code


UNIT = UnitState(
    unit_id="18115@2019-01-01",
    code="18115",
    name="UBND phường Bắc Hồng",
    kind="ward",
    tags=("pilot",),
    valid_from=date(2019, 1, 1),
    valid_to=date(2025, 6, 30),
    successor_codes=("18115",),
    leader=Leader(full_name="Nguyễn Văn A", title="Phó Chủ tịch", phone="0912 345 678"),
    contacts=Contacts(emails=("bachong@hongling.vn", "vp@hongling.vn"), phone="02393836000"),
    version=3,
)


def test_csv_rows_carry_their_line_number_and_skip_blank_lines():
    data = "code,name,kind\n18115,Bắc Hồng,ward\n\nPNV,Phòng Nội vụ,department\n".encode()
    header, rows = read(data)
    assert header == ["code", "name", "kind"]
    assert [(r.number, r.cells["code"]) for r in rows] == [(2, "18115"), (4, "PNV")]


def test_vietnamese_header_labels_semicolons_and_a_byte_order_mark_are_accepted():
    data = "\ufeffMã đơn vị;Tên đơn vị;Loại đơn vị\n18115;Bắc Hồng;ward\n".encode()
    header, rows = read(data)
    assert header == ["code", "name", "kind"] and rows[0].cells["name"] == "Bắc Hồng"


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "u.csv", "empty_file"),
        (b"code,name\n", "u.csv", "no_rows"),
        (b"name,kind\nX,ward\n", "u.csv", "missing_columns"),
        (b"code,colour\nX,red\n", "u.csv", "unknown_columns"),
        (b"code,code\nX,Y\n", "u.csv", "duplicate_columns"),
        (
            "code,name\nX,Bắc\n".encode("cp1258", errors="ignore") + b"\xff\xfe",
            "u.csv",
            "malformed_file",
        ),
        (b"PK\x03\x04 not really a zip", "u.xlsx", "malformed_file"),
        (b"just text", "u.xlsx", "malformed_file"),
        (b"\xd0\xcf\x11\xe0 old excel", "u.xls", "unsupported_format"),
        (b'code,name\n"X,unterminated\n', "u.csv", "malformed_file"),
    ],
)
def test_unreadable_files_are_refused_with_a_stable_code(data: bytes, name: str, code: str):
    assert error_code(data, name) == code


def test_size_and_row_limits_are_enforced():
    assert error_code(b"code\n" + b"X\n" * 2000, max_bytes=1000) == "import_too_large"
    assert error_code(b"code\n" + b"X\n" * 60) == "too_many_rows"


def test_cells_become_record_fields_and_bad_cells_are_named():
    data = (
        "code,name,kind,display_order,must_report,valid_from,valid_to,leader_full_name,contact_emails\n"
        "X1,Đơn vị,agency,5,không,01/07/2025,,Trần B,a@x.vn; b@x.vn\n"
        "X2,Đơn vị,agency,năm,có lẽ,31/02/2025,,,\n"
    ).encode()
    _, rows = read(data)
    fields, problems = parse_row(rows[0])
    assert problems == []
    assert fields["display_order"] == 5 and fields["must_report"] is False
    assert fields["valid_from"] == date(2025, 7, 1) and fields["valid_to"] is None
    assert fields["leader"].full_name == "Trần B"
    assert fields["contacts"].emails == ("a@x.vn", "b@x.vn")
    _, problems = parse_row(rows[1])
    assert [(p.field, p.code) for p in problems] == [
        ("display_order", "invalid_number"),
        ("must_report", "invalid_boolean"),
        ("valid_from", "invalid_date"),
    ]


def test_columns_absent_from_the_file_keep_the_record_values():
    _, rows = read(b"code,valid_from,name\n18115,2019-01-01,Renamed\n")
    fields, _ = parse_row(rows[0])
    from services.registry.unit_rules import UnitDraft

    draft = draft_from_fields(fields, UnitDraft.from_state(UNIT), date(2026, 1, 1))
    assert draft.name == "Renamed" and draft.leader == UNIT.leader and draft.kind == "ward"


@pytest.mark.parametrize(("writer", "name"), [(write_csv, "x.csv"), (write_xlsx, "x.xlsx")])
def test_an_export_reads_back_as_the_same_record(writer, name):
    _, rows = read(writer([UNIT]), name)
    fields, problems = parse_row(rows[0])
    assert problems == []
    draft = draft_from_fields(fields, None, date(2026, 1, 1))
    assert draft.to_state(version=3) == UNIT


def test_xlsx_numbers_and_dates_are_read_as_codes_and_days():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "kind", "valid_from"])
    sheet.append([18130, "Xã Thuận Lộc", "commune", date(2019, 1, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _, rows = read(buffer.getvalue(), "units.xlsx")
    fields, problems = parse_row(rows[0])
    assert problems == [] and fields["code"] == "18130" and fields["valid_from"] == date(2019, 1, 1)
    assert rows[0].number == 2


def test_templates_have_the_header_only():
    header, _ = read_rows(write_csv([]) + b"X\n", "t.csv", **LIMITS)
    assert header[0] == "code" and len(header) == 17


FORMULAS = ('=HYPERLINK("http://x")', "+84 912", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd")


def test_exports_never_hold_a_live_formula_and_import_back_the_same_text():
    leader = Leader(full_name="=cmd|' /C calc'!A0", title="@SUM(1)", phone="+84 912 345 678")
    unit = UNIT.model_copy(
        update={"name": "=1+1", "leader": leader, "contacts": Contacts(phone="-0912 345 678")}
    )
    text = write_csv([unit]).decode("utf-8-sig")
    for cell in next(csv.reader(io.StringIO(text[text.index("\n") + 1 :]))):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=1+1" in text and "'+84 912 345 678" in text
    _, rows = read(write_csv([unit]))
    fields, problems = parse_row(rows[0])
    assert problems == [] and fields["name"] == "=1+1"
    assert fields["leader"].full_name == "=cmd|' /C calc'!A0"
    assert fields["leader"].phone == "+84 912 345 678"

    workbook = load_workbook(io.BytesIO(write_xlsx([unit])))
    sheet = workbook["Đơn vị"]
    cells = [c for c in sheet[2] if isinstance(c.value, str)]
    assert {c.data_type for c in cells} == {"s"}  # no cell is a formula ("f")
    assert sheet["B2"].value == "=1+1"
    _, rows = read(write_xlsx([unit]), "units.xlsx")
    assert parse_row(rows[0])[0]["name"] == "=1+1"
    for value in FORMULAS:
        assert formula_safe(value).startswith("'")
    assert formula_safe("UBND phường") == "UBND phường"
