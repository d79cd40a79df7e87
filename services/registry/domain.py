"""Registry rules without I/O: who is expected to report, and the plan's reporting regime."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, get_args

from shared.clock import VN_TZ, local_midnight
from shared.contracts.registry import ExpectedUnit, PeriodKind, RequestBasis, UnitKind, UnitState
from shared.formatting import vn_date, vn_datetime

UNIT_KINDS: tuple[str, ...] = get_args(UnitKind)
KIND_LABELS = {
    "department": "phòng, ban",
    "centre": "trung tâm",
    "ward": "phường",
    "commune": "xã",
    "agency": "cơ quan",
}
TITLE_MAX = 300


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the field it is about, a stable code, a message."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"field": self.field, "code": self.code, "message": self.message}


def unknown_kind_message(kind: str) -> str:
    """The message for a unit kind the registry does not know."""
    choices = ", ".join(f"{k} ({label})" for k, label in KIND_LABELS.items())
    return f"Loại đơn vị «{kind}» không hợp lệ; chọn một trong: {choices}."


AD_HOC_FORM = ("dvcq-dot-xuat", "2023.1")


@dataclass(frozen=True)
class FormInUse:
    """A version of the periodic form, used by the periods whose deadline day is on or
    after `due_from` (until a later version takes over)."""

    form_id: str
    version: str
    due_from: date


# 2023.2 adds dân chủ ở cơ sở (the Law took effect on 01/7/2023), tín ngưỡng – tôn giáo,
# kỷ luật, kỷ cương and the People's criticism: 2023-H1 (due 10/6/2023) keeps 2023.1,
# 2023-Y (due 25/11/2023) and every later period use 2023.2.
DEFAULT_PERIODIC_FORMS: tuple[FormInUse, ...] = (
    FormInUse("dvcq-dinh-ky", "2023.1", date(2019, 1, 1)),
    FormInUse("dvcq-dinh-ky", "2023.2", date(2023, 7, 1)),
)


def form_in_use(due_at: datetime, forms: Sequence[FormInUse]) -> tuple[str, str]:
    """The (form id, version) for a period with this deadline: the newest version in use
    on its last day, or the oldest one for a period before them all."""
    day = last_valid_day(due_at)
    ordered = sorted(forms, key=lambda f: f.due_from)
    if not ordered:
        raise ValueError("no periodic form is configured")
    chosen = [f for f in ordered if f.due_from <= day] or ordered[:1]
    return chosen[-1].form_id, chosen[-1].version


@dataclass(frozen=True)
class Scope:
    """Which units a period asks: all, some kinds, or a list of codes."""

    all: bool = False
    kinds: tuple[str, ...] = ()
    units: tuple[str, ...] = ()

    def includes(self, unit: UnitState) -> bool:
        """Whether the unit falls in the scope."""
        return self.all or unit.kind in self.kinds or unit.code in self.units

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        if self.all:
            return {"all": True}
        if self.kinds:
            return {"kinds": list(self.kinds)}
        return {"units": list(self.units)}

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Scope:
        """Read the JSON form."""
        kinds = raw.get("kinds") or ()
        units = raw.get("units") or ()
        return cls(
            all=bool(raw.get("all")),
            kinds=tuple(str(k) for k in kinds) if isinstance(kinds, list | tuple) else (),
            units=tuple(str(u) for u in units) if isinstance(units, list | tuple) else (),
        )


def last_valid_day(due_at: datetime) -> date:
    """The last local day on which a report is on time: 'trước ngày 10/6' gives 9/6."""
    return (due_at.astimezone(VN_TZ) - timedelta(microseconds=1)).date()


def valid_on(unit: UnitState, day: date) -> bool:
    """Whether the unit exists on that day."""
    return unit.valid_from <= day and (unit.valid_to is None or unit.valid_to >= day)


def resolve_expected_units(
    units: Iterable[UnitState], scope: Scope, due_at: datetime
) -> list[ExpectedUnit]:
    """Units in scope that must report and are valid at the deadline, in registry order."""
    day = last_valid_day(due_at)
    chosen = [u for u in units if u.must_report and valid_on(u, day) and scope.includes(u)]
    chosen.sort(key=lambda u: (u.display_order, u.code))
    return [
        ExpectedUnit(
            code=u.code, name=u.name, kind=u.kind, tags=u.tags, display_order=u.display_order
        )
        for u in chosen
    ]


@dataclass(frozen=True)
class RegimeRule:
    """One periodic report of the plan: when it is due and what data window it covers."""

    suffix: str
    kind: PeriodKind
    title: str
    due_month: int
    due_day: int
    window_end_month: int
    window_end_day: int
    window_start_month: int = 12
    window_start_day: int = 15
    window_start_previous_year: bool = True
    # A form pinned for every year of this rule; None: the version in use at the deadline.
    form: tuple[str, str] | None = None
    forms: tuple[FormInUse, ...] = DEFAULT_PERIODIC_FORMS


# Plan IV.4 (due dates) and Nghị định 09/2019 (data windows from 15/12 of the year before).
DEFAULT_REGIME: tuple[RegimeRule, ...] = (
    RegimeRule("H1", "six_month", "6 tháng đầu năm {year}", 6, 10, 6, 14),
    RegimeRule("Y", "annual", "năm {year}", 11, 25, 12, 14),
)


@dataclass(frozen=True)
class PlannedPeriod:
    """A period the regime generates for a year."""

    period_id: str
    kind: PeriodKind
    year: int
    title: str
    window_start: date
    window_end: date
    due_at: datetime
    form: tuple[str, str]


def regime_periods(year: int, rules: Sequence[RegimeRule] = DEFAULT_REGIME) -> list[PlannedPeriod]:
    """The periodic reports due in a year."""
    planned = []
    for rule in rules:
        due_at = local_midnight(date(year, rule.due_month, rule.due_day))
        planned.append(
            PlannedPeriod(
                period_id=f"{year}-{rule.suffix}",
                kind=rule.kind,
                year=year,
                title=rule.title.format(year=year),
                window_start=date(
                    year - 1 if rule.window_start_previous_year else year,
                    rule.window_start_month,
                    rule.window_start_day,
                ),
                window_end=date(year, rule.window_end_month, rule.window_end_day),
                due_at=due_at,
                form=rule.form or form_in_use(due_at, rule.forms),
            )
        )
    return planned


_AD_HOC_ID = re.compile(r"^(\d{4})-DX-(\d+)$")


def next_ad_hoc_id(year: int, existing_ids: Iterable[str]) -> str:
    """The next ad-hoc request number of the year: 2026-DX-01, 2026-DX-02, …"""
    numbers = [
        int(m[2]) for m in (_AD_HOC_ID.match(i) for i in existing_ids) if m and int(m[1]) == year
    ]
    return f"{year}-DX-{max(numbers, default=0) + 1:02d}"


def parse_scope(
    raw: Mapping[str, Any], known_codes: Collection[str]
) -> tuple[Scope | None, list[Problem]]:
    """A request's scope: exactly one of all, kinds or units, naming only known things."""
    given = {
        key: raw.get(key)
        for key in ("all", "kinds", "units")
        if raw.get(key) not in (None, False, [], ())
    }
    unknown_keys = sorted(set(raw) - {"all", "kinds", "units"})
    if unknown_keys or len(given) != 1 or given.get("all", True) is not True:
        return None, [
            Problem(
                "scope",
                "invalid_scope",
                'Phạm vi phải là đúng một trong: {"all": true}, {"kinds": [...]} '
                'hoặc {"units": [...]}.',
            )
        ]
    if "all" in given:
        return Scope(all=True), []
    problems: list[Problem] = []
    if "kinds" in given:
        kinds = _string_list(given["kinds"])
        problems += [
            Problem("scope.kinds", "unknown_kind", unknown_kind_message(k))
            for k in kinds
            if k not in UNIT_KINDS
        ]
        return (None if problems else Scope(kinds=tuple(dict.fromkeys(kinds)))), problems
    units = _string_list(given["units"])
    problems += [
        Problem("scope.units", "unknown_unit", f"Đơn vị «{c}» không có trong danh mục.")
        for c in units
        if c not in known_codes
    ]
    return (None if problems else Scope(units=tuple(dict.fromkeys(units)))), problems


def _string_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def deadline_problems(due_at: datetime, now: datetime) -> list[Problem]:
    """A new or moved deadline must lie in the future, and within five years."""
    implausible = instant_problems("due_at", due_at, label="Hạn gửi")
    if implausible:
        return implausible
    if due_at > now + timedelta(days=366 * DEADLINE_YEARS_AHEAD):
        return [
            Problem(
                "due_at",
                "due_too_far",
                f"Hạn gửi {vn_datetime(due_at)} cách hôm nay quá {DEADLINE_YEARS_AHEAD} năm; "
                "hãy kiểm tra lại năm.",
            )
        ]
    if due_at <= now:
        return [
            Problem(
                "due_at",
                "due_in_past",
                f"Hạn gửi {vn_datetime(due_at)} đã qua; hãy chọn một thời điểm trong tương lai.",
            )
        ]
    return []


def title_problems(title: str) -> list[Problem]:
    """A period title: one line, no control characters, required, fits the column."""
    return text_problems(
        "title",
        title,
        label="Tiêu đề yêu cầu báo cáo",
        max_length=TITLE_MAX,
        too_long_code="title_too_long",
    )


def content_problems(content: str) -> list[Problem]:
    """A request's content: free text with line breaks, optional, bounded."""
    return text_problems(
        "content",
        content,
        label="Nội dung yêu cầu báo cáo",
        max_length=CONTENT_MAX,
        required=False,
        multiline=True,
    )


def window_problems(start: date | None, end: date | None) -> list[Problem]:
    """A data window ends on or after its start."""
    if start and end and end < start:
        return [
            Problem(
                "window_end",
                "window_end_before_start",
                f"Ngày cuối kỳ số liệu {vn_date(end)} trước ngày đầu kỳ {vn_date(start)}.",
            )
        ]
    return []


def empty_scope_problem(due_at: datetime) -> Problem:
    """Nobody in scope must report at the deadline."""
    return Problem(
        "scope",
        "scope_empty",
        "Không có đơn vị nào trong phạm vi phải báo cáo vào hạn "
        f"{vn_date(last_valid_day(due_at))}.",
    )


# --- free text and plausible dates ---------------------------------------------------------

CONTENT_MAX = 20_000
NOTE_MAX = 2_000
FIRST_YEAR = 1990  # thị xã Hồng Lĩnh was established in 1992
LAST_YEAR = 2100
DEADLINE_YEARS_AHEAD = 5
# A data window lies around its deadline: it starts at most two years before it and ends at
# most one year after it (Nghị định 09/2019's windows end a few days after the deadline).
WINDOW_BEFORE_DUE = timedelta(days=2 * 366)
WINDOW_AFTER_DUE = timedelta(days=366)
_ALLOWED_CONTROLS = frozenset("\n\t")


def text_problems(
    field: str,
    value: str,
    *,
    label: str,
    max_length: int,
    required: bool = True,
    multiline: bool = False,
    required_code: str | None = None,
    too_long_code: str = "too_long",
) -> list[Problem]:
    """Text as stored: NFC (the request bodies normalise it), no control characters (a line
    break or tab only in multi-line text), not blank when required, within its bound."""
    for position, character in enumerate(value):
        category = unicodedata.category(character)
        allowed = multiline and character in _ALLOWED_CONTROLS
        if (category == "Cc" and not allowed) or category == "Cs":
            return [
                Problem(
                    field,
                    "control_character",
                    f"{label} chứa ký tự không được phép (U+{ord(character):04X}) ở vị trí "
                    f"{position + 1}.",
                )
            ]
    if unicodedata.normalize("NFC", value) != value:
        return [Problem(field, "not_nfc", f"{label} chưa ở dạng Unicode dựng sẵn (NFC).")]
    if required and not value.strip():
        return [
            Problem(field, required_code or f"{field}_required", f"{label} không được để trống.")
        ]
    if len(value) > max_length:
        return [
            Problem(
                field,
                too_long_code,
                f"{label} dài {len(value)} ký tự, vượt quá giới hạn {max_length} ký tự.",
            )
        ]
    return []


def date_problems(field: str, value: date | None, *, label: str) -> list[Problem]:
    """A date the registry can reason about: between 1990 and 2100."""
    if value is None or FIRST_YEAR <= value.year <= LAST_YEAR:
        return []
    return [
        Problem(
            field,
            "implausible_date",
            f"{label} {vn_date(value)} không hợp lệ: phải trong khoảng năm {FIRST_YEAR}–"
            f"{LAST_YEAR}.",
        )
    ]


def instant_problems(field: str, value: datetime, *, label: str) -> list[Problem]:
    """An instant between 1990 and 2100 (checked before any time-zone arithmetic)."""
    if FIRST_YEAR <= value.year <= LAST_YEAR:
        return []
    return [
        Problem(
            field,
            "implausible_date",
            f"{label} năm {value.year} không hợp lệ: phải trong khoảng năm {FIRST_YEAR}–"
            f"{LAST_YEAR}.",
        )
    ]


def period_window_problems(start: date | None, end: date | None, due_at: datetime) -> list[Problem]:
    """The data window agrees with itself and with its deadline: start ≤ end, and both near the
    deadline (from two years before it to one year after it; the start not after it)."""
    problems = date_problems("window_start", start, label="Ngày đầu kỳ số liệu")
    problems += date_problems("window_end", end, label="Ngày cuối kỳ số liệu")
    if problems:
        return problems
    problems = window_problems(start, end)
    if problems:
        return problems
    due_day = last_valid_day(due_at)
    if start is not None and start > due_day:
        problems.append(
            Problem(
                "window_start",
                "window_start_after_due",
                f"Ngày đầu kỳ số liệu {vn_date(start)} sau hạn gửi báo cáo {vn_date(due_day)}.",
            )
        )
    if start is not None and start < due_day - WINDOW_BEFORE_DUE:
        problems.append(
            Problem(
                "window_start",
                "window_implausible",
                f"Ngày đầu kỳ số liệu {vn_date(start)} cách hạn gửi {vn_date(due_day)} quá hai "
                "năm; hãy kiểm tra lại năm.",
            )
        )
    if end is not None and end > due_day + WINDOW_AFTER_DUE:
        problems.append(
            Problem(
                "window_end",
                "window_implausible",
                f"Ngày cuối kỳ số liệu {vn_date(end)} sau hạn gửi {vn_date(due_day)} quá một "
                "năm; hãy kiểm tra lại năm.",
            )
        )
    if end is not None and end < due_day - WINDOW_BEFORE_DUE:
        problems.append(
            Problem(
                "window_end",
                "window_implausible",
                f"Ngày cuối kỳ số liệu {vn_date(end)} cách hạn gửi {vn_date(due_day)} quá hai "
                "năm; hãy kiểm tra lại năm.",
            )
        )
    return problems


def basis_problems(basis: RequestBasis | None, today: date) -> list[Problem]:
    """The asking document of an ad-hoc request: short single-line texts, a past date."""
    if basis is None:
        return []
    problems: list[Problem] = []
    for name, label, bound in (
        ("document_type", "Loại văn bản", 100),
        ("number", "Số văn bản", 100),
        ("issuer", "Cơ quan ban hành", 300),
        ("subject", "Trích yếu", 1000),
    ):
        problems += text_problems(
            f"basis.{name}", getattr(basis, name), label=label, max_length=bound, required=False
        )
    if basis.issued_on is not None:
        problems += date_problems("basis.issued_on", basis.issued_on, label="Ngày văn bản")
        if not problems and basis.issued_on > today:
            problems.append(
                Problem(
                    "basis.issued_on",
                    "issued_in_future",
                    f"Ngày văn bản {vn_date(basis.issued_on)} chưa đến.",
                )
            )
    return problems
