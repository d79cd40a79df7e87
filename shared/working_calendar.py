"""Vietnam's working calendar: which local days are working days, and counts in working days.

A working day is Monday to Friday, except the public holidays of the `holidays` package
(country VN: Tết Dương lịch, Tết Nguyên Đán with its days off, Giỗ Tổ Hùng Vương, 30/4,
1/5, Quốc khánh, Ngày Văn hóa Việt Nam 24/11 from 2026, and the days the Government moves,
"nghỉ bù" and swapped days), except the extra days off a deployment configures; and a
Saturday or Sunday is a working day when it is a make-up working day ("ngày làm bù"),
from the package's swaps or from the configuration (a configured day off or make-up day
wins over the package). Every count in working days in the
system (reminders' schedule and sending days, the urging letter's reply date, "quá hạn N
ngày làm việc") goes through this one module. Pure: no clock, no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

import holidays

DEFAULT_COUNTRY: Final = "VN"
# No working day for a whole year means the configuration is wrong, not the calendar.
_MAX_SKIPPED_DAYS: Final = 366
_WEEKDAY_NAMES: Final = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


class CalendarError(ValueError):
    """The calendar's configuration contradicts itself or names an unknown country."""


@functools.lru_cache(maxsize=64)
def _public(country: str, year: int) -> tuple[dict[date, str], frozenset[date]]:
    """The country's public holidays of a year (with their Vietnamese names) and the
    weekend days the Government made working days in exchange."""
    found = holidays.country_holidays(country, years=year, language="vi")
    return dict(found.items()), frozenset(d for d in found.weekend_workdays if d.year == year)


@functools.lru_cache(maxsize=8)
def supported_country(country: str) -> bool:
    """Whether the `holidays` package knows the country's public holidays."""
    return country in holidays.list_supported_countries()


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working days of one country, with a deployment's extra days off and make-up days.

    `country` None leaves only Saturdays, Sundays and the configured days off.
    """

    days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)
    country: str | None = DEFAULT_COUNTRY

    def __post_init__(self) -> None:
        both = sorted(self.days_off & self.make_up_days)
        if both:
            days = ", ".join(d.strftime("%d/%m/%Y") for d in both)
            raise CalendarError(
                f"Ngày {days} vừa là ngày nghỉ vừa là ngày làm bù; "
                "hãy bỏ ở một trong hai danh sách."
            )
        if self.country is not None and not supported_country(self.country):
            raise CalendarError(f"Không có lịch nghỉ lễ của quốc gia «{self.country}».")

    def public_holiday(self, day: date) -> str | None:
        """The name of the public holiday on this day, if it is one."""
        if self.country is None:
            return None
        return _public(self.country, day.year)[0].get(day)

    def is_make_up_day(self, day: date) -> bool:
        """A Saturday or Sunday worked in exchange for a day off ("ngày làm bù")."""
        if day in self.make_up_days:
            return True
        return self.country is not None and day in _public(self.country, day.year)[1]

    def day_off_reason(self, day: date) -> str | None:
        """Why this day is not a working day ("Tết Nguyên Đán", "Chủ nhật", ...), or None."""
        if day in self.days_off:
            return self.public_holiday(day) or "Ngày nghỉ theo cấu hình"
        if day in self.make_up_days:
            return None  # the deployment says offices work that day
        holiday = self.public_holiday(day)
        if holiday is not None:
            return holiday
        if day.weekday() >= 5 and not self.is_make_up_day(day):
            return _WEEKDAY_NAMES[day.weekday()]
        return None

    def is_working_day(self, day: date) -> bool:
        """Whether offices work on this local day."""
        return self.day_off_reason(day) is None

    def next_working_day_on_or_after(self, day: date) -> date:
        """The first working day not before `day`."""
        for offset in range(_MAX_SKIPPED_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarError("Không có ngày làm việc nào trong một năm; hãy kiểm tra lịch nghỉ.")

    def previous_working_day_on_or_before(self, day: date) -> date:
        """The last working day not after `day`."""
        for offset in range(_MAX_SKIPPED_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarError("Không có ngày làm việc nào trong một năm; hãy kiểm tra lịch nghỉ.")

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = day
        for _ in range(n):
            current = self.next_working_day_on_or_after(current + timedelta(days=1))
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start):
        how many working days late a report due on `start` is on `end`."""
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count
