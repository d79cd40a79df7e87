"""Registry domain metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class RegistryMetrics:
    """Refused sign-ins (a rising rate suggests password guessing) and how many of them were
    refused by the slow-down without checking the password."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.login_failures = Counter(
            "danvan_login_failures_total", "Refused sign-ins", registry=registry
        )
        self.login_throttled = Counter(
            "danvan_login_throttled_total",
            "Sign-ins refused because of too many recent failures",
            registry=registry,
        )
        self.login_slowed = Counter(
            "danvan_login_slowed_total",
            "Sign-ins delayed because their address had too many recent failures",
            registry=registry,
        )
