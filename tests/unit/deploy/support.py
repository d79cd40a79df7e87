"""Loading the deployment files and reading metric names out of PromQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

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

# The series the services export, with their labels (the brief every service follows).
APP_METRICS: dict[str, frozenset[str]] = {
    "danvan_http_requests_total": frozenset({"service", "route", "method", "status"}),
    "danvan_http_request_duration_seconds": frozenset({"service", "route", "method"}),
    "danvan_outbox_pending": frozenset({"service"}),
    "danvan_outbox_oldest_pending_age_seconds": frozenset({"service"}),
    "danvan_outbox_published_total": frozenset({"service"}),
    "danvan_outbox_publish_errors_total": frozenset({"service"}),
    "danvan_events_processed_total": frozenset({"service", "subject", "outcome"}),
    "danvan_dead_letters_total": frozenset({"service", "subject"}),
    "danvan_consumer_pending_messages": frozenset({"service", "durable"}),
    "danvan_reports_submitted_total": frozenset({"period_id", "timeliness"}),
    "danvan_period_completeness_ratio": frozenset({"period_id"}),
    "danvan_reminders_total": frozenset({"channel", "outcome"}),
    "danvan_login_failures_total": frozenset(),
    "faststream_received_processed_messages_total": frozenset(
        {"app_name", "broker", "handler", "status"}
    ),
}
HISTOGRAMS = frozenset({"danvan_http_request_duration_seconds"})

# Series that come from Prometheus itself and from prometheus-nats-exporter.
INFRA_METRICS: dict[str, frozenset[str]] = {
    "up": frozenset(),
    "gnatsd_healthz_status_value": frozenset({"server_id", "value"}),
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
}

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


_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    """The variables of deploy/compose.env.example, quotes removed."""
    values: dict[str, str] = {}
    for line in (DEPLOY / "compose.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Substitute ${VAR}, ${VAR:-default} and ${VAR:?error} the way Compose does."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator and operator.endswith("?") and not value:
            raise KeyError(f"{name} is required: {argument}")
        if operator and operator.endswith("-") and not value:
            return argument
        return value or ""

    return _VARIABLE.sub(substitute, text)


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as Compose sees it with the example env file."""
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(interpolate(text, env_example() if env is None else env))
    return data


def k8s_objects() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object under deploy/k8s (kustomizations and Helm values excluded)."""
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name in {"kustomization.yaml", "nats-values.yaml"}:
            continue
        for doc in load_yaml_all(path):
            yield path, doc


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
