"""Helpers that move time explicitly through the reminder schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.reminders.domain import (
    PeriodStatus,
    PeriodView,
    PlannedReminder,
    ReminderPolicy,
    UnitState,
    due_reminders,
)
from shared.working_calendar import WorkingCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# Saturdays and Sundays only: the schedule's mechanics, apart from Vietnam's public
# holidays (01/05/2023, the day the test period opens, is one); test_calendar.py checks
# the schedule on the real calendar.
WEEKDAYS_ONLY = WorkingCalendar(country=None)


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local Asia/Ho_Chi_Minh instant."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def h1_2023(due_at: datetime | None = None, status: PeriodStatus = PeriodStatus.OPEN) -> PeriodView:
    """The 2023 six-month period: due before 10/06/2023, opened 01/05/2023 09:00."""
    return PeriodView(
        period_id="2023-H1",
        title="Báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2023",
        due_at=due_at or vn(2023, 6, 10),
        status=status,
        data_window_start=date(2022, 12, 15),
        data_window_end=date(2023, 6, 14),
        opened_at=vn(2023, 5, 1, 9),
        content="Kết quả thực hiện 8 nhiệm vụ của Kế hoạch",
    )


Sent = list[tuple[datetime, PlannedReminder]]


def walk(
    policy: ReminderPolicy,
    period_at: Callable[[datetime], PeriodView],
    state_at: Callable[[datetime], UnitState],
    start: datetime,
    end: datetime,
    *,
    sent_keys: set[str] | None = None,
    step: timedelta = timedelta(hours=1),
) -> Sent:
    """Call due_reminders at every step from start to end, recording what would be sent."""
    keys = sent_keys if sent_keys is not None else set()
    sent: Sent = []
    now = start
    while now <= end:
        for planned in due_reminders(policy, period_at(now), state_at(now), now, keys):
            assert planned.dedupe_key not in keys
            keys.add(planned.dedupe_key)
            sent.append((now, planned))
        now += step
    return sent


def summary(sent: Sent) -> list[tuple[str, datetime, str]]:
    """(rule, scheduled time, audience) of each sent reminder, in sending order."""
    return [(p.rule_id, p.scheduled_at, p.audience) for _, p in sent]
