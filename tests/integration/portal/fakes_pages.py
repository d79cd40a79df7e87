"""Fake routes for the portal pages of issues 10 and 11, kept apart from `fakes.py`.

Each answer is built from the backends' own models (shared/contracts/api/*), so a page that
reads a field the contract does not have fails here as it would in front of the services.
`install` adds the routes to the fake apps `fakes.build_portal` creates; the state lives
in `PagesState` on the FakeSystem.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.intake.prefill import prefilled
from shared.contracts.api import consolidation as consolidation_api
from shared.contracts.api import intake as intake_api
from shared.contracts.api import registry as registry_api
from shared.contracts.api import reminders as reminders_api
from shared.formatting import vn_datetime
from shared.forms import form_for_unit, load_form, validate_report

if TYPE_CHECKING:
    from tests.integration.portal.fakes import FakeSystem


@dataclass
class PagesState:
    """What the new fake routes keep between calls."""

    leader_changes: list[intake_api.LeaderChange] = field(default_factory=list)
    # (period_id, unit_code) -> the unit's draft, as intake stores it.
    drafts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    difficulty_keys: dict[str, str] = field(default_factory=dict)
    # period_id -> the reminders planned (reminders' /schedule), before the `days` cut.
    schedule: dict[str, list[reminders_api.ScheduledReminder]] = field(default_factory=dict)
    # period_id -> the town report's saved draft (see _town_draft).
    town_drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    highlights: dict[str, list[consolidation_api.PickedExcerpt]] = field(default_factory=dict)
    plan_number_filled: bool = False
    imports: list[tuple[str, bool]] = field(default_factory=list)  # (filename, dry_run)
    passwords: dict[str, str] = field(default_factory=dict)


def _caller(request: Request) -> dict[str, Any] | None:
    from tests.integration.portal.fakes import caller

    return caller(request)


def _refuse(code: int, error_code: str, message: str) -> JSONResponse:
    from tests.integration.portal.fakes import error

    return error(code, error_code, message)


def leader_change(
    system: FakeSystem, report: dict[str, Any], full_name: str, title: str
) -> intake_api.LeaderChange:
    """A leader change as intake lists it, for a report in the fake system."""
    leader = system.units[report["unit_code"]].get("leader")
    return intake_api.LeaderChange(
        report_id=report["report_id"],
        period_id=report["period_id"],
        unit_code=report["unit_code"],
        unit_name=report["unit_name"],
        version=report["version"],
        status=report["status"],
        submitted_at=datetime.fromisoformat(report["submitted_at"]),
        on_record=intake_api.LeaderInfo(full_name=leader["full_name"], title=leader["title"])
        if leader
        else None,
        reported=intake_api.LeaderInfo(full_name=full_name, title=title),
    )


def _intake(system: FakeSystem, app: FastAPI) -> None:
    state = system.pages

    @app.get("/v1/leader-changes", response_model=list[intake_api.LeaderChange])
    async def leader_changes(request: Request, period_id: str | None = None) -> Any:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] == "unit":
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        return [c for c in state.leader_changes if period_id in (None, c.period_id)]


def _draft_view(
    system: FakeSystem, period: dict[str, Any], stored: dict[str, Any]
) -> intake_api.Draft:
    from tests.integration.portal.fakes import UNITS

    unit = UNITS[stored["unit_code"]]
    content = {k: v for k, v in stored["content"].items() if k != "period_id"}
    result = validate_report(
        load_form(period["form_id"], period["form_version"]),
        unit["kind"],
        set(unit["tags"]),
        content,
        leader_on_record=system.units[unit["code"]].get("leader") is not None,
    )
    report = next(
        (
            r
            for r in system.reports.values()
            if r["period_id"] == period["period_id"] and r["unit_code"] == unit["code"]
        ),
        None,
    )
    issues = [intake_api.ContentIssue.model_validate(i.model_dump()) for i in result.errors]
    return intake_api.Draft(
        period_id=period["period_id"],
        unit_code=unit["code"],
        content=stored["content"],
        saved_at=stored["saved_at"],
        saved_by=stored["saved_by"],
        revision=stored["revision"],
        prefilled_from=stored.get("prefilled_from"),
        issues=issues,
        warnings=[intake_api.ContentIssue.model_validate(w.model_dump()) for w in result.warnings],
        ready=not issues,
        report_id=report["report_id"] if report else None,
    )


def _drafts(system: FakeSystem, app: FastAPI) -> None:
    state = system.pages

    def period_of(period_id: str) -> dict[str, Any] | None:
        return next((p for p in system.periods if p["period_id"] == period_id), None)

    def unit_caller(request: Request) -> dict[str, Any] | JSONResponse:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] != "unit":
            return _refuse(403, "forbidden", "Chỉ tài khoản đơn vị mới có bản nháp.")
        return who

    def keep(period_id: str, who: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        key = (period_id, who["unit"])
        earlier = state.drafts.get(key)
        stored = {
            "unit_code": who["unit"],
            "content": content,
            "saved_at": system.clock.now(),
            "saved_by": who["sub"],
            "revision": (earlier["revision"] + 1) if earlier else 1,
            "prefilled_from": earlier.get("prefilled_from") if earlier else None,
        }
        state.drafts[key] = stored
        return stored

    @app.put("/v1/periods/{period_id}/draft", response_model=intake_api.Draft)
    async def save(period_id: str, request: Request) -> Any:
        body = await system.record(request)
        who = unit_caller(request)
        if isinstance(who, JSONResponse):
            return who
        if (refused := system.refusal(request)) is not None:
            return refused
        period = period_of(period_id)
        if period is None:
            return _refuse(404, "period_not_found", f"Không tìm thấy kỳ báo cáo «{period_id}».")
        return _draft_view(system, period, keep(period_id, who, body))

    @app.get("/v1/periods/{period_id}/draft", response_model=intake_api.Draft)
    async def read(period_id: str, request: Request) -> Any:
        who = unit_caller(request)
        if isinstance(who, JSONResponse):
            return who
        period = period_of(period_id)
        stored = state.drafts.get((period_id, who["unit"]))
        if period is None or stored is None:
            message = f"Đơn vị chưa lưu bản nháp báo cáo {period['title'] if period else ''}."
            return _refuse(404, "draft_not_found", message)
        return _draft_view(system, period, stored)

    @app.post("/v1/periods/{period_id}/draft/prefill", response_model=intake_api.Draft)
    async def prefill(period_id: str, request: Request) -> Any:
        await system.record(request)
        who = unit_caller(request)
        if isinstance(who, JSONResponse):
            return who
        period = period_of(period_id)
        assert period is not None
        earlier = [
            (p, r)
            for r in system.reports.values()
            if r["unit_code"] == who["unit"]
            and (p := period_of(r["period_id"])) is not None
            and p["kind"] != "ad_hoc"
            and p["due_at"] < period["due_at"]
        ]
        if not earlier:
            return _refuse(
                404,
                "no_earlier_report",
                "Đơn vị chưa có báo cáo định kỳ nào của kỳ trước để dùng làm bản nháp.",
            )
        source_period, source = max(earlier, key=lambda pr: pr[0]["due_at"])
        from tests.integration.portal.fakes import UNITS

        unit = UNITS[who["unit"]]
        target = load_form(period["form_id"], period["form_version"])
        stored = state.drafts.get((period_id, who["unit"]))
        content, filled = prefilled(
            stored["content"] if stored else {"period_id": period_id},
            source["content"],
            load_form(source["form_id"], source["form_version"]),
            target,
            form_for_unit(target, unit["kind"], set(unit["tags"])),
        )
        kept = keep(period_id, who, content)
        kept["prefilled_from"] = intake_api.DraftSource(
            report_id=source["report_id"],
            period_id=source_period["period_id"],
            period_title=source_period["title"],
            version=source["version"],
            form_version=source["form_version"],
            filled=filled,
        )
        return _draft_view(system, period, kept)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _documents(system: FakeSystem, app: FastAPI) -> None:
    @app.get("/v1/reports/{report_id}/document.docx", response_class=Response)
    async def document(report_id: str, request: Request, version: int | None = None) -> Response:
        await system.record(request)
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        report = system.reports.get(report_id)
        if report is None or (who["role"] == "unit" and report["unit_code"] != who["unit"]):
            return _refuse(404, "report_not_found", f"Không tìm thấy báo cáo «{report_id}».")
        number = version or report["version"]
        if number > report["version"]:
            return _refuse(404, "version_not_found", f"Báo cáo không có phiên bản {number}.")
        name = f"bao-cao-{report['period_id']}-{report['unit_code']}-v{number}.docx"
        return Response(
            f"PK docx {report['unit_name']} v{number}".encode(),
            media_type=DOCX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def thread(system: FakeSystem, stored: dict[str, Any]) -> intake_api.DifficultyThread:
    """A fake difficulty as intake answers it: the opening text first, then the follow-ups,
    `open` (waiting for Phòng Nội vụ) with its age in whole days."""
    open_since = stored.get("open_since")
    since = datetime.fromisoformat(open_since) if open_since else None
    opening = intake_api.ThreadMessage(
        message_id=stored["difficulty_id"],
        side="unit",
        author=stored["unit_code"],
        text=stored["text"],
        posted_at=datetime.fromisoformat(stored["raised_at"]),
    )
    fields = {k: v for k, v in stored.items() if k not in ("messages", "open_since")}
    return intake_api.DifficultyThread.model_validate(
        {
            **fields,
            "open": since is not None,
            "open_since": since,
            "age_days": (system.clock.now() - since).days if since else None,
            "messages": [opening, *stored.get("messages", [])],
        }
    )


def _difficulties(system: FakeSystem, app: FastAPI) -> None:
    @app.post("/v1/difficulties", status_code=201, response_model=intake_api.DifficultyThread)
    async def raise_difficulty(request: Request) -> Any:
        body = intake_api.DifficultyRequest.model_validate(await system.record(request))
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] != "unit":
            return _refuse(403, "forbidden", "Chỉ đơn vị mới nêu vướng mắc.")
        if (refused := system.refusal(request)) is not None:
            return refused
        key = request.headers.get("idempotency-key")
        done = state_keys(system)
        if key and key in done:
            return thread(system, system.difficulties[done[key]])
        if not body.text.strip():
            return _refuse(422, "text_required", "Nội dung vướng mắc chưa được nhập.")
        mine = [p for p in system.periods if who["unit"] in p["expected_units"]]
        period_id = body.period_id or min(mine, key=lambda p: p["due_at"])["period_id"]
        now = system.clock.now().isoformat()
        difficulty_id = f"d{len(system.difficulties) + 1}"
        system.difficulties[difficulty_id] = {
            "difficulty_id": difficulty_id,
            "report_id": None,
            "period_id": period_id,
            "unit_code": who["unit"],
            "text": body.text,
            "raised_at": now,
            "answer": "",
            "answered_by": "",
            "answered_at": None,
            "raised_in_version": None,
            "answered": False,
            "open_since": now,
            "messages": [],
        }
        if key:
            done[key] = difficulty_id
        return thread(system, system.difficulties[difficulty_id])

    @app.get("/v1/difficulties/{difficulty_id}", response_model=intake_api.DifficultyThread)
    async def read_difficulty(difficulty_id: str, request: Request) -> Any:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        stored = system.difficulties.get(difficulty_id)
        if stored is None or (who["role"] == "unit" and stored["unit_code"] != who["unit"]):
            return _refuse(
                404, "difficulty_not_found", f"Không tìm thấy vướng mắc «{difficulty_id}»."
            )
        return thread(system, stored)

    @app.post(
        "/v1/difficulties/{difficulty_id}/messages",
        status_code=201,
        response_model=intake_api.DifficultyThread,
    )
    async def post_message(difficulty_id: str, request: Request) -> Any:
        body = intake_api.MessageRequest.model_validate(await system.record(request))
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if (refused := system.refusal(request)) is not None:
            return refused
        stored = system.difficulties.get(difficulty_id)
        if stored is None or (who["role"] == "unit" and stored["unit_code"] != who["unit"]):
            return _refuse(
                404, "difficulty_not_found", f"Không tìm thấy vướng mắc «{difficulty_id}»."
            )
        if who["role"] not in ("unit", "reviewer", "admin"):
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        now = system.clock.now()
        side = "unit" if who["role"] == "unit" else "office"
        stored["messages"].append(
            intake_api.ThreadMessage(
                message_id=f"{difficulty_id}-m{len(stored['messages']) + 1}",
                side=side,
                author=who["sub"],
                text=body.text,
                posted_at=now,
            )
        )
        if side == "unit":
            stored["open_since"] = stored.get("open_since") or now.isoformat()
        else:
            stored.update(
                answer=body.text,
                answered_by=who["sub"],
                answered_at=now.isoformat(),
                answered=True,
                open_since=None,
            )
        return thread(system, stored)


def state_keys(system: FakeSystem) -> dict[str, str]:
    """Idempotency keys of raised difficulties -> the thread they made."""
    return system.pages.difficulty_keys


def _reminders(system: FakeSystem, app: FastAPI) -> None:
    @app.get(
        "/v1/periods/{period_id}/schedule", response_model=list[reminders_api.ScheduledReminder]
    )
    async def schedule(period_id: str, request: Request, days: int = 31) -> Any:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] == "unit":
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        if not system.reminders_ready:
            return _refuse(404, "not_found", "Không tìm thấy địa chỉ yêu cầu.")
        until = system.clock.now() + timedelta(days=days)
        return [e for e in system.pages.schedule.get(period_id, []) if e.at <= until]


def planned(
    unit_code: str, unit_name: str, rule_id: str, at: datetime, channel: str = "email"
) -> reminders_api.ScheduledReminder:
    """A planned reminder as reminders lists it."""
    family = rule_id.split("_")[0] if rule_id.startswith(("before", "overdue")) else rule_id
    return reminders_api.ScheduledReminder.model_validate(
        {
            "unit_code": unit_code,
            "unit_name": unit_name,
            "rule": family,
            "rule_id": rule_id,
            "audience": "unit",
            "at": at,
            "at_local": vn_datetime(at),
            "channel": channel,
        }
    )


PLAN_WARNING = (
    "Số và ngày của Kế hoạch chưa được điền (DANVAN_CONSOLIDATION_PLAN_REFERENCE): dự thảo "
    "đang ghi «Kế hoạch số …/KH-UBND»."
)
NAMES = {"pnv": "Phòng Nội vụ", "qtv": "Quản trị hệ thống"}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generated_parts(system: FakeSystem, period_id: str) -> list[tuple[str, str, str, str]]:
    """(key, heading, title, text) of the draft as the latest reports make it."""
    period = next(p for p in system.periods if p["period_id"] == period_id)
    sent = [
        r
        for r in system.reports.values()
        if r["period_id"] == period_id and r["status"] != "withdrawn"
    ]
    expected = len(period["expected_units"])
    picked = [h.text for h in system.pages.highlights.get(period_id, [])]
    return [
        (
            "1",
            "I. KẾT QUẢ THỰC HIỆN",
            "1. Quán triệt, thể chế hóa chủ trương về công tác dân vận",
            f"Có {len(sent)}/{expected} đơn vị báo cáo kết quả quán triệt."
            + "".join(f"\n{text}" for text in picked),
        ),
        ("ton_tai", "II. TỒN TẠI, HẠN CHẾ", "Tồn tại, hạn chế", "Một số đơn vị gửi chậm."),
        ("hoan_thanh", "", "Tình hình gửi báo cáo", f"{len(sent)}/{expected} đơn vị đã gửi."),
    ]


def town_draft(system: FakeSystem, period_id: str, who: dict[str, Any]) -> Any:
    """The draft as consolidation answers it: saved edits over the generated parts."""
    saved = system.pages.town_drafts.get(period_id)
    parts = []
    changed_keys = []
    for key, heading, title, generated in generated_parts(system, period_id):
        edit = saved["edits"].get(key) if saved else None
        at_save = saved["generated"].get(key) if saved else None
        changed = saved is not None and at_save != generated
        if changed:
            changed_keys.append(key)
        text = edit if edit is not None else generated
        parts.append(
            consolidation_api.DraftPart(
                key=key,
                heading=heading,
                title=title,
                text=text,
                edited=edit is not None,
                changed=changed,
                digest=_digest(text),
            )
        )
    changes = None
    if saved is not None:
        notice = (
            f"Số liệu mới ở {len(changed_keys)} phần: " + ", ".join(changed_keys) + "."
            if changed_keys
            else "Không có thay đổi."
        )
        changes = consolidation_api.DraftChanges(
            since_version=saved["version"],
            parts=[k for k in changed_keys if k not in saved["edits"]],
            outdated_edits=[k for k in changed_keys if k in saved["edits"]],
            units_added=[],
            units_updated=[],
            units_removed=[],
            notice=notice,
        )
    period = next(p for p in system.periods if p["period_id"] == period_id)
    return consolidation_api.Draft(
        period_id=period_id,
        version=saved["version"] if saved else 0,
        saved_at=saved["saved_at"] if saved else None,
        saved_by=saved["saved_by"] if saved else None,
        saved_by_name=NAMES.get(saved["saved_by"]) if saved else None,
        parts=parts,
        recipients=["Ban Thường vụ Thị ủy (b/c);", "UBND tỉnh (qua Sở Nội vụ) (b/c);"],
        archive="VT, NV",
        basis="",
        subject=f"Kết quả thực hiện công tác dân vận chính quyền {period['title']}",
        plan_reference_unfilled=not system.pages.plan_number_filled,
        warnings=[]
        if system.pages.plan_number_filled
        else [consolidation_api.DraftWarning(code="plan_reference_unfilled", message=PLAN_WARNING)],
        changes=changes,
        history=list(saved["history"]) if saved else [],
        editable=who["role"] in ("reviewer", "admin"),
    )


def _consolidation(system: FakeSystem, app: FastAPI) -> None:
    state = system.pages

    def reader(request: Request) -> dict[str, Any] | JSONResponse:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] == "unit":
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        return who

    @app.get("/v1/periods/{period_id}/draft", response_model=consolidation_api.Draft)
    async def read_draft(period_id: str, request: Request) -> Any:
        who = reader(request)
        if isinstance(who, JSONResponse):
            return who
        return town_draft(system, period_id, who)

    @app.put("/v1/periods/{period_id}/draft", response_model=consolidation_api.Draft)
    async def save_draft(period_id: str, request: Request) -> Any:
        body = consolidation_api.DraftSave.model_validate(await system.record(request))
        who = reader(request)
        if isinstance(who, JSONResponse):
            return who
        if who["role"] not in ("reviewer", "admin"):
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        saved = state.town_drafts.get(period_id)
        current = saved["version"] if saved else 0
        if body.version != current:
            assert saved is not None
            name = NAMES.get(saved["saved_by"], saved["saved_by"])
            return JSONResponse(
                {
                    "error": {
                        "code": "draft_version_conflict",
                        "message": f"Dự thảo đã được {name} lưu lúc "
                        f"{vn_datetime(saved['saved_at'])} (phiên bản {current}) sau khi mở. "
                        "Tải lại dự thảo để xem các thay đổi rồi lưu lại.",
                        "details": {"version": current, "saved_by": saved["saved_by"]},
                    }
                },
                status_code=409,
            )
        for edit in body.parts.values():
            if edit.text is not None and any(ord(c) < 32 and c not in "\n\t" for c in edit.text):
                return _refuse(422, "invalid_text", "Nội dung có ký tự không được phép.")
        generated = {key: text for key, _, _, text in generated_parts(system, period_id)}
        edits = dict(saved["edits"]) if saved else {}
        for key, edit in body.parts.items():
            shown = edits.get(key, generated.get(key))
            if edit.reset:
                edits.pop(key, None)
            elif edit.text is not None and not (
                edit.base == _digest(shown or "") and edit.text == shown
            ):
                if edit.text == generated.get(key):
                    edits.pop(key, None)
                else:
                    edits[key] = edit.text
        now = system.clock.now()
        entry = consolidation_api.DraftSaveEntry(
            version=current + 1,
            saved_at=now,
            saved_by=who["sub"],
            saved_by_name=NAMES.get(who["sub"], who["sub"]),
        )
        state.town_drafts[period_id] = {
            "version": current + 1,
            "saved_at": now,
            "saved_by": who["sub"],
            "edits": edits,
            "generated": generated,
            "history": [entry, *(saved["history"] if saved else [])],
        }
        return town_draft(system, period_id, who)

    @app.get(
        "/v1/periods/{period_id}/highlights",
        response_model=list[consolidation_api.PickedExcerpt],
    )
    async def list_highlights(period_id: str, request: Request) -> Any:
        who = reader(request)
        if isinstance(who, JSONResponse):
            return who
        return state.highlights.get(period_id, [])

    @app.post(
        "/v1/periods/{period_id}/highlights",
        status_code=201,
        response_model=consolidation_api.PickedExcerpt,
    )
    async def mark(period_id: str, request: Request) -> Any:
        body = consolidation_api.HighlightRequest.model_validate(await system.record(request))
        who = reader(request)
        if isinstance(who, JSONResponse):
            return who
        report = next(
            (
                r
                for r in system.reports.values()
                if r["period_id"] == period_id and r["unit_code"] == body.unit_code
            ),
            None,
        )
        narrative = ""
        if report is not None:
            section = report["content"].get("sections", {}).get(body.field)
            narrative = (
                section.get("narrative") or ""
                if isinstance(section, dict)
                else str(report["content"].get(body.field) or "")
            )
        if body.text not in narrative:
            return _refuse(
                422,
                "excerpt_not_in_report",
                "Đoạn trích không có trong báo cáo hiện hành của đơn vị.",
            )
        excerpt = consolidation_api.PickedExcerpt(
            highlight_id=f"h{sum(len(v) for v in state.highlights.values()) + 1}",
            unit_code=body.unit_code,
            unit_name=report["unit_name"] if report else body.unit_code,
            field=body.field,
            field_label=f"mục {body.field}" if body.field.isdigit() else body.field,
            text=body.text,
            marked_by=who["sub"],
            marked_at=system.clock.now(),
            in_report=True,
        )
        state.highlights.setdefault(period_id, []).append(excerpt)
        return excerpt

    @app.delete(
        "/v1/periods/{period_id}/highlights/{highlight_id}",
        status_code=204,
        response_class=Response,
    )
    async def unmark(period_id: str, highlight_id: str, request: Request) -> Response:
        await system.record(request)
        who = reader(request)
        if isinstance(who, JSONResponse):
            return who
        kept = [h for h in state.highlights.get(period_id, []) if h.highlight_id != highlight_id]
        state.highlights[period_id] = kept
        return Response(status_code=204)


TEMPLATE_CSV = "code,name,kind,must_report,display_order,valid_from\n"


def _parse_units(filename: str, content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    if not filename.lower().endswith(".csv"):
        raise ValueError("Chỉ nhận tệp .csv hoặc .xlsx.")
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return list(reader.fieldnames or []), [dict(row) for row in reader]


def _registry(system: FakeSystem, app: FastAPI) -> None:
    before = len(app.router.routes)

    @app.post("/v1/units/import", response_model=registry_api.ImportReport)
    async def import_units(request: Request, dry_run: bool = False) -> Any:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] != "admin":
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        form = await request.form()
        upload = form.get("file")
        assert upload is not None and not isinstance(upload, str)
        content = await upload.read()
        system.pages.imports.append((upload.filename or "", dry_run))
        try:
            columns, rows = _parse_units(upload.filename or "", content)
        except (ValueError, UnicodeDecodeError) as exc:
            return _refuse(415, "import_file_type", str(exc))
        errors = []
        for number, row in enumerate(rows, start=2):
            if not (row.get("code") or "").strip():
                errors.append((number, "Mã đơn vị", "Thiếu mã đơn vị."))
            if row.get("kind") not in ("ward", "commune", "department", "centre", "agency"):
                errors.append((number, "Loại đơn vị", f"Loại «{row.get('kind')}» không có."))
        if errors:
            problems: list[dict[str, Any]] = [
                {
                    "row": n,
                    "column": c,
                    "code": "invalid",
                    "message": f"Dòng {n}, cột «{c}»: {m}",
                }
                for n, c, m in errors
            ]
            return JSONResponse(
                {
                    "error": {
                        "code": "import_invalid",
                        "message": f"Tệp nhập có {len(problems)} lỗi; chưa ghi đơn vị nào. "
                        + str(problems[0]["message"]),
                        "details": {"errors": problems},
                    }
                },
                status_code=422,
            )
        created: list[str] = []
        updated: list[str] = []
        for row in rows:
            code = row["code"].strip()
            record = system.units.get(code)
            unit_id = record["unit_id"] if record else f"{code}@2023-01-01"
            (updated if record else created).append(unit_id)
            if dry_run:
                continue
            if record:
                record["name"] = row.get("name") or record["name"]
            else:
                system.units[code] = {
                    **next(iter(system.units.values())),
                    "unit_id": unit_id,
                    "code": code,
                    "name": row.get("name") or code,
                    "kind": row["kind"],
                    "leader": None,
                    "version": 1,
                }
        return registry_api.ImportReport(
            dry_run=dry_run,
            columns=columns,
            rows=len(rows),
            created=created,
            updated=updated,
            unchanged=[],
        )

    @app.get("/v1/units/template.csv", response_class=Response)
    async def template_csv(request: Request) -> Response:
        return Response(
            TEMPLATE_CSV.encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="mau-danh-muc-don-vi.csv"'},
        )

    @app.post("/v1/periods/regime", response_model=list[registry_api.PeriodView])
    async def regime_year(request: Request) -> Any:
        body = registry_api.RegimeYearIn.model_validate(await system.record(request))
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] not in ("reviewer", "admin"):
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        made = []
        for kind, suffix, title, due in (
            ("six_month", "H1", f"6 tháng đầu năm {body.year}", f"{body.year}-06-09"),
            ("annual", "Y", f"năm {body.year}", f"{body.year}-11-24"),
        ):
            period_id = f"{body.year}-{suffix}"
            if any(p["period_id"] == period_id for p in system.periods):
                continue
            period = {
                **copy.deepcopy(system.periods[-1]),
                "period_id": period_id,
                "kind": kind,
                "year": body.year,
                "title": title,
                "due_at": f"{due}T17:00:00+00:00",
                "window_start": None,
                "window_end": None,
            }
            system.periods.insert(0, period)
            made.append(registry_api.PeriodView.model_validate(period))
        return made

    @app.post("/v1/accounts/me/password", response_model=registry_api.PasswordChanged)
    async def change_password(request: Request) -> Any:
        body = registry_api.PasswordChange.model_validate(await system.record(request))
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        from tests.integration.portal.fakes import PASSWORD

        current = system.pages.passwords.get(who["sub"], PASSWORD)
        if body.old_password != current:
            return _refuse(422, "wrong_password", "Mật khẩu hiện tại không đúng.")
        if len(body.new_password) < 10:
            return _refuse(422, "password_too_short", "Mật khẩu mới phải có ít nhất 10 ký tự.")
        system.pages.passwords[who["sub"]] = body.new_password
        return registry_api.PasswordChanged(changed=True)

    # Ahead of the fake's own /v1/units/{code}, as the real registry orders them.
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[:0] = added


def install(system: FakeSystem, apps: dict[str, FastAPI]) -> None:
    """Add the new routes to the fake backends (keyed by service name)."""
    if "registry" in apps:
        _registry(system, apps["registry"])
    if "consolidation" in apps:
        _consolidation(system, apps["consolidation"])
    if "reminders" in apps:
        _reminders(system, apps["reminders"])
    if "intake" in apps:
        _intake(system, apps["intake"])
        _drafts(system, apps["intake"])
        _documents(system, apps["intake"])
        _difficulties(system, apps["intake"])
