"""The image: Python 3.11 slim, non-root, dependencies from the constraints, health on /healthz."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from tests.unit.deploy.support import APP_SERVICES, DEPLOY, REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
HEALTHCHECK_SCRIPT = DEPLOY / "docker" / "healthcheck.py"
PACKAGE_CHECK_SCRIPT = DEPLOY / "docker" / "check_package_data.py"


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (last rule wins)."""
    ignored = False
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or fnmatch.fnmatch(
            path, pattern.replace("**/", "*")
        ):
            ignored = not negate
    return ignored


def test_both_stages_start_from_python_311_slim() -> None:
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", DOCKERFILE, re.MULTILINE)
    froms = [rest for keyword, rest in _instructions() if keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [rest for keyword, rest in _instructions() if keyword == "USER"]
    assert users == ["${DANVAN_UID}:${DANVAN_UID}"]
    uid = re.search(r"^ARG DANVAN_UID=(\d+)$", DOCKERFILE, re.MULTILINE)
    assert uid
    assert int(uid.group(1)) >= 1000


def test_the_package_is_installed_with_the_constraints() -> None:
    commands = [
        command.strip()
        for keyword, rest in _instructions()
        if keyword == "RUN"
        for command in rest.split("&&")
    ]
    package_installs = [c for c in commands if c.startswith("pip install") and c.endswith(" .")]
    # Once for the dependencies, once more for our code without touching them.
    assert len(package_installs) == 2
    assert all("-c constraints.txt" in c for c in package_installs)
    assert "--no-deps" in package_installs[1]


def test_everything_the_build_copies_is_in_the_context() -> None:
    copies = [rest for keyword, rest in _instructions() if keyword == "COPY"]
    sources = [src for rest in copies if not rest.startswith("--from") for src in rest.split()[:-1]]
    assert {"pyproject.toml", "constraints.txt", "shared", "services"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), source
        assert not _dockerignored(source), source


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    for path in (".venv", ".git", ".data", "deploy/compose.env", "tests", "shared/__pycache__"):
        assert _dockerignored(path), path
    for path in ("danvan.egg-info", "build", "deploy/k8s/secret.yaml"):
        assert _dockerignored(path), path
    assert not _dockerignored("shared/settings.py")
    assert not _dockerignored("services/portal/templates/base.html")


def test_healthcheck_probes_the_service_port() -> None:
    (healthcheck,) = [rest for keyword, rest in _instructions() if keyword == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["python", "/usr/local/bin/danvan-healthcheck"]')
    assert "COPY deploy/docker/healthcheck.py /usr/local/bin/danvan-healthcheck" in DOCKERFILE


def test_the_default_command_is_a_service_and_containers_listen_on_all_interfaces() -> None:
    (command,) = [rest for keyword, rest in _instructions() if keyword == "CMD"]
    assert command == '["python", "-m", "services.portal"]'
    assert "DANVAN_HTTP_HOST=0.0.0.0" in DOCKERFILE


def _load_script(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def healthcheck() -> ModuleType:
    return _load_script("danvan_healthcheck", HEALTHCHECK_SCRIPT)


@pytest.fixture
def package_check() -> ModuleType:
    return _load_script("danvan_check_package_data", PACKAGE_CHECK_SCRIPT)


def test_the_build_checks_the_installed_package_outside_the_sources() -> None:
    runs = [rest for keyword, rest in _instructions() if keyword == "RUN"]
    (install,) = [r for r in runs if "--no-deps" in r]
    copied = re.search(r"^COPY deploy/docker/check_package_data\.py (\S+)$", DOCKERFILE, re.M)
    assert copied
    target = copied.group(1)
    # Run by path from a folder without the sources, after the install, in the same step.
    assert not target.startswith("/src")
    assert install.split("&&")[-1].strip() == f"python {target}"


def test_the_package_check_passes_on_the_source_tree(package_check: ModuleType) -> None:
    assert package_check.missing(REPO) == []


def test_the_package_check_names_every_missing_kind_of_file(
    package_check: ModuleType, tmp_path: Path
) -> None:
    for pattern in package_check.REQUIRED:
        example = next(REPO.glob(pattern)).relative_to(REPO)
        if "templates" not in str(example):
            (tmp_path / example).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / example).write_text("", encoding="utf-8")
    missing = package_check.missing(tmp_path)
    assert missing == [p for p in package_check.REQUIRED if "templates" in p]
    assert len(missing) == 2


def test_the_package_check_imports_every_service(package_check: ModuleType) -> None:
    started = {m.split(".")[1] for m in package_check.ENTRY_POINTS}
    assert started == set(APP_SERVICES)
    for module in package_check.ENTRY_POINTS:
        assert importlib.util.find_spec(module) is not None, module


def _server(status: int) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def healthy_port() -> Iterator[int]:
    yield from _server(200)


@pytest.fixture
def failing_port() -> Iterator[int]:
    yield from _server(503)


def test_healthcheck_passes_when_healthz_answers_200(
    healthcheck: ModuleType, healthy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANVAN_HTTP_PORT", str(healthy_port))
    assert healthcheck.main() == 0


def test_healthcheck_fails_when_healthz_answers_an_error(
    healthcheck: ModuleType, failing_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANVAN_HTTP_PORT", str(failing_port))
    assert healthcheck.main() == 1


def test_healthcheck_fails_when_nothing_listens(
    healthcheck: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    monkeypatch.setenv("DANVAN_HTTP_PORT", str(port))
    assert healthcheck.main() == 1
