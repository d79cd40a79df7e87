"""Canonical JSON and the content hash used on receipts."""

from __future__ import annotations

import hashlib
import math

import pytest

from shared.forms import canonical_json, content_sha256


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": {"y": None, "x": "Nhân dân"}}) == (
        '{"a":{"x":"Nhân dân","y":null},"b":1}'.encode()
    )


def test_hash_does_not_depend_on_key_order() -> None:
    first = {"sections": {"1": {"narrative": "a", "indicators": {"x": 1, "y": 2}}}, "z": [1, 2]}
    second = {"z": [1, 2], "sections": {"1": {"indicators": {"y": 2, "x": 1}, "narrative": "a"}}}
    assert content_sha256(first) == content_sha256(second)


def test_hash_changes_with_content_and_list_order() -> None:
    assert content_sha256({"a": 1}) != content_sha256({"a": 2})
    assert content_sha256({"v": ["x", "y"]}) != content_sha256({"v": ["y", "x"]})


def test_hash_is_sha256_hex_of_canonical_json() -> None:
    content = {"noi_dung": "Đã thực hiện", "vuong_mac": []}
    assert content_sha256(content) == hashlib.sha256(canonical_json(content)).hexdigest()
    assert len(content_sha256(content)) == 64


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError):
        canonical_json({"a": math.nan})
