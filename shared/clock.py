"""Time as a dependency, so tests can move it; deadlines live in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    """Something that tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock tests set and move."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The instant the test set."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to an instant."""
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward."""
        self._now += delta


def local_midnight(day: date) -> datetime:
    """00:00 local time on a day, as an aware instant: 'trước ngày 10/6' ends there."""
    return datetime(day.year, day.month, day.day, tzinfo=VN_TZ)


def format_vn_date(value: date | datetime) -> str:
    """dd/mm/yyyy in local time."""
    if isinstance(value, datetime):
        value = value.astimezone(VN_TZ).date()
    return value.strftime("%d/%m/%Y")


def format_vn_datetime(value: datetime) -> str:
    """HH:MM dd/mm/yyyy in local time."""
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def deadline_phrase(due_at: datetime) -> str:
    """How a deadline reads in Vietnamese: 'trước ngày 10/06/2023' when it falls at local
    midnight (the plan's wording), else 'trước 17:00 ngày 16/06/2023'."""
    local = due_at.astimezone(VN_TZ)
    if (local.hour, local.minute) == (0, 0):
        return f"trước ngày {local:%d/%m/%Y}"
    return f"trước {local:%H:%M} ngày {local:%d/%m/%Y}"
