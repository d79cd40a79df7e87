"""`promtool` checks the alert rules and runs their unit tests (deploy/prometheus/*.test.yml):
every rule, with its production `for:` and thresholds, fires when it should and stays quiet
when it should not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.unit.deploy.support import DEPLOY, load_yaml

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
TEST_FILES = sorted(PROMETHEUS.glob("*.test.yml"))
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool (Debian's prometheus package) is not installed"
)


def _alerts() -> list[str]:
    return [rule["alert"] for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in TEST_FILES:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.append((path.name, case))
    return cases


def test_the_unit_tests_load_the_production_rule_file() -> None:
    assert TEST_FILES
    for path in TEST_FILES:
        assert load_yaml(path)["rule_files"] == ["alerts.yml"], path.name


@pytest.mark.parametrize("alert", _alerts())
def test_every_rule_has_a_case_where_it_fires_and_one_where_it_stays_quiet(alert: str) -> None:
    cases = [case for _, case in _cases() if case["alertname"] == alert]
    assert any(case["exp_alerts"] for case in cases), f"{alert} is never expected to fire"
    assert any(not case["exp_alerts"] for case in cases), f"{alert} is never expected quiet"


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        [str(PROMTOOL), "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in result.stdout


@needs_promtool
@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: Path(p).name)
def test_promtool_unit_tests_pass(path: Path) -> None:
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", path.name],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
