"""Domain errors with a stable code and a Vietnamese message, mapped to HTTP in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """An error a user sees: HTTP status, stable machine code, Vietnamese message."""

    status: int = 400
    code: str = "bad_request"
    message: str = "Yêu cầu không hợp lệ."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.status = status or type(self).status
        self.details = details
        # Extra response headers, e.g. Retry-After of a 429.
        self.headers = dict(headers or {})
        super().__init__(f"{self.code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class NotFound(DomainError):
    """Something named in the request does not exist."""

    status = 404
    code = "not_found"
    message = "Không tìm thấy."


class Conflict(DomainError):
    """The request clashes with the current state."""

    status = 409
    code = "conflict"
    message = "Xung đột với dữ liệu hiện có."


class Unauthorized(DomainError):
    """No valid sign-in."""

    status = 401
    code = "unauthorized"
    message = "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ."


class Forbidden(DomainError):
    """Signed in, but not allowed."""

    status = 403
    code = "forbidden"
    message = "Tài khoản không có quyền thực hiện thao tác này."


class Unprocessable(DomainError):
    """Well-formed but invalid content."""

    status = 422
    code = "validation_failed"
    message = "Dữ liệu không hợp lệ."


class PayloadTooLarge(DomainError):
    """The request body is over the limit."""

    status = 413
    code = "payload_too_large"
    message = "Dữ liệu gửi lên vượt quá dung lượng cho phép."


class TooManyRequests(DomainError):
    """Too many attempts: wait `retry_after` seconds (sent as Retry-After too)."""

    status = 429
    code = "too_many_attempts"
    message = "Quá nhiều yêu cầu; vui lòng thử lại sau."

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(
            message,
            details={"retry_after_seconds": retry_after, **(details or {})},
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after
