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

from shared.contracts.api import intake as intake_api

if TYPE_CHECKING:
    from tests.integration.portal.fakes import FakeSystem


@dataclass
class PagesState:
    """What the new fake routes keep between calls."""

    leader_changes: list[intake_api.LeaderChange] = field(default_factory=list)


def _json(model: Any, status_code: int = 200) -> JSONResponse:
    if isinstance(model, list):
        return JSONResponse([m.model_dump(mode="json") for m in model], status_code=status_code)
    return JSONResponse(model.model_dump(mode="json"), status_code=status_code)


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

    @app.get("/v1/leader-changes")
    async def leader_changes(request: Request, period_id: str | None = None) -> Response:
        who = _caller(request)
        if who is None:
            return _refuse(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")
        if who["role"] == "unit":
            return _refuse(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
        found = [c for c in state.leader_changes if period_id in (None, c.period_id)]
        return _json(found)


def install(system: FakeSystem, apps: dict[str, FastAPI]) -> None:
    """Add the new routes to the fake backends (keyed by service name)."""
    _intake(system, apps["intake"])
