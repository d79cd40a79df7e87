from datetime import UTC, date, datetime, time

import pytest

from services.reminders.domain import ReminderPolicy, deadline_day, defer_to_sending_window
from shared.working_calendar import WorkingCalendar

from .clock import WEEKDAYS_ONLY, vn

POLICY = ReminderPolicy(calendar=WEEKDAYS_ONLY)


def test_deadline_before_the_10th_means_the_9th_is_the_last_day() -> None:
    assert deadline_day(POLICY, vn(2023, 6, 10)) == date(2023, 6, 9)


def test_deadline_with_a_time_of_day_keeps_that_day_as_the_last_day() -> None:
    assert deadline_day(POLICY, vn(2023, 6, 10, 17)) == date(2023, 6, 10)


def test_deadline_given_in_utc_is_read_in_local_time() -> None:
    # 09/06 17:00 UTC is 10/06 00:00 in Hà Nội.
    utc_instant = vn(2023, 6, 10).astimezone(UTC)

    assert deadline_day(POLICY, utc_instant) == date(2023, 6, 9)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (vn(2023, 6, 6, 20, 59), vn(2023, 6, 6, 20, 59)),
        (vn(2023, 6, 6, 21, 0), vn(2023, 6, 7, 7, 0)),
        (vn(2023, 6, 6, 23, 30), vn(2023, 6, 7, 7, 0)),
        (vn(2023, 6, 7, 6, 59), vn(2023, 6, 7, 7, 0)),
        (vn(2023, 6, 7, 7, 0), vn(2023, 6, 7, 7, 0)),
        # Friday night and the weekend roll to Monday at the end of quiet hours.
        (vn(2023, 6, 9, 22, 0), vn(2023, 6, 12, 7, 0)),
        (vn(2023, 6, 10, 12, 0), vn(2023, 6, 12, 7, 0)),
        (vn(2023, 6, 11, 23, 0), vn(2023, 6, 12, 7, 0)),
    ],
)
def test_quiet_hours_and_weekends_move_a_send_to_the_end_of_the_quiet_spell(
    instant: datetime, expected: datetime
) -> None:
    assert defer_to_sending_window(POLICY, instant) == expected


def test_weekends_are_allowed_when_not_skipped_but_quiet_hours_still_apply() -> None:
    policy = ReminderPolicy(calendar=WEEKDAYS_ONLY, skip_weekends=False)

    assert defer_to_sending_window(policy, vn(2023, 6, 10, 12)) == vn(2023, 6, 10, 12)
    assert defer_to_sending_window(policy, vn(2023, 6, 10, 22)) == vn(2023, 6, 11, 7)


def test_holiday_is_skipped_like_a_weekend() -> None:
    policy = ReminderPolicy(
        calendar=WorkingCalendar(
            days_off=frozenset({date(2023, 9, 1), date(2023, 9, 4)}), country=None
        )
    )

    assert defer_to_sending_window(policy, vn(2023, 8, 31, 22)) == vn(2023, 9, 5, 7)


def test_quiet_hours_not_crossing_midnight() -> None:
    policy = ReminderPolicy(calendar=WEEKDAYS_ONLY, quiet_start=time(0, 0), quiet_end=time(6, 30))

    assert defer_to_sending_window(policy, vn(2023, 6, 6, 23)) == vn(2023, 6, 6, 23)
    assert defer_to_sending_window(policy, vn(2023, 6, 7, 3)) == vn(2023, 6, 7, 6, 30)
    assert defer_to_sending_window(policy, vn(2023, 6, 10, 3)) == vn(2023, 6, 12, 6, 30)


def test_equal_quiet_start_and_end_disable_quiet_hours() -> None:
    policy = ReminderPolicy(calendar=WEEKDAYS_ONLY, quiet_start=time(0, 0), quiet_end=time(0, 0))

    assert defer_to_sending_window(policy, vn(2023, 6, 7, 3)) == vn(2023, 6, 7, 3)
