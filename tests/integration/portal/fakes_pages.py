"""Fake routes for the portal pages of issues 10 and 11, kept apart from `fakes.py`.

Each answer is built from the backends' own models (shared/contracts/api/*), so a page that
reads a field the contract does not have fails here as it would in front of the services.
`install` adds the routes to the fake apps `fakes.build_portal` creates; the state lives
in `PagesState` on the FakeSystem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.intake.prefill import prefilled
from shared.contracts.api import intake as intake_api
from shared.forms import form_for_unit, load_form, validate_report

if TYPE_CHECKING:
    from tests.integration.portal.fakes import FakeSystem


@dataclass
class PagesState:
    """What the new fake routes keep between calls."""

    leader_changes: list[intake_api.LeaderChange] = field(default_factory=list)
    # (period_id, unit_code) -> the unit's draft, as intake stores it.
    drafts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


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


def install(system: FakeSystem, apps: dict[str, FastAPI]) -> None:
    """Add the new routes to the fake backends (keyed by service name)."""
    if "intake" in apps:
        _intake(system, apps["intake"])
        _drafts(system, apps["intake"])
        _documents(system, apps["intake"])
