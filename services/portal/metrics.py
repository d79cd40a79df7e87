"""Portal metrics: backend calls by service and outcome (the HTTP series come from shared)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge


class PortalMetrics:
    """Whether each backend answered the last readiness check."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.backend_up = Gauge(
            "danvan_portal_backend_up",
            "1 when the backend answered the portal's last readiness check",
            ["backend"],
            registry=registry,
        )
