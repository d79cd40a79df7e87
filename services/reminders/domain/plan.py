"""What the reminders service knows of one period at one moment, and who still owes it a report.

Pure values built by the store from the projections: the scheduler, "urge now", the list of
missing units, the urging letter and the planned schedule all read the same `PeriodPlan`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from services.reminders.domain.models import PeriodView, UnitState
from shared.contracts.registry import Contacts, Leader, UnitKind

TITLE_PREFIX = "Báo cáo công tác Dân vận chính quyền"

MissingState = Literal["not_submitted", "returned", "withdrawn"]


def reminder_title(title: str) -> str:
    """The title messages use: the registry's "6 tháng đầu năm 2023" gets the report's name."""
    title = unicodedata.normalize("NFC", title.strip())
    if title.lower().startswith("báo cáo"):
        return title
    return f"{TITLE_PREFIX} {title}"


@dataclass(frozen=True)
class KnownUnit:
    """A unit as the registry last described it: where its reminders go."""

    code: str
    name: str
    leader: Leader | None
    contacts: Contacts

    @property
    def has_contact(self) -> bool:
        """Whether any e-mail, phone or webhook is known for the unit's own reminders."""
        leader = self.leader
        return bool(
            self.contacts.emails
            or self.contacts.phone
            or self.contacts.webhook_url
            or (leader is not None and (leader.email or leader.phone))
        )


@dataclass(frozen=True)
class ExpectedUnit:
    """A unit a period expects, with its name (and kind) as the registry resolved it.

    `kind` is None for a period stored before the projection kept the kinds."""

    code: str
    name: str
    display_order: int = 0
    kind: UnitKind | None = None


@dataclass
class PeriodPlan:
    """Everything the scheduler reads for one period, in one snapshot."""

    period: PeriodView
    expected: list[ExpectedUnit]
    states: dict[str, UnitState]
    units: dict[str, KnownUnit]
    sent: set[str] = field(default_factory=set)
    report_status: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[ExpectedUnit]:
        """Expected units that have not reported, in registry order."""
        return [u for u in self.expected if not self.states[u.code].reported]


@dataclass(frozen=True)
class MissingUnit:
    """A unit that has not (or no longer) reported, as reviewers see it."""

    code: str
    name: str
    state: MissingState
    reason: str | None
    has_contact: bool
    kind: UnitKind | None = None


def missing_units(plan: PeriodPlan) -> list[MissingUnit]:
    """Who still owes the period a report, with why and whether they can be reached."""
    result = []
    for unit in plan.missing():
        status = plan.report_status.get(unit.code)
        state: MissingState = (
            "returned" if status == "returned" else "withdrawn" if status else "not_submitted"
        )
        returned = plan.states[unit.code].returned
        known = plan.units.get(unit.code)
        result.append(
            MissingUnit(
                code=unit.code,
                name=unit.name,
                state=state,
                reason=returned.reason if returned is not None else None,
                has_contact=known is not None and known.has_contact,
                kind=unit.kind,
            )
        )
    return result
