"""Local-calendar arithmetic for reminders: deadline day, working days, sending windows.

Working days come from the policy's WorkingCalendar (shared/working_calendar.py), the one
module every count in working days uses.

Deadline semantics: `due_at` is an instant and a report is on time strictly before it.
"Trước ngày 10/6" is stored as due_at = 10/06 00:00 local, so the *deadline day* (the last
local day on which a report is still on time) is 09/06. A due_at with a time of day, e.g.
10/06 17:00, has 10/06 itself as its deadline day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.reminders.domain.models import ReminderPolicy, require_aware

_MAX_SKIPPED_DAYS = 366


def to_local(policy: ReminderPolicy, instant: datetime) -> datetime:
    """The instant expressed in the policy's local time zone."""
    return require_aware(instant, "instant").astimezone(policy.zone)


def at_local(policy: ReminderPolicy, day: date, t: time) -> datetime:
    """The instant of a local wall-clock time on a local day."""
    return datetime.combine(day, t, tzinfo=policy.zone)


def deadline_day(policy: ReminderPolicy, due_at: datetime) -> date:
    """The last local day on which a report is still on time (due_at is exclusive)."""
    return (to_local(policy, due_at) - timedelta(microseconds=1)).date()


def next_working_day_on_or_after(policy: ReminderPolicy, day: date) -> date:
    """The first working day not before `day`."""
    return policy.calendar.next_working_day_on_or_after(day)


def previous_working_day_on_or_before(policy: ReminderPolicy, day: date) -> date:
    """The last working day not after `day`."""
    return policy.calendar.previous_working_day_on_or_before(day)


def nth_working_day_after(policy: ReminderPolicy, day: date, n: int) -> date:
    """The n-th working day strictly after `day` (n >= 1)."""
    return policy.calendar.nth_working_day_after(day, n)


def defer_to_sending_window(policy: ReminderPolicy, instant: datetime) -> datetime:
    """Move an instant out of quiet hours (and skipped days) to the end of that quiet spell.

    A time in quiet hours moves to `quiet_end`; with `skip_weekends`, a time on a Saturday,
    Sunday or holiday moves to the next working day at the end of its quiet hours
    (Monday 07:00 by default), i.e. the first moment sending is allowed again.
    """
    local = to_local(policy, instant)
    for _ in range(_MAX_SKIPPED_DAYS * 2):
        if policy.in_quiet_hours(local.time()):
            local = _end_of_quiet(policy, local)
            continue
        if not policy.is_sending_day(local.date()):
            local = at_local(policy, local.date() + timedelta(days=1), time(0, 0))
            continue
        return local
    raise ValueError("no sending window within a year; check the policy")


def _end_of_quiet(policy: ReminderPolicy, local: datetime) -> datetime:
    wraps_midnight = policy.quiet_start > policy.quiet_end
    end_day = local.date()
    if wraps_midnight and local.time() >= policy.quiet_start:
        end_day += timedelta(days=1)
    return at_local(policy, end_day, policy.quiet_end)
