"""Portal settings: where the backends are and how the session cookie is signed."""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from shared.settings import DEVELOPMENT_PLACEHOLDER, ServiceSettings, refuse_weak_secret


class PortalSettings(ServiceSettings):
    """The web portal: no database, only the backends' URLs and a session secret."""

    # The portal talks to the other services over HTTP only; it has no NATS user.
    uses_nats: ClassVar[bool] = False

    service_name: str = "portal"
    http_port: int = Field(8000, alias="DANVAN_HTTP_PORT")
    registry_url: str = Field("http://127.0.0.1:8001", alias="DANVAN_REGISTRY_URL")
    intake_url: str = Field("http://127.0.0.1:8002", alias="DANVAN_INTAKE_URL")
    reminders_url: str = Field("http://127.0.0.1:8003", alias="DANVAN_REMINDERS_URL")
    consolidation_url: str = Field("http://127.0.0.1:8004", alias="DANVAN_CONSOLIDATION_URL")
    session_secret: str = Field(DEVELOPMENT_PLACEHOLDER, alias="DANVAN_PORTAL_SESSION_SECRET")
    # Behind the gateway's TLS in production; the embedded default is plain http on 127.0.0.1.
    cookie_secure: bool = Field(False, alias="DANVAN_PORTAL_COOKIE_SECURE")
    # The cookie carries the bearer token, so production refuses it without Secure unless
    # this says explicitly that the portal is tried over plain HTTP (never a real deployment).
    allow_insecure_cookie: bool = Field(False, alias="DANVAN_PORTAL_ALLOW_INSECURE_COOKIE")
    session_max_age_seconds: int = Field(
        8 * 3600, alias="DANVAN_PORTAL_SESSION_MAX_AGE_SECONDS", ge=60, le=7 * 86_400
    )
    # A browser sends the report form URL-encoded: every Vietnamese letter becomes up to six
    # bytes (%XX%XX), so a long report is several times its text; the base 1 MiB is too small.
    # The signed scan (≤ 10 MB) also comes through here: 12 MiB leaves room for a file a
    # little over the limit to reach the page that says so in Vietnamese.
    max_body_bytes: int = Field(12 * 1_048_576, alias="DANVAN_MAX_BODY_BYTES", ge=1024)
    backend_timeout_seconds: float = Field(10.0, alias="DANVAN_PORTAL_BACKEND_TIMEOUT", gt=0)
    # Peers whose X-Forwarded-For is believed (JSON list of addresses or networks): the
    # gateway or the Ingress in front of the portal. The portal tells the registry, on sign-in,
    # the browser's address: its direct peer's, or, from one of these, the address the proxy
    # wrote; a header from any other peer is ignored, so a browser cannot pick its address.
    trusted_proxies: tuple[str, ...] = Field(
        ("127.0.0.0/8", "::1/128"), alias="DANVAN_PORTAL_TRUSTED_PROXIES"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    def trusts_proxy(self, peer: str) -> bool:
        """Whether X-Forwarded-For from this peer (or an entry it forwarded) is believed."""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies
        )

    @model_validator(mode="after")
    def _no_placeholder_database_in_production(self) -> PortalSettings:
        # Overrides the base check: the portal keeps nothing durable, so it has no database.
        return self

    @model_validator(mode="after")
    def _real_secret_in_production(self) -> PortalSettings:
        refuse_weak_secret(self.env, "DANVAN_PORTAL_SESSION_SECRET", self.session_secret)
        if self.env == "production" and not self.cookie_secure and not self.allow_insecure_cookie:
            raise ValueError(
                "DANVAN_PORTAL_COOKIE_SECURE must be true in production: the session cookie "
                "carries the bearer token. Only to try the portal over plain HTTP, set "
                "DANVAN_PORTAL_ALLOW_INSECURE_COOKIE=true."
            )
        return self
