"""What the HTTP API shows: request bodies, and responses with personal data held back."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from services.registry.domain import Scope
from services.registry.unit_rules import HistoryEntry, leader_timeline
from shared.auth import Permission, Principal
from shared.clock import VN_TZ, Clock
from shared.contracts.registry import PeriodState, UnitState


def local_today(clock: Clock) -> date:
    """Today in Asia/Ho_Chi_Minh."""
    return clock.now().astimezone(VN_TZ).date()


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


class Body(BaseModel):
    """A request body: unknown fields refused, text NFC-normalised and trimmed (secrets are
    taken exactly as typed)."""

    model_config = ConfigDict(extra="forbid")
    verbatim: ClassVar[frozenset[str]] = frozenset({"password", "old_password", "new_password"})

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v if k in cls.verbatim else _nfc(v) for k, v in data.items()}


def as_local_instant(value: datetime) -> datetime:
    """A deadline without an offset is read as Asia/Ho_Chi_Minh time."""
    return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value


def may_see_contacts(principal: Principal, code: str) -> bool:
    """Officials' phone numbers and e-mail addresses are personal data: reviewers, admins and
    the unit itself only."""
    return principal.may(Permission.READ_CONTACTS) or (
        principal.role == "unit" and principal.unit_code == code
    )


def _public_leader(leader: Any) -> Any:
    if not isinstance(leader, dict):
        return leader
    return {k: leader.get(k, "") for k in ("full_name", "title")}


def unit_view(unit: UnitState, principal: Principal) -> dict[str, Any]:
    """A unit as this caller may see it."""
    view = unit.model_dump(mode="json")
    if not may_see_contacts(principal, unit.code):
        view["contacts"] = None
        view["leader"] = _public_leader(view.get("leader"))
    return view


def history_view(code: str, entries: list[HistoryEntry], principal: Principal) -> dict[str, Any]:
    """A unit's recorded changes and its leaders over time, as this caller may see them."""
    private = not may_see_contacts(principal, code)
    shown: list[dict[str, Any]] = []
    for entry in entries:
        changes = {name: dict(change) for name, change in entry.changes.items()}
        if private:
            if "contacts" in changes:
                changes["contacts"] = {"from": None, "to": None, "hidden": True}
            if "leader" in changes:
                changes["leader"] = {
                    side: _public_leader(changes["leader"].get(side)) for side in ("from", "to")
                }
        shown.append(
            {
                "unit_id": entry.unit_id,
                "code": entry.code,
                "version": entry.version,
                "action": entry.action,
                "changed_by": entry.changed_by,
                "changed_at": entry.changed_at.isoformat(),
                "changes": changes,
                "note": entry.note,
            }
        )
    leaders = []
    for record in leader_timeline(entries):
        leaders.append(
            {
                "unit_id": record["unit_id"],
                "leader": _public_leader(record["leader"]) if private else record["leader"],
                "since": record["since"].isoformat(),
                "until": record["until"].isoformat() if record["until"] else None,
                "recorded_by": record["recorded_by"],
            }
        )
    return {"code": code, "entries": shown, "leaders": leaders}


def period_view(period: PeriodState, scope: Scope | None) -> dict[str, Any]:
    """A period with the codes of the units expected to report (and their details)."""
    view = period.model_dump(mode="json")
    view["expected_units"] = [u.code for u in period.expected_units]
    view["expected_unit_details"] = [u.model_dump(mode="json") for u in period.expected_units]
    if scope is not None:
        view["scope"] = scope.as_dict()
    return view
