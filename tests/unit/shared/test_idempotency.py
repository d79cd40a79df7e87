"""One Idempotency-Key rule: keys per caller, a digest of method, path and canonical body."""

from __future__ import annotations

import pytest

from shared.errors import DomainError
from shared.idempotency import Answer, IdempotentRequest, check_key, fingerprint, key_reused


def test_idempotency_keys_are_short_printable_ascii():
    assert check_key(None) is None
    assert check_key(" abc-123 ") == "abc-123"
    for bad in ("", "x" * 201, "khóa", "a\nb"):
        with pytest.raises(DomainError) as caught:
            check_key(bad)
        assert (caught.value.status, caught.value.code) == (400, "invalid_idempotency_key")


def test_the_fingerprint_ignores_key_order_but_not_content_method_or_path():
    a = fingerprint("POST", "/v1/reports", {"a": 1, "b": [1, 2]})
    assert a == fingerprint("POST", "/v1/reports", {"b": [1, 2], "a": 1})
    assert a != fingerprint("POST", "/v1/reports", {"a": 1, "b": [2, 1]})
    assert a != fingerprint("PUT", "/v1/reports", {"a": 1, "b": [1, 2]})
    assert a != fingerprint("POST", "/v1/periods", {"a": 1, "b": [1, 2]})


def test_the_fingerprint_of_stored_intake_keys_is_unchanged():
    # Intake's keys stored before the shared module still replay: same canonical form.
    body = {"period_id": "2023-H1", "noi_dung": "Báo cáo"}
    assert fingerprint("POST", "/v1/reports", body) == (
        "ca64785e71be1bfdfc581045dbbf75e15ce97bd531853b383806099960b891ab"
    )


def test_a_key_belongs_to_its_caller_and_no_key_is_no_request():
    body = {"x": 1}
    mine = IdempotentRequest.of("k", caller="unit:18115", method="POST", path="/p", body=body)
    theirs = IdempotentRequest.of("k", caller="unit:18118", method="POST", path="/p", body=body)
    assert mine is not None and theirs is not None
    assert mine.scope != theirs.scope and mine.fingerprint == theirs.fingerprint
    assert IdempotentRequest.of(None, caller="u", method="POST", path="/p", body=body) is None


def test_a_reused_key_is_a_422_in_vietnamese_and_a_replay_is_marked():
    error = key_reused()
    assert (error.status, error.code) == (422, "idempotency_key_reused")
    # A clerk reads the message: no header name in it; machines find the header in details.
    assert "nội dung khác" in error.message and "Idempotency-Key" not in error.message
    assert error.details == {"header": "Idempotency-Key"}
    replayed = Answer(201, {"id": "2025-DX-01"}, replayed=True).response({"Location": "/x"})
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.headers["location"] == "/x"
    assert "idempotent-replayed" not in Answer(201, {}).response().headers
