"""Vietnam's working calendar: public holidays from `holidays`, days off and make-up days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.working_calendar import CalendarError, WorkingCalendar

VN = WorkingCalendar()

# Tết Đinh Mùi 2027 (mùng 1 = Saturday 06/02/2027): 29 Tết to mùng năm off.
TET_2027 = [date(2027, 2, 4) + timedelta(days=n) for n in range(7)]


def test_tet_days_are_days_off_with_their_names() -> None:
    assert [VN.is_working_day(day) for day in TET_2027] == [False] * 7
    assert VN.day_off_reason(date(2027, 2, 6)) == "Tết Nguyên Đán"
    assert VN.day_off_reason(date(2027, 2, 5)) == "Giao thừa Tết Nguyên Đán"
    assert VN.is_working_day(date(2027, 2, 3)) and VN.is_working_day(date(2027, 2, 11))


def test_the_other_public_holidays_and_their_observed_days() -> None:
    assert VN.day_off_reason(date(2026, 1, 1)) == "Tết Dương lịch"
    assert VN.day_off_reason(date(2026, 4, 27)) == "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"
    assert not VN.is_working_day(date(2026, 4, 30)) and not VN.is_working_day(date(2026, 5, 1))
    assert not VN.is_working_day(date(2026, 9, 2))


def test_ngay_van_hoa_viet_nam_is_a_day_off_from_2026_in_the_pinned_package() -> None:
    # Nghị quyết 80-NQ/TW: 24/11 is Ngày Văn hóa Việt Nam, a paid day off from 2026. The
    # pinned `holidays` (0.109) has it, so nothing needs configuring; should a future pin
    # lose it, this fails and DANVAN_REMINDERS_HOLIDAYS must carry it.
    assert VN.day_off_reason(date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"
    assert VN.day_off_reason(date(2027, 11, 24)) == "Ngày Văn hóa Việt Nam"
    assert VN.is_working_day(date(2025, 11, 24))  # a Monday before the day existed


def test_a_swapped_saturday_is_a_working_day() -> None:
    # 2026: Monday 31/08 off, worked on Saturday 22/08 instead.
    assert VN.is_make_up_day(date(2026, 8, 22)) and VN.is_working_day(date(2026, 8, 22))
    assert not VN.is_working_day(date(2026, 8, 31))
    assert VN.day_off_reason(date(2026, 8, 29)) == "Thứ Bảy"


def test_configured_days_off_and_make_up_days_win_over_the_package() -> None:
    calendar = WorkingCalendar(
        days_off=frozenset({date(2027, 2, 11), date(2027, 2, 12)}),  # Tết extended
        make_up_days=frozenset({date(2027, 2, 20)}),  # worked on a Saturday in exchange
    )
    assert calendar.day_off_reason(date(2027, 2, 11)) == "Ngày nghỉ theo cấu hình"
    assert calendar.day_off_reason(date(2027, 2, 8)) == "Mùng ba Tết Nguyên Đán"
    assert calendar.is_working_day(date(2027, 2, 20))
    assert calendar.next_working_day_on_or_after(date(2027, 2, 4)) == date(2027, 2, 15)


def test_counts_in_working_days_skip_every_day_off() -> None:
    assert VN.nth_working_day_after(date(2027, 2, 3), 1) == date(2027, 2, 11)
    assert VN.nth_working_day_after(date(2027, 2, 3), 3) == date(2027, 2, 15)
    assert VN.previous_working_day_on_or_before(date(2027, 2, 10)) == date(2027, 2, 3)
    # Due on 03/02/2027: on 15/02 it is 12 days but only 3 working days late.
    assert VN.working_days_between(date(2027, 2, 3), date(2027, 2, 15)) == 3
    assert VN.working_days_between(date(2027, 2, 15), date(2027, 2, 3)) == 0
    with pytest.raises(ValueError):
        VN.nth_working_day_after(date(2027, 2, 3), 0)


def test_without_a_country_only_weekends_and_configured_days_are_off() -> None:
    plain = WorkingCalendar(days_off=frozenset({date(2027, 2, 9)}), country=None)
    assert plain.is_working_day(date(2027, 2, 8))
    assert not plain.is_working_day(date(2027, 2, 9))
    assert plain.day_off_reason(date(2027, 2, 7)) == "Chủ nhật"


def test_contradictions_and_unknown_countries_are_refused() -> None:
    with pytest.raises(CalendarError, match="13/02/2027"):
        WorkingCalendar(
            days_off=frozenset({date(2027, 2, 13)}), make_up_days=frozenset({date(2027, 2, 13)})
        )
    with pytest.raises(CalendarError, match="«XX»"):
        WorkingCalendar(country="XX")
