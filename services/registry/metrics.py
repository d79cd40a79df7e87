"""Registry domain metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class RegistryMetrics:
    """Sign-in failures (a rising rate suggests password guessing)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.login_failures = Counter(
            "danvan_login_failures_total", "Refused sign-ins", registry=registry
        )
