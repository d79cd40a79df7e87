"""Loading the deployment files and reading metric names out of PromQL."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from pydantic import AliasChoices

from shared.settings import ServiceSettings
from shared.topology.compose import env_values, load_compose, read_env_file

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"

APP_SERVICES: dict[str, int] = {
    "registry": 8001,
    "intake": 8002,
    "reminders": 8003,
    "consolidation": 8004,
    "portal": 8000,
}

# The series the services export, with their labels; test_metrics.py checks this list
# against the metrics the code declares.
APP_METRICS: dict[str, frozenset[str]] = {
    "danvan_http_requests_total": frozenset({"service", "route", "method", "status"}),
    "danvan_http_request_duration_seconds": frozenset({"service", "route", "method"}),
    "danvan_outbox_pending": frozenset({"service"}),
    "danvan_outbox_oldest_pending_age_seconds": frozenset({"service"}),
    "danvan_outbox_published_total": frozenset({"service"}),
    "danvan_outbox_publish_errors_total": frozenset({"service"}),
    "danvan_outbox_parked_rows": frozenset({"service"}),
    "danvan_outbox_parked_total": frozenset({"service"}),
    "danvan_events_processed_total": frozenset({"service", "subject", "outcome"}),
    "danvan_dead_letters_total": frozenset({"service", "subject"}),
    "danvan_consumer_pending_messages": frozenset({"service", "durable"}),
    "danvan_consumer_lag_check_errors_total": frozenset({"service", "durable"}),
    "danvan_reports_submitted_total": frozenset({"period_id", "timeliness"}),
    "danvan_reports_amended_total": frozenset({"period_id"}),
    "danvan_report_submissions_refused_total": frozenset({"code"}),
    "danvan_period_completeness_ratio": frozenset({"period_id"}),
    "danvan_reminders_total": frozenset({"channel", "outcome"}),
    "danvan_reminders_scheduler_active": frozenset(),
    "danvan_reminders_scheduler_runs_total": frozenset({"result"}),
    "danvan_login_failures_total": frozenset(),
    "danvan_login_throttled_total": frozenset(),
    "danvan_login_slowed_total": frozenset(),
    "danvan_portal_backend_up": frozenset({"backend"}),
    "faststream_received_processed_messages_total": frozenset(
        {"app_name", "broker", "handler", "status"}
    ),
}
HISTOGRAMS = frozenset({"danvan_http_request_duration_seconds"})

# Series that come from Prometheus itself and from prometheus-nats-exporter.
INFRA_METRICS: dict[str, frozenset[str]] = {
    "up": frozenset(),
    # 0 while the node answers "ok" (prometheus-nats-exporter's healthz collector).
    "gnatsd_healthz_status": frozenset({"server_id", "value"}),
    "gnatsd_varz_connections": frozenset({"server_id"}),
    "gnatsd_varz_slow_consumers": frozenset({"server_id"}),
}
# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = frozenset({"job", "instance", "nats_node"})
KNOWN_LABEL_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("danvan_events_processed_total", "outcome"): frozenset(
        {"processed", "duplicate", "retried", "dead_lettered"}
    ),
    ("danvan_reports_submitted_total", "timeliness"): frozenset({"on_time", "late"}),
    ("danvan_reminders_total", "channel"): frozenset({"email", "webhook"}),
    ("danvan_reminders_total", "outcome"): frozenset({"sent", "failed", "undeliverable"}),
    ("danvan_reminders_scheduler_runs_total", "result"): frozenset(
        {"active", "standby", "quiet", "waiting_for_events"}
    ),
    ("danvan_portal_backend_up", "backend"): frozenset({"registry", "intake"}),
}
# Metrics that a library exports for us rather than our own code.
LIBRARY_METRICS = frozenset({"faststream_received_processed_messages_total"})

PROMQL_WORDS = frozenset(
    {
        "sum", "min", "max", "avg", "count", "stddev", "topk", "bottomk", "quantile",
        "rate", "irate", "increase", "delta", "deriv", "histogram_quantile", "absent",
        "absent_over_time", "vector", "scalar", "time", "month", "day_of_month",
        "day_of_week", "hour", "clamp_min", "clamp_max", "abs", "round", "label_replace",
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
        "group_right", "bool", "offset", "label_values", "inf", "nan",
    }
)  # fmt: skip

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def load_yaml(path: Path) -> Any:
    """One YAML document."""
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_yaml_all(path: Path) -> list[Any]:
    """Every non-empty document of a multi-document YAML file."""
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def env_example() -> dict[str, str]:
    """The variables of deploy/compose.env.example, enclosing quotes removed."""
    return env_values(read_env_file(DEPLOY / "compose.env.example"))


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as Compose sees it with the example env file (shared with
    `make run-cluster`, which renders the services' environments from it)."""
    return load_compose(env_example() if env is None else env)


def k8s_objects() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object under deploy/k8s (kustomizations and Helm values excluded)."""
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name in {"kustomization.yaml", "nats-values.yaml"}:
            continue
        for doc in load_yaml_all(path):
            yield path, doc


SECRET_EXAMPLE = K8S / "secret.example.yaml"


def k8s_of_kind(kind: str) -> list[dict[str, Any]]:
    """The objects of one kind under deploy/k8s, the Secret placeholder left out."""
    return [obj for path, obj in k8s_objects() if obj["kind"] == kind and path != SECRET_EXAMPLE]


def k8s_container(deployment: dict[str, Any]) -> dict[str, Any]:
    """The one container of a Deployment."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def k8s_environment(container: dict[str, Any]) -> dict[str, str]:
    """Every variable a container sees, with ConfigMap and Secret references resolved."""
    configmaps = {c["metadata"]["name"]: c["data"] for c in k8s_of_kind("ConfigMap")}
    secret = load_yaml(SECRET_EXAMPLE)
    secrets = {secret["metadata"]["name"]: secret["stringData"]}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]
        if "secretKeyRef" in ref:
            env[var["name"]] = secrets[ref["secretKeyRef"]["name"]][ref["secretKeyRef"]["key"]]
        else:
            key = ref["configMapKeyRef"]
            env[var["name"]] = configmaps[key["name"]][key["key"]]
    return env


# What an operator puts where the examples say CHANGE_ME: long enough for every check.
FILLED_SECRET = "filled-in-by-the-operator-" + "k3Yq9" * 8
_PLACEHOLDER = re.compile(r"CHANGE_ME\w*")


def filled_in(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with every CHANGE_ME placeholder replaced by a real-looking secret."""
    return {key: _PLACEHOLDER.sub(FILLED_SECRET, value) for key, value in env.items()}


SETTINGS_CLASSES: dict[str, str] = {
    "registry": "services.registry.settings:RegistrySettings",
    "intake": "services.intake.settings:IntakeSettings",
    "reminders": "services.reminders.settings:RemindersSettings",
    "consolidation": "services.consolidation.settings:ConsolidationSettings",
    "portal": "services.portal.settings:PortalSettings",
}


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of a service (`registry`, `intake`, ...)."""
    module, _, name = SETTINGS_CLASSES[service].partition(":")
    cls: type[ServiceSettings] = getattr(importlib.import_module(module), name)
    return cls


def setting_names(cls: type[ServiceSettings]) -> frozenset[str]:
    """The environment variables a settings class reads."""
    names: set[str] = set()
    for field in cls.model_fields.values():
        if isinstance(field.validation_alias, AliasChoices):
            names |= {c for c in field.validation_alias.choices if isinstance(c, str)}
        elif isinstance(field.validation_alias, str):
            names.add(field.validation_alias)
        if field.alias:
            names.add(field.alias)
    return frozenset(names)


def load_settings(service: str, env: Mapping[str, str]) -> ServiceSettings:
    """Build a service's settings the way the container does: from its environment only."""
    with mock.patch.dict(os.environ, dict(env), clear=True):
        return settings_class(service)()


def base_name(metric: str) -> str:
    """The exported name behind a histogram's _bucket/_sum/_count series."""
    for suffix in ("_bucket", "_sum", "_count"):
        stem = metric.removesuffix(suffix)
        if stem != metric and stem in HISTOGRAMS:
            return stem
    return metric


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (functions, keywords and labels left out)."""
    text = re.sub(r'"[^"]*"', '""', expr)
    # Grafana's label_values(metric, label): the second argument is a label.
    text = re.sub(r"label_values\(([^,()]+),\s*\w+\s*\)", r"(\1)", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\$\w+", " ", text)
    names = set()
    for match in _IDENT.finditer(text):
        word = match.group(0)
        if word.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]?", word):
            continue
        names.add(base_name(word))
    return names


def selectors(expr: str) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """(metric, [(label, operator, value)]) for every `metric{...}` in an expression."""
    for match in _SELECTOR.finditer(expr):
        yield base_name(match.group(1)), _MATCHER.findall(match.group(2))


def unknown_references(expr: str) -> list[str]:
    """Problems with the metrics and label matchers an expression uses; empty when sound."""
    known = APP_METRICS | INFRA_METRICS
    problems = [f"unknown metric {name}" for name in metric_names(expr) - known.keys()]
    for metric, matchers in selectors(expr):
        if metric not in known:
            continue
        allowed = known[metric] | TARGET_LABELS | ({"le"} if metric in HISTOGRAMS else set())
        for label, op, value in matchers:
            if label not in allowed:
                problems.append(f"{metric} has no label {label}")
            values = KNOWN_LABEL_VALUES.get((metric, label))
            if values is not None and op == "=" and value not in values:
                problems.append(f"{metric}{{{label}}} is never {value!r}")
    return problems


def balanced(expr: str) -> bool:
    """Brackets open and close in order."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in re.sub(r'"[^"]*"', "", expr):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack
