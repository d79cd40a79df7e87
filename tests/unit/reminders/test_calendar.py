"""Reminders on Vietnam's working calendar: never on Tết, never on Ngày Văn hóa Việt Nam."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from services.reminders.domain import (
    PeriodStatus,
    PeriodView,
    ReminderPolicy,
    UnitState,
    reminder_schedule,
)
from services.reminders.domain.plan import MissingUnit
from services.reminders.letter import LetterConfig, urging_letter
from shared.documents import Paragraph
from shared.working_calendar import WorkingCalendar

from .clock import summary, vn, walk

POLICY = ReminderPolicy()  # the default: Vietnam's public holidays
NEVER = UnitState(unit_code="18115", reported=False)
TET_2027 = {date(2027, 2, 4) + timedelta(days=n) for n in range(7)}  # 29 Tết – mùng năm


def period(period_id: str, due_at: datetime, opened_at: datetime) -> PeriodView:
    return PeriodView(
        period_id=period_id,
        title=f"Báo cáo {period_id}",
        due_at=due_at,
        status=PeriodStatus.OPEN,
        data_window_start=date(due_at.year - 1, 12, 15),
        data_window_end=due_at.date(),
        opened_at=opened_at,
    )


def local_days(plan: Sequence[tuple[str, datetime, str]]) -> dict[str, date]:
    return {rule: at.date() for rule, at, _ in plan}


def test_no_reminder_on_ngay_van_hoa_viet_nam_for_the_2026_annual_report() -> None:
    # "trước ngày 25/11/2026": the last on-time day is Tuesday 24/11, a day off from 2026.
    annual = period("2026-Y", vn(2026, 11, 25), vn(2026, 10, 1, 9))
    plan = [
        (r.rule_id, r.at, r.audience) for r in reminder_schedule(POLICY, annual, vn(2026, 12, 31))
    ]
    days = local_days(plan)
    assert date(2026, 11, 24) not in days.values()
    assert days["due_day"] == date(2026, 11, 23)  # the last working day before the deadline
    assert "before_1d" not in days  # 23/11 too, so only the due-day reminder is kept
    assert days["before_3d"] == date(2026, 11, 20)  # Saturday 21/11 moves to Friday
    assert days["overdue_1"] == date(2026, 11, 26)  # 2nd working day after 24/11
    assert all(POLICY.is_working_day(day) for day in days.values())
    # The same without public holidays would have landed on 24/11: the calendar did it.
    weekdays = ReminderPolicy(calendar=WorkingCalendar(country=None))
    plain = reminder_schedule(weekdays, annual, vn(2026, 12, 31))
    assert date(2026, 11, 24) in {r.at.date() for r in plain}


def test_no_reminder_falls_on_the_tet_days_for_a_period_due_mid_february_2027() -> None:
    due = period("2027-DX-01", vn(2027, 2, 17), vn(2027, 1, 20, 9))  # last day Tue 16/02
    sent = walk(POLICY, lambda _: due, lambda _: NEVER, vn(2027, 1, 20, 9), vn(2027, 3, 5, 23))
    days = local_days(summary(sent))
    assert not TET_2027 & set(days.values())
    assert all(POLICY.is_working_day(day) for day in days.values())
    # before_7d would be mùng bốn Tết (09/02): it goes out before Tết instead.
    assert days["before_7d"] == date(2027, 2, 3)
    assert days["before_3d"] == date(2027, 2, 12)  # Saturday 13/02 moves to Friday
    assert days["before_1d"] == date(2027, 2, 15)
    assert days["due_day"] == date(2027, 2, 16)
    assert days["overdue_1"] == date(2027, 2, 18)


def test_a_deadline_inside_tet_is_announced_on_the_last_working_day_before_it() -> None:
    due = period("2027-DX-02", vn(2027, 2, 10), vn(2027, 1, 20, 9))  # last day mùng bốn
    plan = reminder_schedule(POLICY, due, vn(2027, 2, 28))
    days = {r.rule_id: r.at.date() for r in plan}
    assert days["due_day"] == date(2027, 2, 3)
    assert days["overdue_1"] == date(2027, 2, 12)  # 11/02 and 12/02 are the first working days
    assert not TET_2027 & set(days.values())


def test_the_letter_counts_its_reply_days_and_its_delay_in_working_days() -> None:
    due = period("2027-DX-03", vn(2027, 2, 1), vn(2027, 1, 4, 9))  # last day Sun 31/01
    config = LetterConfig(
        authority="Ủy ban nhân dân",
        issuer="Thị xã Hồng Lĩnh",
        number_suffix="UBND-NV",
        place="Hồng Lĩnh",
        head_title="Chủ tịch",
        signer_title="Phó Chủ tịch",
        signer_name="Nguyễn Văn A",
        copies=("Như trên",),
        grace_working_days=3,
        portal_url="https://baocao.honglinh.gov.vn",
    )
    missing = [MissingUnit("18115", "UBND phường Bắc Hồng", "not_submitted", None, False)]

    def letter(today: date) -> tuple[str, str]:
        spec = urging_letter(due, missing, expected=20, today=today, policy=POLICY, config=config)
        status, reply = spec.body[1], spec.body[3]
        assert isinstance(status, Paragraph) and isinstance(reply, Paragraph)
        return status.text, reply.text

    before_tet, reply = letter(date(2027, 2, 3))
    # Three working days after Wednesday 03/02, across Tết: 11, 12 and 15/02.
    assert "trước ngày 15/02/2027" in reply
    after_tet, reply = letter(date(2027, 2, 11))
    assert after_tet.startswith("Đến ngày 11/02/2027, đã quá hạn 11 ngày (4 ngày làm việc)")
    assert "trước ngày 16/02/2027" in reply
    assert before_tet.startswith("Đến ngày 03/02/2027, đã quá hạn 3 ngày (3 ngày làm việc)")
