"""Fake backends for the portal's tests: small FastAPI apps answering the real models.

Every route the portal calls declares the backend's own response model
(`shared.contracts.api.<service>`) and returns model instances, so FastAPI checks each answer
against it, and `test_fakes_contract.py` checks the routes, status codes and answer schemas
against the real services' OpenAPI documents: a backend change breaks these tests, not the
portal in production. Intake validates with the real form code (shared.forms), so a 422
carries real issues; consolidation counts with its own domain rules. Each fake records what
it received, so tests check the portal's requests.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from services.consolidation import domain as consolidation_domain
from services.consolidation import views as consolidation_views
from services.portal.app import create_app
from services.portal.settings import PortalSettings
from services.registry import domain as registry_domain
from shared.clock import ManualClock
from shared.contracts.api import consolidation as consolidation_api
from shared.contracts.api import intake as intake_api
from shared.contracts.api import registry as registry_api
from shared.contracts.api import reminders as reminders_api
from shared.contracts.registry import ExpectedUnit, UnitState
from shared.formatting import vn_deadline
from shared.forms import form_for_unit, load_form, validate_report
from tests.integration.portal import fakes_accounts, fakes_pages
from tests.integration.portal.fakes_accounts import AccountsState
from tests.integration.portal.fakes_pages import PagesState

NOW = datetime(2023, 6, 5, 3, 0, tzinfo=UTC)  # 10:00 on 05/06/2023 in Hồng Lĩnh
PASSWORD = "mat-khau-dung"

UNITS: dict[str, dict[str, Any]] = {
    "18115": {"code": "18115", "name": "UBND phường Bắc Hồng", "kind": "ward", "tags": []},
    "18118": {"code": "18118", "name": "UBND phường Nam Hồng", "kind": "ward", "tags": []},
    "PVHTT": {
        "code": "PVHTT",
        "name": "Phòng Văn hóa - Thông tin",
        "kind": "department",
        "tags": ["communication"],
    },
}
ACCOUNTS: dict[str, dict[str, Any]] = {
    "18115": {"role": "unit", "unit": "18115", "name": "UBND phường Bắc Hồng"},
    "PVHTT": {"role": "unit", "unit": "PVHTT", "name": "Phòng Văn hóa - Thông tin"},
    "pnv": {"role": "reviewer", "unit": None, "name": "Phòng Nội vụ"},
    "lanhdao": {"role": "leader", "unit": None, "name": "Lãnh đạo UBND thị xã"},
    "qtv": {"role": "admin", "unit": None, "name": "Quản trị hệ thống"},
    "tichhop": {"role": "service", "unit": None, "name": "Tài khoản tích hợp"},
}


def unit_records() -> dict[str, dict[str, Any]]:
    """The registry's unit records: leaders and contacts (plan II.5), one past unit."""
    extra: dict[str, dict[str, Any]] = {
        "18115": {
            "leader": {
                "full_name": "Nguyễn Văn An",
                "title": "Phó Chủ tịch UBND phường",
                "phone": "0912345678",
                "email": "an.nv@hatinh.gov.vn",
            },
            "contacts": {"emails": ["bachong@hatinh.gov.vn"], "phone": "", "webhook_url": ""},
        },
        "18118": {  # no leader, no e-mail: reminders cannot reach it
            "leader": None,
            "contacts": {"emails": [], "phone": "", "webhook_url": ""},
        },
        "PVHTT": {
            "leader": {
                "full_name": "Trần Thị Bình",
                "title": "Trưởng phòng",
                "phone": "",
                "email": "",
            },
            "contacts": {
                "emails": ["vhtt@hatinh.gov.vn"],
                "phone": "",
                "webhook_url": "https://sms.example/hook",
            },
        },
    }
    records = {
        code: {
            **copy.deepcopy(unit),
            "unit_id": f"{code}@2020-01-01",
            "parent_code": None,
            "display_order": i,
            "must_report": True,
            "valid_from": "2020-01-01",
            "valid_to": None,
            "successor_codes": [],
            **extra[code],
            "version": 1,
        }
        for i, (code, unit) in enumerate(UNITS.items(), start=1)
    }
    records["18103"] = {
        "unit_id": "18103@2015-01-01",
        "code": "18103",
        "name": "UBND xã Thuận Lộc (cũ)",
        "kind": "commune",
        "tags": [],
        "parent_code": None,
        "display_order": 9,
        "must_report": True,
        "valid_from": "2015-01-01",
        "valid_to": "2019-12-31",
        "successor_codes": ["18118"],
        "leader": None,
        "contacts": {"emails": [], "phone": "", "webhook_url": ""},
        "version": 2,
    }
    return records


PERIODS: list[dict[str, Any]] = [
    {
        "period_id": "2023-Y",
        "kind": "annual",
        "year": 2023,
        "title": "năm 2023",
        "form_id": "dvcq-dinh-ky",
        "form_version": "2023.2",
        "window_start": "2022-12-15",
        "window_end": "2023-12-14",
        "due_at": "2023-11-24T17:00:00+00:00",
        "status": "open",
        "content": "",
        "expected_units": list(UNITS),
        "expected_unit_details": [
            {**u, "display_order": i} for i, u in enumerate(UNITS.values(), start=1)
        ],
        "scope": {"all": True},
        "version": 1,
    },
    {
        "period_id": "2023-H1",
        "kind": "six_month",
        "year": 2023,
        "title": "6 tháng đầu năm 2023",
        "form_id": "dvcq-dinh-ky",
        "form_version": "2023.1",
        "window_start": "2022-12-15",
        "window_end": "2023-06-14",
        "due_at": "2023-06-09T17:00:00+00:00",  # trước ngày 10/06/2023, giờ Việt Nam
        "status": "open",
        "content": "",
        "expected_units": list(UNITS),
        "expected_unit_details": [
            {**u, "display_order": i} for i, u in enumerate(UNITS.values(), start=1)
        ],
        "scope": {"all": True},
        "version": 1,
    },
]


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def basis_record(basis: registry_api.RequestBasisIn | None) -> dict[str, Any] | None:
    """An asking document as the registry keeps it: None when no field is given."""
    if basis is None:
        return None
    record = basis.model_dump(mode="json")
    return record if any(record.values()) else None


def token_for(username: str, now: datetime) -> str:
    account = ACCOUNTS[username]
    claims = {
        "sub": username,
        "role": account["role"],
        "unit": account["unit"],
        "name": account["name"],
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    return jwt.encode(claims, "fake-registry-key-of-32-bytes-long!", algorithm="HS256")


def caller(request: Request) -> dict[str, Any] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            header.removeprefix("Bearer "), options={"verify_signature": False}
        )
    except jwt.PyJWTError:
        return None
    return claims


def unauthorized() -> JSONResponse:
    return error(401, "missing_token", "Thiếu mã đăng nhập (Bearer token).")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeSystem:
    """The four fake backends and what they received."""

    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    periods: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(PERIODS))
    difficulties: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: dict[str, list[intake_api.AttachmentInfo]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    # What a matching call answers instead (an error, or an answer outside the contract):
    # (method, path prefix) -> response.
    refusals: dict[tuple[str, str], JSONResponse] = field(default_factory=dict)
    idempotency: dict[str, intake_api.ReportAccepted] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    consolidation_ready: bool = True
    units: dict[str, dict[str, Any]] = field(default_factory=unit_records)
    leader_history: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            "18115": [
                {
                    "unit_id": "18115@2020-01-01",
                    "leader": {"full_name": "Lê Văn Cũ", "title": "Chủ tịch UBND phường"},
                    "since": "2020-01-01T01:00:00+00:00",
                    "until": "2022-03-15T02:00:00+00:00",
                    "recorded_by": "qtv",
                },
                {
                    "unit_id": "18115@2020-01-01",
                    "leader": {"full_name": "Nguyễn Văn An", "title": "Phó Chủ tịch UBND phường"},
                    "since": "2022-03-15T02:00:00+00:00",
                    "until": None,
                    "recorded_by": "qtv",
                },
            ]
        }
    )
    reminders_ready: bool = True
    deliveries: list[reminders_api.DeliveryEntry] = field(default_factory=list)
    # The state of the routes in fakes_pages.py (the portal pages of issues 10 and 11).
    pages: PagesState = field(default_factory=PagesState)
    # The state of the routes in fakes_accounts.py (accounts and activation codes).
    accounts: AccountsState = field(default_factory=AccountsState)
    # Shared with the portal, so tokens expire when a test moves time.
    clock: ManualClock = field(default_factory=lambda: ManualClock(NOW))

    def refusal(self, request: Request) -> JSONResponse | None:
        for (method, prefix), response in self.refusals.items():
            if request.method == method and request.url.path.startswith(prefix):
                return response
        return None

    def raise_difficulty(self, report: dict[str, Any], text: str) -> dict[str, Any]:
        difficulty = {
            "difficulty_id": f"d{len(self.difficulties) + 1}",
            "report_id": report["report_id"],
            "period_id": report["period_id"],
            "unit_code": report["unit_code"],
            "text": text,
            "raised_at": self.clock.now().isoformat(),
            "answer": "",
            "answered_by": "",
            "answered_at": None,
            "raised_in_version": report["version"],
            "answered": False,
            # The thread (fakes_pages.thread gives it its messages and age).
            "open_since": self.clock.now().isoformat(),
            "messages": [],
        }
        self.difficulties[difficulty["difficulty_id"]] = difficulty
        return difficulty

    def sent(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    async def record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode()
        self.requests.append(
            Recorded(request.method, request.url.path, dict(request.headers), body)
        )
        return body

    def registry(self) -> FastAPI:
        app = FastAPI()
        system = self

        @app.post("/v1/auth/token", response_model=registry_api.TokenAnswer)
        async def login(request: Request, username: str = Form(), password: str = Form()) -> Any:
            system.requests.append(
                Recorded(request.method, request.url.path, dict(request.headers), None)
            )
            if username not in ACCOUNTS or password != PASSWORD:
                return error(401, "invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.")
            account = ACCOUNTS[username]
            return registry_api.TokenAnswer(
                access_token=token_for(username, system.clock.now()),
                expires_in=3600,
                role=account["role"],
                unit_code=account["unit"],
            )

        @app.post("/v1/auth/logout", response_model=registry_api.SignedOut)
        async def logout(request: Request) -> Any:
            system.requests.append(
                Recorded(request.method, request.url.path, dict(request.headers), None)
            )
            if caller(request) is None:
                return unauthorized()
            return registry_api.SignedOut(revoked=True)

        @app.get("/v1/periods", response_model=list[registry_api.PeriodView])
        async def periods(request: Request) -> Any:
            if caller(request) is None:
                return unauthorized()
            return [registry_api.PeriodView.model_validate(p) for p in system.periods]

        def unit_view(unit: dict[str, Any], who: dict[str, Any]) -> registry_api.UnitView:
            # As the registry: contacts and the leader's phone/e-mail for reviewer, admin
            # and the unit itself only.
            view = copy.deepcopy(unit)
            if who["role"] not in ("reviewer", "admin") and who.get("unit") != unit["code"]:
                view["contacts"] = None
                if view.get("leader"):
                    view["leader"] = {k: view["leader"].get(k, "") for k in ("full_name", "title")}
            return registry_api.UnitView.model_validate(view)

        @app.get("/v1/units", response_model=list[registry_api.UnitView])
        async def units(request: Request) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            return [unit_view(u, who) for u in system.units.values()]

        @app.get("/v1/units/{code}", response_model=registry_api.UnitView)
        async def read_unit(code: str, request: Request) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            if code not in system.units:
                return error(404, "unit_not_found", f"Không tìm thấy đơn vị «{code}».")
            return unit_view(system.units[code], who)

        @app.get("/v1/units/{code}/history", response_model=registry_api.UnitHistory)
        async def unit_history(code: str, request: Request) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            return registry_api.UnitHistory.model_validate(
                {"code": code, "entries": [], "leaders": system.leader_history.get(code, [])}
            )

        @app.patch("/v1/units/{code}", response_model=registry_api.UnitView)
        async def update_unit(code: str, request: Request) -> Any:
            body = await system.record(request)
            registry_api.UnitPatch.model_validate(body)  # the registry's own request model
            who = caller(request)
            if who is None:
                return unauthorized()
            if who["role"] != "admin":
                return error(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
            if (refused := system.refusal(request)) is not None:
                return refused
            unit = system.units.get(code)
            if unit is None:
                return error(404, "unit_not_found", f"Không tìm thấy đơn vị «{code}».")
            leader = unit["leader"]
            if "leader" in body:
                patch = body["leader"]
                leader = None if patch is None else {**(leader or {}), **patch}
            if leader is not None and not leader.get("full_name"):
                problem = {
                    "field": "leader.full_name",
                    "code": "leader_name_required",
                    "message": "Chưa nhập họ tên lãnh đạo phụ trách.",
                }
                return error(
                    422,
                    "validation_failed",
                    problem["message"],
                    details={"field": problem["field"], "problems": [problem]},
                )
            if leader != unit["leader"]:
                now = system.clock.now().isoformat()
                timeline = system.leader_history.setdefault(code, [])
                if timeline:
                    timeline[-1]["until"] = now
                if leader is not None:
                    timeline.append(
                        {
                            "unit_id": unit["unit_id"],
                            "leader": leader,
                            "since": now,
                            "until": None,
                            "recorded_by": who["sub"],
                        }
                    )
            unit["leader"] = leader
            unit["contacts"] = {**unit["contacts"], **(body.get("contacts") or {})}
            unit["version"] += 1
            return unit_view(unit, who)

        @app.post("/v1/periods", status_code=201, response_model=registry_api.CreatedPeriod)
        async def create_period(request: Request) -> Any:
            body = await system.record(request)
            if caller(request) is None:
                return unauthorized()
            if (refused := system.refusal(request)) is not None:
                return refused
            asked = registry_api.PeriodIn.model_validate(body)
            # Who is asked, by the registry's own rules.
            scope, problems = registry_domain.parse_scope(asked.scope, system.units)
            assert scope is not None, problems
            expected = registry_domain.resolve_expected_units(
                (UnitState.model_validate(u) for u in system.units.values()), scope, asked.due_at
            )
            existing = [p["period_id"] for p in system.periods]
            period = {
                "period_id": registry_domain.next_ad_hoc_id(asked.due_at.year, existing),
                "kind": "ad_hoc",
                "year": asked.due_at.year,
                "title": asked.title,
                "form_id": "dvcq-dot-xuat",
                "form_version": "2023.1",
                "window_start": None,
                "window_end": None,
                "due_at": asked.due_at.astimezone(UTC).isoformat(),
                "status": "open",
                "content": asked.content,
                "basis": basis_record(asked.basis),
                "expected_units": [u.code for u in expected],
                "expected_unit_details": [u.model_dump(mode="json") for u in expected],
                "scope": scope.as_dict(),
                "version": 1,
            }
            system.periods.insert(0, period)
            return registry_api.CreatedPeriod.model_validate({**period, "id": period["period_id"]})

        @app.patch("/v1/periods/{period_id}", response_model=registry_api.PeriodView)
        async def update_period(period_id: str, request: Request) -> Any:
            body = await system.record(request)
            registry_api.PeriodPatch.model_validate(body)  # the registry's own request model
            if caller(request) is None:
                return unauthorized()
            if (refused := system.refusal(request)) is not None:
                return refused
            found = next((p for p in system.periods if p["period_id"] == period_id), None)
            if found is None:
                return error(404, "period_not_found", f"Không tìm thấy kỳ báo cáo «{period_id}».")
            found.update(body)
            if "basis" in body:  # as the registry stores it: nothing typed is no basis
                patched = registry_api.PeriodPatch.model_validate(body).basis
                found["basis"] = basis_record(patched)
            found["version"] += 1
            return registry_api.PeriodView.model_validate(found)

        @app.get("/v1/periods/{period_id}", response_model=registry_api.PeriodView)
        async def period(period_id: str, request: Request) -> Any:
            if caller(request) is None:
                return unauthorized()
            found = next((p for p in system.periods if p["period_id"] == period_id), None)
            if found is None:
                return error(404, "period_not_found", f"Không tìm thấy kỳ báo cáo «{period_id}».")
            return registry_api.PeriodView.model_validate(found)

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        return app

    def intake(self) -> FastAPI:
        """Intake's routes the portal calls, answering intake's own models."""
        app = FastAPI()
        system = self

        def period_of(period_id: str | None) -> dict[str, Any] | None:
            return next((p for p in system.periods if p["period_id"] == period_id), None)

        def not_found(report_id: str) -> JSONResponse:
            return error(404, "report_not_found", f"Không tìm thấy báo cáo «{report_id}».")

        @app.get("/v1/periods/{period_id}/form", response_model=intake_api.PeriodForm)
        async def period_form(
            period_id: str, request: Request, unit_code: str | None = None
        ) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            period = period_of(period_id)
            if period is None:
                return error(404, "period_not_found", f"Không tìm thấy kỳ báo cáo «{period_id}».")
            code = who["unit"] if who["role"] == "unit" else unit_code
            form = load_form(period["form_id"], period["form_version"])
            unit = UNITS.get(code) if code else None
            if unit is not None:
                form = form_for_unit(form, unit["kind"], set(unit["tags"]))
            record = system.units.get(code or "")
            return intake_api.PeriodForm(
                period=intake_api.PeriodInfo.model_validate(
                    {**period, "due_text": vn_deadline(datetime.fromisoformat(period["due_at"]))}
                ),
                unit=intake_api.FormUnit.model_validate({**unit, **(record or {})})
                if unit is not None
                else None,
                form=form,
            )

        @app.get("/v1/reports", response_model=list[intake_api.ReportSummary])
        async def list_reports(
            request: Request, period_id: str | None = None, status: str | None = None
        ) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            return [
                intake_api.ReportSummary.model_validate(r)
                for r in system.reports.values()
                if (period_id is None or r["period_id"] == period_id)
                and (status is None or r["status"] == status)
                and (who["role"] != "unit" or r["unit_code"] == who["unit"])
            ]

        @app.get("/v1/reports/{report_id}", response_model=intake_api.ReportDetail)
        async def read_report(report_id: str, request: Request) -> Any:
            if caller(request) is None:
                return unauthorized()
            if (refused := system.refusal(request)) is not None:
                return refused
            report = system.reports.get(report_id)
            if report is None:
                return not_found(report_id)
            return intake_api.ReportDetail.model_validate(report)

        async def store(request: Request, report_id: str | None) -> Response:
            body = await system.record(request)
            who = caller(request)
            if who is None:
                return unauthorized()
            key = request.headers.get("idempotency-key")
            if key and key in system.idempotency:
                first = system.idempotency[key]
                return JSONResponse(first.model_dump(mode="json"), status_code=201)
            period = period_of(body.get("period_id"))
            assert period is not None
            unit = UNITS[who["unit"]]
            content = {k: v for k, v in body.items() if k != "period_id"}
            result = validate_report(
                load_form(period["form_id"], period["form_version"]),
                unit["kind"],
                set(unit["tags"]),
                content,
                leader_on_record=system.units[unit["code"]].get("leader") is not None,
            )
            if not result.ok:
                return error(
                    422,
                    "validation_failed",
                    f"Báo cáo có {len(result.errors)} lỗi cần sửa trước khi gửi.",
                    issues=[i.model_dump(mode="json") for i in result.errors],
                    warnings=[i.model_dump(mode="json") for i in result.warnings],
                )
            digest = hashlib.sha256(json.dumps(result.content, sort_keys=True).encode()).hexdigest()
            previous = system.reports.get(report_id or "")
            report = intake_api.ReportDetail(
                report_id=report_id or str(uuid.uuid4()),
                period_id=period["period_id"],
                unit_code=unit["code"],
                unit_name=unit["name"],
                status="submitted",
                version=previous["version"] + 1 if previous else 1,
                form_id=period["form_id"],
                form_version=period["form_version"],
                first_submitted_at=previous["first_submitted_at"] if previous else NOW,
                submitted_at=NOW,
                on_time=True,
                review=previous["review"] if previous else None,
                withdrawn_at=None,
                content=result.content,
                content_sha256=digest,
                warnings=[intake_api.ContentIssue(**w.model_dump()) for w in result.warnings],
            )
            system.reports[report.report_id] = report.model_dump(mode="json")
            system.pages.drafts.pop((period["period_id"], unit["code"]), None)  # as intake
            system.versions.setdefault(report.report_id, []).append(
                intake_api.ReportVersionView(
                    version=report.version,
                    submitted_at=system.clock.now(),
                    submitted_by=who["sub"],
                    content=report.content,
                    content_sha256=digest,
                    warnings=report.warnings,
                ).model_dump(mode="json")
            )
            raised = {
                d["text"]
                for d in system.difficulties.values()
                if d["report_id"] == report.report_id
            }
            for text in result.content.get("vuong_mac") or []:
                if text and text not in raised:
                    system.raise_difficulty(system.reports[report.report_id], text)
            answer = intake_api.ReportAccepted(
                **report.model_dump(include=set(intake_api.ReportAccepted.model_fields)),
                receipt=intake_api.Receipt(
                    **report.model_dump(include=set(intake_api.Receipt.model_fields)),
                    period_title=period["title"],
                    text=f"Đã nhận báo cáo {period['title']} của {report.unit_name}.",
                ),
            )
            if key:
                system.idempotency[key] = answer
            status = 201 if report_id is None else 200
            return JSONResponse(answer.model_dump(mode="json"), status_code=status)

        @app.post("/v1/reports", status_code=201, response_model=intake_api.ReportAccepted)
        async def submit(request: Request) -> Response:
            return await store(request, None)

        @app.put("/v1/reports/{report_id}", response_model=intake_api.ReportAccepted)
        async def amend(report_id: str, request: Request) -> Response:
            return await store(request, report_id)

        @app.get(
            "/v1/reports/{report_id}/versions",
            response_model=list[intake_api.ReportVersionView],
        )
        async def versions(report_id: str, request: Request) -> Any:
            if caller(request) is None:
                return unauthorized()
            if report_id not in system.reports:
                return not_found(report_id)
            return [
                intake_api.ReportVersionView.model_validate(v)
                for v in system.versions.get(report_id, [])
            ]

        @app.post("/v1/reports/{report_id}/withdraw", response_model=intake_api.ReportSummary)
        async def withdraw(report_id: str, request: Request) -> Any:
            await system.record(request)
            if (refused := system.refusal(request)) is not None:
                return refused
            report = system.reports[report_id]
            report["status"] = "withdrawn"
            report["withdrawn_at"] = system.clock.now().isoformat()
            return intake_api.ReportSummary.model_validate(report)

        @app.get(
            "/v1/reports/{report_id}/attachments",
            response_model=list[intake_api.AttachmentInfo],
        )
        async def list_attachments(report_id: str, request: Request) -> Any:
            if caller(request) is None:
                return unauthorized()
            return system.attachments.get(report_id, [])

        @app.post(
            "/v1/reports/{report_id}/attachments",
            status_code=201,
            response_model=intake_api.AttachmentInfo,
        )
        async def add_attachment(report_id: str, request: Request) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            form = await request.form()
            upload = form.get("file")
            assert upload is not None and not isinstance(upload, str)
            data = await upload.read()
            system.requests.append(
                Recorded(
                    request.method,
                    request.url.path,
                    dict(request.headers),
                    {"filename": upload.filename, "size": len(data)},
                )
            )
            if not data.startswith(b"%PDF-"):
                return error(
                    415,
                    "attachment_type_not_allowed",
                    "Chỉ nhận tệp PDF, DOCX, JPEG hoặc PNG.",
                )
            attachment_id = f"a{len(system.files) + 1}"
            system.files[attachment_id] = data
            meta = intake_api.AttachmentInfo(
                attachment_id=attachment_id,
                report_id=report_id,
                version=system.reports[report_id]["version"],
                filename=upload.filename or "",
                media_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=who["sub"],
                uploaded_at=system.clock.now(),
                download=f"/v1/reports/{report_id}/attachments/{attachment_id}",
            )
            system.attachments.setdefault(report_id, []).append(meta)
            return meta

        @app.get("/v1/reports/{report_id}/attachments/{attachment_id}", response_class=Response)
        async def download_attachment(
            report_id: str, attachment_id: str, request: Request
        ) -> Response:
            await system.record(request)
            if caller(request) is None:
                return unauthorized()
            if attachment_id not in system.files:
                return error(404, "attachment_not_found", "Không tìm thấy tệp đính kèm.")
            return Response(
                system.files[attachment_id],
                media_type="application/pdf",
                headers={
                    "Content-Disposition": "attachment; filename*=utf-8''b%C3%A1o-c%C3%A1o.pdf"
                },
            )

        @app.get("/v1/difficulties", response_model=list[intake_api.DifficultyThread])
        async def list_difficulties(
            request: Request,
            period_id: str | None = None,
            waiting: Annotated[bool | None, Query(alias="open")] = None,
        ) -> Any:
            who = caller(request)
            if who is None:
                return unauthorized()
            threads = [
                fakes_pages.thread(system, d)
                for d in system.difficulties.values()
                if (period_id is None or d["period_id"] == period_id)
                and (who["role"] != "unit" or d["unit_code"] == who["unit"])
            ]
            return [t for t in threads if waiting is None or t.open == waiting]

        @app.post(
            "/v1/difficulties/{difficulty_id}/answer",
            response_model=intake_api.DifficultyThread,
        )
        async def answer(difficulty_id: str, request: Request) -> Any:
            body = intake_api.AnswerRequest.model_validate(await system.record(request))
            who = caller(request)
            if who is None:
                return unauthorized()
            if who["role"] not in ("reviewer", "admin"):
                return error(403, "forbidden", "Tài khoản không có quyền thực hiện thao tác này.")
            difficulty = system.difficulties.get(difficulty_id)
            if difficulty is None:
                return error(
                    404, "difficulty_not_found", f"Không tìm thấy vướng mắc «{difficulty_id}»."
                )
            difficulty.update(
                answer=body.answer,
                answered_by=who["sub"],
                answered_at=system.clock.now().isoformat(),
                answered=True,
                open_since=None,
            )
            return fakes_pages.thread(system, difficulty)

        @app.post("/v1/reports/{report_id}/review", response_model=intake_api.ReportSummary)
        async def review(report_id: str, request: Request) -> Any:
            body = intake_api.ReviewRequest.model_validate(await system.record(request))
            report = system.reports[report_id]
            report["status"] = "accepted" if body.decision == "accepted" else "returned"
            report["review"] = intake_api.Review(
                decision=body.decision,
                reason=body.reason,
                version=report["version"],
                reviewed_by="pnv",
                reviewed_at=NOW,
            ).model_dump(mode="json")
            return intake_api.ReportSummary.model_validate(report)

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        return app

    def consolidation(self) -> FastAPI:
        """Consolidation's completeness, counted by consolidation's own rules
        (`services.consolidation.domain.completeness`) over the fake's reports."""
        app = FastAPI()
        system = self

        def completeness(period: dict[str, Any]) -> consolidation_api.PeriodCompleteness:
            info = consolidation_domain.PeriodInfo(
                period_id=period["period_id"],
                kind=period["kind"],
                year=period["year"],
                title=period["title"],
                form_id=period["form_id"],
                form_version=period["form_version"],
                due_at=datetime.fromisoformat(period["due_at"]),
                status=period["status"],
                expected_units=tuple(
                    ExpectedUnit.model_validate(u) for u in period["expected_unit_details"]
                ),
                version=period["version"],
                window_start=_day(period.get("window_start")),
                window_end=_day(period.get("window_end")),
            )
            return consolidation_views.completeness(
                consolidation_domain.completeness(info, map(report_record, system.reports.values()))
            )

        def not_ready() -> JSONResponse:
            return error(404, "not_found", "Không tìm thấy địa chỉ yêu cầu.")

        @app.get(
            "/v1/periods",
            response_model=list[
                consolidation_api.PeriodCompleteness | consolidation_api.OwnPeriodCompleteness
            ],
        )
        async def all_periods(request: Request) -> Any:
            if not system.consolidation_ready:
                return not_ready()
            return [completeness(p) for p in system.periods]

        @app.get(
            "/v1/periods/{period_id}/completeness",
            response_model=consolidation_api.PeriodCompleteness
            | consolidation_api.OwnPeriodCompleteness,
        )
        async def read(period_id: str, request: Request) -> Any:
            if not system.consolidation_ready:
                return not_ready()
            if (refused := system.refusal(request)) is not None:
                return refused
            period = next((p for p in system.periods if p["period_id"] == period_id), None)
            if period is None:
                return error(404, "period_not_found", f"Không tìm thấy kỳ báo cáo «{period_id}».")
            return completeness(period)

        @app.get("/v1/periods/{period_id}/report.docx", response_class=Response)
        async def docx(period_id: str) -> Response:
            return Response(
                b"PK-fake-docx",
                media_type="application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document",
                headers={"Content-Disposition": f'attachment; filename="{period_id}.docx"'},
            )

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        return app

    def reminders(self) -> FastAPI:
        app = FastAPI()
        system = self

        @app.post(
            "/v1/periods/{period_id}/remind",
            status_code=202,
            response_model=reminders_api.UrgeResult,
        )
        async def remind(period_id: str, request: Request) -> Any:
            body = reminders_api.RemindRequest.model_validate(await system.record(request))
            if not system.reminders_ready:
                return error(404, "not_found", "Không tìm thấy địa chỉ yêu cầu.")
            units = body.units or ["18118", "PVHTT"]
            return reminders_api.UrgeResult(request_id="r1", queued=tuple(units), skipped=())

        @app.get("/v1/reminders", response_model=list[reminders_api.DeliveryEntry])
        async def log(request: Request) -> Any:
            return system.deliveries

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        return app


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def report_record(report: Mapping[str, Any]) -> consolidation_domain.ReportRecord:
    """A fake report as consolidation's projection holds it."""
    withdrawn_at = report.get("withdrawn_at")
    return consolidation_domain.ReportRecord(
        report_id=report["report_id"],
        period_id=report["period_id"],
        unit_code=report["unit_code"],
        submission=consolidation_domain.Submission(
            version=report["version"],
            status=report["status"],
            on_time=report["on_time"],
            first_submitted_at=datetime.fromisoformat(report["first_submitted_at"]),
            submitted_at=datetime.fromisoformat(report["submitted_at"]),
            content=report.get("content") or {},
            content_sha256=report.get("content_sha256") or "",
        ),
        withdrawal=consolidation_domain.Withdrawal(
            version=report["version"], withdrawn_at=datetime.fromisoformat(withdrawn_at)
        )
        if withdrawn_at
        else None,
    )


URLS = {
    "registry": "http://registry.test",
    "intake": "http://intake.test",
    "reminders": "http://reminders.test",
    "consolidation": "http://consolidation.test",
}


def portal_settings(**overrides: Any) -> PortalSettings:
    return PortalSettings(
        env="test",
        registry_url=URLS["registry"],
        intake_url=URLS["intake"],
        reminders_url=URLS["reminders"],
        consolidation_url=URLS["consolidation"],
        session_secret="test-secret-" + "x" * 32,
        **overrides,
    )


def fake_apps(system: FakeSystem) -> dict[str, FastAPI]:
    """The four fake backends, keyed by service name, with every route the portal calls."""
    by_service = {
        "registry": system.registry(),
        "intake": system.intake(),
        "reminders": system.reminders(),
        "consolidation": system.consolidation(),
    }
    fakes_pages.install(system, by_service)
    fakes_accounts.install(system, by_service["registry"])
    return by_service


def build_portal(system: FakeSystem, **settings: Any) -> FastAPI:
    """The portal wired to the fakes in memory (no ports)."""
    apps = {URLS[name]: app for name, app in fake_apps(system).items()}

    def factory(base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=apps[base_url]), base_url=base_url
        )

    return create_app(portal_settings(**settings), http_client_factory=factory, clock=system.clock)
