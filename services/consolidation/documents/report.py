"""The town's consolidated report (báo cáo tổng hợp) as an official .docx."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.consolidation.domain import (
    KIND_LABELS,
    IndicatorSummary,
    Summary,
    Tally,
    UnitText,
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
from shared.formatting import vn_date, vn_deadline, vn_number

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
NOT_REPORTED = "Chưa có số liệu"
_TABLE_WIDTHS = (12.0, 83.0, 35.0, 35.0)
_COMPARED_WIDTHS = (10.0, 61.0, 25.0, 22.0, 25.0, 22.0)
_KIND_WIDTHS = (45.0, 24.0, 24.0, 24.0, 24.0, 24.0)


def report_docx(summary: Summary, settings: ConsolidationSettings, issued_on: date) -> bytes:
    """The consolidated report of a period in the Nghị định 30/2020 layout."""
    return build_docx(report_spec(summary, settings, issued_on))


def report_spec(summary: Summary, settings: ConsolidationSettings, issued_on: date) -> DocumentSpec:
    """The document spec of the consolidated report."""
    title = summary.period.title
    return DocumentSpec(
        issuer=Issuer(settings.issuer_parent, settings.issuer_name, settings.number_suffix),
        place=settings.document_place,
        issued_on=issued_on,
        kind_title="Báo cáo",
        subject=f"Kết quả thực hiện công tác dân vận chính quyền {title}",
        signature=Signature(settings.signer_authority, settings.signer_title, settings.signer_name),
        body=_body(summary, settings),
        recipients=settings.recipients,
        archive=settings.archive,
    )


def _issuer_prose(settings: ConsolidationSettings) -> str:
    name = settings.issuer_name.strip()
    return f"{settings.issuer_parent.strip()} {name[:1].lower()}{name[1:]}"


def _body(summary: Summary, settings: ConsolidationSettings) -> list[Block]:
    period = summary.period
    issuer = _issuer_prose(settings)
    blocks: list[Block] = [
        Paragraph(
            f"Thực hiện {settings.plan_reference}; trên cơ sở báo cáo của các phòng, ban, "
            f"đơn vị và Ủy ban nhân dân các phường, xã, {issuer} báo cáo kết quả thực hiện "
            f"công tác dân vận chính quyền {period.title} như sau:"
        )
    ]
    if period.window_start and period.window_end:
        blocks.append(
            Paragraph(
                f"(Số liệu tính từ ngày {vn_date(period.window_start)} "
                f"đến ngày {vn_date(period.window_end)})",
                italic=True,
            )
        )
    numerals = iter(ROMAN)
    blocks.append(Heading(f"{next(numerals)}. KẾT QUẢ THỰC HIỆN", 1))
    for index, section in enumerate(summary.sections, start=1):
        blocks.append(Heading(f"{index}. {section.title}", 2))
        if section.indicators:
            blocks.append(_figures_table(section.indicators, summary))
        blocks.extend(_unit_texts(section.narratives, "Chưa có đơn vị báo cáo nội dung này."))
    results_fields = summary.text_fields if not summary.sections else ()
    for field in results_fields:
        blocks.append(Heading(field.label, 2))
        blocks.extend(_unit_texts(field.entries, "Chưa có đơn vị báo cáo nội dung này."))
    blocks.append(Heading(f"{next(numerals)}. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ", 1))
    blocks.extend(_completeness(summary))
    for field in summary.text_fields if summary.sections else ():
        blocks.append(Heading(f"{next(numerals)}. {field.label.upper()}", 1))
        blocks.extend(_unit_texts(field.entries, "Các đơn vị không nêu nội dung này."))
    blocks.append(Heading(f"{next(numerals)}. KHÓ KHĂN, VƯỚNG MẮC VÀ VIỆC HƯỚNG DẪN, GIẢI ĐÁP", 1))
    blocks.extend(_difficulties(summary))
    blocks.append(
        Paragraph(
            f"Trên đây là báo cáo kết quả thực hiện công tác dân vận chính quyền "
            f"{period.title} của {issuer}./."
        )
    )
    return blocks


def figure_text(indicator: IndicatorSummary) -> str:
    """The overall figure as the report prints it."""
    fig = indicator.overall
    if fig.total is None:
        return NOT_REPORTED
    if indicator.type == "yes_no":
        return f"{fig.yes}/{fig.reported} đơn vị có"
    return _number(fig.total)


def _number(value: int | Decimal) -> str:
    return vn_number(value)


def _change_text(indicator: IndicatorSummary) -> str:
    change = indicator.change
    if change is None:
        return "-"
    if change == 0:
        return "0"
    sign = "+" if change > 0 else "-"
    return sign + _number(-change if change < 0 else change)


def _figures_table(indicators: tuple[IndicatorSummary, ...], summary: Summary) -> Table:
    compared = summary.earlier is not None
    columns = ["TT", "Chỉ tiêu", "Kết quả", "Số đơn vị báo cáo"]
    if compared:
        columns += ["Cùng kỳ năm trước", "Tăng (+), giảm (-)"]
    rows = []
    for number, ind in enumerate(indicators, start=1):
        row: list[str | int] = [
            number,
            ind.label,
            figure_text(ind),
            f"{ind.overall.reported}/{ind.applicable}",
        ]
        if compared:
            previous = ind.previous
            row.append(
                NOT_REPORTED
                if previous is None or previous.total is None
                else (
                    f"{previous.yes}/{previous.reported}"
                    if ind.type == "yes_no"
                    else _number(previous.total)
                )
            )
            row.append(_change_text(ind))
        rows.append(row)
    return Table(
        columns=columns, rows=rows, widths_mm=_COMPARED_WIDTHS if compared else _TABLE_WIDTHS
    )


def _unit_texts(entries: tuple[UnitText, ...], empty: str) -> list[Block]:
    if not entries:
        return [Paragraph(empty, italic=True)]
    return [Bullet(f"{e.unit_name}: {e.text}") for e in entries]


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


def _difficulties(summary: Summary) -> list[Block]:
    if not summary.difficulties:
        return [Paragraph("Các đơn vị không nêu khó khăn, vướng mắc.", italic=True)]
    blocks: list[Block] = []
    for d in summary.difficulties:
        answer = f" Trả lời: {d.answer}" if d.answer else " (Chưa trả lời.)"
        blocks.append(Bullet(f"{d.unit_name}: {d.text}{answer}"))
    return blocks
