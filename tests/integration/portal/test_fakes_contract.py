"""The portal's fake backends against the real services' OpenAPI documents.

Every route a fake offers exists in the real service with the same method, path, query
parameters and 2xx status, and answers the same schema (both come from the models of
`shared.contracts.api`, so a model changed on one side only, a route renamed or a status
changed in a backend fails here, in the portal's tests, instead of on a page in production).
The fakes' answers themselves are checked by FastAPI against the declared models on every
call of every portal test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.reminders.app import create_app as create_reminders
from services.reminders.settings import RemindersSettings
from tests.integration.portal.fakes import FakeSystem, fake_apps

METHODS = ("get", "post", "put", "patch", "delete")
# The fakes' own plumbing, not part of any contract the portal reads.
NOT_CONTRACT = {("get", "/healthz")}


def _real(service: str, tmp_path: Path) -> FastAPI:
    url = f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
    if service == "intake":
        return create_intake(IntakeSettings(database_url=url, env="test"))
    if service == "consolidation":
        return create_consolidation(ConsolidationSettings(database_url=url, env="test"))
    if service == "registry":
        return create_registry(RegistrySettings(database_url=url, env="test"))
    return create_reminders(RemindersSettings(database_url=url, env="test"))


FAKES = ("consolidation", "intake", "registry", "reminders")


def _resolved(schema: Any, components: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """The schema with every $ref replaced by what it names (names themselves may differ)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name in seen:  # a recursive model: its name is all there is to compare
                return {"recursive": name}
            return _resolved(components[name], components, seen | {name})
        # Titles and descriptions are documentation, not shape.
        return {
            k: _resolved(v, components, seen)
            for k, v in schema.items()
            if k not in ("title", "description")
        }
    if isinstance(schema, list):
        return [_resolved(v, components, seen) for v in schema]
    return schema


def _operations(openapi: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _answers(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """2xx status → the resolved JSON schema (or the media types of a download)."""
    answers: dict[str, Any] = {}
    for status, answer in operation.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        content = answer.get("content", {})
        if "application/json" in content:
            answers[status] = _resolved(content["application/json"].get("schema"), components)
        else:
            answers[status] = sorted(content)
    return answers


def _query(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


@pytest.mark.parametrize("service", FAKES)
def test_every_fake_route_is_the_real_services_with_the_same_answers(
    service: str, tmp_path: Path
) -> None:
    real = _real(service, tmp_path).openapi()
    fake = fake_apps(FakeSystem())[service].openapi()
    real_ops, fake_ops = _operations(real), _operations(fake)
    offered = set(fake_ops) - NOT_CONTRACT
    assert offered, "the fake offers no route"
    assert sorted(offered - set(real_ops)) == []
    real_components = real.get("components", {}).get("schemas", {})
    fake_components = fake.get("components", {}).get("schemas", {})
    for key in sorted(offered):
        real_answers = _answers(real_ops[key], real_components)
        fake_answers = _answers(fake_ops[key], fake_components)
        assert set(fake_answers) == set(real_answers), key
        for status, schema in fake_answers.items():
            if isinstance(schema, list) and schema == []:
                continue  # a download the fake leaves undescribed: the path is the contract
            assert schema == real_answers[status], (key, status)
        assert _query(fake_ops[key]) <= _query(real_ops[key]), key


def test_the_check_sees_a_changed_answer(tmp_path: Path) -> None:
    """The comparison is not vacuous: a fake answering another model is caught."""
    real = _real("reminders", tmp_path).openapi()
    fake = fake_apps(FakeSystem())["reminders"].openapi()
    components = fake["components"]["schemas"]
    key = ("post", "/v1/periods/{period_id}/remind")
    tampered = dict(components)
    tampered["UrgeResult"] = {**components["UrgeResult"], "required": ["request_id"]}
    assert _answers(_operations(fake)[key], components) == _answers(
        _operations(real)[key], real["components"]["schemas"]
    )
    assert _answers(_operations(fake)[key], tampered) != _answers(
        _operations(real)[key], real["components"]["schemas"]
    )
