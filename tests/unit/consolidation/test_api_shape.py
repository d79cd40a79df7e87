"""Consolidation has the shape of every service: described answers, sessions opened by the
store only, routes that only translate."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from services.consolidation.app import create_app
from services.consolidation.settings import ConsolidationSettings
from tests.support.openapi import undescribed_answers

SERVICE = Path(__file__).resolve().parents[3] / "services" / "consolidation"
OPENS_A_SESSION = re.compile(r"sessions\(\)|\.begin\(\)|AsyncSession\(|async_sessionmaker\(")
ROUTES = ("api.py",)


def _modules() -> list[Path]:
    return [p for p in SERVICE.rglob("*.py") if "migrations" not in p.relative_to(SERVICE).parts]


def test_every_2xx_json_answer_has_a_schema(tmp_path: Path) -> None:
    settings = ConsolidationSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/c.db", env="test"
    )
    openapi = create_app(settings).openapi()
    assert undescribed_answers(openapi) == []
    # Downloads say what they are instead of pretending to be JSON.
    for suffix, media in (
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        answer = openapi["paths"][f"/v1/periods/{{period_id}}/report.{suffix}"]["get"]
        assert list(answer["responses"]["200"]["content"]) == [media]


def test_only_the_store_opens_database_sessions() -> None:
    openers = [
        f"{path.relative_to(SERVICE)}:{number}"
        for path in _modules()
        if path.name != "store.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if OPENS_A_SESSION.search(line)
    ]
    assert openers == []
    assert OPENS_A_SESSION.search((SERVICE / "store.py").read_text("utf-8"))


def test_routes_reach_no_table_query_or_session() -> None:
    for route_module in ROUTES:
        tree = ast.parse((SERVICE / route_module).read_text("utf-8"))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        forbidden = {
            "sqlalchemy",
            "services.consolidation.store",
            "services.consolidation.db",
            "services.consolidation.domain",
        }
        assert not {m for m in imported if any(m.startswith(f) for f in forbidden)}
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not {"store", "db", "domain"} & names


def test_no_module_is_called_handlers() -> None:
    assert not (SERVICE / "handlers").exists() and not (SERVICE / "handlers.py").exists()
