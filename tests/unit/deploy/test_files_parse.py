"""Every deployment file is well-formed before anyone tries to run it."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tests.unit.deploy.support import DEPLOY, REPO, load_yaml_all

YAML_FILES = sorted([REPO / "docker-compose.yml", *DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
JSON_FILES = sorted(DEPLOY.rglob("*.json"))


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO)) for p in paths]


def test_the_deploy_folder_has_yaml_and_json_files_to_check() -> None:
    assert len(YAML_FILES) >= 20
    assert JSON_FILES


@pytest.mark.parametrize("path", YAML_FILES, ids=_ids(YAML_FILES))
def test_yaml_file_parses_to_mappings(path: Path) -> None:
    documents = load_yaml_all(path)
    assert documents, f"{path} is empty"
    assert all(isinstance(doc, dict) for doc in documents)


@pytest.mark.parametrize("path", JSON_FILES, ids=_ids(JSON_FILES))
def test_json_file_parses(path: Path) -> None:
    with path.open(encoding="utf-8") as f:
        assert isinstance(json.load(f), dict)


@pytest.mark.parametrize(
    "path", [*YAML_FILES, *JSON_FILES, *DEPLOY.rglob("*.conf"), *DEPLOY.rglob("*.md")]
)
def test_text_is_nfc_utf8_without_tabs_or_trailing_spaces(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text), f"{path} is not NFC"
    for number, line in enumerate(text.splitlines(), start=1):
        assert "\t" not in line, f"{path}:{number} has a tab"
        assert line == line.rstrip(), f"{path}:{number} has trailing spaces"
