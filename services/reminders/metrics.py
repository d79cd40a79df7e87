"""Reminders domain metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class RemindersMetrics:
    """Deliveries by channel and outcome, and whether this instance runs the scheduler."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reminders = Counter(
            "danvan_reminders_total",
            "Reminder deliveries by channel and outcome",
            ["channel", "outcome"],
            registry=registry,
        )
        self.scheduler_active = Gauge(
            "danvan_reminders_scheduler_active",
            "1 while this instance holds the scheduler lock",
            registry=registry,
        )
        self.scheduler_runs = Counter(
            "danvan_reminders_scheduler_runs_total",
            "Scheduler passes by result",
            ["result"],
            registry=registry,
        )

    def delivered(self, channel: str, outcome: str) -> None:
        """Count one finished delivery."""
        self.reminders.labels(channel, outcome).inc()
