"""Prometheus series every service exposes, registered in the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class HttpMetrics:
    """Request count and latency by route template and status."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.requests = Counter(
            "danvan_http_requests_total",
            "HTTP requests by route and status",
            ["service", "route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "danvan_http_request_duration_seconds",
            "HTTP request latency",
            ["service", "route", "method"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request."""
        self.requests.labels(self.service, route, method, str(status)).inc()
        self.latency.labels(self.service, route, method).observe(seconds)


# The outcomes of handling one delivery (shared/messaging/consumer.py).
EVENT_OUTCOMES = ("processed", "duplicate", "retried", "dead_lettered")


class MessagingMetrics:
    """Outbox backlog and events processed, retried and dead-lettered."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.outbox_pending = Gauge(
            "danvan_outbox_pending", "Outbox rows not yet published", ["service"], registry=registry
        )
        self.outbox_oldest_age = Gauge(
            "danvan_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox row",
            ["service"],
            registry=registry,
        )
        self.outbox_published = Counter(
            "danvan_outbox_published_total",
            "Outbox rows published",
            ["service"],
            registry=registry,
        )
        self.outbox_errors = Counter(
            "danvan_outbox_publish_errors_total",
            "Failed outbox publish attempts",
            ["service"],
            registry=registry,
        )
        self.outbox_parked = Gauge(
            "danvan_outbox_parked_rows",
            "Outbox rows parked because they can never be published (too large, refused)",
            ["service"],
            registry=registry,
        )
        self.outbox_parked_total = Counter(
            "danvan_outbox_parked_total",
            "Outbox rows parked",
            ["service"],
            registry=registry,
        )
        self.events = Counter(
            "danvan_events_processed_total",
            "Events handled by outcome",
            ["service", "subject", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "danvan_dead_letters_total",
            "Events sent to the dead-letter stream",
            ["service", "subject"],
            registry=registry,
        )
        self.consumer_pending = Gauge(
            "danvan_consumer_pending_messages",
            "Messages waiting for a durable consumer",
            ["service", "durable"],
            registry=registry,
        )
        self.consumer_lag_errors = Counter(
            "danvan_consumer_lag_check_errors_total",
            "Failed reads of a durable consumer's pending count",
            ["service", "durable"],
            registry=registry,
        )
        for series in (self.outbox_pending, self.outbox_oldest_age, self.outbox_parked):
            series.labels(service).set(0)
        self.outbox_published.labels(service)
        self.outbox_errors.labels(service)
        self.outbox_parked_total.labels(service)

    def declare_subscription(self, subject: str) -> None:
        """Start a consumed subject's counters at 0. A labelled counter otherwise appears
        with its first increment, and Prometheus's increase() never counts that first step:
        the first dead letter after a start would not fire DanvanDeadLettersIncreasing."""
        self.dead_letters.labels(self.service, subject)
        for outcome in EVENT_OUTCOMES:
            self.events.labels(self.service, subject, outcome)

    def event(self, subject: str, outcome: str) -> None:
        """Count one handled event."""
        self.events.labels(self.service, subject, outcome).inc()
