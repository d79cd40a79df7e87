"""The registry has the shape of every service: described answers, sessions opened by the
store only, routes that only translate, no password hash inside a transaction."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.support.openapi import undescribed_answers

SERVICE = Path(__file__).resolve().parents[3] / "services" / "registry"
ROUTES = ("api.py", "api_accounts.py", "api_periods.py", "api_units.py")
OPENS_A_SESSION = re.compile(r"sessions\(\)|\.begin\(\)|AsyncSession\(|async_sessionmaker\(")


def _modules() -> list[Path]:
    return [p for p in SERVICE.rglob("*.py") if "migrations" not in p.relative_to(SERVICE).parts]


def test_every_2xx_json_answer_has_a_schema(tmp_path: Path) -> None:
    settings = RegistrySettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db", env="test")
    openapi = create_app(settings).openapi()
    assert undescribed_answers(openapi) == []
    # Every route declares its answer: a model, or a download with its media type.
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            answers = [a for s, a in operation["responses"].items() if s.startswith("2")]
            assert answers and all(a.get("content") for a in answers), (method, path)


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


def test_routes_reach_no_table_query_or_session_and_return_no_bare_dict() -> None:
    for name in ROUTES:
        source = (SERVICE / name).read_text("utf-8")
        tree = ast.parse(source)
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        forbidden = {"sqlalchemy", "services.registry.store", "services.registry.db"}
        assert not {m for m in imported if any(m.startswith(f) for f in forbidden)}, name
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not {"store", "db", "Any"} & names, name
        assert "session" not in source and "dict[str, Any]" not in source, name


def test_every_route_declares_its_response_model() -> None:
    for name in ROUTES:
        tree = ast.parse((SERVICE / name).read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if not (
                    isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                ):
                    continue
                if decorator.func.attr not in {"get", "post", "put", "patch", "delete"}:
                    continue
                keywords = {k.arg for k in decorator.keywords}
                assert keywords & {"response_model", "response_class"}, (name, node.name)


def test_no_module_is_called_handlers_and_state_is_typed() -> None:
    assert not (SERVICE / "handlers").exists() and not (SERVICE / "handlers.py").exists()
    for path in _modules():
        assert "Annotated[Any" not in path.read_text("utf-8"), path
