"""Schemathesis over the four APIs (issue 9, item 8): every operation of the registry, intake,
reminders and consolidation, called with generated valid and invalid input, as the town's
administrator (every permission) and as a unit's clerk. No answer may be a 5xx, every answer
must match the schema its operation documents, and every error answer must be the one error
format of the services (`{"error": {"code", "message"}}`).

Bounded and repeatable: a fixed number of examples per operation, derandomised (the same
cases on every run), no example database. Marked slow (a few minutes on a loaded machine).
"""

from __future__ import annotations

import importlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.auth import Principal
from shared.contracts.api import ErrorBody
from shared.natsauth import NATS_SERVICES
from tests.integration.fuzz.town import ADMIN, SERVICES, UNIT, Town, running_town

pytestmark = pytest.mark.slow

# Examples per operation; each is sent twice (admin, unit). 79 operations in all.
MAX_EXAMPLES = 12
METHODS = ("get", "put", "post", "patch", "delete")
# Where a 401 is the answer to the generated credentials, not to the token.
SIGN_IN = {("POST", "/v1/auth/token")}

# Registry operations that still answer 5xx, with the reason (strict: they must still fail).
# None since the registry's input validation (issue 9, item 7).
KNOWN_REGISTRY_5XX: dict[tuple[str, str], str] = {}


def documented_operations() -> list[tuple[str, str, str]]:
    """(service, METHOD, path) of every operation, from the apps built without starting."""
    found = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in SERVICES:
            settings_class = getattr(
                importlib.import_module(f"services.{name}.settings"), NATS_SERVICES[name]
            )
            app = importlib.import_module(f"services.{name}.app").create_app(
                settings_class(env="test", data_dir=Path(scratch), database_url=None)
            )
            for path, item in app.openapi()["paths"].items():
                found += [(name, m.upper(), path) for m in METHODS if m in item]
    return found


OPERATIONS = documented_operations()


def _param(service: str, method: str, path: str) -> Any:
    reason = KNOWN_REGISTRY_5XX.get((method, path)) if service == "registry" else None
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(service, method, path, marks=marks, id=f"{service} {method} {path}")


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def error_format(ctx: Any, response: Any, case: Any) -> bool | None:
    """A custom check: every 4xx/5xx JSON answer is the services' ErrorBody."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if "json" not in content_type:
        raise AssertionError(f"error answer {response.status_code} is not JSON: {content_type}")
    ErrorBody.model_validate(response.json())
    return True


def test_the_fuzzed_operations_are_the_running_services_operations(town: Town) -> None:
    running = {
        (name, m.upper(), path)
        for name in SERVICES
        for path, item in town.openapi[name]["paths"].items()
        for m in METHODS
        if m in item
    }
    assert running == set(OPERATIONS)
    assert len(running) > 60


@pytest.mark.parametrize(("service", "method", "path"), [_param(*op) for op in OPERATIONS])
def test_no_server_error_and_answers_match_their_schema(
    town: Town, service: str, method: str, path: str
) -> None:
    schema = schemathesis.openapi.from_dict(town.openapi[service])
    operation = schema[path][method]
    names = set(re.findall(r"{(\w+)}", path))
    existing = {k: v for k, v in town.known.items() if k in names}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if existing:
        # Half the cases name what exists (the period, the report, ...): past the 404.
        strategies += [
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=existing),
        ]
    strategy = st.one_of(*strategies)
    base_url = town.urls[service]
    session = requests.Session()
    seen: dict[str, list[int]] = {ADMIN: [], UNIT: []}
    # Fresh tokens for each operation, signed by the registry as at sign-in: an operation
    # that ends a session (a sign-out) cannot leave the next ones without a valid token.
    headers = {
        ADMIN: {"Authorization": f"Bearer {town.mint(Principal(ADMIN, 'admin'))}"},
        UNIT: {"Authorization": f"Bearer {town.mint(Principal(UNIT, 'unit', UNIT))}"},
    }

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        for who in (ADMIN, UNIT):
            # The token is set on the case itself: generated headers never replace it.
            case.headers = {**(case.headers or {}), **headers[who]}
            response = case.call_and_validate(
                base_url=base_url,
                session=session,
                checks=[not_a_server_error, response_schema_conformance, error_format],
                timeout=30,
            )
            seen[who].append(response.status_code)

    try:
        fuzz()
    finally:
        session.close()
    # The cases reached the service with both tokens, and the tokens were accepted.
    assert seen[ADMIN] and seen[UNIT]
    if (method, path) not in SIGN_IN:
        assert set(seen[ADMIN]) != {401} and set(seen[UNIT]) != {401}, seen
