"""Rules for unit records without I/O: what a valid unit is, what changed, and reorganisations.

A code can be reused by a successor (the 2025 merger), so a record is identified by
`code@valid_from` and two records with one code must not be valid on the same day.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from services.registry.domain import (
    UNIT_KINDS,
    Problem,
    date_problems,
    text_problems,
    unknown_kind_message,
    valid_on,
)
from shared.contracts.registry import Contacts, Leader, UnitState
from shared.formatting import vn_date

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_EMAIL_PART = r"[^@\s,;\x00-\x1f\x7f]"
EMAIL_PATTERN = re.compile(rf"^{_EMAIL_PART}{{1,64}}@{_EMAIL_PART}+\.{_EMAIL_PART}+$")
PHONE_PATTERN = re.compile(r"^\+?[0-9 .()-]+$")
NAME_MAX = 300
PERSON_MAX = 200
URL_MAX = 2000
EMAIL_MAX = 254
DISPLAY_ORDER_MAX = 1_000_000


def unit_id_for(code: str, valid_from: date) -> str:
    """The record id: a code is unique only together with the day it starts."""
    return f"{code}@{valid_from.isoformat()}"


class DatedUnit(Protocol):
    """What the overlap and reference checks need of a record."""

    @property
    def unit_id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date | None: ...


@dataclass(frozen=True)
class UnitDraft:
    """A unit record as someone wants it to be, before it is checked."""

    code: str
    name: str
    kind: str
    valid_from: date
    tags: tuple[str, ...] = ()
    parent_code: str | None = None
    display_order: int = 0
    must_report: bool = True
    valid_to: date | None = None
    successor_codes: tuple[str, ...] = ()
    leader: Leader | None = None
    contacts: Contacts = field(default_factory=Contacts)

    @property
    def unit_id(self) -> str:
        """The record id."""
        return unit_id_for(self.code, self.valid_from)

    def to_state(self, version: int) -> UnitState:
        """The checked draft as the contract."""
        return UnitState(
            unit_id=self.unit_id,
            code=self.code,
            name=self.name,
            kind=self.kind,  # type: ignore[arg-type]  # checked by unit_problems
            tags=self.tags,
            parent_code=self.parent_code,
            display_order=self.display_order,
            must_report=self.must_report,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            successor_codes=self.successor_codes,
            leader=self.leader,
            contacts=self.contacts,
            version=version,
        )

    @classmethod
    def from_state(cls, unit: UnitState) -> UnitDraft:
        """A draft that starts from the record as it is."""
        return cls(
            code=unit.code,
            name=unit.name,
            kind=unit.kind,
            valid_from=unit.valid_from,
            tags=unit.tags,
            parent_code=unit.parent_code,
            display_order=unit.display_order,
            must_report=unit.must_report,
            valid_to=unit.valid_to,
            successor_codes=unit.successor_codes,
            leader=unit.leader,
            contacts=unit.contacts,
        )


class UnitIndex:
    """Records by code, for overlap and reference checks over a whole set of units."""

    def __init__(self, records: Iterable[DatedUnit]) -> None:
        self._by_code: dict[str, list[DatedUnit]] = defaultdict(list)
        for record in records:
            self._by_code[record.code].append(record)

    def codes(self) -> set[str]:
        """Every code in the set."""
        return {code for code, records in self._by_code.items() if records}

    def with_code(self, code: str) -> list[DatedUnit]:
        """The records carrying a code."""
        return list(self._by_code.get(code, ()))


def overlaps(a: DatedUnit, b: DatedUnit) -> bool:
    """Whether two records are valid on at least one common day."""
    a_end = a.valid_to or date.max
    b_end = b.valid_to or date.max
    return a.valid_from <= b_end and b.valid_from <= a_end


def field_problems(draft: UnitDraft) -> list[Problem]:
    """Checks that need nothing but the draft itself."""
    problems: list[Problem] = []
    if not CODE_PATTERN.match(draft.code):
        problems.append(
            Problem(
                "code",
                "invalid_code",
                f"Mã đơn vị «{draft.code}» không hợp lệ: chỉ gồm chữ cái không dấu, chữ số, "
                "«-» hoặc «_», tối đa 32 ký tự.",
            )
        )
    problems += text_problems(
        "name", draft.name, label="Tên đơn vị", max_length=NAME_MAX, too_long_code="name_too_long"
    )
    if not draft.kind:
        problems.append(Problem("kind", "kind_required", "Chưa chọn loại đơn vị."))
    elif draft.kind not in UNIT_KINDS:
        problems.append(Problem("kind", "unknown_kind", unknown_kind_message(draft.kind)))
    problems += [
        Problem(
            "tags",
            "invalid_tag",
            f"Nhãn «{tag}» không hợp lệ: chỉ gồm chữ thường không dấu, chữ số, «-» hoặc «_».",
        )
        for tag in draft.tags
        if not TAG_PATTERN.match(tag)
    ]
    if not 0 <= draft.display_order <= DISPLAY_ORDER_MAX:
        problems.append(
            Problem(
                "display_order",
                "invalid_display_order",
                f"Thứ tự hiển thị phải từ 0 đến {DISPLAY_ORDER_MAX}.",
            )
        )
    dates = date_problems("valid_from", draft.valid_from, label="Ngày bắt đầu hiệu lực")
    dates += date_problems("valid_to", draft.valid_to, label="Ngày hết hiệu lực")
    if dates:
        return problems + dates  # the checks below reason about these dates
    if draft.valid_to is not None and draft.valid_to < draft.valid_from:
        problems.append(
            Problem(
                "valid_to",
                "valid_to_before_valid_from",
                f"Ngày hết hiệu lực {vn_date(draft.valid_to)} trước ngày bắt đầu hiệu lực "
                f"{vn_date(draft.valid_from)}.",
            )
        )
    if draft.successor_codes and draft.valid_to is None:
        problems.append(
            Problem(
                "successor_codes",
                "successor_without_valid_to",
                "Chỉ khai báo đơn vị kế thừa khi đơn vị đã có ngày hết hiệu lực.",
            )
        )
    if draft.parent_code is not None and draft.parent_code == draft.code:
        problems.append(
            Problem("parent_code", "parent_is_self", "Đơn vị không thể là cấp trên của chính nó.")
        )
    if draft.leader is not None:
        problems += _person_problems(draft.leader)
    problems += _contact_problems(draft.contacts)
    return problems


def _person_problems(leader: Leader) -> list[Problem]:
    problems = text_problems(
        "leader.full_name",
        leader.full_name,
        label="Họ và tên lãnh đạo phụ trách",
        max_length=PERSON_MAX,
        required_code="leader_name_required",
    )
    problems += text_problems(
        "leader.title",
        leader.title,
        label="Chức vụ lãnh đạo phụ trách",
        max_length=PERSON_MAX,
        required=False,
    )
    if leader.email and not _valid_email(leader.email):
        problems.append(_bad_email("leader.email", leader.email))
    if leader.phone and not valid_phone(leader.phone):
        problems.append(_bad_phone("leader.phone", leader.phone))
    return problems


def _contact_problems(contacts: Contacts) -> list[Problem]:
    problems = [
        _bad_email("contacts.emails", email) for email in contacts.emails if not _valid_email(email)
    ]
    if contacts.phone and not valid_phone(contacts.phone):
        problems.append(_bad_phone("contacts.phone", contacts.phone))
    if contacts.webhook_url and (
        not re.match(r"^https?://[^\s\x00-\x1f\x7f]+$", contacts.webhook_url)
        or len(contacts.webhook_url) > URL_MAX
    ):
        problems.append(
            Problem(
                "contacts.webhook_url",
                "invalid_webhook_url",
                f"Địa chỉ webhook «{contacts.webhook_url}» phải bắt đầu bằng http:// hoặc https://.",
            )
        )
    return problems


def _valid_email(email: str) -> bool:
    return len(email) <= EMAIL_MAX and bool(EMAIL_PATTERN.match(email))


def valid_phone(phone: str) -> bool:
    """A phone number of 8 to 15 digits, with the usual separators."""
    digits = sum(ch.isdigit() for ch in phone)
    return bool(PHONE_PATTERN.match(phone)) and 8 <= digits <= 15


def _bad_email(field_name: str, email: str) -> Problem:
    return Problem(field_name, "invalid_email", f"Địa chỉ thư điện tử «{email}» không hợp lệ.")


def _bad_phone(field_name: str, phone: str) -> Problem:
    return Problem(field_name, "invalid_phone", f"Số điện thoại «{phone}» không hợp lệ.")


def reference_problems(draft: UnitDraft, index: UnitIndex) -> list[Problem]:
    """Checks against the whole resulting set of units (the draft itself excluded by id)."""
    problems: list[Problem] = []
    for other in index.with_code(draft.code):
        if other.unit_id != draft.unit_id and overlaps(draft, other):
            problems.append(duplicate_problem(draft, other))
            break
    parent = draft.parent_code
    if parent and parent != draft.code and not index.with_code(parent):
        problems.append(
            Problem(
                "parent_code",
                "unknown_parent",
                f"Đơn vị cấp trên «{parent}» không có trong danh mục.",
            )
        )
    if draft.valid_to is not None:
        next_day = draft.valid_to + timedelta(days=1)
        for code in draft.successor_codes:
            successors = [
                u
                for u in index.with_code(code)
                if u.unit_id != draft.unit_id and _valid_on(u, next_day)
            ]
            if not successors:
                problems.append(
                    Problem(
                        "successor_codes",
                        "unknown_successor",
                        f"Đơn vị kế thừa «{code}» không có trong danh mục hoặc chưa có hiệu lực "
                        f"từ ngày {vn_date(next_day)}.",
                    )
                )
    return problems


def _valid_on(unit: DatedUnit, day: date) -> bool:
    return unit.valid_from <= day and (unit.valid_to is None or unit.valid_to >= day)


def duplicate_problem(draft: DatedUnit, other: DatedUnit) -> Problem:
    """The code is taken by another record valid on a common day."""
    return Problem(
        "code",
        "duplicate_code",
        f"Mã đơn vị «{draft.code}» đã được dùng cho «{other.name}» có hiệu lực trùng thời gian "
        f"(từ {vn_date(other.valid_from)}).",
    )


def unit_problems(draft: UnitDraft, index: UnitIndex) -> list[Problem]:
    """Everything wrong with a draft within the resulting set of units."""
    own = field_problems(draft)
    if any(p.field == "code" or p.code == "implausible_date" for p in own):
        return own  # the references cannot be checked without a code and sound dates
    return own + reference_problems(draft, index)


def batch_problems(
    drafts: Sequence[UnitDraft], untouched: Sequence[UnitState]
) -> dict[int, list[Problem]]:
    """Problems of each draft (by position) when all of them replace or join `untouched`."""
    index = UnitIndex([*untouched, *drafts])
    found: dict[int, list[Problem]] = {}
    first_seen: dict[str, int] = {}
    for position, draft in enumerate(drafts):
        problems = unit_problems(draft, index)
        if draft.unit_id in first_seen:
            problems.insert(
                0,
                Problem(
                    "code",
                    "duplicate_row",
                    f"Đơn vị «{draft.code}» hiệu lực từ {vn_date(draft.valid_from)} "
                    "được khai báo nhiều lần.",
                ),
            )
        first_seen.setdefault(draft.unit_id, position)
        if problems:
            found[position] = problems
    return found


def unit_changes(old: UnitState | None, new: UnitState) -> dict[str, dict[str, Any]]:
    """Fields that differ, with their values before and after (the history's content)."""
    before = old.model_dump(mode="json", exclude={"version", "unit_id"}) if old else {}
    after = new.model_dump(mode="json", exclude={"version", "unit_id"})
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def merge_leader(current: Leader | None, patch: Mapping[str, Any] | None) -> Leader | None:
    """A partial leader update: given fields replace, others stay; None removes the leader."""
    if patch is None:
        return None
    base = current.model_dump() if current else {"full_name": ""}
    return Leader.model_validate(base | {k: v for k, v in patch.items() if v is not None})


def merge_contacts(current: Contacts, patch: Mapping[str, Any] | None) -> Contacts:
    """A partial contacts update: given channels replace, others stay."""
    if patch is None:
        return Contacts()
    return Contacts.model_validate(
        current.model_dump() | {k: v for k, v in patch.items() if v is not None}
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of a unit record."""

    unit_id: str
    code: str
    version: int
    action: str
    changed_by: str
    changed_at: datetime
    changes: dict[str, dict[str, Any]]
    note: str = ""


def leader_timeline(entries: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    """Who led each record's mass-mobilisation work and from when to when, oldest first."""
    timeline: list[dict[str, Any]] = []
    current: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: (e.changed_at, e.version)):
        change = entry.changes.get("leader")
        if change is None:
            continue
        previous = current.pop(entry.unit_id, None)
        if previous is not None:
            previous["until"] = entry.changed_at
        if change.get("to"):
            record = {
                "unit_id": entry.unit_id,
                "leader": change["to"],
                "since": entry.changed_at,
                "until": None,
                "recorded_by": entry.changed_by,
            }
            timeline.append(record)
            current[entry.unit_id] = record
    return timeline


@dataclass(frozen=True)
class Merger:
    """Units that end the day before `effective_from` and continue as one successor."""

    successor: UnitDraft
    predecessors: tuple[str, ...]


@dataclass(frozen=True)
class Closure:
    """A unit that ends the day before `effective_from` without merging into a new one;
    `successor_codes` names existing (or newly created) units that take over its work."""

    code: str
    successor_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReorganisationPlan:
    """What a reorganisation writes: records to close and records to create."""

    closed: list[tuple[UnitState, UnitDraft]]
    created: list[UnitDraft]


def plan_reorganisation(
    effective_from: date,
    mergers: Sequence[Merger],
    units: Sequence[UnitState],
    closures: Sequence[Closure] = (),
) -> tuple[ReorganisationPlan | None, list[Problem]]:
    """Close the predecessors and the closed units on the eve of `effective_from` and
    create the successors."""
    problems: list[Problem] = []
    eve = effective_from - timedelta(days=1)
    closed: list[tuple[UnitState, UnitDraft]] = []
    claimed: set[str] = set()
    if not mergers and not closures:
        problems.append(
            Problem("successors", "successors_required", "Chưa khai báo đơn vị kế thừa nào.")
        )
    for number, merger in enumerate(mergers):
        where = f"successors.{number}"
        if merger.successor.valid_from != effective_from:
            merger = replace(merger, successor=replace(merger.successor, valid_from=effective_from))
        if not merger.predecessors:
            problems.append(
                Problem(
                    f"{where}.predecessors",
                    "predecessors_required",
                    f"Đơn vị kế thừa «{merger.successor.code}» chưa có đơn vị tiền thân.",
                )
            )
        for code in merger.predecessors:
            if code in claimed:
                problems.append(
                    Problem(
                        f"{where}.predecessors",
                        "predecessor_repeated",
                        f"Đơn vị «{code}» được sáp nhập vào nhiều đơn vị kế thừa.",
                    )
                )
                continue
            claimed.add(code)
            current = [u for u in units if u.code == code and valid_on(u, eve)]
            if not current:
                problems.append(
                    Problem(
                        f"{where}.predecessors",
                        "unknown_predecessor",
                        f"Đơn vị tiền thân «{code}» không có trong danh mục hoặc không còn hiệu "
                        f"lực ngày {vn_date(eve)}.",
                    )
                )
                continue
            old = current[0]
            if old.valid_from > eve:
                problems.append(
                    Problem(
                        f"{where}.predecessors",
                        "predecessor_too_new",
                        f"Đơn vị «{code}» bắt đầu hiệu lực sau ngày {vn_date(eve)}.",
                    )
                )
                continue
            draft = replace(
                UnitDraft.from_state(old),
                valid_to=eve,
                successor_codes=(merger.successor.code,),
            )
            closed.append((old, draft))
    merged = len(closed)  # closed[:merged] are predecessors, the rest the closures
    for number, closure in enumerate(closures):
        where = f"closures.{number}"
        if closure.code in claimed:
            problems.append(
                Problem(
                    f"{where}.code",
                    "predecessor_repeated",
                    f"Đơn vị «{closure.code}» được khai báo nhiều lần trong lần sắp xếp này.",
                )
            )
            continue
        claimed.add(closure.code)
        ending = _open_on(units, closure.code, eve)
        if ending is None:
            problems.append(
                Problem(
                    f"{where}.code",
                    "unknown_closed_unit",
                    f"Đơn vị «{closure.code}» không có trong danh mục hoặc không còn hiệu lực "
                    f"ngày {vn_date(eve)}.",
                )
            )
            continue
        draft = replace(
            UnitDraft.from_state(ending), valid_to=eve, successor_codes=closure.successor_codes
        )
        closed.append((ending, draft))
    if problems:
        return None, problems
    created = [
        replace(m.successor, valid_from=effective_from, valid_to=None, successor_codes=())
        for m in mergers
    ]
    existing_ids = {u.unit_id for u in units}
    problems += [
        Problem(
            f"successors.{number}.code",
            "reorganisation_already_applied",
            f"Đơn vị «{draft.code}» hiệu lực từ {vn_date(effective_from)} đã có trong danh mục.",
        )
        for number, draft in enumerate(created)
        if draft.unit_id in existing_ids
    ]
    if problems:
        return None, problems
    changed = [draft for _, draft in closed] + created
    replaced = {old.unit_id for old, _ in closed}
    untouched = [u for u in units if u.unit_id not in replaced]
    for position, found in sorted(batch_problems(changed, untouched).items()):
        if position < merged:
            prefix = ""
        elif position < len(closed):
            prefix = f"closures.{position - merged}."
        else:
            prefix = f"successors.{position - len(closed)}."
        problems += [replace(p, field=prefix + p.field) for p in found]
    if problems:
        return None, problems
    return ReorganisationPlan(closed=closed, created=created), []


def _open_on(units: Sequence[UnitState], code: str, day: date) -> UnitState | None:
    """The record of a code valid on `day` that started before it, if any."""
    for unit in units:
        if unit.code == code and valid_on(unit, day) and unit.valid_from <= day:
            return unit
    return None


def pending_parts(
    effective_from: date,
    mergers: Sequence[Merger],
    closures: Sequence[Closure],
    units: Sequence[UnitState],
) -> tuple[list[Merger], list[Closure]]:
    """The parts of a reorganisation not applied yet: mergers whose successor does not
    exist, closures of units still open (no end date) on the eve of `effective_from`; a
    file applied once, then extended, applies only what it added, and an end date an admin
    set meanwhile is left alone."""
    existing = {u.unit_id for u in units}
    eve = effective_from - timedelta(days=1)
    open_mergers = [
        m for m in mergers if unit_id_for(m.successor.code, effective_from) not in existing
    ]
    open_closures = [
        c
        for c in closures
        if (unit := _open_on(units, c.code, eve)) is not None and unit.valid_to is None
    ]
    return open_mergers, open_closures
