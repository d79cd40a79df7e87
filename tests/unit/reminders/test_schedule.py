from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time

import pytest

from services.reminders.domain import (
    PeriodStatus,
    PeriodView,
    ReminderInputError,
    ReminderPolicy,
    ReminderPolicyError,
    ReturnedForRevision,
    UnitState,
    dedupe_key,
    due_reminders,
    next_wakeup,
    reminder_schedule,
)
from shared.working_calendar import WorkingCalendar

from .clock import WEEKDAYS_ONLY, h1_2023, summary, vn, walk

POLICY = ReminderPolicy(calendar=WEEKDAYS_ONLY)
UNIT = "26500"
NOT_REPORTED = UnitState(unit_code=UNIT, reported=False)

H1_2023_NEVER_REPORTS = [
    ("opened", vn(2023, 5, 1, 9), "unit"),
    ("before_7d", vn(2023, 6, 2, 8), "unit"),  # Fri
    ("before_3d", vn(2023, 6, 6, 8), "unit"),  # Tue
    ("before_1d", vn(2023, 6, 8, 8), "unit"),  # Thu
    ("due_day", vn(2023, 6, 9, 8), "unit"),  # Fri: last day before 10/06 00:00
    ("overdue_1", vn(2023, 6, 13, 8), "unit"),  # 2nd working day after Fri 09/06
    ("escalation", vn(2023, 6, 13, 8), "escalation"),  # overdue 10, 11, 12/06 in full
    ("overdue_2", vn(2023, 6, 15, 8), "unit"),
    ("overdue_3", vn(2023, 6, 19, 8), "unit"),  # Fri 16, Mon 19: weekend not counted
    ("overdue_4", vn(2023, 6, 21, 8), "unit"),
    ("overdue_5", vn(2023, 6, 23, 8), "unit"),
    ("overdue_6", vn(2023, 6, 27, 8), "unit"),
    ("overdue_7", vn(2023, 6, 29, 8), "unit"),
]


def never_reports(_: datetime) -> UnitState:
    return NOT_REPORTED


def always(period: PeriodView) -> Callable[[datetime], PeriodView]:
    return lambda _: period


def test_default_schedule_walked_hour_by_hour_for_a_unit_that_never_reports() -> None:
    sent = walk(POLICY, always(h1_2023()), never_reports, vn(2023, 5, 1, 9), vn(2023, 6, 30, 23))

    assert summary(sent) == H1_2023_NEVER_REPORTS
    # Every reminder goes out on the first tick at its scheduled time, not later.
    assert all(now == planned.scheduled_at for now, planned in sent)
    assert sent[0][1].dedupe_key == "2023-H1/26500/opened"


def test_reminder_schedule_lists_the_same_plan_as_the_walk() -> None:
    plan = reminder_schedule(POLICY, h1_2023(), vn(2023, 6, 30, 23))

    assert [(r.rule_id, r.at, r.audience) for r in plan] == sorted(
        H1_2023_NEVER_REPORTS, key=lambda r: (r[1], r[2])
    )


def test_unit_that_has_reported_gets_nothing() -> None:
    reported = UnitState(unit_code=UNIT, reported=True)

    sent = walk(
        POLICY, always(h1_2023()), lambda _: reported, vn(2023, 5, 1, 9), vn(2023, 6, 30, 23)
    )

    assert sent == []


def test_unit_reporting_between_two_reminders_gets_no_more() -> None:
    reported_at = vn(2023, 6, 7, 10)

    def state(now: datetime) -> UnitState:
        return UnitState(unit_code=UNIT, reported=now >= reported_at)

    sent = walk(POLICY, always(h1_2023()), state, vn(2023, 5, 1, 9), vn(2023, 6, 30, 23))

    assert [rule for rule, _, _ in summary(sent)] == ["opened", "before_7d", "before_3d"]


def test_four_day_outage_sends_only_the_latest_applicable_reminder() -> None:
    keys: set[str] = set()
    before = walk(
        POLICY,
        always(h1_2023()),
        never_reports,
        vn(2023, 5, 1, 9),
        vn(2023, 6, 5, 9),
        sent_keys=keys,
    )
    assert [rule for rule, _, _ in summary(before)] == ["opened", "before_7d"]

    # Down from 05/06 09:00 to 09/06 09:00: before_3d, before_1d and due_day were missed.
    after = walk(
        POLICY,
        always(h1_2023()),
        never_reports,
        vn(2023, 6, 9, 9),
        vn(2023, 6, 12, 23),
        sent_keys=keys,
    )

    assert summary(after) == [("due_day", vn(2023, 6, 9, 8), "unit")]
    assert after[0][0] == vn(2023, 6, 9, 9)


def test_outage_across_the_escalation_sends_latest_overdue_and_escalation_once() -> None:
    keys: set[str] = set()
    walk(
        POLICY,
        always(h1_2023()),
        never_reports,
        vn(2023, 5, 1, 9),
        vn(2023, 6, 12, 9),
        sent_keys=keys,
    )

    after = walk(
        POLICY,
        always(h1_2023()),
        never_reports,
        vn(2023, 6, 16, 9),
        vn(2023, 6, 18, 23),
        sent_keys=keys,
    )

    assert summary(after) == [
        ("overdue_2", vn(2023, 6, 15, 8), "unit"),
        ("escalation", vn(2023, 6, 13, 8), "escalation"),
    ]


def test_opened_is_not_sent_when_a_later_rule_is_already_due() -> None:
    planned = due_reminders(POLICY, h1_2023(), NOT_REPORTED, vn(2023, 6, 3, 10), set())

    assert [p.rule_id for p in planned] == ["before_7d"]


def test_nothing_older_is_sent_when_the_latest_due_rule_was_already_sent() -> None:
    sent = {dedupe_key("2023-H1", UNIT, "before_1d")}

    assert due_reminders(POLICY, h1_2023(), NOT_REPORTED, vn(2023, 6, 8, 20), sent) == []


@pytest.mark.parametrize("status", [PeriodStatus.CLOSED, PeriodStatus.DRAFT])
def test_period_that_is_not_open_gets_no_reminders(status: PeriodStatus) -> None:
    period = h1_2023(status=status)

    assert due_reminders(POLICY, period, NOT_REPORTED, vn(2023, 6, 20, 9), set()) == []
    assert next_wakeup(POLICY, [period], vn(2023, 6, 20, 9)) is None


def test_opening_during_quiet_hours_is_sent_when_quiet_hours_end() -> None:
    period = PeriodView(
        period_id="DX-1",
        title="Báo cáo đột xuất",
        due_at=vn(2023, 5, 20),
        status=PeriodStatus.OPEN,
        data_window_start=date(2023, 1, 1),
        data_window_end=date(2023, 5, 1),
        opened_at=vn(2023, 5, 2, 22, 30),  # Tue
    )

    assert due_reminders(POLICY, period, NOT_REPORTED, vn(2023, 5, 2, 23), set()) == []
    assert due_reminders(POLICY, period, NOT_REPORTED, vn(2023, 5, 3, 6, 59), set()) == []
    planned = due_reminders(POLICY, period, NOT_REPORTED, vn(2023, 5, 3, 7), set())
    assert [(p.rule_id, p.scheduled_at) for p in planned] == [("opened", vn(2023, 5, 3, 7))]
    assert next_wakeup(POLICY, [period], vn(2023, 5, 2, 23)) == vn(2023, 5, 3, 7)


def test_configured_quiet_hours_move_an_afternoon_opening() -> None:
    policy = ReminderPolicy(calendar=WEEKDAYS_ONLY, quiet_start=time(12, 0), quiet_end=time(13, 30))
    period = replace(h1_2023(), opened_at=vn(2023, 5, 2, 12, 15))

    plan = reminder_schedule(policy, period, vn(2023, 5, 3))

    assert [(r.rule_id, r.at) for r in plan] == [("opened", vn(2023, 5, 2, 13, 30))]


def test_opening_on_saturday_is_sent_monday_at_end_of_quiet_hours_when_weekends_skipped() -> None:
    saturday = replace(h1_2023(), opened_at=vn(2023, 5, 6, 10))

    skipping = reminder_schedule(POLICY, saturday, vn(2023, 5, 9))
    not_skipping = reminder_schedule(
        ReminderPolicy(calendar=WEEKDAYS_ONLY, skip_weekends=False), saturday, vn(2023, 5, 9)
    )

    assert [(r.rule_id, r.at) for r in skipping] == [("opened", vn(2023, 5, 8, 7))]
    assert [(r.rule_id, r.at) for r in not_skipping] == [("opened", vn(2023, 5, 6, 10))]


def test_deadline_day_on_sunday_moves_warnings_to_friday_and_keeps_the_most_urgent() -> None:
    # 2024: "trước ngày 10/6" is Monday 00:00, so the deadline day is Sunday 09/06.
    period = replace(
        h1_2023(), period_id="2024-H1", due_at=vn(2024, 6, 10), opened_at=vn(2024, 5, 2, 9)
    )

    plan = reminder_schedule(POLICY, period, vn(2024, 6, 14))

    assert [(r.rule_id, r.at) for r in plan] == [
        ("opened", vn(2024, 5, 2, 9)),
        ("before_7d", vn(2024, 5, 31, 8)),  # Sun 02/06 -> Fri 31/05
        ("before_3d", vn(2024, 6, 6, 8)),
        # before_1d (Sat 08/06 -> Fri 07/06) coincides with due_day and is dropped.
        ("due_day", vn(2024, 6, 7, 8)),
        ("overdue_1", vn(2024, 6, 11, 8)),
        ("escalation", vn(2024, 6, 13, 8)),
        ("overdue_2", vn(2024, 6, 13, 8)),
    ]


def test_holidays_are_skipped_by_the_overdue_cadence() -> None:
    policy = ReminderPolicy(
        calendar=WorkingCalendar(
            days_off=frozenset({date(2023, 6, 12), date(2023, 6, 13)}), country=None
        )
    )

    plan = reminder_schedule(policy, h1_2023(), vn(2023, 6, 16))

    assert [(r.rule_id, r.at) for r in plan if r.rule_id.startswith("overdue")] == [
        ("overdue_1", vn(2023, 6, 15, 8))
    ]
    assert [r.at for r in plan if r.rule_id == "escalation"] == [vn(2023, 6, 14, 8)]


def test_moved_deadline_shifts_the_schedule_and_never_repeats_sent_keys() -> None:
    moved_at = vn(2023, 6, 8, 9)

    def period(now: datetime) -> PeriodView:
        return h1_2023(due_at=vn(2023, 6, 20) if now >= moved_at else vn(2023, 6, 10))

    sent = walk(POLICY, period, never_reports, vn(2023, 5, 1, 9), vn(2023, 6, 30, 23))

    keys = [p.dedupe_key for _, p in sent]
    assert len(keys) == len(set(keys))
    # New deadline day Mon 19/06: before_7d (12/06) and before_1d (Sun 18/06 -> Fri 16/06,
    # displacing before_3d) were already sent under the old deadline.
    assert summary(sent) == [
        ("opened", vn(2023, 5, 1, 9), "unit"),
        ("before_7d", vn(2023, 6, 2, 8), "unit"),
        ("before_3d", vn(2023, 6, 6, 8), "unit"),
        ("before_1d", vn(2023, 6, 8, 8), "unit"),
        ("due_day", vn(2023, 6, 19, 8), "unit"),
        ("overdue_1", vn(2023, 6, 21, 8), "unit"),
        ("overdue_2", vn(2023, 6, 23, 8), "unit"),
        ("escalation", vn(2023, 6, 23, 8), "escalation"),
        ("overdue_3", vn(2023, 6, 27, 8), "unit"),
        ("overdue_4", vn(2023, 6, 29, 8), "unit"),
    ]


def test_returned_report_gets_its_own_reminder_and_restarts_escalation() -> None:
    reported_at = vn(2023, 6, 5, 15)
    first = ReturnedForRevision("ev-1", "Thiếu số liệu mục II.3", vn(2023, 6, 14, 10, 30))
    second = ReturnedForRevision("ev-2", "Chưa có chữ ký", vn(2023, 6, 22, 16))

    def state(now: datetime) -> UnitState:
        if now < reported_at:
            return NOT_REPORTED
        if now < first.returned_at:
            return UnitState(UNIT, reported=True)
        if now < vn(2023, 6, 20, 9):
            return UnitState(UNIT, reported=False, returned=first)
        if now < second.returned_at:
            return UnitState(UNIT, reported=True)
        return UnitState(UNIT, reported=False, returned=second)

    sent = walk(POLICY, always(h1_2023()), state, vn(2023, 5, 1, 9), vn(2023, 6, 30, 23))

    assert summary(sent) == [
        ("opened", vn(2023, 5, 1, 9), "unit"),
        ("before_7d", vn(2023, 6, 2, 8), "unit"),
        ("returned:ev-1", vn(2023, 6, 14, 10, 30), "unit"),
        ("overdue_2", vn(2023, 6, 15, 8), "unit"),
        # Escalation counts from the return day 14/06: 4th day is Sun 18/06 -> Mon 19/06.
        ("overdue_3", vn(2023, 6, 19, 8), "unit"),
        ("escalation", vn(2023, 6, 19, 8), "escalation"),
        # Resubmitted 20/06, returned again 22/06: a new return event, a new reminder;
        # overdue_4 (21/06) was covered by the resubmission.
        ("returned:ev-2", vn(2023, 6, 22, 16), "unit"),
        ("overdue_5", vn(2023, 6, 23, 8), "unit"),
        ("overdue_6", vn(2023, 6, 27, 8), "unit"),
        ("overdue_7", vn(2023, 6, 29, 8), "unit"),
    ]


def test_dedupe_key_is_stable_and_unambiguous() -> None:
    assert dedupe_key("2023-H1", "26500", "before_7d") == "2023-H1/26500/before_7d"
    assert dedupe_key("2023-H1", "26500", "returned:ev-1") == "2023-H1/26500/returned:ev-1"
    assert dedupe_key("a/b", "c", "opened") != dedupe_key("a", "b/c", "opened")


def test_next_wakeup_is_the_earliest_future_rule_across_periods() -> None:
    h1 = h1_2023()
    annual = replace(
        h1, period_id="2023-CN", due_at=vn(2023, 11, 25), opened_at=vn(2023, 6, 9, 8, 30)
    )

    assert next_wakeup(POLICY, [h1], vn(2023, 5, 1, 8)) == vn(2023, 5, 1, 9)
    assert next_wakeup(POLICY, [h1], vn(2023, 5, 1, 9)) == vn(2023, 6, 2, 8)
    assert next_wakeup(POLICY, [h1], vn(2023, 6, 9, 8)) == vn(2023, 6, 13, 8)
    assert next_wakeup(POLICY, [h1, annual], vn(2023, 6, 9, 8)) == vn(2023, 6, 9, 8, 30)
    assert next_wakeup(POLICY, [], vn(2023, 6, 9, 8)) is None


def test_next_wakeup_includes_a_return_deferred_past_quiet_hours() -> None:
    h1 = h1_2023()
    late_return = ReturnedForRevision("ev-9", "Sai biểu mẫu", vn(2023, 6, 6, 22))

    woken = next_wakeup(POLICY, [h1], vn(2023, 6, 6, 22), returns=[(h1, late_return)])

    assert woken == vn(2023, 6, 7, 7)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ReminderInputError) as caught:
        due_reminders(POLICY, h1_2023(), NOT_REPORTED, datetime(2023, 6, 1, 8), set())
    assert caught.value.code == "naive_datetime"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"send_time": time(22, 0)}, "send_time_in_quiet_hours"),
        ({"before_days": (3, 3)}, "before_days_invalid"),
        ({"before_days": (0,)}, "before_days_invalid"),
        ({"overdue_every_working_days": 0}, "overdue_cadence_invalid"),
        ({"tz": "Mars/Olympus"}, "timezone_invalid"),
    ],
)
def test_invalid_policy_is_refused_with_a_stable_code(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(ReminderPolicyError) as caught:
        ReminderPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_before_days_are_ordered_farthest_first() -> None:
    assert ReminderPolicy(before_days=(1, 7, 3)).before_days == (7, 3, 1)


def test_period_opened_after_its_deadline_starts_with_opened_and_delays_escalation() -> None:
    late = replace(h1_2023(), opened_at=vn(2023, 6, 12, 10))

    sent = walk(POLICY, always(late), never_reports, vn(2023, 6, 12, 10), vn(2023, 6, 16, 23))

    assert summary(sent) == [
        ("opened", vn(2023, 6, 12, 10), "unit"),
        ("overdue_1", vn(2023, 6, 13, 8), "unit"),
        ("overdue_2", vn(2023, 6, 15, 8), "unit"),
        # Four days after the opening day, not after the deadline day.
        ("escalation", vn(2023, 6, 16, 8), "escalation"),
    ]
