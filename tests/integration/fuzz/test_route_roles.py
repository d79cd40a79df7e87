"""The route × role table of docs/SECURITY.md, checked against what the running services do.

For every operation of the four APIs, a few generated requests that fit its schema are sent
with a token of each role (the least privileged first); a role is refused on a request when
the answer is 403 while another role's answer to the very same request is not — the only
thing that differed is the token. A role is then ✓ (never refused), ✗ (always refused) or
`some` (refused on some requests only: a data rule decides, e.g. a unit reaches its own
data, not another unit's). A route that answers without a token is `public`. The table in
the document must equal what was observed; on a difference the test prints the observed
table, ready to paste.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from shared.auth import ROLES, Principal, Role
from tests.integration.fuzz.test_api_fuzzing import OPERATIONS
from tests.integration.fuzz.town import SERVICES, Town, running_town

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[3] / "docs" / "SECURITY.md"
BEGIN = "<!-- BEGIN route table: tests/integration/fuzz/test_route_roles.py -->"
END = "<!-- END route table -->"
# The account behind each role's token (the seeded demo accounts; `service` has none).
PRINCIPALS: dict[Role, Principal] = {
    "unit": Principal("18115", "unit", "18115"),
    "leader": Principal("lanhdao", "leader"),
    "service": Principal("tich-hop", "service"),
    "reviewer": Principal("pnv", "reviewer"),
    "admin": Principal("admin", "admin"),
}
ORDER: tuple[Role, ...] = ("unit", "leader", "service", "reviewer", "admin")
COLUMNS: tuple[Role, ...] = ("unit", "reviewer", "leader", "admin", "service")
EXAMPLES = 8
VALIDATION = {400, 413, 415, 422}
# 403s of a data rule, not of a permission: which unit's data the request names, not who
# asks (the same role passes with another unit); the table leaves them out.
DATA_RULES = {"forbidden_unit", "unit_not_expected"}


def error_code(answer: requests.Response) -> str | None:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("roles")) as running:
        yield running


def observe(town: Town, service: str, method: str, path: str) -> dict[str, str]:
    """Each role's cell for one operation, from the answers it got."""
    tokens = {role: town.mint(PRINCIPALS[role]) for role in ORDER}
    operation = schemathesis.openapi.from_dict(town.openapi[service])[path][method]
    names = set(re.findall(r"{(\w+)}", path))
    existing = {k: v for k, v in town.known.items() if k in names}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if existing:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing))
    refused: dict[Role, list[bool]] = {role: [] for role in ORDER}
    public: list[bool] = []
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=st.one_of(*strategies))
    def send(case: Any) -> None:
        statuses: dict[Role, int] = {}
        data_rule: set[Role] = set()
        for role in ORDER:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {tokens[role]}"}
            answer = case.call(base_url=town.urls[service], session=session)
            statuses[role] = answer.status_code
            if answer.status_code == 403 and error_code(answer) in DATA_RULES:
                data_rule.add(role)
        if any(s >= 500 for s in statuses.values()):
            return  # a server error says nothing about permissions (test_api_fuzzing's)
        anonymous = dict(case.headers)
        anonymous.pop("Authorization", None)
        case.headers = anonymous
        public.append(case.call(base_url=town.urls[service], session=session).status_code != 401)
        if set(statuses.values()) <= VALIDATION and len(set(statuses.values())) == 1:
            return  # refused as malformed before any permission was looked at
        for role, status in statuses.items():
            if role not in data_rule:
                refused[role].append(status == 403)

    try:
        send()
    finally:
        session.close()
    if public and all(public):
        return dict.fromkeys(COLUMNS, "public")
    cells: dict[str, str] = {}
    for role in COLUMNS:
        seen = refused[role]
        assert seen, f"{service} {method} {path}: no request got past validation"
        cells[role] = "✗" if all(seen) else "✓" if not any(seen) else "some"
    return cells


def render(rows: dict[tuple[str, str, str], dict[str, str]]) -> str:
    lines = [
        "| service | operation | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for (service, method, path), cells in rows.items():
        lines.append(
            f"| {service} | `{method} {path}` | " + " | ".join(cells[r] for r in COLUMNS) + " |"
        )
    return "\n".join(lines)


def documented() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{DOC} has no route table markers"
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip().splitlines()


def test_the_route_table_lists_every_operation_of_the_four_apis() -> None:
    assert set(ROLES) == set(COLUMNS)
    header = render({}).splitlines()
    rows = documented()
    assert rows[:2] == header
    listed = [tuple(re.findall(r"^\| (\w+) \| `(\w+) ([^`]+)`", row)[0]) for row in rows[2:]]
    assert listed == [op for op in OPERATIONS if op[0] in SERVICES]


# One test per service, each within the suite's per-test timeout on a loaded machine.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", SERVICES)
def test_the_route_table_in_security_md_is_what_the_services_do(town: Town, service: str) -> None:
    rows = {op: observe(town, *op) for op in OPERATIONS if op[0] == service}
    observed = render(rows).splitlines()[2:]
    documented_rows = [row for row in documented()[2:] if row.startswith(f"| {service} |")]
    table = "\n".join(observed)
    assert documented_rows == observed, f"docs/SECURITY.md should hold, for {service}:\n{table}"
