"""Deadline wording and Vietnamese number/date formatting."""

from __future__ import annotations

from datetime import UTC, datetime

from services.portal.wording import describe_deadline, percent, vn_date, vn_datetime, vn_number
from shared.clock import VN_TZ

# "Trước ngày 10/6/2023": the instant 10/06/2023 00:00 in Hồng Lĩnh.
DUE = datetime(2023, 6, 10, tzinfo=VN_TZ)


def local(day: int, month: int = 6, hour: int = 10) -> datetime:
    return datetime(2023, month, day, hour, tzinfo=VN_TZ)


def test_days_left_count_to_the_last_day_on_time() -> None:
    deadline = describe_deadline(DUE, local(5))
    assert deadline.due_text == "trước ngày 10/06/2023"
    assert deadline.last_day_text == "09/06/2023"
    assert deadline.countdown == "còn 4 ngày"
    assert deadline.tone == "soon"


def test_far_deadlines_are_not_pressing() -> None:
    deadline = describe_deadline(DUE, local(1, month=5))
    assert deadline.countdown == "còn 39 ngày"
    assert deadline.tone == "ok"


def test_the_last_day_says_so() -> None:
    deadline = describe_deadline(DUE, local(9, hour=23))
    assert deadline.countdown == "hôm nay là ngày cuối"
    assert deadline.tone == "today"


def test_the_deadline_day_itself_is_already_one_day_late() -> None:
    assert describe_deadline(DUE, local(10, hour=0)).countdown == "quá hạn 1 ngày"
    assert describe_deadline(DUE, local(13)).countdown == "quá hạn 4 ngày"
    assert describe_deadline(DUE, local(13)).tone == "overdue"


def test_the_local_calendar_decides_not_utc() -> None:
    # 09/06 23:30 local is still 09/06 16:30 UTC; 10/06 06:30 local is 09/06 23:30 UTC.
    assert describe_deadline(DUE, datetime(2023, 6, 9, 16, 30, tzinfo=UTC)).days_left == 0
    late = describe_deadline(DUE, datetime(2023, 6, 9, 23, 30, tzinfo=UTC))
    assert late.countdown == "quá hạn 1 ngày"


def test_a_deadline_with_a_time_of_day_shows_the_time() -> None:
    due = datetime(2023, 6, 10, 17, 0, tzinfo=VN_TZ)
    deadline = describe_deadline(due, local(10, hour=9))
    assert deadline.due_text == "trước 17:00 ngày 10/06/2023"
    assert deadline.countdown == "hôm nay là ngày cuối"


def test_a_closed_period_says_closed() -> None:
    deadline = describe_deadline(DUE, local(20), closed=True)
    assert deadline.countdown == "đã khóa sổ"
    assert deadline.tone == "closed"


def test_dates_and_times_are_local_and_dd_mm_yyyy() -> None:
    assert vn_date("2023-06-09T17:00:00+00:00") == "10/06/2023"
    assert vn_date("2022-12-15") == "15/12/2022"
    assert vn_datetime("2023-06-05T03:00:00Z") == "10:00 05/06/2023"
    assert vn_date(None) == "" and vn_datetime("không phải ngày") == ""


def test_numbers_use_the_vietnamese_separators_and_absent_is_not_zero() -> None:
    assert vn_number(1250) == "1.250"
    assert vn_number("12.5") == "12,5"
    assert vn_number(0) == "0"
    assert vn_number(None) == "chưa báo cáo"
    assert percent(0.8571) == "85,7%"
    assert percent(1) == "100%"
    assert percent(None) == ""
