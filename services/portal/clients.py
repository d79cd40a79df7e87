"""Thin HTTP clients of the backends, forwarding the user's bearer token.

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
from typing import Any
from urllib.parse import quote

import httpx

from shared import logs

log = logging.getLogger(__name__)

HttpClientFactory = Callable[[str], httpx.AsyncClient]

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
    ) -> dict[str, Any]:
        """Exchange a username and password for a bearer token (OAuth2 password form).

        The browser's address goes along, so the registry slows down guessing per person,
        not for everyone behind the portal at once."""
        headers = {"X-Forwarded-For": client_address} if client_address else None
        answer: dict[str, Any] = await self.registry.json(
            "POST",
            "/v1/auth/token",
            data={"username": username, "password": password},
            headers=headers,
        )
        return answer

    async def logout(self, token: str) -> None:
        """Revoke the session's token at the registry, so no service accepts it any more."""
        await self.registry.request("POST", "/v1/auth/logout", token=token)

    async def periods(self, token: str) -> list[dict[str, Any]]:
        """Every reporting period."""
        answer: list[dict[str, Any]] = await self.registry.json("GET", "/v1/periods", token=token)
        return answer

    async def period(self, token: str, period_id: str) -> dict[str, Any]:
        """One period with its expected units."""
        answer: dict[str, Any] = await self.registry.json(
            "GET", f"/v1/periods/{_seg(period_id)}", token=token
        )
        return answer

    async def reports(self, token: str, **filters: str) -> list[dict[str, Any]]:
        """Reports visible to the caller, filtered by period, unit or state."""
        answer: list[dict[str, Any]] = await self.intake.json(
            "GET", "/v1/reports", token=token, params=filters
        )
        return answer

    async def report(self, token: str, report_id: str) -> dict[str, Any]:
        """One report with its current content."""
        answer: dict[str, Any] = await self.intake.json(
            "GET", f"/v1/reports/{_seg(report_id)}", token=token
        )
        return answer

    async def period_form(
        self, token: str, period_id: str, unit_code: str | None = None
    ) -> dict[str, Any]:
        """The form the unit fills for the period, with the period and unit header."""
        params = {"unit_code": unit_code} if unit_code else None
        answer: dict[str, Any] = await self.intake.json(
            "GET", f"/v1/periods/{_seg(period_id)}/form", token=token, params=params
        )
        return answer

    async def submit_report(
        self, token: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """First submission; the key makes a resent form return the first answer."""
        answer: dict[str, Any] = await self.intake.json(
            "POST",
            "/v1/reports",
            token=token,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return answer

    async def amend_report(
        self, token: str, report_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """A full new version of an existing report."""
        answer: dict[str, Any] = await self.intake.json(
            "PUT",
            f"/v1/reports/{_seg(report_id)}",
            token=token,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return answer

    async def review_report(
        self, token: str, report_id: str, decision: str, reason: str, version: int | None
    ) -> dict[str, Any]:
        """Accept, or return with a reason, the version the reviewer looked at."""
        body: dict[str, Any] = {"decision": decision, "reason": reason}
        if version is not None:
            body["version"] = version
        answer: dict[str, Any] = await self.intake.json(
            "POST", f"/v1/reports/{_seg(report_id)}/review", token=token, json=body
        )
        return answer

    async def completeness(self, token: str, period_id: str) -> dict[str, Any]:
        """Who has reported in the period."""
        answer: dict[str, Any] = await self.consolidation.json(
            "GET", f"/v1/periods/{_seg(period_id)}/completeness", token=token
        )
        return answer

    async def all_completeness(self, token: str) -> list[dict[str, Any]]:
        """Every period consolidation knows, each with its completeness."""
        answer: list[dict[str, Any]] = await self.consolidation.json(
            "GET", "/v1/periods", token=token
        )
        return answer

    async def remind(
        self, token: str, period_id: str, units: list[str] | None, request_id: str
    ) -> dict[str, Any]:
        """Urge now the listed units, or every unit that has not reported."""
        answer: Any = await self.reminders.json(
            "POST",
            f"/v1/periods/{_seg(period_id)}/remind",
            token=token,
            json={"units": units} if units else {},
            headers={"Idempotency-Key": request_id},
        )
        return answer if isinstance(answer, dict) else {}

    async def reminder_log(self, token: str, period_id: str, limit: int = 50) -> list[Any]:
        """The newest reminder deliveries of a period."""
        answer: list[Any] = await self.reminders.json(
            "GET",
            "/v1/reminders",
            token=token,
            params={"period_id": period_id, "limit": str(limit)},
        )
        return answer

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

    async def difficulties(self, token: str, **filters: str) -> list[dict[str, Any]]:
        """Difficulty threads (vướng mắc) with their answers; a unit gets its own."""
        answer: list[dict[str, Any]] = await self.intake.json(
            "GET", "/v1/difficulties", token=token, params=filters
        )
        return answer

    async def answer_difficulty(
        self, token: str, difficulty_id: str, answer: str
    ) -> dict[str, Any]:
        """Phòng Nội vụ's answer to a difficulty (answering again replaces it)."""
        result: dict[str, Any] = await self.intake.json(
            "POST",
            f"/v1/difficulties/{_seg(difficulty_id)}/answer",
            token=token,
            json={"answer": answer},
        )
        return result

    async def report_versions(self, token: str, report_id: str) -> list[dict[str, Any]]:
        """Every version of a report, oldest first."""
        answer: list[dict[str, Any]] = await self.intake.json(
            "GET", f"/v1/reports/{_seg(report_id)}/versions", token=token
        )
        return answer

    async def withdraw_report(self, token: str, report_id: str) -> dict[str, Any]:
        """The unit takes its report back."""
        answer: dict[str, Any] = await self.intake.json(
            "POST", f"/v1/reports/{_seg(report_id)}/withdraw", token=token
        )
        return answer

    async def attachments(self, token: str, report_id: str) -> list[dict[str, Any]]:
        """Metadata of a report's attachments."""
        answer: list[dict[str, Any]] = await self.intake.json(
            "GET", f"/v1/reports/{_seg(report_id)}/attachments", token=token
        )
        return answer

    async def add_attachment(
        self, token: str, report_id: str, filename: str, content: bytes, media_type: str
    ) -> dict[str, Any]:
        """Upload a file (the signed scan) to the report; intake checks its type and size."""
        answer: dict[str, Any] = await self.intake.json(
            "POST",
            f"/v1/reports/{_seg(report_id)}/attachments",
            token=token,
            files={"file": (filename, content, media_type)},
        )
        return answer

    async def attachment(self, token: str, report_id: str, attachment_id: str) -> Download:
        """One attachment's bytes, fetched with the user's token for the browser."""
        path = f"/v1/reports/{_seg(report_id)}/attachments/{_seg(attachment_id)}"
        response = await self.intake.request("GET", path, token=token)
        media_type = response.headers.get("content-type", "application/octet-stream")
        # Intake names Vietnamese files only in filename*=, which the ASCII pattern skips.
        suffix = ATTACHMENT_SUFFIXES.get(media_type.split(";")[0].strip(), "")
        name = _filename(response) or f"dinh-kem-{_safe_name(attachment_id)}{suffix}"
        return Download(response.content, media_type, name)

    async def units(self, token: str, on: str | None = None) -> list[dict[str, Any]]:
        """Every unit record (optionally those valid on a day)."""
        params = {"on": on} if on else None
        answer: list[dict[str, Any]] = await self.registry.json(
            "GET", "/v1/units", token=token, params=params
        )
        return answer

    async def unit(self, token: str, code: str) -> dict[str, Any]:
        """The newest record of a unit code."""
        answer: dict[str, Any] = await self.registry.json(
            "GET", f"/v1/units/{_seg(code)}", token=token
        )
        return answer

    async def update_unit(self, token: str, code: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change a unit (admin): leader and contacts merge field by field."""
        answer: dict[str, Any] = await self.registry.json(
            "PATCH", f"/v1/units/{_seg(code)}", token=token, json=changes
        )
        return answer

    async def unit_history(self, token: str, code: str) -> dict[str, Any]:
        """A unit's recorded changes and its leaders in charge over time."""
        answer: dict[str, Any] = await self.registry.json(
            "GET", f"/v1/units/{_seg(code)}/history", token=token
        )
        return answer

    async def create_period(
        self, token: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """Open an ad-hoc request (báo cáo đột xuất)."""
        answer: dict[str, Any] = await self.registry.json(
            "POST",
            "/v1/periods",
            token=token,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return answer

    async def update_period(
        self, token: str, period_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Change a period: extend the deadline, close or reopen it."""
        answer: dict[str, Any] = await self.registry.json(
            "PATCH", f"/v1/periods/{_seg(period_id)}", token=token, json=changes
        )
        return answer

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
