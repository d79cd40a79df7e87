"""The town report's draft (dự thảo, issue 10): Phòng Nội vụ edits each part, sees who saved
which version when, reloads the latest figures without losing its edits; leaders read it.

Consolidation composes the draft (hand-written parts kept, the others from the latest
reports) and refuses a save over a newer version with 409, naming who saved; the page then
comes back with everything the reviewer typed and, part by part, what the other person saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.clients import BackendError, Backends
from services.portal.session import Session
from services.portal.views.common import (
    Portal,
    PortalDep,
    SessionDep,
    attempt,
    checked_form,
    form_lists,
    form_text,
    redirect,
    render,
    require_permission,
    token_of,
)
from shared.auth import Permission
from shared.contracts.api.consolidation import Draft, DraftPart, PickedExcerpt

router = APIRouter()

PART_MAX = 120_000  # consolidation's bound for one part's text


def _url(period_id: str) -> str:
    return f"/theo-doi/{quote(period_id, safe='')}/du-thao"


@dataclass(frozen=True)
class PartView:
    """One part on the page: the draft's part, the text the textarea shows, and (after a
    refused save) what the other person saved there."""

    part: DraftPart
    text: str
    theirs: str | None = None

    @property
    def rows(self) -> int:
        """A textarea tall enough for the text (4 to 20 lines)."""
        return min(20, max(4, len(self.text) // 90 + self.text.count("\n") + 2))

    @property
    def lines(self) -> list[str]:
        """The paragraphs to show read-only."""
        return [line for line in self.part.text.splitlines() if line.strip()]


def _groups(parts: list[PartView]) -> list[tuple[str, list[PartView]]]:
    """The parts under their numbered headings, in order."""
    groups: list[tuple[str, list[PartView]]] = []
    for view in parts:
        if not groups or groups[-1][0] != view.part.heading:
            groups.append((view.part.heading, []))
        groups[-1][1].append(view)
    return groups


def _page(
    request: Request,
    portal: Portal,
    session: Session,
    draft: Draft,
    highlights: list[PickedExcerpt],
    *,
    typed: Mapping[str, str] | None = None,
    error: str | None = None,
    highlights_notice: str | None = None,
    status_code: int = 200,
) -> Response:
    views = []
    for part in draft.parts:
        if typed is not None and part.key in typed:
            mine = typed[part.key]
            theirs = part.text if mine != part.text else None
            views.append(PartView(part, mine, theirs))
        else:
            views.append(PartView(part, part.text))
    return render(
        request,
        portal,
        "town_draft.html",
        {
            "title": f"Dự thảo báo cáo tổng hợp: {draft.subject}",
            "draft": draft,
            "groups": _groups(views),
            "highlights": highlights,
            "highlights_notice": highlights_notice,
            "error": error,
            "can_edit": draft.editable and session.may(Permission.REVIEW),
            "part_max": PART_MAX,
            "changed_parts": [p for p in draft.parts if p.changed],
        },
        session=session,
        status_code=status_code,
    )


async def _highlights(
    portal: Portal, session: Session, period_id: str
) -> tuple[list[PickedExcerpt], str | None]:
    found, problem = await attempt(portal.api().highlights(token_of(session), period_id))
    return found or [], problem.message if problem else None


@router.get("/theo-doi/{period_id}/du-thao", include_in_schema=False)
async def draft_page(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """The draft with the latest figures: editable for Phòng Nội vụ, read-only for leaders."""
    require_permission(session, Permission.READ_REPORTS)
    try:
        draft = await portal.api().town_draft(token_of(session), period_id)
    except BackendError as exc:
        if exc.status == 401:
            raise
        back = f"/theo-doi/{quote(period_id, safe='')}"
        return redirect(portal, back, session, notice=exc.message, kind="error")
    highlights, notice = await _highlights(portal, session, period_id)
    return _page(request, portal, session, draft, highlights, highlights_notice=notice)


@router.post("/theo-doi/{period_id}/du-thao", include_in_schema=False)
async def save_draft(
    period_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Save every part as typed (a part left as shown is no edit: its digest goes along);
    a part whose "follow the figures again" box is ticked goes back to the generated text."""
    require_permission(session, Permission.REVIEW)
    posted = await checked_form(request, session)
    fields = form_lists(posted)
    version_text = form_text(posted, "version")
    version = int(version_text) if version_text.isdigit() else 0
    typed = {
        name.removeprefix("part."): values[0].replace("\r\n", "\n")
        for name, values in fields.items()
        if name.startswith("part.") and values
    }
    resets = {name.removeprefix("reset.") for name in fields if name.startswith("reset.")}
    parts: dict[str, dict[str, object]] = {}
    for key, text in typed.items():
        if key in resets:
            parts[key] = {"reset": True}
        else:
            parts[key] = {"text": text, "base": form_text(posted, f"base.{key}") or None}
    api, token = portal.api(), token_of(session)
    too_long = [key for key, text in typed.items() if len(text) > PART_MAX]
    try:
        if too_long:
            raise BackendError(
                "portal",
                422,
                "draft_too_long",
                f"Có {len(too_long)} phần dài quá {PART_MAX:,} ký tự; vui lòng rút gọn.".replace(
                    ",", "."
                ),
            )
        saved = await api.save_town_draft(token, period_id, version, parts)
    except BackendError as exc:
        if exc.status == 401:
            raise
        current, problem = await attempt(api.town_draft(token, period_id))
        if current is None:
            message = problem.message if problem else exc.message
            return redirect(portal, _url(period_id), session, notice=message, kind="error")
        highlights, notice = await _highlights(portal, session, period_id)
        status = exc.status if exc.status in (409, 413, 422) else 503
        return _page(
            request,
            portal,
            session,
            current,
            highlights,
            typed=typed,
            error=exc.message,
            highlights_notice=notice,
            status_code=status,
        )
    notice = f"Đã lưu dự thảo (phiên bản {saved.version})."
    return redirect(portal, _url(period_id), session, notice=notice, kind="success")


@dataclass(frozen=True)
class Picked:
    """The excerpts picked from one unit's report, or why they cannot be shown."""

    excerpts: list[PickedExcerpt]
    notice: str | None = None

    def of(self, field: str) -> list[PickedExcerpt]:
        """The excerpts picked from one narrative (a section's key or a text field's code)."""
        return [e for e in self.excerpts if e.field == field]


async def picked_for(
    api: Backends, token: str, session: Session, period_id: str, unit_code: str
) -> Picked | None:
    """What Phòng Nội vụ picked from this unit's report (None for those who do not pick)."""
    if not session.may(Permission.REVIEW):
        return None
    found, problem = await attempt(api.highlights(token, period_id))
    excerpts = [e for e in found or [] if e.unit_code == unit_code]
    return Picked(excerpts, problem.message if problem else None)


def _report_url(report_id: str) -> str:
    return f"/bao-cao/{quote(report_id, safe='')}"


@router.post("/bao-cao/{report_id}/trich-dan", include_in_schema=False)
async def mark_highlight(
    report_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Pick an excerpt of the unit's narrative for the town report."""
    require_permission(session, Permission.REVIEW)
    posted = await checked_form(request, session)
    period_id = form_text(posted, "period_id").strip()
    unit_code = form_text(posted, "unit_code").strip()
    field = form_text(posted, "field").strip()
    text = form_text(posted, "text").strip()
    back = _report_url(report_id) + f"#muc-{quote(field, safe='')}"
    if not text:
        notice = "Chưa có đoạn trích: giữ lại trong ô đoạn cần đưa vào báo cáo tổng hợp."
        return redirect(portal, back, session, notice=notice, kind="error")
    try:
        await portal.api().mark_highlight(token_of(session), period_id, unit_code, field, text)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, back, session, notice=exc.message, kind="error")
    notice = "Đã đưa đoạn trích vào dự thảo báo cáo tổng hợp (phần nổi bật của mục)."
    return redirect(portal, back, session, notice=notice, kind="success")


@router.post("/bao-cao/{report_id}/trich-dan/{highlight_id}/bo", include_in_schema=False)
async def unmark_highlight(
    report_id: str, highlight_id: str, request: Request, portal: PortalDep, session: SessionDep
) -> Response:
    """Take a picked excerpt out of the town report."""
    require_permission(session, Permission.REVIEW)
    posted = await checked_form(request, session)
    period_id = form_text(posted, "period_id").strip()
    try:
        await portal.api().unmark_highlight(token_of(session), period_id, highlight_id)
    except BackendError as exc:
        if exc.status == 401:
            raise
        return redirect(portal, _report_url(report_id), session, notice=exc.message, kind="error")
    notice = "Đã bỏ đoạn trích khỏi dự thảo báo cáo tổng hợp."
    return redirect(portal, _report_url(report_id), session, notice=notice, kind="success")
