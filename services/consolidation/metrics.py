"""Consolidation domain metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge


class ConsolidationMetrics:
    """Completeness per period, for dashboards and the "reports missing" alert."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.completeness_ratio = Gauge(
            "danvan_period_completeness_ratio",
            "Share of expected units with a current report in the period",
            ["period_id"],
            registry=registry,
        )

    def set_completeness(self, period_id: str, ratio: float) -> None:
        """Record a period's submitted share."""
        self.completeness_ratio.labels(period_id).set(ratio)
