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
