"""Deadlines read the way the plan writes them, in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.clock import local_midnight
from shared.formatting import vn_date, vn_deadline


def test_a_midnight_deadline_reads_as_before_that_day():
    assert vn_deadline(local_midnight(date(2023, 6, 10))) == "trước ngày 10/06/2023"


def test_a_deadline_with_a_time_names_the_time_in_local_hours():
    due = datetime(2023, 6, 16, 10, 0, tzinfo=UTC)  # 17:00 in Hà Nội
    assert vn_deadline(due) == "trước 17:00 ngày 16/06/2023"


def test_dates_are_shown_in_local_time():
    late_evening_utc = datetime(2023, 6, 9, 18, 30, tzinfo=UTC)  # 01:30 on 10/06 locally
    assert vn_date(late_evening_utc) == "10/06/2023"
    assert local_midnight(date(2023, 6, 10)).astimezone(UTC) == datetime(2023, 6, 9, 17, tzinfo=UTC)
