"""The provisioned Grafana dashboard shows the series the services really export."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.deploy.support import DEPLOY, balanced, compose, load_yaml, unknown_references
from tests.unit.deploy.support import metric_names as names_in

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "danvan.json"


def _load_dashboard() -> dict[str, Any]:
    with DASHBOARD.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in _panels(dashboard) for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"]]
    return exprs


EXPRS = _exprs(_load_dashboard())


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return _load_dashboard()


def test_dashboard_panels_have_unique_ids_and_queries(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard):
        assert panel["title"], panel["id"]
        assert panel["targets"], panel["title"]


@pytest.mark.parametrize("expr", EXPRS)
def test_dashboard_query_uses_only_exported_metrics(expr: str) -> None:
    assert balanced(expr)
    assert names_in(expr), "the query reads no metric"
    assert unknown_references(expr) == []


def test_dashboard_covers_what_operators_watch() -> None:
    shown = set().union(*(names_in(e) for e in EXPRS))
    assert {
        "danvan_http_requests_total",
        "danvan_http_request_duration_seconds",
        "danvan_outbox_pending",
        "danvan_outbox_oldest_pending_age_seconds",
        "danvan_events_processed_total",
        "danvan_dead_letters_total",
        "danvan_consumer_pending_messages",
        "danvan_reports_submitted_total",
        "danvan_period_completeness_ratio",
        "danvan_reminders_total",
        "danvan_reminders_scheduler_active",
        "danvan_login_failures_total",
        "danvan_login_throttled_total",
    } <= shown


def test_dashboard_uses_the_provisioned_datasource(dashboard: dict[str, Any]) -> None:
    (datasource,) = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")[
        "datasources"
    ]
    assert datasource["url"] == "http://prometheus:9090"
    used = {p["datasource"]["uid"] for p in _panels(dashboard)}
    used |= {t["datasource"]["uid"] for p in _panels(dashboard) for t in p["targets"]}
    assert used == {datasource["uid"]}


def test_grafana_loads_the_dashboard_from_the_mounted_folder() -> None:
    (provider,) = load_yaml(GRAFANA / "provisioning" / "dashboards" / "danvan.yml")["providers"]
    grafana = compose()["services"]["grafana"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in grafana["volumes"]}
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"
