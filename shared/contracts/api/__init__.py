"""The HTTP contracts of the services: pydantic request and response models, one module per
service (`shared.contracts.api.<service>`), declared on the routes with `response_model` so the
OpenAPI documents describe every answer, and used by the portal's clients to read the answers.

- `RequestModel`: a body a client sends. Unknown fields are refused; text is NFC-normalised and
  trimmed, except the fields a model names in `verbatim` (secrets are taken exactly as typed).
- `ResponseModel`: an answer a service gives. Frozen; unknown fields are ignored on reading, so a
  service may add a field before the portal knows it (additive changes are harmless), while a
  removed or renamed field breaks the portal's type check and its contract tests.
- `ErrorBody`: the one error format every service answers with (see `shared.errors`).
"""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


class RequestModel(BaseModel):
    """A request body: unknown fields refused, text NFC-normalised and trimmed."""

    model_config = ConfigDict(extra="forbid")
    verbatim: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v if k in cls.verbatim else _nfc(v) for k, v in data.items()}


class ResponseModel(BaseModel):
    """An answer: frozen; unknown fields ignored when a client reads it."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ErrorDetail(ResponseModel):
    """What went wrong: a stable code, a Vietnamese message, optional details."""

    code: str
    message: str
    details: Any = None


class ErrorBody(ResponseModel):
    """The error answer of every service: `{"error": {"code", "message", "details"?}}`."""

    error: ErrorDetail
