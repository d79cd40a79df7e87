"""Panels the dashboard pages add to their figures: the difficulty threads waiting for Phòng
Nội vụ with their age, and the period's reminder schedule (lịch đôn đốc).

Each panel is fetched on its own: a backend that cannot answer turns into a notice on the
panel, never a failed page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.portal.clients import BackendError, Backends
from shared.contracts.api.intake import DifficultyThread
from shared.contracts.api.registry import PeriodView
from shared.contracts.api.reminders import ScheduledReminder

EXCERPT = 160
SCHEDULE_DAYS = (7, 31, 90)
SCHEDULE_ROWS = 200

RULE_LABELS: dict[str, str] = {
    "opened": "Thông báo mở kỳ báo cáo",
    "before": "Nhắc hạn",
    "due_day": "Nhắc hạn ngày cuối",
    "overdue": "Đôn đốc quá hạn",
    "escalation": "Báo lãnh đạo phụ trách và Phòng Nội vụ (đơn vị quá hạn)",
    "returned": "Báo trả lại để bổ sung",
    "manual": "Đôn đốc ngay",
}


def rule_label(rule: str, rule_id: str) -> str:
    """A planned reminder in words: "Nhắc hạn (trước 3 ngày)", "Đôn đốc quá hạn (lần 2)"."""
    label = RULE_LABELS.get(rule, "Thông báo")
    head, _, tail = rule_id.partition("_")
    if rule == "before" and tail.endswith("d") and tail[:-1].isdigit():
        return f"{label} (trước {tail[:-1]} ngày)"
    if rule == "overdue" and head == "overdue" and tail.isdigit():
        return f"{label} (lần {tail})"
    return label


@dataclass(frozen=True)
class OpenThread:
    """A difficulty thread waiting for Phòng Nội vụ, as the dashboard lists it."""

    thread: DifficultyThread
    unit_name: str
    period_title: str

    @property
    def excerpt(self) -> str:
        """The latest thing the unit wrote, shortened."""
        last = next((m.text for m in reversed(self.thread.messages) if m.side == "unit"), "")
        text = " ".join((last or self.thread.text).split())
        return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"

    @property
    def age(self) -> int:
        """Whole days it has waited (0 the day it was raised)."""
        return self.thread.age_days or 0


@dataclass
class OpenThreads:
    """The waiting threads, oldest first, or why they cannot be shown."""

    rows: list[OpenThread] = field(default_factory=list)
    notice: str | None = None


def _names(periods: Sequence[PeriodView]) -> tuple[dict[str, str], dict[str, str]]:
    titles = {p.period_id: p.title for p in periods}
    names: dict[str, str] = {}
    for period in periods:
        for unit in period.expected_unit_details:
            names.setdefault(unit.code, unit.name)
    return titles, names


async def open_threads(api: Backends, token: str, period_id: str | None = None) -> OpenThreads:
    """The threads waiting for Phòng Nội vụ (intake's `open=true`), oldest first."""
    filters = {"open": "true", **({"period_id": period_id} if period_id else {})}
    threads, periods = await asyncio.gather(
        api.difficulties(token, **filters), api.periods(token), return_exceptions=True
    )
    if isinstance(threads, BaseException):
        if isinstance(threads, BackendError) and threads.status != 401:
            return OpenThreads(notice=f"Chưa xem được vướng mắc đang chờ: {threads.message}")
        raise threads
    titles, names = _names(periods if isinstance(periods, list) else [])
    rows = [
        OpenThread(t, names.get(t.unit_code, t.unit_code), titles.get(t.period_id, t.period_id))
        for t in threads
        if t.open
    ]
    rows.sort(key=lambda r: (-r.age, r.thread.raised_at))
    return OpenThreads(rows)


@dataclass(frozen=True)
class PlannedRow:
    """One planned reminder as the schedule lists it."""

    entry: ScheduledReminder
    label: str


@dataclass
class Schedule:
    """The period's reminder schedule for the next `days` days."""

    days: int
    rows: list[PlannedRow] = field(default_factory=list)
    total: int = 0
    unreachable: int = 0
    notice: str | None = None
    choices: tuple[int, ...] = SCHEDULE_DAYS


def schedule_days(raw: str | None) -> int:
    """The window the page asks for (one of the offered choices; 31 otherwise)."""
    return int(raw) if raw and raw.isdigit() and int(raw) in SCHEDULE_DAYS else 31


async def reminder_schedule(api: Backends, token: str, period_id: str, days: int) -> Schedule:
    """What reminders will send, when, to whom and how (reminders' `/schedule`)."""
    try:
        planned = await api.reminder_schedule(token, period_id, days)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return Schedule(days, notice=f"Chưa xem được lịch đôn đốc: {exc.message}")
    rows = [PlannedRow(e, rule_label(e.rule, e.rule_id)) for e in planned[:SCHEDULE_ROWS]]
    unreachable = len({e.unit_code for e in planned if e.channel == "none"})
    return Schedule(days, rows, total=len(planned), unreachable=unreachable)
