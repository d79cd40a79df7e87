"""Event builders for reminders unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.contracts.intake import (
    Difficulty,
    DifficultyAnswered,
    ReportReview,
    ReportReviewed,
    ReportSubmitted,
    ReportVersion,
)
from shared.contracts.registry import (
    Contacts,
    ExpectedUnit,
    Leader,
    PeriodChanged,
    PeriodState,
    UnitChanged,
    UnitState,
)

from .clock import vn

OCCURRED = datetime(2026, 1, 1, tzinfo=UTC)


def unit(version: int, email: str = "", code: str = "18115") -> UnitChanged:
    return UnitChanged.new(
        UnitState(
            unit_id=f"{code}@2019-01-01",
            code=code,
            name="UBND phường Bắc Hồng",
            kind="ward",
            valid_from=date(2019, 1, 1),
            leader=Leader(full_name="B", email=email) if email else None,
            contacts=Contacts(),
            version=version,
        ),
        producer="registry",
        occurred_at=OCCURRED,
    )


def period(version: int, status: str = "open", due: datetime | None = None) -> PeriodChanged:
    return PeriodChanged.new(
        PeriodState(
            period_id="2023-H1",
            kind="six_month",
            year=2023,
            title="6 tháng đầu năm 2023",
            form_id="dvcq-dinh-ky",
            form_version="2023.1",
            window_start=date(2022, 12, 15),
            window_end=date(2023, 6, 14),
            due_at=due or vn(2023, 6, 10),
            status=status,  # type: ignore[arg-type]
            expected_units=(ExpectedUnit(code="18115", name="UBND phường Bắc Hồng", kind="ward"),),
            version=version,
        ),
        producer="registry",
        occurred_at=OCCURRED,
    )


def report(version: int, at: datetime, report_id: str = "r1") -> ReportSubmitted:
    return ReportSubmitted.new(
        ReportVersion(
            report_id=report_id,
            period_id="2023-H1",
            unit_code="18115",
            version=version,
            status="submitted",
            form_id="dvcq-dinh-ky",
            form_version="2023.1",
            first_submitted_at=at,
            submitted_at=at,
            on_time=True,
            content={},
            content_sha256="0",
        ),
        producer="intake",
    )


def review(version: int, at: datetime, decision: str = "returned") -> ReportReviewed:
    return ReportReviewed.new(
        ReportReview(
            report_id="r1",
            period_id="2023-H1",
            unit_code="18115",
            version=version,
            decision=decision,  # type: ignore[arg-type]
            reason="Thiếu số liệu",
            reviewed_by="pnv",
            reviewed_at=at,
        ),
        producer="intake",
    )


def answered(answer: str, at: datetime, difficulty_id: str = "d1") -> DifficultyAnswered:
    return DifficultyAnswered.new(
        Difficulty(
            difficulty_id=difficulty_id,
            report_id="r1",
            period_id="2023-H1",
            unit_code="18115",
            text="Chưa rõ cách tính số cuộc đối thoại",
            raised_at=vn(2023, 5, 3, 9),
            answer=answer,
            answered_by="nguyenvana",
            answered_at=at,
        ),
        producer="intake",
    )
