"""Contract events with known content, for consolidation tests (unit and integration)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.clock import local_midnight
from shared.contracts.intake import (
    Difficulty,
    DifficultyAnswered,
    DifficultyRaised,
    ReportIssue,
    ReportReview,
    ReportReviewed,
    ReportSubmitted,
    ReportVersion,
    ReportWithdrawal,
    ReportWithdrawn,
)
from shared.contracts.registry import ExpectedUnit, PeriodChanged, PeriodState
from shared.forms import content_sha256, load_form, validate_periodic

FORM = ("dvcq-dinh-ky", "2023.1")

# Registry order is display_order, deliberately not the order of this tuple.
UNITS: tuple[ExpectedUnit, ...] = (
    ExpectedUnit(
        code="PNV", name="Phòng Nội vụ", kind="department", tags=("consolidator",), display_order=20
    ),
    ExpectedUnit(code="18118", name="UBND phường Nam Hồng", kind="ward", display_order=2),
    ExpectedUnit(code="18115", name="UBND phường Bắc Hồng", kind="ward", display_order=1),
    ExpectedUnit(code="18130", name="UBND xã Thuận Lộc", kind="commune", display_order=6),
    ExpectedUnit(
        code="TTVHTT",
        name="Trung tâm Văn hóa - Truyền thông",
        kind="centre",
        tags=("communication",),
        display_order=30,
    ),
)
BY_CODE = {u.code: u for u in UNITS}

DUE_2023_H1 = local_midnight(date(2023, 6, 10))
BEFORE_DUE = DUE_2023_H1 - timedelta(days=5)
AFTER_DUE = DUE_2023_H1 + timedelta(days=2)
PRODUCER = "test"


def period_event(
    period_id: str = "2023-H1",
    *,
    version: int = 1,
    units: tuple[ExpectedUnit, ...] = UNITS,
    status: str = "open",
    form_version: str = FORM[1],
) -> PeriodChanged:
    """A six-month period with the given expected units, on a version of the periodic form."""
    year = int(period_id[:4])
    return PeriodChanged.new(
        PeriodState(
            period_id=period_id,
            kind="six_month",
            year=year,
            title=f"6 tháng đầu năm {year}",
            form_id=FORM[0],
            form_version=form_version,
            window_start=date(year - 1, 12, 15),
            window_end=date(year, 6, 14),
            due_at=local_midnight(date(year, 6, 10)),
            status=status,  # type: ignore[arg-type]
            expected_units=units,
            version=version,
        ),
        producer=PRODUCER,
    )


def body(
    unit_code: str,
    figures: Mapping[str, Any] | None = None,
    *,
    narrative: str = "Không phát sinh",
    narratives: Mapping[str, str] | None = None,
    ton_tai: str = "Còn hạn chế về nhân lực.",
    phuong_huong: str = "Tiếp tục triển khai kế hoạch.",
    de_xuat: str | None = None,
    vuong_mac: tuple[str, ...] = (),
    form_version: str = FORM[1],
) -> dict[str, Any]:
    """A periodic report body: every applicable section filled, the given figures set."""
    unit = BY_CODE[unit_code]
    form = load_form(FORM[0], form_version)
    sections: dict[str, Any] = {}
    for section in form.sections:
        if not section.applies_to.includes(unit.kind, set(unit.tags)):
            continue
        indicators = {
            ind.code: figures[ind.code]
            for ind in section.indicators
            if figures and ind.code in figures
        }
        text = (narratives or {}).get(section.key, narrative)
        sections[section.key] = {"narrative": text, "indicators": indicators}
        if section.leader_check is not None:  # plan II.5 from 2023.2 on: confirmed
            sections[section.key][section.leader_check.code] = {"confirmed": True}
    out: dict[str, Any] = {
        "sections": sections,
        "ton_tai_han_che": ton_tai,
        "phuong_huong": phuong_huong,
        "vuong_mac": list(vuong_mac),
    }
    if de_xuat:
        out["de_xuat_kien_nghi"] = de_xuat
    return out


def canonical(
    unit_code: str, raw: Mapping[str, Any], form_version: str = FORM[1]
) -> tuple[dict[str, Any], list[ReportIssue]]:
    """The canonical content intake would store, and its warnings."""
    unit = BY_CODE[unit_code]
    form = load_form(FORM[0], form_version)
    result = validate_periodic(form, unit.kind, set(unit.tags), raw)
    assert not result.errors, result.errors
    warnings = [
        ReportIssue(path=w.path, code=str(w.code), field=w.field, label=w.label, message=w.message)
        for w in result.warnings
    ]
    return result.content, warnings


def submitted(
    unit_code: str,
    figures: Mapping[str, Any] | None = None,
    *,
    version: int = 1,
    period_id: str = "2023-H1",
    report_id: str | None = None,
    on_time: bool = True,
    submitted_at: datetime | None = None,
    first_submitted_at: datetime | None = None,
    status: str = "submitted",
    form_version: str = FORM[1],
    **body_fields: Any,
) -> ReportSubmitted:
    """A ReportSubmitted carrying the canonical content of a body with these figures,
    written on a version of the periodic form (2023.1 unless told)."""
    raw = body(unit_code, figures, form_version=form_version, **body_fields)
    content, warnings = canonical(unit_code, raw, form_version)
    at = submitted_at or (BEFORE_DUE if on_time else AFTER_DUE) + timedelta(minutes=version)
    return ReportSubmitted.new(
        ReportVersion(
            report_id=report_id or f"r-{period_id}-{unit_code}",
            period_id=period_id,
            unit_code=unit_code,
            version=version,
            status=status,  # type: ignore[arg-type]
            form_id=FORM[0],
            form_version=form_version,
            first_submitted_at=first_submitted_at or at,
            submitted_at=at,
            on_time=on_time,
            content=content,
            content_sha256=content_sha256(content),
            warnings=tuple(warnings),
        ),
        producer=PRODUCER,
    )


def withdrawn(
    unit_code: str, *, version: int = 1, period_id: str = "2023-H1", report_id: str | None = None
) -> ReportWithdrawn:
    """The unit withdrew its report at a version."""
    return ReportWithdrawn.new(
        ReportWithdrawal(
            report_id=report_id or f"r-{period_id}-{unit_code}",
            period_id=period_id,
            unit_code=unit_code,
            version=version,
            withdrawn_at=AFTER_DUE + timedelta(days=1, minutes=version),
        ),
        producer=PRODUCER,
    )


def reviewed(
    unit_code: str,
    decision: str,
    *,
    version: int = 1,
    period_id: str = "2023-H1",
    reason: str = "",
) -> ReportReviewed:
    """Phòng Nội vụ's decision on a version."""
    return ReportReviewed.new(
        ReportReview(
            report_id=f"r-{period_id}-{unit_code}",
            period_id=period_id,
            unit_code=unit_code,
            version=version,
            decision=decision,  # type: ignore[arg-type]
            reason=reason,
            reviewed_by="pnv",
            reviewed_at=AFTER_DUE + timedelta(hours=version),
        ),
        producer=PRODUCER,
    )


def difficulty(
    difficulty_id: str,
    unit_code: str,
    text: str,
    *,
    answer: str = "",
    period_id: str = "2023-H1",
    report_id: str | None = "",
) -> DifficultyRaised | DifficultyAnswered:
    """A difficulty raised (no answer) or answered."""
    payload = Difficulty(
        difficulty_id=difficulty_id,
        report_id=f"r-{period_id}-{unit_code}" if report_id == "" else report_id,
        period_id=period_id,
        unit_code=unit_code,
        text=text,
        raised_at=BEFORE_DUE,
        answer=answer,
        answered_by="pnv" if answer else "",
        answered_at=AFTER_DUE if answer else None,
    )
    if answer:
        return DifficultyAnswered.new(payload, producer=PRODUCER)
    return DifficultyRaised.new(payload, producer=PRODUCER)


# Three units with known figures: two wards on time, a department late.
FIGURES: dict[str, dict[str, Any]] = {
    "18115": {
        "van_ban_ban_hanh": 3,
        "co_lanh_dao_phu_trach": True,
        "nhan_dan_dong_gop": 12.5,
        "ho_so_tthc_tiep_nhan": 100,
        "sai_pham_phat_hien": 1,
        "sai_pham_xu_ly": 2,
    },
    "18118": {
        "van_ban_ban_hanh": 5,
        "hoi_nghi_quan_triet": 0,
        "co_lanh_dao_phu_trach": True,
        "nhan_dan_dong_gop": 0.3,
    },
    "PNV": {"van_ban_ban_hanh": 2, "co_lanh_dao_phu_trach": False},
}


def three_reports() -> list[Any]:
    """The period and the three known reports (PNV late)."""
    return [
        period_event(),
        submitted("18115", FIGURES["18115"], narrative="Bắc Hồng đã ban hành 3 văn bản."),
        submitted("18118", FIGURES["18118"], narrative="Nam Hồng tổ chức hội nghị."),
        submitted("PNV", FIGURES["PNV"], on_time=False, vuong_mac=("Thiếu biên chế.",)),
    ]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
