"""Checks on a service's OpenAPI document: every 2xx JSON answer is described by a model."""

from __future__ import annotations

from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def _describes(schema: dict[str, Any]) -> bool:
    """A schema that says what the answer holds: a model ($ref), or a list/union of them."""
    if "$ref" in schema or schema.get("properties"):
        return True
    if schema.get("type") == "array":
        return _describes(schema.get("items", {}))
    options: list[dict[str, Any]] = (
        schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf") or []
    )
    return bool(options) and all(_describes(o) or o.get("type") == "null" for o in options)


def undescribed_answers(openapi: dict[str, Any]) -> list[str]:
    """`METHOD /path status` of every 2xx JSON answer without a describing schema."""
    missing: list[str] = []
    for path, item in openapi.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            for status, answer in operation.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                json_content = answer.get("content", {}).get("application/json")
                if json_content is not None and not _describes(json_content.get("schema", {})):
                    missing.append(f"{method.upper()} {path} {status}")
    return missing
