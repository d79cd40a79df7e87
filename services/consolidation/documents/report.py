"""The town's report (báo cáo tổng hợp) as an official .docx: the draft, then the Phụ lục.

The body is the period's draft (`domain.draft`): the saved hand-written parts over the parts
generated from the latest reports. The units' detail goes to the appendix, after the
signature: the totals table of every task area (the same figure lines the draft's
sentences are written from), who has reported, one table of figures by unit, and the
units' narratives by unit. The internal questions and answers on difficulties appear
nowhere; the draft says only how many were raised and answered.
"""

from __future__ import annotations

from datetime import date

from services.consolidation.domain import KIND_LABELS, Summary, Tally
from services.consolidation.domain.draft import (
    ROMAN,
    DraftView,
    ReportFrame,
    figure_lines,
)
from services.consolidation.settings import ConsolidationSettings
from shared.documents import (
    Block,
    Bullet,
    DocumentSpec,
    Heading,
    Issuer,
    Paragraph,
    Signature,
    Table,
    build_docx,
)
from shared.formatting import vn_deadline, vn_number

_TABLE_WIDTHS = (12.0, 83.0, 35.0, 35.0)
_COMPARED_WIDTHS = (10.0, 61.0, 25.0, 22.0, 25.0, 22.0)
_KIND_WIDTHS = (45.0, 24.0, 24.0, 24.0, 24.0, 24.0)
_UNIT_FIGURE_WIDTHS = (10.0, 45.0, 85.0, 25.0)


def report_docx(
    summary: Summary,
    draft: DraftView,
    frame: ReportFrame,
    settings: ConsolidationSettings,
    issued_on: date,
) -> bytes:
    """The town report of a period in the Nghị định 30/2020 layout."""
    return build_docx(report_spec(summary, draft, frame, settings, issued_on))


def report_spec(
    summary: Summary,
    draft: DraftView,
    frame: ReportFrame,
    settings: ConsolidationSettings,
    issued_on: date,
) -> DocumentSpec:
    """The document spec of the town report."""
    return DocumentSpec(
        issuer=Issuer(settings.issuer_parent, settings.issuer_name, settings.number_suffix),
        place=settings.document_place,
        issued_on=issued_on,
        kind_title="Báo cáo",
        subject=frame.subject,
        signature=Signature(settings.signer_authority, settings.signer_title, settings.signer_name),
        body=_body(draft, frame),
        recipients=settings.recipients,
        archive=settings.archive,
        appendix=_appendix(summary, settings, issued_on),
    )


def _paragraphs(text: str) -> list[Block]:
    return [Paragraph(line) for line in text.splitlines() if line.strip()]


def _body(draft: DraftView, frame: ReportFrame) -> list[Block]:
    blocks: list[Block] = []
    heading = ""
    for part in draft.parts:
        if part.heading and part.heading != heading:
            heading = part.heading
            blocks.append(Heading(heading, 1))
        if part.subheading:
            blocks.append(Heading(part.title, 2))
        blocks.extend(_paragraphs(part.text))
    blocks.append(Paragraph(f"Trên đây là báo cáo {frame.subject_in_prose} của {frame.issuer}./."))
    return blocks


# --- the appendix -------------------------------------------------------------------------


def _appendix(summary: Summary, settings: ConsolidationSettings, issued_on: date) -> list[Block]:
    number = f"Báo cáo số      /{settings.number_suffix.strip()}"
    day = f"ngày {issued_on.day:02d}/{issued_on.month:02d}/{issued_on.year}"
    blocks: list[Block] = [
        Paragraph("PHỤ LỤC", bold=True, centred=True),
        Paragraph("SỐ LIỆU VÀ NỘI DUNG BÁO CÁO CỦA CÁC ĐƠN VỊ", bold=True, centred=True),
        Paragraph(
            f"(Kèm theo {number} {day} của {settings.issuer_prose})", italic=True, centred=True
        ),
    ]
    numerals = iter(ROMAN)
    if summary.sections:
        blocks.append(Heading(f"{next(numerals)}. TỔNG HỢP SỐ LIỆU", 1))
        for section in summary.sections:
            if section.indicators:
                blocks.append(Heading(f"{section.key}. {section.title}", 2))
                blocks.append(_totals_table(summary, section.key))
    blocks.append(Heading(f"{next(numerals)}. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ", 1))
    blocks.extend(_completeness(summary))
    if summary.sections:
        blocks.append(Heading(f"{next(numerals)}. SỐ LIỆU THEO ĐƠN VỊ", 1))
        blocks.append(_unit_figures(summary))
    blocks.append(Heading(f"{next(numerals)}. NỘI DUNG BÁO CÁO CỦA CÁC ĐƠN VỊ", 1))
    blocks.extend(_unit_narratives(summary))
    return blocks


def _totals_table(summary: Summary, section_key: str) -> Table:
    """A task area's figures, from the same lines the draft's sentences use."""
    section = next(s for s in summary.sections if s.key == section_key)
    lines = figure_lines(summary, section.indicators)
    compared = summary.earlier is not None
    columns = ["TT", "Chỉ tiêu", "Kết quả", "Số đơn vị báo cáo"]
    if compared:
        columns += ["Cùng kỳ năm trước", "Tăng (+), giảm (-)"]
    rows: list[list[str | int]] = []
    for number, line in enumerate(lines, start=1):
        row: list[str | int] = [number, line.indicator.label, line.value, line.share]
        if compared:
            row += [line.previous, line.change_sign]
        rows.append(row)
    return Table(
        columns=columns, rows=rows, widths_mm=_COMPARED_WIDTHS if compared else _TABLE_WIDTHS
    )


def _names(units: list[str]) -> str:
    return ", ".join(units)


def _completeness(summary: Summary) -> list[Block]:
    status = summary.completeness
    t = status.tally
    blocks: list[Block] = [
        Paragraph(
            f"Tổng số đơn vị phải báo cáo: {t.expected}; đã gửi báo cáo: {t.submitted} "
            f"({t.on_time} đúng hạn, {t.late} gửi muộn); chưa gửi báo cáo: {t.missing}. "
            f"Hạn gửi báo cáo: {vn_deadline(status.period.due_at)}."
        ),
        _kind_table(status.by_kind, t),
    ]
    late = [u.name for u in status.late_units()]
    missing = [u.name for u in status.in_state("missing")]
    returned = [u.name for u in status.in_state("awaiting_revision")]
    if late:
        blocks.append(Bullet(f"Đơn vị gửi báo cáo muộn ({len(late)}): {_names(late)}."))
    if missing:
        blocks.append(Bullet(f"Đơn vị chưa gửi báo cáo ({len(missing)}): {_names(missing)}."))
    else:
        blocks.append(Bullet("Tất cả các đơn vị đã gửi báo cáo."))
    if returned:
        blocks.append(
            Bullet(f"Đơn vị được trả lại báo cáo để bổ sung ({len(returned)}): {_names(returned)}.")
        )
    return blocks


def _kind_table(by_kind: dict[str, Tally], total: Tally) -> Table:
    def row(label: str, t: Tally) -> list[str | int]:
        return [label, t.expected, t.submitted, t.on_time, t.late, t.missing]

    return Table(
        columns=["Loại đơn vị", "Phải báo cáo", "Đã gửi", "Đúng hạn", "Gửi muộn", "Chưa gửi"],
        rows=[row(KIND_LABELS.get(kind, kind), t) for kind, t in by_kind.items()],
        widths_mm=_KIND_WIDTHS,
        totals_row=row("Tổng cộng", total),
    )


def _unit_figures(summary: Summary) -> Table:
    """One table of every unit's figures, in registry order (the units that sent none say so)."""
    rows: list[list[str | int]] = []
    for number, unit in enumerate(summary.completeness.units, start=1):
        figures = [
            (f"{section.key}. {ind.label}", vn_number(ind.values[unit.code]))
            for section in summary.sections
            for ind in section.indicators
            if unit.code in ind.values
        ]
        if unit.state == "missing":
            figures = [("Chưa gửi báo cáo", "")]
        elif not figures:
            figures = [("Không báo cáo số liệu", "")]
        for n, (label, value) in enumerate(figures):
            rows.append([number if n == 0 else "", unit.name if n == 0 else "", label, value])
    return Table(
        columns=["TT", "Đơn vị", "Chỉ tiêu", "Số liệu"], rows=rows, widths_mm=_UNIT_FIGURE_WIDTHS
    )


def _unit_narratives(summary: Summary) -> list[Block]:
    """What each reporting unit wrote, by unit in registry order."""
    blocks: list[Block] = []
    texts: dict[str, list[tuple[str, str]]] = {}
    for section in summary.sections:
        for n in section.narratives:
            texts.setdefault(n.unit_code, []).append(
                (f"Mục {section.key}. {section.title}", n.text)
            )
    for field in summary.text_fields:
        for e in field.entries:
            texts.setdefault(e.unit_code, []).append((field.label, e.text))
    reporting = [u for u in summary.completeness.units if u.code in texts]
    if not reporting:
        return [Paragraph("Chưa có đơn vị nào gửi báo cáo.", italic=True)]
    for number, unit in enumerate(reporting, start=1):
        blocks.append(Heading(f"{number}. {unit.name}", 2))
        for label, text in texts[unit.code]:
            lines = [line for line in text.splitlines() if line.strip()]
            blocks.append(Paragraph(f"{label}: {lines[0]}" if lines else f"{label}:"))
            blocks.extend(Paragraph(line) for line in lines[1:])
    return blocks
