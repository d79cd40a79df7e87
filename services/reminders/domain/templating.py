"""Rendering planned reminders into Vietnamese plain-text messages from Jinja2 templates.

Templates are configuration: one `<family>.subject.j2` and one `<family>.body.j2` per rule
family (opened, before, due_day, overdue, escalation, returned, manual) and per notice
(answered, accepted). A custom directory
replaces the defaults entirely and is checked for completeness and syntax when the renderer
is built.

Variables every template gets:
period_title, unit_code, unit_name, portal_url, content ("" when none),
deadline ("10/06/2023"), deadline_text ("trước ngày 10/06/2023", or "trước 17:00 ngày
10/06/2023" when due_at is not a local midnight), last_day ("09/06/2023", the last day a
report is on time), data_window (the phrase every text uses, `shared.formatting.
data_window_phrase`: "số liệu từ ngày 15/12/2022 đến ngày 14/06/2023, trong đó số liệu từ ngày
10/06/2023 đến hết kỳ là số liệu ước thực hiện" when the window ends after the last day on time;
"" when the period has none), data_window_start, data_window_end ("" when none), today
(dd/mm/yyyy at `as_of`),
days_left, days_overdue (whole local days, never negative), working_days_overdue (working
days after the last day, by the working calendar), rule_id.
Only in the `returned` family: reason. The filter `sentence` upper-cases the first letter
(`{{ data_window | sentence }}`).

Notices get period_title, unit_code, unit_name, portal_url, rule_id, today, and:
`answered`: question (as the unit wrote it), answer, answered_by (the role, "Phòng Nội vụ",
never a person), answered_at ("02/06/2023 10:15" local); `accepted`: version, reviewed_at.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2

from services.reminders.domain.models import (
    PeriodView,
    PlannedReminder,
    ReminderPolicy,
    ReminderTemplateError,
    RenderedMessage,
    require_aware,
)
from services.reminders.domain.notices import notice_variables
from services.reminders.domain.schedule import rule_family
from services.reminders.domain.timing import deadline_day
from shared.formatting import data_window_phrase, vn_date, vn_deadline

TEMPLATE_FAMILIES = (
    "opened",
    "before",
    "due_day",
    "overdue",
    "escalation",
    "returned",
    "manual",
    "answered",
    "accepted",
)
DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What a message says besides the rule: the period, the unit, the link and the clock."""

    period: PeriodView
    unit_code: str
    unit_name: str
    portal_url: str
    as_of: datetime
    returned_reason: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """What a notice says: the period's title, the unit, the link, and the event's details."""

    period_title: str
    unit_code: str
    unit_name: str
    portal_url: str
    as_of: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _day(day: date | None) -> str:
    return vn_date(day) if day is not None else ""


def sentence(text: str) -> str:
    """The `sentence` filter: the text with its first letter upper-cased (the rest kept)."""
    return text[:1].upper() + text[1:]


class TemplateRenderer:
    """Loads the reminder templates once and renders planned reminders with them."""

    def __init__(
        self, template_dir: Path | None = None, *, policy: ReminderPolicy | None = None
    ) -> None:
        # Only the policy's time zone matters here: it decides the local dates shown.
        self._policy = policy or ReminderPolicy()
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(template_dir or DEFAULT_TEMPLATE_DIR, encoding="utf-8"),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["sentence"] = sentence
        self._templates: dict[str, jinja2.Template] = {}
        for family in TEMPLATE_FAMILIES:
            for part in ("subject", "body"):
                name = f"{family}.{part}.j2"
                try:
                    self._templates[name] = self._env.get_template(name)
                except jinja2.TemplateNotFound as exc:
                    raise ReminderTemplateError(
                        f"Thiếu mẫu tin nhắn nhắc việc: {name}", code="template_missing"
                    ) from exc
                except jinja2.TemplateSyntaxError as exc:
                    raise ReminderTemplateError(
                        f"Mẫu tin nhắn {name} sai cú pháp (dòng {exc.lineno}): {exc.message}",
                        code="template_syntax",
                    ) from exc

    def render(self, planned: PlannedReminder, context: MessageContext) -> RenderedMessage:
        """Subject (one line) and body of one planned reminder, NFC-normalised."""
        family = rule_family(planned.rule_id)
        return self._render(family, self._variables(planned, context, family))

    def render_notice(self, rule_id: str, context: NoticeContext) -> RenderedMessage:
        """Subject and body of one notice (an answer, an accepted report), NFC-normalised."""
        family = rule_family(rule_id)
        today = require_aware(context.as_of, "as_of").astimezone(self._policy.zone).date()
        variables: dict[str, object] = {
            "rule_id": rule_id,
            "period_title": _nfc(context.period_title),
            "unit_code": context.unit_code,
            "unit_name": _nfc(context.unit_name),
            "portal_url": context.portal_url,
            "today": vn_date(today),
            **notice_variables(self._policy, family, context.details),
        }
        return self._render(family, variables)

    def _render(self, family: str, variables: dict[str, object]) -> RenderedMessage:
        try:
            subject = self._templates[f"{family}.subject.j2"].render(variables)
            body = self._templates[f"{family}.body.j2"].render(variables)
        except jinja2.UndefinedError as exc:
            raise ReminderTemplateError(
                f"Mẫu tin nhắn '{family}' dùng biến không có: {exc.message}",
                code="template_variable_missing",
            ) from exc
        # One line: a title with a line break must not split a mail header.
        subject = " ".join(subject.split())
        return RenderedMessage(subject=_nfc(subject), body=_nfc(body.strip() + "\n"))

    def _variables(
        self, planned: PlannedReminder, context: MessageContext, family: str
    ) -> dict[str, object]:
        period = context.period
        policy = self._policy
        today = require_aware(context.as_of, "as_of").astimezone(policy.zone).date()
        last_day = deadline_day(policy, period.due_at)
        variables: dict[str, object] = {
            "rule_id": planned.rule_id,
            "period_title": period.title,
            "unit_code": context.unit_code,
            "unit_name": _nfc(context.unit_name),
            "portal_url": context.portal_url,
            "content": period.content or "",
            "deadline": vn_date(period.due_at, policy.zone),
            "deadline_text": vn_deadline(period.due_at, policy.zone),
            "last_day": vn_date(last_day),
            "data_window": data_window_phrase(
                period.data_window_start, period.data_window_end, period.due_at, policy.zone
            ),
            "data_window_start": _day(period.data_window_start),
            "data_window_end": _day(period.data_window_end),
            "today": vn_date(today),
            "days_left": max(0, (last_day - today).days),
            "days_overdue": max(0, (today - last_day).days),
            "working_days_overdue": policy.calendar.working_days_between(last_day, today),
        }
        if family == "returned" and context.returned_reason is not None:
            variables["reason"] = _nfc(context.returned_reason)
        return variables
