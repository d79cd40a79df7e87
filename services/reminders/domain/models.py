"""Value objects of the reminder domain: the policy, what it reads and what it plans."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.working_calendar import WorkingCalendar

Audience = Literal["unit", "escalation"]


class ReminderDomainError(ValueError):
    """A reminder rule or configuration problem, with a stable code and a Vietnamese message."""

    code = "reminder_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ReminderPolicyError(ReminderDomainError):
    """The reminder policy configuration is invalid."""

    code = "reminder_policy_invalid"


class ReminderInputError(ReminderDomainError):
    """The caller passed data the schedule cannot use (e.g. a naive datetime)."""

    code = "reminder_input_invalid"


class ReminderTemplateError(ReminderDomainError):
    """A message template is missing, malformed, or uses a variable that is not provided."""

    code = "reminder_template_invalid"


class PeriodStatus(StrEnum):
    """Lifecycle of a reporting period as the reminders service sees it."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


def require_aware(value: datetime, what: str) -> datetime:
    """Refuse naive datetimes: every instant in this domain must carry its offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ReminderInputError(
            f"Thời điểm '{what}' thiếu múi giờ: {value.isoformat()}", code="naive_datetime"
        )
    return value


def _in_window(t: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When reminders go out; defaults follow the reminders issue.

    `calendar` says which local days are working days (Vietnam's public holidays, Tết
    included, plus configured days off and make-up working days; shared/working_calendar):
    days off are skipped by the overdue cadence and, when `skip_weekends` is on, no
    reminder is sent on them.
    """

    before_days: tuple[int, ...] = (7, 3, 1)
    send_time: time = time(8, 0)
    overdue_every_working_days: int = 2
    escalate_after_days: int = 3
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    skip_weekends: bool = True
    tz: str = "Asia/Ho_Chi_Minh"
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def __post_init__(self) -> None:
        if any(d < 1 for d in self.before_days) or len(set(self.before_days)) != len(
            self.before_days
        ):
            raise ReminderPolicyError(
                "Số ngày nhắc trước hạn phải là các số nguyên dương khác nhau",
                code="before_days_invalid",
            )
        # Farthest first, so rule order follows time order.
        object.__setattr__(self, "before_days", tuple(sorted(self.before_days, reverse=True)))
        if self.overdue_every_working_days < 1:
            raise ReminderPolicyError(
                "Chu kỳ nhắc quá hạn phải từ 1 ngày làm việc trở lên",
                code="overdue_cadence_invalid",
            )
        if self.escalate_after_days < 0:
            raise ReminderPolicyError(
                "Số ngày quá hạn trước khi báo cáo cấp trên không được âm",
                code="escalation_delay_invalid",
            )
        if self.send_time.tzinfo is not None or self.quiet_start.tzinfo is not None:
            raise ReminderPolicyError(
                "Giờ gửi và giờ yên lặng là giờ địa phương, không kèm múi giờ",
                code="policy_time_has_tz",
            )
        # A send time inside quiet hours would have every scheduled reminder deferred,
        # which is almost certainly a configuration mistake.
        if self.in_quiet_hours(self.send_time):
            raise ReminderPolicyError(
                "Giờ gửi nhắc nằm trong khung giờ yên lặng", code="send_time_in_quiet_hours"
            )
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ReminderPolicyError(
                f"Múi giờ không hợp lệ: {self.tz}", code="timezone_invalid"
            ) from exc

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone of the policy."""
        return ZoneInfo(self.tz)

    def in_quiet_hours(self, t: time) -> bool:
        """Whether a local wall-clock time falls in the quiet hours (start inclusive)."""
        return _in_window(t.replace(tzinfo=None), self.quiet_start, self.quiet_end)

    def is_working_day(self, day: date) -> bool:
        """Whether offices work on this local day (the working calendar's answer)."""
        return self.calendar.is_working_day(day)

    def is_sending_day(self, day: date) -> bool:
        """Whether reminders may be sent on this local day at all."""
        return self.is_working_day(day) if self.skip_weekends else True


@dataclass(frozen=True, slots=True)
class PeriodView:
    """What the reminders service knows about one reporting period.

    The data window is the registry's; an ad-hoc request usually has none (both None)."""

    period_id: str
    title: str
    due_at: datetime
    status: PeriodStatus
    data_window_start: date | None
    data_window_end: date | None
    opened_at: datetime
    content: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.due_at, "due_at")
        require_aware(self.opened_at, "opened_at")
        object.__setattr__(self, "title", unicodedata.normalize("NFC", self.title))
        if self.content is not None:
            object.__setattr__(self, "content", unicodedata.normalize("NFC", self.content))


@dataclass(frozen=True, slots=True)
class ReturnedForRevision:
    """The latest review decision that sent a unit's report back for revision."""

    event_id: str
    reason: str
    returned_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.returned_at, "returned_at")
        object.__setattr__(self, "reason", unicodedata.normalize("NFC", self.reason))


@dataclass(frozen=True, slots=True)
class UnitState:
    """A unit's standing in one period, as the caller's projection knows it.

    `reported` is False for a unit whose report was returned and not yet resubmitted;
    `returned` then describes that return.
    """

    unit_code: str
    reported: bool
    returned: ReturnedForRevision | None = None


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """One reminder that should be sent now, identified by its dedupe key."""

    rule_id: str
    scheduled_at: datetime
    dedupe_key: str
    audience: Audience
    period_id: str
    unit_code: str


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """Plain-text subject (one line) and body, NFC-normalised."""

    subject: str
    body: str
