"""Thin HTTP clients of the backends, forwarding the user's bearer token.

Answers are read into the backends' own response models (`shared.contracts.api.<service>`),
and request bodies are built from their request models, so a backend that renames or drops
a field breaks the portal's type check and its tests, not a page in production. An answer
that does not fit its model is a ``BackendError`` (``contract_mismatch``), never a page
reading half an answer.

Every backend answers errors as ``{"error": {"code", "message", ...}}``; they become a
``BackendError`` whose message the page shows. A backend that is down, slow, or does not
have an endpoint yet becomes a ``BackendError`` too, with a Vietnamese notice instead of
a stack trace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared import logs
from shared.contracts.api import consolidation as consolidation_api
from shared.contracts.api import intake as intake_api
from shared.contracts.api import registry as registry_api
from shared.contracts.api import reminders as reminders_api

log = logging.getLogger(__name__)

HttpClientFactory = Callable[[str], httpx.AsyncClient]
T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)

SERVICE_LABELS: dict[str, str] = {
    "registry": "dịch vụ danh mục và đăng nhập",
    "intake": "dịch vụ tiếp nhận báo cáo",
    "reminders": "dịch vụ đôn đốc",
    "consolidation": "dịch vụ tổng hợp",
}

# The generic answer of a backend route that does not exist (shared.http), as opposed
# to a 404 about a missing report or period.
_NO_ROUTE_MESSAGE = "Không tìm thấy địa chỉ yêu cầu."
_FILENAME = re.compile(r'filename="?([A-Za-z0-9._-]+)"?')
ATTACHMENT_SUFFIXES: dict[str, str] = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


@dataclass
class BackendError(Exception):
    """A backend refused or could not answer; ``message`` is Vietnamese and safe to show."""

    service: str
    status: int
    code: str
    message: str
    issues: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    details: Any = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.service} {self.status} {self.code}")

    @property
    def unavailable(self) -> bool:
        """The backend could not be reached or does not offer this yet."""
        return self.code in ("backend_unavailable", "feature_unavailable")


def unavailable(service: str) -> BackendError:
    """The error for a backend that did not answer."""
    label = SERVICE_LABELS.get(service, service)
    return BackendError(
        service,
        503,
        "backend_unavailable",
        f"Không kết nối được {label}. Vui lòng thử lại sau ít phút; "
        "nếu vẫn lỗi, liên hệ bộ phận kỹ thuật.",
    )


def feature_missing(service: str) -> BackendError:
    """The error for an endpoint the backend does not have (yet)."""
    label = SERVICE_LABELS.get(service, service)
    return BackendError(
        service,
        404,
        "feature_unavailable",
        f"Chức năng này của {label} chưa sẵn sàng. Vui lòng thử lại sau.",
    )


def contract_mismatch(service: str) -> BackendError:
    """The error for an answer that does not fit the backend's own response model."""
    label = SERVICE_LABELS.get(service, service)
    return BackendError(
        service,
        502,
        "contract_mismatch",
        f"Câu trả lời của {label} không đúng định dạng đã thống nhất. Vui lòng thử lại sau; "
        "nếu vẫn lỗi, liên hệ bộ phận kỹ thuật.",
    )


def request_body(service: str, model: type[R], **fields: Any) -> dict[str, Any]:
    """A request body built from the backend's request model: the fields given, as JSON
    (a field not given is left out; one given as None is sent as null, e.g. "no leader").

    What the model refuses (e.g. a text far over its bound) is a 422 with a Vietnamese
    message, as the backend itself would answer, and nothing is sent."""
    try:
        built = model.model_validate(fields)
    except ValidationError as exc:
        issues = [
            {"path": ".".join(str(p) for p in e["loc"]), "message": "Giá trị không hợp lệ."}
            for e in exc.errors()
        ]
        raise BackendError(
            service,
            422,
            "invalid_request",
            "Nội dung gửi đi không hợp lệ; vui lòng kiểm tra lại.",
            issues=issues,
        ) from None
    body: dict[str, Any] = built.model_dump(mode="json", exclude_unset=True)
    return body


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(shape: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(shape)
    if adapter is None:
        adapter = _ADAPTERS[shape] = TypeAdapter(shape)
    return adapter


def error_from_response(service: str, response: httpx.Response) -> BackendError:
    """The BackendError a non-2xx answer stands for."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        if response.status_code in (404, 405):
            return feature_missing(service)
        if response.status_code >= 500:
            return unavailable(service)
        return BackendError(
            service,
            response.status_code,
            "http_error",
            f"Yêu cầu không thực hiện được (mã {response.status_code}).",
        )
    code = str(error.get("code") or "error")
    message = str(error.get("message") or "Yêu cầu không thực hiện được.")
    if response.status_code in (404, 405) and (
        code == "method_not_allowed" or (code == "not_found" and message == _NO_ROUTE_MESSAGE)
    ):
        return feature_missing(service)
    issues = error.get("issues")
    details = error.get("details")
    if not isinstance(issues, list) and isinstance(details, list):
        # Request-shape errors (422 invalid_request) list their problems under details.
        issues = [d for d in details if isinstance(d, Mapping) and "message" in d]
    warnings = error.get("warnings")
    return BackendError(
        service,
        response.status_code,
        code,
        message,
        issues=list(issues) if isinstance(issues, list) else [],
        warnings=list(warnings) if isinstance(warnings, list) else [],
        details=details,
    )


class Backend:
    """One backend service reached over HTTP."""

    def __init__(self, service: str, client: httpx.AsyncClient) -> None:
        self.service = service
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """Send a request; a non-2xx answer or a transport failure raises BackendError."""
        sent_headers = dict(headers or {})
        # One request id from the browser's click to every backend it reaches.
        if (current := logs.request_id.get()) is not None:
            sent_headers.setdefault("X-Request-Id", current)
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self.client.request(
                method,
                path,
                json=json,
                data=data,
                params=params,
                headers=sent_headers,
                files=files,
            )
        except httpx.HTTPError as exc:
            log.warning("%s %s %s failed: %s", self.service, method, path, type(exc).__name__)
            raise unavailable(self.service) from None
        if response.status_code >= 400:
            raise error_from_response(self.service, response)
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request."""
        response = await self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise unavailable(self.service) from None

    async def model(self, model: type[R], method: str, path: str, **kwargs: Any) -> R:
        """The answer read into the backend's response model."""
        answer: R = await self.parsed(model, method, path, **kwargs)
        return answer

    async def models(self, model: type[R], method: str, path: str, **kwargs: Any) -> list[R]:
        """A list answer, each item read into the backend's response model."""
        items: list[R] = await self.parsed(list[model], method, path, **kwargs)  # type: ignore[valid-type]
        return items

    async def parsed(self, shape: Any, method: str, path: str, **kwargs: Any) -> Any:
        """The answer validated against a type (a model, a list of models)."""
        data = await self.json(method, path, **kwargs)
        try:
            return _adapter(shape).validate_python(data)
        except ValidationError as exc:
            log.error(
                "%s %s %s: the answer does not fit %s (%d problems, first at %s)",
                self.service,
                method,
                path,
                getattr(shape, "__name__", str(shape)),
                exc.error_count(),
                ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else "",
            )
            raise contract_mismatch(self.service) from None

    async def ping(self) -> None:
        """Readiness: the backend answers /healthz."""
        response = await self.client.get("/healthz")
        response.raise_for_status()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


@dataclass(frozen=True)
class Download:
    """A document fetched from a backend, passed on to the browser."""

    content: bytes
    media_type: str
    filename: str


class Backends:
    """The four backends the portal calls, with one method per use."""

    def __init__(
        self,
        *,
        registry: Backend,
        intake: Backend,
        reminders: Backend,
        consolidation: Backend,
    ) -> None:
        self.registry = registry
        self.intake = intake
        self.reminders = reminders
        self.consolidation = consolidation

    @classmethod
    def connect(cls, urls: Mapping[str, str], factory: HttpClientFactory) -> Backends:
        """Clients for the backends at these base URLs."""
        return cls(**{name: Backend(name, factory(urls[name])) for name in SERVICE_LABELS})

    def all(self) -> list[Backend]:
        """Every backend."""
        return [self.registry, self.intake, self.reminders, self.consolidation]

    async def aclose(self) -> None:
        """Close every connection pool."""
        for backend in self.all():
            await backend.aclose()

    async def login(
        self, username: str, password: str, client_address: str | None = None
    ) -> registry_api.TokenAnswer:
        """Exchange a username and password for a bearer token (OAuth2 password form).

        The browser's address goes along, so the registry slows down guessing per person,
        not for everyone behind the portal at once."""
        headers = {"X-Forwarded-For": client_address} if client_address else None
        return await self.registry.model(
            registry_api.TokenAnswer,
            "POST",
            "/v1/auth/token",
            data={"username": username, "password": password},
            headers=headers,
        )

    async def logout(self, token: str) -> None:
        """Revoke the session's token at the registry, so no service accepts it any more."""
        await self.registry.model(registry_api.SignedOut, "POST", "/v1/auth/logout", token=token)

    async def periods(self, token: str) -> list[registry_api.PeriodView]:
        """Every reporting period."""
        return await self.registry.models(
            registry_api.PeriodView, "GET", "/v1/periods", token=token
        )

    async def period(self, token: str, period_id: str) -> registry_api.PeriodView:
        """One period with its expected units."""
        return await self.registry.model(
            registry_api.PeriodView, "GET", f"/v1/periods/{_seg(period_id)}", token=token
        )

    async def reports(self, token: str, **filters: str) -> list[intake_api.ReportSummary]:
        """Reports visible to the caller, filtered by period, unit or state."""
        return await self.intake.models(
            intake_api.ReportSummary, "GET", "/v1/reports", token=token, params=filters
        )

    async def report(self, token: str, report_id: str) -> intake_api.ReportDetail:
        """One report with its current content."""
        return await self.intake.model(
            intake_api.ReportDetail, "GET", f"/v1/reports/{_seg(report_id)}", token=token
        )

    async def period_form(
        self, token: str, period_id: str, unit_code: str | None = None
    ) -> intake_api.PeriodForm:
        """The form the unit fills for the period, with the period and unit header."""
        params = {"unit_code": unit_code} if unit_code else None
        return await self.intake.model(
            intake_api.PeriodForm,
            "GET",
            f"/v1/periods/{_seg(period_id)}/form",
            token=token,
            params=params,
        )

    async def submit_report(
        self, token: str, body: Mapping[str, Any], idempotency_key: str
    ) -> intake_api.ReportAccepted:
        """First submission; the key makes a resent form return the first answer.

        A report body has the shape of the period's form (intake validates it against the
        form, `shared.forms.validate_report`), so it is not a request model."""
        return await self.intake.model(
            intake_api.ReportAccepted,
            "POST",
            "/v1/reports",
            token=token,
            json=dict(body),
            headers={"Idempotency-Key": idempotency_key},
        )

    async def amend_report(
        self, token: str, report_id: str, body: Mapping[str, Any], idempotency_key: str
    ) -> intake_api.ReportAccepted:
        """A full new version of an existing report."""
        return await self.intake.model(
            intake_api.ReportAccepted,
            "PUT",
            f"/v1/reports/{_seg(report_id)}",
            token=token,
            json=dict(body),
            headers={"Idempotency-Key": idempotency_key},
        )

    async def review_report(
        self, token: str, report_id: str, decision: str, reason: str, version: int | None
    ) -> intake_api.ReportSummary:
        """Accept, or return with a reason, the version the reviewer looked at."""
        given = {"version": version} if version is not None else {}
        body = request_body(
            "intake", intake_api.ReviewRequest, decision=decision, reason=reason, **given
        )
        return await self.intake.model(
            intake_api.ReportSummary,
            "POST",
            f"/v1/reports/{_seg(report_id)}/review",
            token=token,
            json=body,
        )

    async def completeness(
        self, token: str, period_id: str
    ) -> consolidation_api.PeriodCompleteness:
        """Who has reported in the period (the whole view, as readers get it)."""
        return await self.consolidation.model(
            consolidation_api.PeriodCompleteness,
            "GET",
            f"/v1/periods/{_seg(period_id)}/completeness",
            token=token,
        )

    async def all_completeness(self, token: str) -> list[consolidation_api.PeriodCompleteness]:
        """Every period consolidation knows, each with its completeness."""
        return await self.consolidation.models(
            consolidation_api.PeriodCompleteness, "GET", "/v1/periods", token=token
        )

    async def remind(
        self, token: str, period_id: str, units: list[str] | None, request_id: str
    ) -> reminders_api.UrgeResult:
        """Urge now the listed units, or every unit that has not reported."""
        given = {"units": units} if units else {}
        body = request_body("reminders", reminders_api.RemindRequest, **given)
        return await self.reminders.model(
            reminders_api.UrgeResult,
            "POST",
            f"/v1/periods/{_seg(period_id)}/remind",
            token=token,
            json=body,
            headers={"Idempotency-Key": request_id},
        )

    async def reminder_log(
        self, token: str, period_id: str, limit: int = 50
    ) -> list[reminders_api.DeliveryEntry]:
        """The newest reminder deliveries of a period."""
        return await self.reminders.models(
            reminders_api.DeliveryEntry,
            "GET",
            "/v1/reminders",
            token=token,
            params={"period_id": period_id, "limit": str(limit)},
        )

    async def consolidated_document(self, token: str, period_id: str, suffix: str) -> Download:
        """The consolidated report as .docx or .xlsx."""
        return await self._download(
            self.consolidation,
            token,
            f"/v1/periods/{_seg(period_id)}/report.{suffix}",
            f"bao-cao-tong-hop-{period_id}.{suffix}",
        )

    async def urging_letter(self, token: str, period_id: str) -> Download:
        """The urging letter (công văn đôn đốc) to the units still missing."""
        return await self._download(
            self.reminders,
            token,
            f"/v1/periods/{_seg(period_id)}/urging-letter.docx",
            f"cong-van-don-doc-{period_id}.docx",
        )

    async def difficulties(self, token: str, **filters: str) -> list[intake_api.DifficultyThread]:
        """Difficulty threads (vướng mắc) with their answers; a unit gets its own."""
        return await self.intake.models(
            intake_api.DifficultyThread, "GET", "/v1/difficulties", token=token, params=filters
        )

    async def answer_difficulty(
        self, token: str, difficulty_id: str, answer: str
    ) -> intake_api.DifficultyThread:
        """Phòng Nội vụ's answer to a difficulty (answering again replaces it)."""
        body = request_body("intake", intake_api.AnswerRequest, answer=answer)
        return await self.intake.model(
            intake_api.DifficultyThread,
            "POST",
            f"/v1/difficulties/{_seg(difficulty_id)}/answer",
            token=token,
            json=body,
        )

    async def report_versions(
        self, token: str, report_id: str
    ) -> list[intake_api.ReportVersionView]:
        """Every version of a report, oldest first."""
        return await self.intake.models(
            intake_api.ReportVersionView,
            "GET",
            f"/v1/reports/{_seg(report_id)}/versions",
            token=token,
        )

    async def withdraw_report(self, token: str, report_id: str) -> intake_api.ReportSummary:
        """The unit takes its report back."""
        return await self.intake.model(
            intake_api.ReportSummary,
            "POST",
            f"/v1/reports/{_seg(report_id)}/withdraw",
            token=token,
        )

    async def attachments(self, token: str, report_id: str) -> list[intake_api.AttachmentInfo]:
        """Metadata of a report's attachments."""
        return await self.intake.models(
            intake_api.AttachmentInfo,
            "GET",
            f"/v1/reports/{_seg(report_id)}/attachments",
            token=token,
        )

    async def add_attachment(
        self, token: str, report_id: str, filename: str, content: bytes, media_type: str
    ) -> intake_api.AttachmentInfo:
        """Upload a file (the signed scan) to the report; intake checks its type and size."""
        return await self.intake.model(
            intake_api.AttachmentInfo,
            "POST",
            f"/v1/reports/{_seg(report_id)}/attachments",
            token=token,
            files={"file": (filename, content, media_type)},
        )

    async def attachment(self, token: str, report_id: str, attachment_id: str) -> Download:
        """One attachment's bytes, fetched with the user's token for the browser."""
        path = f"/v1/reports/{_seg(report_id)}/attachments/{_seg(attachment_id)}"
        response = await self.intake.request("GET", path, token=token)
        media_type = response.headers.get("content-type", "application/octet-stream")
        # Intake names Vietnamese files only in filename*=, which the ASCII pattern skips.
        suffix = ATTACHMENT_SUFFIXES.get(media_type.split(";")[0].strip(), "")
        name = _filename(response) or f"dinh-kem-{_safe_name(attachment_id)}{suffix}"
        return Download(response.content, media_type, name)

    async def units(self, token: str, on: str | None = None) -> list[registry_api.UnitView]:
        """Every unit record (optionally those valid on a day)."""
        params = {"on": on} if on else None
        return await self.registry.models(
            registry_api.UnitView, "GET", "/v1/units", token=token, params=params
        )

    async def unit(self, token: str, code: str) -> registry_api.UnitView:
        """The newest record of a unit code."""
        return await self.registry.model(
            registry_api.UnitView, "GET", f"/v1/units/{_seg(code)}", token=token
        )

    async def update_unit(
        self, token: str, code: str, changes: Mapping[str, Any]
    ) -> registry_api.UnitView:
        """Change a unit (admin): leader and contacts merge field by field; a leader given
        as None removes it."""
        body = request_body("registry", registry_api.UnitPatch, **changes)
        return await self.registry.model(
            registry_api.UnitView, "PATCH", f"/v1/units/{_seg(code)}", token=token, json=body
        )

    async def unit_history(self, token: str, code: str) -> registry_api.UnitHistory:
        """A unit's recorded changes and its leaders in charge over time."""
        return await self.registry.model(
            registry_api.UnitHistory, "GET", f"/v1/units/{_seg(code)}/history", token=token
        )

    async def create_period(
        self, token: str, request: Mapping[str, Any], idempotency_key: str
    ) -> registry_api.CreatedPeriod:
        """Open an ad-hoc request (báo cáo đột xuất)."""
        body = request_body("registry", registry_api.PeriodIn, **request)
        return await self.registry.model(
            registry_api.CreatedPeriod,
            "POST",
            "/v1/periods",
            token=token,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )

    async def update_period(
        self, token: str, period_id: str, changes: Mapping[str, Any]
    ) -> registry_api.PeriodView:
        """Change a period: extend the deadline, close or reopen it."""
        body = request_body("registry", registry_api.PeriodPatch, **changes)
        return await self.registry.model(
            registry_api.PeriodView,
            "PATCH",
            f"/v1/periods/{_seg(period_id)}",
            token=token,
            json=body,
        )

    # --- pages for issues 10 and 11 (answers read as the backends' models) ---------------

    async def leader_changes(
        self, token: str, period_id: str | None = None
    ) -> list[intake_api.LeaderChange]:
        """Units whose current report says their leader in charge changed (plan II.5)."""
        params = {"period_id": period_id} if period_id else None
        return await self.intake.models(
            intake_api.LeaderChange, "GET", "/v1/leader-changes", token=token, params=params
        )

    async def unit_draft(self, token: str, period_id: str) -> intake_api.Draft | None:
        """The unit's own draft (bản nháp) for the period, None when it saved none."""
        try:
            return await self.intake.model(
                intake_api.Draft, "GET", f"/v1/periods/{_seg(period_id)}/draft", token=token
            )
        except BackendError as exc:
            if exc.code == "draft_not_found":
                return None
            raise

    async def save_unit_draft(
        self, token: str, period_id: str, body: dict[str, Any]
    ) -> intake_api.Draft:
        """Save whatever the unit has written so far; the answer lists its problems."""
        return await self.intake.model(
            intake_api.Draft, "PUT", f"/v1/periods/{_seg(period_id)}/draft", token=token, json=body
        )

    async def prefill_unit_draft(self, token: str, period_id: str) -> intake_api.Draft:
        """Fill the draft's empty narratives from the unit's last periodic report."""
        return await self.intake.model(
            intake_api.Draft, "POST", f"/v1/periods/{_seg(period_id)}/draft/prefill", token=token
        )

    async def report_document(
        self, token: str, report_id: str, version: int | None = None
    ) -> Download:
        """The unit's own report as a .docx (Nghị định 30), to print, sign and scan."""
        params = {"version": str(version)} if version else None
        path = f"/v1/reports/{_seg(report_id)}/document.docx"
        response = await self.intake.request("GET", path, token=token, params=params)
        media_type = response.headers.get("content-type", "application/octet-stream")
        suffix = f"-v{version}" if version else ""
        name = _filename(response) or f"bao-cao-{_safe_name(report_id)}{suffix}.docx"
        return Download(response.content, media_type, name)

    async def raise_difficulty(
        self, token: str, text: str, period_id: str | None, idempotency_key: str
    ) -> intake_api.DifficultyThread:
        """A unit raises a difficulty at any time, outside any report (201)."""
        body = request_body("intake", intake_api.DifficultyRequest, text=text, period_id=period_id)
        return await self.intake.model(
            intake_api.DifficultyThread,
            "POST",
            "/v1/difficulties",
            token=token,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )

    async def difficulty(self, token: str, difficulty_id: str) -> intake_api.DifficultyThread:
        """One difficulty thread with every message (a unit: its own)."""
        return await self.intake.model(
            intake_api.DifficultyThread,
            "GET",
            f"/v1/difficulties/{_seg(difficulty_id)}",
            token=token,
        )

    async def post_difficulty_message(
        self, token: str, difficulty_id: str, text: str, idempotency_key: str
    ) -> intake_api.DifficultyThread:
        """A follow-up on a thread: the unit asks again, or Phòng Nội vụ answers."""
        body = request_body("intake", intake_api.MessageRequest, text=text)
        return await self.intake.model(
            intake_api.DifficultyThread,
            "POST",
            f"/v1/difficulties/{_seg(difficulty_id)}/messages",
            token=token,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )

    async def reminder_schedule(
        self, token: str, period_id: str, days: int = 31
    ) -> list[reminders_api.ScheduledReminder]:
        """The reminders planned for the period's next `days` days (lịch đôn đốc)."""
        return await self.reminders.models(
            reminders_api.ScheduledReminder,
            "GET",
            f"/v1/periods/{_seg(period_id)}/schedule",
            token=token,
            params={"days": str(days)},
        )

    async def town_draft(self, token: str, period_id: str) -> consolidation_api.Draft:
        """The town report's draft (dự thảo) of a period, as consolidation composes it."""
        return await self.consolidation.model(
            consolidation_api.Draft, "GET", f"/v1/periods/{_seg(period_id)}/draft", token=token
        )

    async def save_town_draft(
        self, token: str, period_id: str, version: int, parts: dict[str, dict[str, Any]]
    ) -> consolidation_api.Draft:
        """Save the draft over the version read (409 naming who saved in between)."""
        body = request_body(
            "consolidation", consolidation_api.DraftSave, version=version, parts=parts
        )
        return await self.consolidation.model(
            consolidation_api.Draft,
            "PUT",
            f"/v1/periods/{_seg(period_id)}/draft",
            token=token,
            json=body,
        )

    async def highlights(self, token: str, period_id: str) -> list[consolidation_api.PickedExcerpt]:
        """The excerpts of units' reports picked for the town report."""
        return await self.consolidation.models(
            consolidation_api.PickedExcerpt,
            "GET",
            f"/v1/periods/{_seg(period_id)}/highlights",
            token=token,
        )

    async def mark_highlight(
        self, token: str, period_id: str, unit_code: str, field: str, text: str
    ) -> consolidation_api.PickedExcerpt:
        """Pick an excerpt of a unit's narrative for the town report."""
        body = request_body(
            "consolidation",
            consolidation_api.HighlightRequest,
            unit_code=unit_code,
            field=field,
            text=text,
        )
        return await self.consolidation.model(
            consolidation_api.PickedExcerpt,
            "POST",
            f"/v1/periods/{_seg(period_id)}/highlights",
            token=token,
            json=body,
        )

    async def unmark_highlight(self, token: str, period_id: str, highlight_id: str) -> None:
        """Take a picked excerpt out of the town report."""
        await self.consolidation.request(
            "DELETE",
            f"/v1/periods/{_seg(period_id)}/highlights/{_seg(highlight_id)}",
            token=token,
        )

    async def import_units(
        self, token: str, filename: str, content: bytes, *, dry_run: bool
    ) -> registry_api.ImportReport:
        """Check (``dry_run``) or apply a CSV/XLSX unit file; all or nothing (admin)."""
        media = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if filename.lower().endswith(".xlsx")
            else "text/csv"
        )
        return await self.registry.model(
            registry_api.ImportReport,
            "POST",
            "/v1/units/import",
            token=token,
            params={"dry_run": "true" if dry_run else "false"},
            files={"file": (filename, content, media)},
        )

    async def unit_sheet(self, token: str, name: str) -> Download:
        """The unit file template or the current units, as CSV or XLSX (registry)."""
        return await self._download(self.registry, token, f"/v1/units/{name}", f"don-vi-{name}")

    async def create_regime_year(self, token: str, year: int) -> list[registry_api.PeriodView]:
        """Create the year's periodic reports from the configured regime."""
        body = request_body("registry", registry_api.RegimeYearIn, year=year)
        return await self.registry.models(
            registry_api.PeriodView, "POST", "/v1/periods/regime", token=token, json=body
        )

    async def change_own_password(self, token: str, old: str, new: str) -> None:
        """Change the signed-in account's own password (the current one is required)."""
        body = request_body(
            "registry", registry_api.PasswordChange, old_password=old, new_password=new
        )
        await self.registry.model(
            registry_api.PasswordChanged,
            "POST",
            "/v1/accounts/me/password",
            token=token,
            json=body,
        )

    async def accounts(self, token: str) -> list[registry_api.AccountInfo]:
        """Every account (admin)."""
        return await self.registry.models(
            registry_api.AccountInfo, "GET", "/v1/accounts", token=token
        )

    async def create_account(self, token: str, **fields: Any) -> registry_api.CreatedAccount:
        """A new account without a password, with its one-time activation code (admin)."""
        body = request_body("registry", registry_api.AccountIn, **fields)
        return await self.registry.model(
            registry_api.CreatedAccount, "POST", "/v1/accounts", token=token, json=body
        )

    async def update_account(
        self, token: str, username: str, **changes: Any
    ) -> registry_api.AccountInfo:
        """Change an account's name, role, unit or active flag (admin)."""
        body = request_body("registry", registry_api.AccountPatch, **changes)
        return await self.registry.model(
            registry_api.AccountInfo,
            "PATCH",
            f"/v1/accounts/{_seg(username)}",
            token=token,
            json=body,
        )

    async def reset_activation(self, token: str, username: str) -> registry_api.ActivationCode:
        """A new activation code for an account; its old password stops working (admin)."""
        return await self.registry.model(
            registry_api.ActivationCode,
            "POST",
            f"/v1/accounts/{_seg(username)}/activation",
            token=token,
        )

    async def handover_sheet(self, token: str, unit_code: str) -> Download:
        """A unit's handover sheet (.csv): new activation codes for its accounts that have
        no password yet (admin)."""
        response = await self.registry.request(
            "POST", f"/v1/units/{_seg(unit_code)}/handover.csv", token=token
        )
        media_type = response.headers.get("content-type", "text/csv")
        name = _filename(response) or f"ban-giao-{_safe_name(unit_code)}.csv"
        return Download(response.content, media_type, name)

    async def activate(
        self, username: str, code: str, new_password: str, client_address: str | None = None
    ) -> registry_api.Activated:
        """Set an account's password with its one-time activation code (no token)."""
        body = request_body(
            "registry",
            registry_api.ActivationRequest,
            username=username,
            code=code,
            new_password=new_password,
        )
        headers = {"X-Forwarded-For": client_address} if client_address else None
        return await self.registry.model(
            registry_api.Activated, "POST", "/v1/auth/activate", json=body, headers=headers
        )

    async def _download(
        self, backend: Backend, token: str, path: str, default_name: str
    ) -> Download:
        response = await backend.request("GET", path, token=token)
        media_type = response.headers.get("content-type", "application/octet-stream")
        return Download(response.content, media_type, _filename(response) or default_name)


def _filename(response: httpx.Response) -> str | None:
    match = _FILENAME.search(response.headers.get("content-disposition", ""))
    return match.group(1) if match else None


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", value)[:80] or "tep"


def _seg(value: str) -> str:
    """A value safe to put in one path segment."""
    return quote(value, safe="")
