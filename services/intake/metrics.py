"""Intake domain metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class IntakeMetrics:
    """First submissions by period and timeliness; refused submissions by reason."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reports_submitted = Counter(
            "danvan_reports_submitted_total",
            "Reports submitted for the first time, by period and timeliness",
            ["period_id", "timeliness"],
            registry=registry,
        )
        self.reports_amended = Counter(
            "danvan_reports_amended_total",
            "New versions of reports already submitted",
            ["period_id"],
            registry=registry,
        )
        self.submissions_refused = Counter(
            "danvan_report_submissions_refused_total",
            "Submissions and amendments refused, by error code",
            ["code"],
            registry=registry,
        )

    def submitted(self, period_id: str, on_time: bool) -> None:
        """Count one first submission."""
        self.reports_submitted.labels(period_id, "on_time" if on_time else "late").inc()
