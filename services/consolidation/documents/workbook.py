"""The period's figures as a workbook: per unit with totals, by indicator, completeness."""

from __future__ import annotations

from decimal import Decimal

from services.consolidation.domain import KIND_LABELS, STATE_LABELS, Summary
from services.consolidation.domain.draft import figure_lines
from shared.documents import Sheet, XlsxCell, build_xlsx
from shared.formatting import vn_date, vn_datetime


def report_xlsx(summary: Summary) -> bytes:
    """The period's figures per unit, totals, completeness and difficulties as a workbook."""
    return build_xlsx(report_sheets(summary))


def report_sheets(summary: Summary) -> list[Sheet]:
    """The workbook's sheets."""
    return [
        _unit_sheet(summary),
        _totals_sheet(summary),
        _completeness_sheet(summary),
        _difficulties_sheet(summary),
        _warnings_sheet(summary),
    ]


def _cell(value: int | Decimal | bool | None) -> XlsxCell:
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, Decimal):
        return float(value)
    return value


def _unit_sheet(summary: Summary) -> Sheet:
    indicators = [i for s in summary.sections for i in s.indicators]
    columns = ["TT", "Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Tình trạng"]
    columns += [f"{i.section}. {i.label}" for i in indicators]
    rows: list[list[XlsxCell]] = []
    for number, unit in enumerate(summary.completeness.units, start=1):
        row: list[XlsxCell] = [
            number,
            unit.code,
            unit.name,
            KIND_LABELS.get(unit.kind, unit.kind),
            STATE_LABELS[unit.state],
        ]
        row += [_cell(i.values.get(unit.code)) for i in indicators]
        rows.append(row)
    totals: list[XlsxCell] = ["", "", "Tổng cộng", "", ""]
    totals += [i.overall.yes if i.type == "yes_no" else _cell(i.overall.total) for i in indicators]
    return Sheet("Chỉ số theo đơn vị", columns, rows, totals_row=totals)


def _totals_sheet(summary: Summary) -> Sheet:
    kinds = list(summary.completeness.by_kind)
    columns = [
        "TT",
        "Mục",
        "Mã chỉ tiêu",
        "Chỉ tiêu",
        "Tổng số",
        "Số đơn vị báo cáo",
        "Số đơn vị phải báo cáo",
        "Tỷ lệ báo cáo (n/m)",
    ]
    columns += [f"{KIND_LABELS.get(k, k)}" for k in kinds]
    compared = summary.earlier is not None
    if compared:
        columns += ["Cùng kỳ năm trước", "Tăng (+), giảm (-)"]
    rows: list[list[XlsxCell]] = []
    # The same figure lines as the report's totals tables and the draft's sentences.
    for number, line in enumerate(figure_lines(summary), start=1):
        ind = line.indicator
        row: list[XlsxCell] = [
            number,
            ind.section,
            ind.code,
            ind.label,
            _cell(ind.overall.total),
            line.reported,
            line.expected,
            line.share,
        ]
        row += [_cell(ind.by_kind[k].total) if k in ind.by_kind else None for k in kinds]
        if compared:
            previous = ind.previous
            row += [
                _cell(previous.total) if previous else None,
                _cell(ind.change),
            ]
        rows.append(row)
    return Sheet("Tổng hợp chỉ tiêu", columns, rows)


def _completeness_sheet(summary: Summary) -> Sheet:
    status = summary.completeness
    columns = [
        "TT",
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại đơn vị",
        "Tình trạng",
        "Thời điểm gửi",
        "Đúng hạn/Quá hạn",
        "Phiên bản",
    ]
    rows: list[list[XlsxCell]] = []
    for number, u in enumerate(status.units, start=1):
        timing = "" if u.on_time is None else ("Đúng hạn" if u.on_time else "Quá hạn")
        rows.append(
            [
                number,
                u.code,
                u.name,
                KIND_LABELS.get(u.kind, u.kind),
                STATE_LABELS[u.state],
                vn_datetime(u.submitted_at) if u.submitted_at else "",
                timing,
                u.version,
            ]
        )
    t = status.tally
    totals: list[XlsxCell] = [
        "",
        "",
        "Tổng cộng",
        f"{t.expected} đơn vị",
        f"Đã gửi {t.submitted}, chưa gửi {t.missing}",
        "",
        f"Đúng hạn {t.on_time}, gửi muộn {t.late}",
        None,
    ]
    return Sheet("Tình hình gửi báo cáo", columns, rows, totals_row=totals)


def _difficulties_sheet(summary: Summary) -> Sheet:
    # The difficulties raised and where they stand; the answers stay in the portal (the
    # internal questions and answers are not part of what is sent upward).
    columns = ["TT", "Mã đơn vị", "Tên đơn vị", "Khó khăn, vướng mắc", "Ngày nêu", "Tình trạng"]
    columns += ["Ngày hướng dẫn, giải đáp"]
    rows: list[list[XlsxCell]] = [
        [
            number,
            d.unit_code,
            d.unit_name,
            d.text,
            vn_date(d.raised_at) if d.raised_at else "",
            "Đã hướng dẫn, giải đáp" if d.answered else "Đang xem xét",
            vn_date(d.answered_at) if d.answered_at else "",
        ]
        for number, d in enumerate(summary.difficulties, start=1)
    ]
    return Sheet("Khó khăn, vướng mắc", columns, rows)


def _warnings_sheet(summary: Summary) -> Sheet:
    columns = ["TT", "Mã đơn vị", "Tên đơn vị", "Tình trạng", "Chỉ tiêu", "Cảnh báo"]
    rows: list[list[XlsxCell]] = [
        [number, w.unit_code, w.unit_name, STATE_LABELS.get(w.state, w.state), w.label, w.message]
        for number, w in enumerate(summary.warnings, start=1)
    ]
    return Sheet("Cảnh báo", columns, rows)
