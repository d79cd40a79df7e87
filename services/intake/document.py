"""The unit's own report as an official document (Nghị định 30/2020/NĐ-CP), without I/O.

Issued in the unit's name: a ward's or the commune's "ỦY BAN NHÂN DÂN / PHƯỜNG …" (both lines
bold), a department's "UBND THỊ XÃ … / PHÒNG …"; sent to Ủy ban nhân dân thị xã (qua Phòng
Nội vụ) as the plan's IV.4 says, in its "Nơi nhận"; the content is one version as it was
sent; the signature block is the leader in charge (plan II.5): the one the version reported,
else the one the registry held when it was sent, else the registry's now, and blank when
nobody is known, to be written by hand. The number is left blank for the records office.
The unit prints it, signs, scans and attaches the scan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.contracts.registry import ExpectedUnit, Leader
from shared.documents import (
    Block,
    Bullet,
    Cell,
    DocumentSpec,
    Heading,
    Issuer,
    Paragraph,
    Signature,
    Table,
)
from shared.formatting import vn_date, vn_number
from shared.forms import FormDefinition, Indicator, Section

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
NOT_REPORTED = "Chưa báo cáo"
NOTHING = "Không có."
_FIGURE_WIDTHS = (12.0, 118.0, 35.0)
_UBND = re.compile(r"^(ubnd|ủy ban nhân dân)\s+", re.IGNORECASE)
_LOCAL = re.compile(r"^(phường|xã|thị trấn)\s+", re.IGNORECASE)
_DEPUTY = re.compile(r"^phó\s+", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentSettings:
    """Where the unit sits: the town and its place name."""

    town_short: str  # "UBND thị xã Hồng Lĩnh": the parent line of a department, the recipient
    place: str  # "Hồng Lĩnh"


@dataclass(frozen=True)
class ReportVersionText:
    """What the document prints: the period, the unit, one version of its content."""

    period_title: str
    period_kind: str
    window_start: date | None
    window_end: date | None
    unit: ExpectedUnit
    version: int
    sent_on: date
    content: Mapping[str, Any]
    form: FormDefinition
    signer: Leader | None


def _is_local_government(unit: ExpectedUnit) -> bool:
    return unit.kind in ("ward", "commune")


def _local_name(unit: ExpectedUnit) -> str:
    """ "UBND phường Bắc Hồng" → "phường Bắc Hồng"."""
    return _UBND.sub("", unit.name.strip())


def issuer(unit: ExpectedUnit, settings: DocumentSettings) -> Issuer:
    """The top-left corner: the unit, under the town for a department."""
    if _is_local_government(unit):
        return Issuer("Ủy ban nhân dân", _local_name(unit), "BC-UBND")
    return Issuer(settings.town_short, unit.name, f"BC-{unit.code}", parent_authority_bold=False)


def issuer_prose(unit: ExpectedUnit) -> str:
    """The unit as a sentence names it: "Ủy ban nhân dân phường Bắc Hồng", "Phòng Tư pháp"."""
    if _is_local_government(unit):
        return f"Ủy ban nhân dân {_local_name(unit)}"
    return unit.name.strip()


def place(unit: ExpectedUnit, settings: DocumentSettings) -> str:
    """The place in the date line: the ward's or commune's own name, else the town's."""
    if _is_local_government(unit):
        return _LOCAL.sub("", _local_name(unit)) or settings.place
    return settings.place


def signature(unit: ExpectedUnit, signer: Leader | None) -> Signature:
    """The leader in charge signs; a deputy signs for the head ("KT. CHỦ TỊCH")."""
    local = _is_local_government(unit)
    default = "Chủ tịch" if local else "Thủ trưởng đơn vị"
    title = (signer.title.strip() if signer else "") or default
    name = signer.full_name.strip() if signer else ""
    body = ("TM. ỦY BAN NHÂN DÂN",) if local else ()
    if _DEPUTY.match(title):
        head = _DEPUTY.sub("", title)
        return Signature((*body, f"KT. {head.upper()}"), title, name)
    return Signature(body, title, name)


def _figure(indicator: Indicator, value: Any) -> str:
    if value is None:
        return NOT_REPORTED
    if indicator.type == "yes_no":
        return "Có" if value else "Không"
    return vn_number(value)


def _paragraphs(text: Any) -> list[Block]:
    if not isinstance(text, str) or not text.strip():
        return [Paragraph(NOTHING)]
    return [Paragraph(line.strip()) for line in text.splitlines() if line.strip()]


def _person(full_name: Any, title: Any) -> str:
    name, role = str(full_name or "").strip(), str(title or "").strip()
    return f"{name} ({role})" if role else name


def _leader_line(section: Section, answer: Any, on_record: Leader | None) -> Block | None:
    """Plan II.5 as the version answered it."""
    check = section.leader_check
    if check is None or not isinstance(answer, Mapping):
        return None
    if answer.get("confirmed"):
        known = f"{_person(on_record.full_name, on_record.title)}, " if on_record else ""
        return Paragraph(f"{check.label}: {known}đúng như danh mục đơn vị.")
    earlier = (
        f" (danh mục đơn vị đang ghi: {_person(on_record.full_name, on_record.title)})"
        if on_record
        else ""
    )
    reported = _person(answer.get("full_name"), answer.get("title"))
    return Paragraph(f"{check.label}: {reported}; đơn vị báo thay đổi{earlier}.")


def _section_blocks(
    number: int, section: Section, part: Mapping[str, Any], on_record: Leader | None
) -> list[Block]:
    blocks: list[Block] = [Heading(f"{number}. {section.title}", 2)]
    blocks += _paragraphs(part.get("narrative"))
    check = section.leader_check
    if check is not None:
        line = _leader_line(section, part.get(check.code), on_record)
        if line is not None:
            blocks.append(line)
    figures = part.get("indicators")
    values: Mapping[str, Any] = figures if isinstance(figures, Mapping) else {}
    if section.indicators:
        rows: list[list[Cell]] = [
            [i, ind.label, _figure(ind, values.get(ind.code))]
            for i, ind in enumerate(section.indicators, start=1)
        ]
        blocks.append(Table(["TT", "Chỉ tiêu", "Kết quả"], rows, widths_mm=_FIGURE_WIDTHS))
    return blocks


def _entries(items: Any) -> list[Block]:
    entries = [e for e in items or () if isinstance(e, str) and e.strip()]
    return [Bullet(e.strip()) for e in entries] if entries else [Paragraph(NOTHING)]


def _body(text: ReportVersionText, on_record: Leader | None) -> list[Block]:
    prose = issuer_prose(text.unit)
    form, content = text.form, text.content
    periodic = form.kind == "periodic"
    subject = _subject(text)
    what = subject[:1].lower() + subject[1:]
    blocks: list[Block] = [Paragraph(f"{prose} báo cáo {what} như sau:")]
    if text.window_start and text.window_end:
        blocks.append(
            Paragraph(
                f"(Số liệu tính từ ngày {vn_date(text.window_start)} "
                f"đến ngày {vn_date(text.window_end)})",
                italic=True,
            )
        )
    numerals = iter(ROMAN)
    sections = content.get("sections")
    parts: Mapping[str, Any] = sections if isinstance(sections, Mapping) else {}
    if periodic:
        blocks.append(Heading(f"{next(numerals)}. KẾT QUẢ THỰC HIỆN", 1))
        shown = [s for s in form.sections if isinstance(parts.get(s.key), Mapping)]
        for number, section in enumerate(shown, start=1):
            blocks += _section_blocks(number, section, parts[section.key], on_record)
    for field in form.text_fields:
        blocks.append(Heading(f"{next(numerals)}. {field.label.upper()}", 1))
        value = content.get(field.code)
        blocks += _entries(value) if field.repeated else _paragraphs(value)
    blocks.append(Paragraph(f"Trên đây là báo cáo {what} của {prose}./."))
    return blocks


def _subject(text: ReportVersionText) -> str:
    if text.form.kind == "periodic":
        return f"Kết quả thực hiện công tác dân vận chính quyền {text.period_title}"
    title = re.sub(r"^báo cáo\s+", "", text.period_title.strip(), flags=re.IGNORECASE)
    return title[:1].upper() + title[1:]


def document_spec(
    text: ReportVersionText, settings: DocumentSettings, on_record: Leader | None
) -> DocumentSpec:
    """The unit's report of one version, ready for `shared.documents.build_docx`."""
    return DocumentSpec(
        issuer=issuer(text.unit, settings),
        place=place(text.unit, settings),
        issued_on=text.sent_on,
        kind_title="Báo cáo",
        subject=_subject(text),
        signature=signature(text.unit, text.signer),
        body=_body(text, on_record),
        recipients=(f"{settings.town_short} (qua Phòng Nội vụ)",),
        archive="VT",
    )


def signer_of(
    reported: Leader | None, on_record: Leader | None, current: Leader | None
) -> Leader | None:
    """Who signs: the leader the version reported, else the one it was checked against,
    else the registry's now."""
    return reported or on_record or current


def file_name(period_id: str, unit_code: str, version: int) -> str:
    """The download's name: ASCII, so every browser keeps it."""
    safe: Sequence[str] = [re.sub(r"[^A-Za-z0-9-]+", "-", p) for p in (period_id, unit_code)]
    return f"bao-cao-{safe[0]}-{safe[1]}-v{version}.docx"
