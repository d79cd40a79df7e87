"""`Idempotency-Key`, one rule for every service that takes it (intake's submissions, the
registry's ad-hoc requests).

A key belongs to its caller (the scope). Same key and the same request — method, path and
body, compared through a canonical JSON digest — gets the first answer again, status and body
as they were, marked `Idempotent-Replayed: true`. The same key with a different request is
refused with 422 `idempotency_key_reused` and changes nothing. An answer is stored in the
transaction that made it, written before the effects: a concurrent twin blocks on the key,
fails on it, and then gets the stored answer. A refused request stores nothing, so its key
may be used again for the corrected request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import UtcDateTime, insert_into
from shared.errors import DomainError, Unprocessable

KEY_MAX = 200
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def idempotency_table(metadata: MetaData) -> Table:
    """The stored first answers, by caller and key (each service adds it to its metadata)."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(80), primary_key=True),
        Column("key", String(KEY_MAX), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSON, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
    )


def check_key(value: str | None) -> str | None:
    """A usable key (trimmed), None when none was sent; 400 when it cannot be one."""
    if value is None:
        return None
    key = value.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable() or not key.isascii():
        raise DomainError(
            "Mã chống gửi trùng của yêu cầu không hợp lệ: chỉ gồm ký tự ASCII in được, tối đa "
            f"{KEY_MAX} ký tự.",
            code="invalid_idempotency_key",
            status=400,
            details={"header": HEADER},
        )
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """The digest of what a request asks for: method, path and canonical JSON body."""
    text = json.dumps(
        [f"{method.upper()} {path}", body], sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def key_reused() -> Unprocessable:
    """The key came before with a different request."""
    return Unprocessable(
        "Biểu mẫu này đã được gửi trước đó với nội dung khác. Hãy tải lại trang rồi gửi lại.",
        code="idempotency_key_reused",
        details={"header": HEADER},
    )


@dataclass(frozen=True)
class IdempotentRequest:
    """A request sent with a key: whose it is, the key, and what it asked for."""

    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(
        cls, key: str | None, *, caller: str, method: str, path: str, body: Any
    ) -> IdempotentRequest | None:
        """The keyed request, or None when the request carries no key (400 on a bad one)."""
        checked = check_key(key)
        if checked is None:
            return None
        return cls(scope=caller, key=checked, fingerprint=fingerprint(method, path, body))


@dataclass(frozen=True)
class Answer:
    """A JSON answer as it was first given, and whether this is a replay of it."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        """The HTTP response, marked when replayed."""
        all_headers = dict(headers or {})
        if self.replayed:
            all_headers[REPLAYED_HEADER] = "true"
        return JSONResponse(self.body, status_code=self.status_code, headers=all_headers)


async def replay(session: AsyncSession, table: Table, request: IdempotentRequest) -> Answer | None:
    """The first answer to this request, None if it is new; 422 if the key asked otherwise."""
    row = (
        await session.execute(
            select(table.c.fingerprint, table.c.status_code, table.c.response).where(
                table.c.scope == request.scope, table.c.key == request.key
            )
        )
    ).first()
    if row is None:
        return None
    return stored_answer(request, row.fingerprint, row.status_code, row.response)


def stored_answer(
    request: IdempotentRequest, fingerprint: str | None, status_code: Any, response: Any
) -> Answer | None:
    """The first answer from a stored row's columns (read by `replay`, or joined into a
    caller's own query): None when there is none, 422 if the key asked otherwise."""
    if fingerprint is None:
        return None
    if fingerprint != request.fingerprint:
        raise key_reused()
    return Answer(int(status_code), dict(response), replayed=True)


async def remember(
    session: AsyncSession, table: Table, request: IdempotentRequest, answer: Answer, now: datetime
) -> None:
    """Store the answer in the caller's transaction, before its effects: the primary key makes
    a concurrent twin fail (IntegrityError) instead of doing the work twice."""
    await session.execute(
        insert_into(table),
        {
            "scope": request.scope,
            "key": request.key,
            "fingerprint": request.fingerprint,
            "status_code": answer.status_code,
            "response": answer.body,
            "created_at": now,
        },
    )
