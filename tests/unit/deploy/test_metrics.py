"""The metric catalogue the alert and dashboard tests check against is the one the code exports."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

import services
from tests.unit.deploy.support import APP_METRICS, HISTOGRAMS, LIBRARY_METRICS

METRIC_MODULES = ["shared.metrics"] + [
    f"services.{info.name}.metrics"
    for info in pkgutil.iter_modules(services.__path__)
    if importlib.util.find_spec(f"services.{info.name}.metrics") is not None
]


def _declared() -> dict[str, tuple[str, frozenset[str]]]:
    """Every metric the services' *Metrics classes register: name -> (type, labels)."""
    declared: dict[str, tuple[str, frozenset[str]]] = {}
    for module_name in METRIC_MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name or not cls.__name__.endswith("Metrics"):
                continue
            factory: Any = cls
            parameters = inspect.signature(factory).parameters
            extra = {"service": "test"} if "service" in parameters else {}
            instance = factory(CollectorRegistry(), **extra)
            for value in vars(instance).values():
                if isinstance(value, MetricWrapperBase):
                    kind = str(value._type)
                    name = value._name + ("_total" if kind == "counter" else "")
                    declared[name] = (kind, frozenset(value._labelnames))
    return declared


DECLARED = _declared()


def test_every_service_module_with_metrics_is_read() -> None:
    assert {"shared.metrics", "services.registry.metrics", "services.reminders.metrics"} <= set(
        METRIC_MODULES
    )
    assert DECLARED


def test_the_catalogue_lists_exactly_the_exported_metrics() -> None:
    ours = {name for name in APP_METRICS if name not in LIBRARY_METRICS}
    assert set(DECLARED) == ours


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_the_catalogue_has_the_labels_the_code_uses(name: str) -> None:
    kind, labels = DECLARED[name]
    assert APP_METRICS[name] == labels
    assert (name in HISTOGRAMS) == (kind == "histogram")


def test_each_consumed_subject_s_counters_are_exported_at_zero_from_the_start() -> None:
    """increase() ignores a counter's first appearance: a dead-letter counter that appeared
    only with the first dead letter would never fire DanvanDeadLettersIncreasing."""
    from shared.natsauth import built_buses

    def samples(metric: Any) -> dict[tuple[tuple[str, str], ...], float]:
        return {
            tuple(sorted(sample.labels.items())): sample.value
            for family in metric.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
        }

    with built_buses() as buses:
        for service, bus in buses.items():
            dead = samples(bus._metrics.dead_letters)
            events = samples(bus._metrics.events)
            for consumer in bus.consumers:
                key = (("service", service), ("subject", consumer.subject))
                assert dead[key] == 0.0, key
                for outcome in ("processed", "retried", "dead_lettered", "duplicate"):
                    assert events[(("outcome", outcome), *key)] == 0.0, (outcome, key)
