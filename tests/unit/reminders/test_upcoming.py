"""The planned schedule (`upcoming_reminders`) agrees with what the scheduler's rule then sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from services.reminders.domain import (
    ReminderPolicy,
    ReturnedForRevision,
    UnitState,
    dedupe_key,
    upcoming_reminders,
)

from .clock import WEEKDAYS_ONLY, h1_2023, vn, walk

POLICY = ReminderPolicy(calendar=WEEKDAYS_ONLY)
UNIT = "26500"
NEVER = UnitState(unit_code=UNIT, reported=False)


def planned(
    now: datetime, until: datetime, state: UnitState = NEVER, sent: frozenset[str] = frozenset()
) -> list[tuple[datetime, str]]:
    return [
        (u.at, u.reminder.rule_id)
        for u in upcoming_reminders(POLICY, h1_2023(), state, now, until, sent)
    ]


def walked(
    now: datetime, until: datetime, state: UnitState = NEVER, sent: frozenset[str] = frozenset()
) -> list[tuple[datetime, str]]:
    """What `due_reminders` hands the scheduler, pass by pass, hour by hour."""
    keys = set(sent)
    return [
        (at, p.rule_id)
        for at, p in walk(POLICY, lambda _: h1_2023(), lambda _: state, now, until, sent_keys=keys)
    ]


def test_the_plan_lists_the_next_reminders_in_sending_order() -> None:
    now, until = vn(2023, 6, 1, 10), vn(2023, 6, 16, 10)
    opened = frozenset({dedupe_key("2023-H1", UNIT, "opened")})

    assert planned(now, until, sent=opened) == [
        (vn(2023, 6, 2, 8), "before_7d"),
        (vn(2023, 6, 6, 8), "before_3d"),
        (vn(2023, 6, 8, 8), "before_1d"),
        (vn(2023, 6, 9, 8), "due_day"),
        (vn(2023, 6, 13, 8), "overdue_1"),
        (vn(2023, 6, 13, 8), "escalation"),
        (vn(2023, 6, 15, 8), "overdue_2"),
    ]
    assert planned(now, until, sent=opened) == walked(now, until, sent=opened)


def test_a_reminder_due_and_not_yet_sent_is_planned_for_the_next_pass() -> None:
    # The scheduler was down since before 02/06: before_7d is still owed; opened was sent.
    opened = frozenset({dedupe_key("2023-H1", UNIT, "opened")})
    now, until = vn(2023, 6, 5, 9), vn(2023, 6, 7, 9)

    assert planned(now, until, sent=opened) == [
        (vn(2023, 6, 5, 9), "before_7d"),
        (vn(2023, 6, 6, 8), "before_3d"),
    ]
    assert planned(now, until, sent=opened) == walked(now, until, sent=opened)
    # In quiet hours the owed reminder waits for their end.
    assert planned(vn(2023, 6, 5, 22), until, sent=opened)[0] == (vn(2023, 6, 6, 7), "before_7d")


def test_what_was_sent_and_a_unit_that_reported_are_left_out() -> None:
    everything = planned(vn(2023, 5, 1, 9), vn(2023, 6, 30))
    sent = frozenset(dedupe_key("2023-H1", UNIT, rule) for _, rule in everything[:3])

    assert planned(vn(2023, 5, 1, 9), vn(2023, 6, 30), sent=sent) == everything[3:]
    assert planned(vn(2023, 5, 1, 9), vn(2023, 6, 30), UnitState(UNIT, reported=True)) == []
    assert planned(vn(2023, 5, 1, 9), vn(2023, 6, 30)) == walked(vn(2023, 5, 1, 9), vn(2023, 6, 30))


def test_a_report_returned_in_the_evening_plans_its_reminder_for_the_morning() -> None:
    returned = UnitState(
        UNIT,
        reported=False,
        returned=ReturnedForRevision("e1", "Thiếu số liệu", vn(2023, 6, 12, 21, 30)),
    )
    now, until = vn(2023, 6, 12, 22), vn(2023, 6, 20, 9)
    sent = frozenset(dedupe_key("2023-H1", UNIT, r) for r in ("opened", "before_7d", "due_day"))

    plan = planned(now, until, returned, sent)

    assert plan == [
        (vn(2023, 6, 13, 7), "returned:e1"),
        (vn(2023, 6, 13, 8), "overdue_1"),
        (vn(2023, 6, 15, 8), "overdue_2"),
        (vn(2023, 6, 19, 8), "overdue_3"),
        # Four full days after the return (13/06) is Saturday 17/06: the next working day.
        (vn(2023, 6, 19, 8), "escalation"),
    ]
    assert plan == walked(now, until, returned, sent)


def test_on_vietnams_calendar_the_plan_skips_the_days_off_like_the_scheduler() -> None:
    # "trước ngày 25/11/2026": Tuesday 24/11 is Ngày Văn hóa Việt Nam, a day off from 2026.
    policy = ReminderPolicy()
    annual = replace(
        h1_2023(),
        period_id="2026-Y",
        due_at=vn(2026, 11, 25),
        opened_at=vn(2026, 11, 2, 9),
    )
    now, until = vn(2026, 11, 2, 9), vn(2026, 12, 2, 9)

    plan = [
        (u.at, u.reminder.rule_id)
        for u in upcoming_reminders(policy, annual, NEVER, now, until, frozenset())
    ]
    sent = walk(policy, lambda _: annual, lambda _: NEVER, now, until)

    assert plan == [(at, p.rule_id) for at, p in sent]
    assert all(policy.is_working_day(at.date()) for at, _ in plan)
    assert date(2026, 11, 24) not in {at.date() for at, _ in plan}
    assert (vn(2026, 11, 23, 8), "due_day") in plan  # the last working day before the deadline
