"""Units and their leaders in charge of mass-mobilisation work (plan II.5).

Everyone who follows the reports sees the list; only admins change a unit's leader and
contacts, which the registry takes as a partial ``PATCH /v1/units/{code}``.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.clients import BackendError
from services.portal.session import Session
from services.portal.views.common import (
    Portal,
    PortalDep,
    SessionDep,
    attempt,
    checked_form,
    form_text,
    redirect,
    render,
    require_permission,
    token_of,
)
from shared.auth import Permission
from shared.clock import VN_TZ
from shared.contracts.api.intake import LeaderChange
from shared.contracts.api.registry import UnitView
from shared.contracts.registry import UNIT_KIND_LABELS as KIND_LABELS
from shared.contracts.registry import UNIT_KIND_ORDER as KIND_ORDER
from shared.contracts.registry import Contacts, Leader

router = APIRouter()

PAGE = "/don-vi"
# Registry problem fields (details.problems[].field), as the form names them.
FIELD_OF = {
    "leader.full_name": "leader_full_name",
    "leader.title": "leader_title",
    "leader.phone": "leader_phone",
    "leader.email": "leader_email",
    "leader": "leader_full_name",
    "contacts.emails": "contact_emails",
    "contacts.phone": "contact_phone",
    "contacts": "contact_emails",
}
FORM_FIELDS = (
    "leader_full_name",
    "leader_title",
    "leader_phone",
    "leader_email",
    "contact_emails",
    "contact_phone",
)
_EMAIL_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class UnitRow:
    """One unit on the list, with what keeps reminders from reaching it."""

    unit: UnitView
    kind_label: str
    leader: Leader | None  # phone and e-mail empty when the registry holds them back
    emails: list[str]
    contacts_hidden: bool
    warnings: list[str] = field(default_factory=list)


def _today(portal: Portal) -> date:
    return portal.clock.now().astimezone(VN_TZ).date()


def _is_past(unit: UnitView, today: date) -> bool:
    return unit.valid_to is not None and unit.valid_to < today


def _leader(unit: UnitView) -> Leader | None:
    """The unit's leader as the page shows it (a `PublicLeader` has no phone or e-mail)."""
    leader = unit.leader
    if leader is None or isinstance(leader, Leader):
        return leader
    return Leader(full_name=leader.full_name, title=leader.title)


def unit_row(unit: UnitView, *, current: bool = True) -> UnitRow:
    """A unit as the list shows it; contacts are None when the registry holds them back.
    Only current units that must report are warned about."""
    leader = _leader(unit)
    hidden = unit.contacts is None
    emails = list(unit.contacts.emails) if unit.contacts is not None else []
    warnings: list[str] = []
    if current and unit.must_report:
        if leader is None or not leader.full_name.strip():
            warnings.append("Chưa có lãnh đạo phụ trách công tác dân vận")
        if not hidden and not emails:
            warnings.append("Chưa có thư điện tử liên hệ: thư đôn đốc không đến được đơn vị")
    return UnitRow(unit, KIND_LABELS.get(unit.kind, unit.kind), leader, emails, hidden, warnings)


def _ordered(units: list[UnitView]) -> list[UnitView]:
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    return sorted(
        units, key=lambda u: (order.get(u.kind, 99), u.display_order, u.code, u.valid_from)
    )


def pending_leader_changes(
    changes: list[LeaderChange], units: list[UnitView]
) -> list[LeaderChange]:
    """The leader changes units reported that the registry does not hold yet (once the
    admin records the reported leader, the line is done)."""
    current = {
        unit.code: _nfc(unit.leader.full_name).casefold()
        for unit in units
        if unit.valid_to is None and unit.leader is not None
    }
    return [c for c in changes if current.get(c.unit_code) != _nfc(c.reported.full_name).casefold()]


@router.get(PAGE, include_in_schema=False)
async def units_page(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    """Current units with kind, reporting duty, leader in charge and contact e-mails; past
    units in a second table."""
    require_permission(session, Permission.READ_REPORTS)
    api, token = portal.api(), token_of(session)
    (units, problem), (changes, changes_problem) = await asyncio.gather(
        attempt(api.units(token)), attempt(api.leader_changes(token))
    )
    today = _today(portal)
    records = _ordered(list(units or []))
    current = [unit_row(u) for u in records if not _is_past(u, today)]
    past = [unit_row(u, current=False) for u in records if _is_past(u, today)]
    return render(
        request,
        portal,
        "units.html",
        {
            "title": "Đơn vị và lãnh đạo phụ trách",
            "current": current,
            "past": past,
            "unreachable": sum(1 for r in current if r.warnings),
            "may_edit": session.may(Permission.ADMINISTER),
            "notices": [p.message for p in (problem, changes_problem) if p is not None],
            "leader_changes": pending_leader_changes(changes or [], records),
        },
        session=session,
    )


def _split_emails(text: str) -> list[str]:
    return [e for e in _EMAIL_SPLIT.split(text) if e]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def draft_of_unit(unit: UnitView) -> dict[str, str]:
    """The form's values for the unit as the registry holds it."""
    leader = _leader(unit) or Leader(full_name="")
    contacts = unit.contacts or Contacts()
    return {
        "leader_full_name": leader.full_name,
        "leader_title": leader.title,
        "leader_phone": leader.phone,
        "leader_email": leader.email,
        "contact_emails": "\n".join(contacts.emails),
        "contact_phone": contacts.phone,
    }


def patch_body(draft: Mapping[str, str]) -> dict[str, Any]:
    """The registry's PATCH body: the leader (or null to remove one) and the contacts the
    form edits (the webhook address is left as it is)."""
    leader = {
        "full_name": draft["leader_full_name"],
        "title": draft["leader_title"],
        "phone": draft["leader_phone"],
        "email": draft["leader_email"],
    }
    return {
        "leader": leader if any(leader.values()) else None,
        "contacts": {
            "emails": _split_emails(draft["contact_emails"]),
            "phone": draft["contact_phone"],
        },
    }


def registry_problems(exc: BackendError) -> tuple[dict[str, str], list[str]]:
    """The registry's problems at the form's fields; the rest as notices."""
    details = exc.details if isinstance(exc.details, Mapping) else {}
    raw = details.get("problems")
    problems: list[Any] = list(raw) if isinstance(raw, list) else []
    if not problems and details.get("field"):
        problems = [{"field": details.get("field"), "message": exc.message}]
    errors: dict[str, str] = {}
    notices: list[str] = []
    for problem in problems:
        if not isinstance(problem, Mapping) or not problem.get("message"):
            continue
        name = FIELD_OF.get(str(problem.get("field") or ""))
        if name is None:
            notices.append(str(problem["message"]))
        elif name in errors:
            errors[name] += " " + str(problem["message"])
        else:
            errors[name] = str(problem["message"])
    if not errors and not notices:
        notices.append(exc.message)
    return errors, notices


async def _edit_page(
    request: Request,
    portal: Portal,
    session: Session,
    code: str,
    *,
    draft: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notices: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    api, token = portal.api(), token_of(session)
    unit, history_error = await asyncio.gather(
        api.unit(token, code), attempt(api.unit_history(token, code))
    )
    history, problem = history_error
    leaders = list(reversed(history.leaders)) if history is not None else []  # newest first
    shown = list(notices or [])
    if problem is not None:
        shown.append(problem.message)
    return render(
        request,
        portal,
        "unit_edit.html",
        {
            "title": f"Lãnh đạo phụ trách — {unit.name}",
            "unit": unit,
            "row": unit_row(unit, current=not _is_past(unit, _today(portal))),
            "code": code,
            "draft": dict(draft) if draft is not None else draft_of_unit(unit),
            "errors": dict(errors or {}),
            "notices": shown,
            "leaders": leaders,
            "may_edit": session.may(Permission.ADMINISTER),
        },
        session=session,
        status_code=status_code,
    )


@router.get(PAGE + "/{code}", include_in_schema=False)
async def unit_page(
    code: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """One unit: its leader and contacts (a form for admins) and its leaders over time."""
    require_permission(session, Permission.READ_REPORTS)
    return await _edit_page(request, portal, session, code)


@router.post(PAGE + "/{code}", include_in_schema=False)
async def update_unit(
    code: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Send the leader and contacts to the registry; its field errors come back at the
    fields with the typed values kept."""
    require_permission(session, Permission.ADMINISTER)
    posted = await checked_form(request, session)
    draft = {name: _nfc(form_text(posted, name)) for name in FORM_FIELDS}
    try:
        answer = await portal.api().update_unit(token_of(session), code, patch_body(draft))
    except BackendError as exc:
        if exc.status == 401:
            raise
        errors, notices = registry_problems(exc)
        status = exc.status if 400 <= exc.status < 500 else 422
        return await _edit_page(
            request,
            portal,
            session,
            code,
            draft=draft,
            errors=errors,
            notices=notices,
            status_code=status,
        )
    notice = f"Đã cập nhật lãnh đạo phụ trách và liên hệ của {answer.name}."
    return redirect(
        portal, f"{PAGE}/{quote(code, safe='')}", session, notice=notice, kind="success"
    )
