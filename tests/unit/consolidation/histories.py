"""Random but reproducible event histories for the running counters (tests and benchmark).

Events are built directly from the contracts with small content: the counters depend on
versions, states and timeliness, not on the figures.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.clock import local_midnight
from shared.contracts.intake import (
    Difficulty,
    DifficultyAnswered,
    DifficultyRaised,
    ReportReview,
    ReportReviewed,
    ReportSubmitted,
    ReportVersion,
    ReportWithdrawal,
    ReportWithdrawn,
)
from shared.contracts.registry import ExpectedUnit, PeriodChanged, PeriodState

PRODUCER = "test"
KINDS = ("ward", "commune", "department", "centre", "agency")
START = datetime(2023, 6, 1, tzinfo=UTC)
CONTENT: dict[str, Any] = {"sections": {"1": {"narrative": "Không phát sinh", "indicators": {}}}}


def expected_unit(code: str, order: int, kind: str = "ward") -> ExpectedUnit:
    """An expected unit with a plain name."""
    return ExpectedUnit(code=code, name=f"Đơn vị {code}", kind=kind, display_order=order)


def many_units(count: int, prefix: str = "U") -> tuple[ExpectedUnit, ...]:
    """`count` units of mixed kinds, in registry order by their number."""
    return tuple(expected_unit(f"{prefix}{i:05d}", i, KINDS[i % len(KINDS)]) for i in range(count))


def period_changed(
    period_id: str, units: tuple[ExpectedUnit, ...], *, version: int = 1
) -> PeriodChanged:
    """A six-month period of 2023 expecting `units`."""
    return PeriodChanged.new(
        PeriodState(
            period_id=period_id,
            kind="six_month",
            year=2023,
            title=f"Kỳ {period_id}",
            form_id="dvcq-dinh-ky",
            form_version="2023.1",
            window_start=date(2022, 12, 15),
            window_end=date(2023, 6, 14),
            due_at=local_midnight(date(2023, 6, 10)),
            status="open",
            expected_units=units,
            version=version,
        ),
        producer=PRODUCER,
    )


def report_version(
    period_id: str,
    unit_code: str,
    version: int,
    *,
    report_id: str | None = None,
    on_time: bool = True,
    at: datetime | None = None,
    status: str = "submitted",
) -> ReportSubmitted:
    """A ReportSubmitted with small content."""
    when = at or START + timedelta(minutes=version)
    return ReportSubmitted.new(
        ReportVersion(
            report_id=report_id or f"r-{period_id}-{unit_code}",
            period_id=period_id,
            unit_code=unit_code,
            version=version,
            status=status,  # type: ignore[arg-type]
            form_id="dvcq-dinh-ky",
            form_version="2023.1",
            first_submitted_at=START,
            submitted_at=when,
            on_time=on_time,
            content=CONTENT,
            content_sha256=f"{version:064d}",
        ),
        producer=PRODUCER,
    )


def review(
    period_id: str,
    unit_code: str,
    version: int,
    decision: str,
    *,
    report_id: str | None = None,
    at: datetime | None = None,
) -> ReportReviewed:
    """Phòng Nội vụ's decision on a version."""
    return ReportReviewed.new(
        ReportReview(
            report_id=report_id or f"r-{period_id}-{unit_code}",
            period_id=period_id,
            unit_code=unit_code,
            version=version,
            decision=decision,  # type: ignore[arg-type]
            reason="Bổ sung số liệu." if decision == "returned" else "",
            reviewed_by="pnv",
            reviewed_at=at or START + timedelta(hours=version),
        ),
        producer=PRODUCER,
    )


def withdrawal(
    period_id: str,
    unit_code: str,
    version: int,
    *,
    report_id: str | None = None,
    at: datetime | None = None,
) -> ReportWithdrawn:
    """The unit withdrew its report at a version."""
    return ReportWithdrawn.new(
        ReportWithdrawal(
            report_id=report_id or f"r-{period_id}-{unit_code}",
            period_id=period_id,
            unit_code=unit_code,
            version=version,
            withdrawn_at=at or START + timedelta(days=1, minutes=version),
        ),
        producer=PRODUCER,
    )


def raised(
    period_id: str, unit_code: str, difficulty_id: str, *, answer: str = ""
) -> DifficultyRaised | DifficultyAnswered:
    """A difficulty, answered when `answer` is given."""
    payload = Difficulty(
        difficulty_id=difficulty_id,
        report_id=f"r-{period_id}-{unit_code}",
        period_id=period_id,
        unit_code=unit_code,
        text=f"Vướng mắc {difficulty_id}.",
        raised_at=START,
        answer=answer,
        answered_by="pnv" if answer else "",
        answered_at=START + timedelta(days=2) if answer else None,
    )
    if answer:
        return DifficultyAnswered.new(payload, producer=PRODUCER)
    return DifficultyRaised.new(payload, producer=PRODUCER)


def random_history(
    rng: random.Random, period_id: str, *, units: int = 12, outsiders: int = 2
) -> list[Any]:
    """Everything that can happen to a period, in a natural order (shuffle it yourself).

    Three period versions with different expected sets (some units join, some leave, ties
    in display order), units with one or two reports, amendments, reviews of any version,
    withdrawals and revivals, units outside every expected set, and difficulties.
    """
    pool = [
        expected_unit(f"{period_id}-{i:02d}", rng.randint(0, units // 2), rng.choice(KINDS))
        for i in range(units)
    ]
    events: list[Any] = []
    for version in (1, 2, 3):
        chosen = tuple(u for u in pool if rng.random() < 0.75)
        events.append(period_changed(period_id, chosen, version=version))
    codes = [u.code for u in pool] + [f"{period_id}-X{i}" for i in range(outsiders)]
    for code in codes:
        for n in range(1 if rng.random() < 0.8 else 2):
            report_id = f"r-{period_id}-{code}-{n}"
            base = START + timedelta(hours=rng.randint(0, 200))
            versions = rng.randint(1, 3)
            for v in range(1, versions + 1):
                events.append(
                    report_version(
                        period_id,
                        code,
                        v,
                        report_id=report_id,
                        on_time=rng.random() < 0.7,
                        at=base + timedelta(hours=v),
                        status=rng.choice(("submitted", "submitted", "submitted", "returned")),
                    )
                )
                if rng.random() < 0.5:
                    decision = rng.choice(("accepted", "returned"))
                    at = base + timedelta(hours=v, minutes=30)
                    events.append(review(period_id, code, v, decision, report_id=report_id, at=at))
            if rng.random() < 0.3:
                v = rng.randint(1, versions + 1)  # sometimes withdraws a version never sent
                at = base + timedelta(hours=v, minutes=45)
                events.append(withdrawal(period_id, code, v, report_id=report_id, at=at))
        if rng.random() < 0.2:
            events.append(raised(period_id, code, f"d-{code}"))
            events.append(raised(period_id, code, f"d-{code}", answer="Đã hướng dẫn."))
    return events


def shuffled_with_duplicates(rng: random.Random, events: list[Any]) -> list[Any]:
    """The events in a random order, a third of them delivered twice."""
    replay = events + [rng.choice(events) for _ in range(len(events) // 3)]
    rng.shuffle(replay)
    return replay
