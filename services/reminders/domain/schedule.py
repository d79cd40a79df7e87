"""Which reminder a unit should get, and when; pure functions of the policy and the clock.

Rules, in the order a unit that never reports meets them:

- `opened`: when the period opens (deferred out of quiet hours / skipped days);
- `before_7d`, `before_3d`, `before_1d`: N local days before the deadline day, at send time;
- `due_day`: on the deadline day (the last local day before `due_at`), at send time;
- `overdue_1`, `overdue_2`, ...: every `overdue_every_working_days` working days after the
  deadline day, at send time (Saturday, Sunday and holidays never count);
- `escalation` (to reviewers and the unit's leader, separate from the unit's own track):
  at send time on the first sending day after the unit has been overdue for
  `escalate_after_days` full local days (13/06 for a deadline day of 09/06);
- `returned:<event id>`: when a report is sent back for revision, quoting the reason;
- `manual:<request id>`: a reviewer urged the unit now (outside the schedule).

With `skip_weekends`, a before/due-day reminder that lands on a Saturday, Sunday or holiday
moves *earlier*, to the previous working day at send time, because a warning after the
deadline is useless; the escalation moves to the next working day at send time; `opened` and
`returned` (which follow events) move to the end of the quiet spell, Monday 07:00 by default.
When two unit rules land on the same moment (e.g. deadline day on a Sunday: before_1d and
due_day both on Friday), only the later rule in the list above is kept. Pre-deadline rules
at or before the opening are dropped: the `opened` message already carries the deadline.

Catch-up: only the most recent due rule of the unit's track is ever sent, so a service that
was down sends one current reminder instead of a burst of stale ones. Dedupe keys carry the
rule, never the deadline, so a moved deadline reschedules without repeating what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote

from services.reminders.domain.models import (
    Audience,
    PeriodStatus,
    PeriodView,
    PlannedReminder,
    ReminderPolicy,
    ReturnedForRevision,
    UnitState,
    require_aware,
)
from services.reminders.domain.timing import (
    at_local,
    deadline_day,
    defer_to_sending_window,
    next_working_day_on_or_after,
    nth_working_day_after,
    previous_working_day_on_or_before,
    to_local,
)

RULE_OPENED = "opened"
RULE_DUE_DAY = "due_day"
RULE_ESCALATION = "escalation"
_BEFORE_PREFIX = "before_"
_OVERDUE_PREFIX = "overdue_"
_RETURNED_PREFIX = "returned:"
_MANUAL_PREFIX = "manual:"
# Notifications (domain/notices.py) share the delivery log but are not rules of the schedule.
ANSWERED_PREFIX = "answered:"
ACCEPTED_PREFIX = "accepted:"


def before_rule_id(days: int) -> str:
    """Rule id of the reminder sent `days` local days before the deadline day."""
    return f"{_BEFORE_PREFIX}{days}d"


def overdue_rule_id(number: int) -> str:
    """Rule id of the n-th overdue reminder (1-based)."""
    return f"{_OVERDUE_PREFIX}{number}"


def returned_rule_id(event_id: str) -> str:
    """Rule id of the reminder for one return-for-revision event."""
    return f"{_RETURNED_PREFIX}{event_id}"


def manual_rule_id(request_id: str) -> str:
    """Rule id of a reminder a reviewer sent on demand; one per request."""
    return f"{_MANUAL_PREFIX}{request_id}"


def rule_family(rule_id: str) -> str:
    """Template family: opened, before, due_day, overdue, escalation, returned, manual, or a notice.

    Notices (`answered`, `accepted`) are listed here only so the log and the templates can
    name them; `due_reminders` never plans one.
    """
    if rule_id in (RULE_OPENED, RULE_DUE_DAY, RULE_ESCALATION):
        return rule_id
    for prefix, family in (
        (_BEFORE_PREFIX, "before"),
        (_OVERDUE_PREFIX, "overdue"),
        (_RETURNED_PREFIX, "returned"),
        (_MANUAL_PREFIX, "manual"),
        (ANSWERED_PREFIX, "answered"),
        (ACCEPTED_PREFIX, "accepted"),
    ):
        if rule_id.startswith(prefix):
            return family
    raise ValueError(f"unknown reminder rule: {rule_id!r}")


def dedupe_key(period_id: str, unit_code: str, rule_id: str) -> str:
    """Stable key of one (period, unit, rule) reminder: `period/unit/rule`, each part %-quoted."""
    return "/".join(quote(part, safe="-_.~:") for part in (period_id, unit_code, rule_id))


@dataclass(frozen=True, slots=True)
class ScheduledRule:
    """A rule and the instant it becomes due."""

    rule_id: str
    at: datetime
    audience: Audience = "unit"


def _regular_rules(policy: ReminderPolicy, period: PeriodView) -> Iterator[ScheduledRule]:
    """The unit's own track in time order; endless, because overdue reminders never stop."""
    opened = ScheduledRule(RULE_OPENED, defer_to_sending_window(policy, period.opened_at))
    yield opened
    last_day = deadline_day(policy, period.due_at)
    pre_deadline = [
        ScheduledRule(before_rule_id(n), _pre_deadline_slot(policy, last_day - timedelta(days=n)))
        for n in policy.before_days
    ]
    pre_deadline.append(ScheduledRule(RULE_DUE_DAY, _pre_deadline_slot(policy, last_day)))
    kept: list[ScheduledRule] = []
    next_at: datetime | None = None
    for rule in reversed(pre_deadline):
        if (next_at is None or rule.at < next_at) and rule.at > opened.at:
            kept.append(rule)
            next_at = rule.at
    yield from reversed(kept)
    day = last_day
    number = 0
    while True:
        day = nth_working_day_after(policy, day, policy.overdue_every_working_days)
        number += 1
        at = at_local(policy, day, policy.send_time)
        if at > opened.at:
            yield ScheduledRule(overdue_rule_id(number), at)


def _pre_deadline_slot(policy: ReminderPolicy, day: date) -> datetime:
    if not policy.is_sending_day(day):
        day = previous_working_day_on_or_before(policy, day)
    return at_local(policy, day, policy.send_time)


def _escalation_at(
    policy: ReminderPolicy, period: PeriodView, returned: ReturnedForRevision | None
) -> datetime:
    """Escalate once the unit has been overdue *and informed* for the configured full days.

    The count starts at the latest of the deadline day, the opening day and the day of a
    return for revision, so a late-opened period or a fresh return is not escalated at once.
    """
    base = max(
        deadline_day(policy, period.due_at),
        defer_to_sending_window(policy, period.opened_at).date(),
    )
    if returned is not None:
        base = max(base, _returned_at(policy, returned).date())
    day = base + timedelta(days=policy.escalate_after_days + 1)
    if not policy.is_sending_day(day):
        day = next_working_day_on_or_after(policy, day)
    return at_local(policy, day, policy.send_time)


def _returned_at(policy: ReminderPolicy, returned: ReturnedForRevision) -> datetime:
    return defer_to_sending_window(policy, returned.returned_at)


def reminder_schedule(
    policy: ReminderPolicy,
    period: PeriodView,
    until: datetime,
    returned: ReturnedForRevision | None = None,
) -> list[ScheduledRule]:
    """Every rule due up to `until` for a unit that never reports, in time order."""
    require_aware(until, "until")
    rules: list[ScheduledRule] = []
    cutoff = _returned_at(policy, returned) if returned is not None else None
    for rule in _regular_rules(policy, period):
        if rule.at > until:
            break
        if cutoff is None or rule.at > cutoff:
            rules.append(rule)
    if returned is not None and cutoff is not None and cutoff <= until:
        rules.append(ScheduledRule(returned_rule_id(returned.event_id), cutoff))
    escalation = _escalation_at(policy, period, returned)
    if escalation <= until:
        rules.append(ScheduledRule(RULE_ESCALATION, escalation, "escalation"))
    return sorted(rules, key=lambda r: (r.at, r.audience))


def due_reminders(
    policy: ReminderPolicy,
    period: PeriodView,
    unit_state: UnitState,
    now: datetime,
    already_sent: Set[str],
) -> list[PlannedReminder]:
    """The reminders to send to one unit now: at most one on its own track, plus extras.

    Only the most recent due rule of the unit's track is considered; if it was already
    sent, nothing older is. Besides it: the `returned` reminder (always sent once, since it
    carries the reason) and the `escalation`. Nothing for a reported unit or a period that
    is not open.
    """
    require_aware(now, "now")
    if period.status is not PeriodStatus.OPEN or unit_state.reported:
        return []
    returned = unit_state.returned
    # Rules up to a return were covered while the unit's report stood; the return
    # reminder replaces them.
    cutoff = _returned_at(policy, returned) if returned is not None else None
    latest: ScheduledRule | None = None
    for rule in _regular_rules(policy, period):
        if rule.at > now:
            break
        if cutoff is None or rule.at > cutoff:
            latest = rule
    candidates: list[ScheduledRule] = []
    if latest is not None:
        candidates.append(latest)
    if returned is not None and cutoff is not None and cutoff <= now:
        candidates.append(ScheduledRule(returned_rule_id(returned.event_id), cutoff))
    escalation = _escalation_at(policy, period, returned)
    if escalation <= now:
        candidates.append(ScheduledRule(RULE_ESCALATION, escalation, "escalation"))
    planned = [
        PlannedReminder(
            rule_id=rule.rule_id,
            scheduled_at=rule.at,
            dedupe_key=dedupe_key(period.period_id, unit_state.unit_code, rule.rule_id),
            audience=rule.audience,
            period_id=period.period_id,
            unit_code=unit_state.unit_code,
        )
        for rule in candidates
    ]
    return [p for p in planned if p.dedupe_key not in already_sent]


@dataclass(frozen=True, slots=True)
class UpcomingReminder:
    """A reminder the scheduler will send, and when: `at` is the reminder's own time, or
    for one already due and not yet sent, the next moment a pass may send it."""

    at: datetime
    reminder: PlannedReminder


def upcoming_reminders(
    policy: ReminderPolicy,
    period: PeriodView,
    unit_state: UnitState,
    now: datetime,
    until: datetime,
    already_sent: Set[str],
) -> list[UpcomingReminder]:
    """What the scheduler will send to one unit from `now` to `until` if nothing changes (the
    unit does not report, the deadline stays), in sending order.

    The same rules as `due_reminders`: first what is due now and not yet sent (the next pass
    sends it, at once or when the quiet spell ends), then every rule of the unit's track
    after `now` and after a return for revision, the `returned` reminder when it waits out
    quiet hours, and the `escalation`. A pass at each of these instants sends exactly them.
    Nothing for a reported unit or a period that is not open.
    """
    require_aware(now, "now")
    require_aware(until, "until")
    if period.status is not PeriodStatus.OPEN or unit_state.reported:
        return []
    next_pass = defer_to_sending_window(policy, now)
    upcoming = [
        UpcomingReminder(next_pass, planned)
        for planned in due_reminders(policy, period, unit_state, now, already_sent)
    ]
    returned = unit_state.returned
    cutoff = _returned_at(policy, returned) if returned is not None else None
    later: list[ScheduledRule] = []
    for rule in _regular_rules(policy, period):
        if rule.at > until:
            break
        if rule.at > now and (cutoff is None or rule.at > cutoff):
            later.append(rule)
    if returned is not None and cutoff is not None and now < cutoff <= until:
        later.append(ScheduledRule(returned_rule_id(returned.event_id), cutoff))
    escalation = _escalation_at(policy, period, returned)
    if now < escalation <= until:
        later.append(ScheduledRule(RULE_ESCALATION, escalation, "escalation"))
    taken = set(already_sent) | {u.reminder.dedupe_key for u in upcoming}
    # At the same instant, in the order a pass sends them: the unit's track, a return, the
    # escalation (a stable sort keeps the order they were listed in).
    for rule in sorted(later, key=lambda r: r.at):
        key = dedupe_key(period.period_id, unit_state.unit_code, rule.rule_id)
        if key in taken:
            continue
        taken.add(key)
        planned = PlannedReminder(
            rule_id=rule.rule_id,
            scheduled_at=rule.at,
            dedupe_key=key,
            audience=rule.audience,
            period_id=period.period_id,
            unit_code=unit_state.unit_code,
        )
        upcoming.append(UpcomingReminder(to_local(policy, rule.at), planned))
    return upcoming


def next_wakeup(
    policy: ReminderPolicy,
    periods: Iterable[PeriodView],
    now: datetime,
    returns: Iterable[tuple[PeriodView, ReturnedForRevision]] = (),
) -> datetime | None:
    """The earliest instant after `now` at which some reminder may become due, if any.

    `returns` lists the open return-for-revision notices, whose reminders and escalation
    depend on the unit; without them the scheduler only wakes for period-wide rules.
    """
    require_aware(now, "now")
    candidates: list[datetime] = []
    for period in periods:
        if period.status is not PeriodStatus.OPEN:
            continue
        for rule in _regular_rules(policy, period):
            if rule.at > now:
                candidates.append(rule.at)
                break
        candidates.append(_escalation_at(policy, period, None))
    for period, returned in returns:
        if period.status is not PeriodStatus.OPEN:
            continue
        candidates.append(_returned_at(policy, returned))
        candidates.append(_escalation_at(policy, period, returned))
    future = [to_local(policy, at) for at in candidates if at > now]
    return min(future) if future else None
