"""Canonical bytes of report content, so a receipt's hash does not depend on key order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def canonical_json(content: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces; NaN and non-JSON values are refused."""
    return json.dumps(
        content,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    ).encode("utf-8")


def content_sha256(content: Mapping[str, Any]) -> str:
    """Lower-case hex SHA-256 of the canonical JSON of the content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()
