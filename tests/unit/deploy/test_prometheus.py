"""Prometheus scrapes every service and NATS, and its alert rules watch real series."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit.deploy.support import (
    APP_SERVICES,
    DEPLOY,
    balanced,
    compose,
    load_yaml,
    metric_names,
    unknown_references,
)

PROMETHEUS = DEPLOY / "prometheus"


def _rules() -> list[dict[str, Any]]:
    groups = load_yaml(PROMETHEUS / "alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


RULES = _rules()


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(PROMETHEUS / "prometheus.yml")
    return data


def _jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_loads_the_alert_rules(config: dict[str, Any]) -> None:
    mounted = {
        v.split(":")[1]
        for v in compose()["services"]["prometheus"]["volumes"]
        if v.startswith("./deploy/prometheus")
    }
    assert mounted == {"/etc/prometheus"}
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS / Path(rule_file).relative_to("/etc/prometheus")).exists()


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_service_is_scraped_by_dns_on_its_port(config: dict[str, Any], name: str) -> None:
    job = _jobs(config)[f"danvan-{name}"]
    (discovery,) = job["dns_sd_configs"]
    assert name in discovery["names"]
    assert discovery["port"] == APP_SERVICES[name]
    assert set(discovery["names"]) <= compose()["services"].keys()


def test_the_ward_intake_pool_is_scraped_with_intake(config: dict[str, Any]) -> None:
    assert "intake-wards" in _jobs(config)["danvan-intake"]["dns_sd_configs"][0]["names"]


def test_every_nats_node_is_scraped_through_its_exporter(config: dict[str, Any]) -> None:
    services = compose()["services"]
    targets = [t for group in _jobs(config)["nats"]["static_configs"] for t in group["targets"]]
    watched = set()
    for target in targets:
        host, port = target.split(":")
        exporter = services[host]
        assert "prometheus-nats-exporter" in exporter["image"]
        assert exporter["command"][exporter["command"].index("-port") + 1] == port
        watched.add(re.sub(r"^http://([^:]+):8222$", r"\1", exporter["command"][-1]))
    assert watched == {"nats-1", "nats-2", "nats-3"}


def test_alert_rules_are_complete_and_named_once() -> None:
    names = [rule["alert"] for rule in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert balanced(rule["expr"]), rule["alert"]


@pytest.mark.parametrize("rule", RULES, ids=[r["alert"] for r in RULES])
def test_alert_rule_uses_only_exported_metrics_and_labels(rule: dict[str, Any]) -> None:
    assert metric_names(rule["expr"]), "the rule watches no metric"
    assert unknown_references(rule["expr"]) == []


def _rule_on(metric: str) -> list[dict[str, Any]]:
    return [rule for rule in RULES if metric in metric_names(rule["expr"])]


def test_a_service_down_alert_watches_every_danvan_job() -> None:
    exprs = [rule["expr"] for rule in _rule_on("up")]
    assert any('up{job=~"danvan-.+"} == 0' in e for e in exprs)


@pytest.mark.parametrize(
    ("metric", "threshold", "duration"),
    [
        ("danvan_outbox_pending", "> 100", "5m"),
        ("danvan_outbox_oldest_pending_age_seconds", "> 300", None),
        ("danvan_consumer_pending_messages", ">", None),
        ("danvan_period_completeness_ratio", "<", None),
        ("danvan_dead_letters_total", "increase(", None),
        ("danvan_outbox_parked_rows", "> 0", None),
        ("danvan_reminders_total", 'outcome="failed"', None),
        ("danvan_reminders_total", 'outcome="undeliverable"', None),
        ("danvan_login_throttled_total", "increase(", None),
        ("danvan_reminders_scheduler_active", "!= 1", "10m"),
    ],
)
def test_the_required_alerts_exist(metric: str, threshold: str, duration: str | None) -> None:
    rules = _rule_on(metric)
    assert rules, f"no alert on {metric}"
    assert any(threshold in rule["expr"] for rule in rules)
    if duration:
        assert any(rule.get("for") == duration for rule in rules)


def test_the_5xx_ratio_alert_fires_above_five_percent() -> None:
    (rule,) = [r for r in _rule_on("danvan_http_requests_total") if 'status=~"5.."' in r["expr"]]
    assert rule["expr"].rstrip().endswith("> 0.05")


def test_the_completeness_alert_covers_the_week_before_each_plan_deadline() -> None:
    (rule,) = _rule_on("danvan_period_completeness_ratio")
    expr = " ".join(rule["expr"].split())
    # Deadlines 10/6 and 25/11 at 00:00 Asia/Ho_Chi_Minh: the last day counted is the 9th
    # (resp. 24th) in local time, which is UTC+7 (25200 s).
    assert "time() + 25200" in expr
    assert "month(vector(time() + 25200)) == 6" in expr
    assert "day_of_month(vector(time() + 25200)) <= 9" in expr
    assert "month(vector(time() + 25200)) == 11" in expr
    assert "day_of_month(vector(time() + 25200)) <= 24" in expr
