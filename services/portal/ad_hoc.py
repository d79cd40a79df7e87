"""Ad-hoc requests (báo cáo đột xuất) from the reviewer's form, without I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from shared.clock import VN_TZ
from shared.contracts.registry import RequestBasis

SCOPES = ("all", "kinds", "units")
TITLE_MAX = 300
CONTENT_MAX = 20_000
# Pre-filled on a new request: end of office hours, the usual "trước 17 giờ ngày …".
# A blank time means the plan's own wording, "trước ngày …": 00:00 local of that day.
DEFAULT_TIME = "17:00"
_VN_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:hg](\d{2})?\s*$")

BAD_DATE = "Ngày hạn gửi không hợp lệ; nhập theo dạng dd/mm/yyyy."
BAD_TIME = "Giờ hạn gửi không hợp lệ; nhập theo dạng HH:MM (ví dụ 17:00)."
PAST_DEADLINE = "Hạn gửi phải sau thời điểm hiện tại."
BAD_BASIS_DATE = "Ngày văn bản không hợp lệ; nhập theo dạng dd/mm/yyyy."
AMBIGUOUS_SCOPE = (
    "Đã đánh dấu cả loại đơn vị và từng đơn vị: chọn «Theo loại đơn vị» hoặc "
    "«Chỉ các đơn vị được chọn», hoặc bỏ đánh dấu ở phần không dùng."
)


# The asking document's fields (`RequestBasisIn`); on the forms each is "basis_<name>", and
# the registry's problem at "basis.<name>" is shown at that field.
BASIS_FIELDS = ("document_type", "number", "issued_on", "issuer", "subject")


@dataclass(frozen=True)
class BasisDraft:
    """The asking document as typed (căn cứ: loại văn bản, số, ngày, cơ quan ban hành,
    trích yếu); a date that reads is kept as yyyy-mm-dd, the value of a date input."""

    document_type: str = ""
    number: str = ""
    issued_on: str = ""
    issuer: str = ""
    subject: str = ""

    @classmethod
    def typed(cls, first: Callable[[str], str]) -> BasisDraft:
        """From the posted form: ``first(name)`` is the field's value."""
        values = {name: first(f"basis_{name}").strip() for name in BASIS_FIELDS}
        day = parse_local_date(values["issued_on"]) if values["issued_on"] else None
        if day is not None:
            values["issued_on"] = day.isoformat()
        return cls(**values)

    @classmethod
    def of(cls, basis: RequestBasis | None) -> BasisDraft:
        """What the form shows of a recorded basis."""
        if basis is None:
            return cls()
        return cls(
            document_type=basis.document_type,
            number=basis.number,
            issued_on=basis.issued_on.isoformat() if basis.issued_on else "",
            issuer=basis.issuer,
            subject=basis.subject,
        )

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name).strip() for name in BASIS_FIELDS)


def checked_basis(draft: BasisDraft) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The registry's `basis` for the typed document (None when nothing was typed), or the
    field errors; the registry checks the rest (lengths, control characters, a future
    date) and its messages come back at the same fields."""
    if draft.empty:
        return None, {}
    issued_on: date | None = None
    if draft.issued_on.strip():
        issued_on = parse_local_date(draft.issued_on)
        if issued_on is None:
            return None, {"basis_issued_on": BAD_BASIS_DATE}
    body: dict[str, Any] = {
        name: getattr(draft, name).strip() for name in BASIS_FIELDS if name != "issued_on"
    }
    body["issued_on"] = issued_on.isoformat() if issued_on else None
    return body, {}


def form_field(registry_field: str, fields: Mapping[str, str]) -> str:
    """The form field showing the registry's problem at ``registry_field`` ("" when none):
    ``fields`` maps the registry's top-level names, "basis.<name>" is "basis_<name>"."""
    head, _, rest = registry_field.partition(".")
    if head == "basis" and rest in BASIS_FIELDS:
        return f"basis_{rest}"
    return fields.get(head, "")


def field_errors(
    details: object, message: str, fields: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The registry's problems (``details.problems``) at the form's fields, the first per
    field; when none has a field on the form, its message as a notice."""
    problems = details.get("problems") if isinstance(details, Mapping) else None
    errors: dict[str, str] = {}
    for problem in problems if isinstance(problems, list) else []:
        if isinstance(problem, Mapping) and problem.get("message"):
            name = form_field(str(problem.get("field") or ""), fields)
            if name and name not in errors:
                errors[name] = str(problem["message"])
    return errors, ([] if errors else [message])


@dataclass(frozen=True)
class AdHocDraft:
    """What the reviewer typed, kept to show the form again when something is wrong."""

    title: str = ""
    content: str = ""
    due_date: str = ""
    due_time: str = DEFAULT_TIME
    scope: str = "all"
    kinds: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    idempotency_key: str = ""
    basis: BasisDraft = BasisDraft()


@dataclass(frozen=True)
class Checked:
    """The registry body when the draft is complete, else the errors by field."""

    body: dict[str, Any] | None
    errors: dict[str, str] = field(default_factory=dict)


def parse_local_date(text: str) -> date | None:
    """A date typed as dd/mm/yyyy or sent by a date input as yyyy-mm-dd."""
    text = text.strip()
    match = _VN_DATE.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_local_time(text: str) -> time | None:
    """HH:MM (also "17h", "17h30")."""
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def local_deadline(date_text: str, time_text: str) -> tuple[datetime | None, dict[str, str]]:
    """The aware instant (Asia/Ho_Chi_Minh) of "trước [giờ] ngày …", or the field errors.

    Without a time the deadline is "trước ngày …", 00:00 local of that day, so the day
    typed is the one the plan names and the day before it is the last day on time.
    """
    errors: dict[str, str] = {}
    day = parse_local_date(date_text)
    if day is None:
        errors["due_date"] = BAD_DATE
    at = parse_local_time(time_text) if time_text.strip() else time(0, 0)
    if at is None:
        errors["due_time"] = BAD_TIME
    if day is None or at is None:
        return None, errors
    return datetime.combine(day, at, tzinfo=VN_TZ), {}


def deadline_inputs(due_at: datetime) -> tuple[str, str]:
    """The date and time inputs that read back as ``due_at``: the time is left blank when
    the deadline is "trước ngày …" (local midnight), as it was typed."""
    local = due_at.astimezone(VN_TZ)
    at = "" if (local.hour, local.minute) == (0, 0) else local.strftime("%H:%M")
    return local.date().isoformat(), at


def draft_from_form(fields: Mapping[str, Sequence[str]]) -> AdHocDraft:
    """The draft from the posted form's fields (each a list of values)."""

    def first(name: str, default: str = "") -> str:
        values = fields.get(name) or [default]
        return values[0]

    def chosen(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in fields.get(name) or [] if v))

    scope = first("scope", "all")
    return AdHocDraft(
        title=first("title"),
        content=first("content"),
        due_date=first("due_date"),
        due_time=first("due_time"),
        scope=scope if scope in SCOPES else "all",
        kinds=chosen("kinds"),
        units=chosen("units"),
        idempotency_key=first("idempotency_key"),
        basis=BasisDraft.typed(first),
    )


def checked_request(draft: AdHocDraft, now: datetime) -> Checked:
    """The body of ``POST /v1/periods`` for the draft, or what to correct."""
    errors: dict[str, str] = {}
    title = draft.title.strip()
    if not title:
        errors["title"] = "Vui lòng nhập tên yêu cầu báo cáo."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Tên yêu cầu dài quá {TITLE_MAX} ký tự."
    if len(draft.content) > CONTENT_MAX:
        errors["content"] = f"Nội dung yêu cầu dài quá {CONTENT_MAX} ký tự."
    due_at, deadline_errors = local_deadline(draft.due_date, draft.due_time)
    errors.update(deadline_errors)
    if due_at is not None and due_at <= now:
        errors["due_date"] = PAST_DEADLINE
    chosen_scope = draft.scope
    if chosen_scope == "all" and (draft.kinds or draft.units):
        # "Tất cả" is the pre-selected default: ticking boxes under one of the other
        # choices says which one was meant; ticking under both says nothing for sure.
        if draft.kinds and draft.units:
            errors["scope"] = AMBIGUOUS_SCOPE
        chosen_scope = "kinds" if draft.kinds else "units"
    scope: dict[str, Any] = {"all": True}
    if chosen_scope == "kinds":
        scope = {"kinds": list(draft.kinds)}
        if not draft.kinds:
            errors["scope"] = "Chọn ít nhất một loại đơn vị phải báo cáo."
    elif chosen_scope == "units":
        scope = {"units": list(draft.units)}
        if not draft.units:
            errors["scope"] = "Chọn ít nhất một đơn vị phải báo cáo."
    basis, basis_errors = checked_basis(draft.basis)
    errors.update(basis_errors)
    if errors or due_at is None:
        return Checked(None, errors)
    body = {
        "title": title,
        "content": draft.content.strip(),
        "due_at": due_at.isoformat(),
        "scope": scope,
    }
    if basis is not None:
        body["basis"] = basis
    return Checked(body, {})
