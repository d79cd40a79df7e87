"""The settings base every service extends; values come from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_PLACEHOLDER = "changeme"
# Secrets that sign or encrypt (session cookies, webhooks, the signing keys at rest): at
# least 256 bits, as `secrets.token_urlsafe(32)` gives.
MIN_SECRET_BYTES = 32


class ServiceSettings(BaseSettings):
    """Common settings; each service subclasses it and sets `service_name`."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)
    # Whether the service connects to NATS (and so needs NATS credentials in production).
    uses_nats: ClassVar[bool] = True

    service_name: str = "service"
    env: Literal["development", "test", "production"] = Field("development", alias="DANVAN_ENV")
    data_dir: Path = Field(Path(".data"), alias="DANVAN_DATA_DIR")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    nats_url: str = Field("nats://127.0.0.1:14222", alias="NATS_URL")
    # The service's NATS credentials: its nkey seed (`SU…`), as a value (compose, Kubernetes
    # Secret) or a file (`make run` writes them under the data folder, mode 0600).
    nats_nkey_seed: SecretStr | None = Field(None, alias="DANVAN_NATS_NKEY_SEED")
    nats_nkey_seed_file: Path | None = Field(None, alias="DANVAN_NATS_NKEY_SEED_FILE")
    http_host: str = Field("127.0.0.1", alias="DANVAN_HTTP_HOST")
    http_port: int = Field(8000, alias="DANVAN_HTTP_PORT")
    log_level: str = Field("INFO", alias="DANVAN_LOG_LEVEL")
    # JSON lines for the log collector in production; readable lines on a developer's screen.
    log_format: Literal["json", "text", "auto"] = Field("auto", alias="DANVAN_LOG_FORMAT")
    jwks_url: str = Field("http://127.0.0.1:8001/.well-known/jwks.json", alias="DANVAN_JWKS_URL")
    # The JWKS copy: refreshed after `jwks_ttl_seconds`; while the registry cannot be reached
    # the cached keys serve at most `jwks_max_stale_seconds` after the last good fetch, then
    # tokens are refused (503 keys_unavailable) until it answers again.
    jwks_ttl_seconds: float = Field(300.0, alias="DANVAN_JWKS_TTL_SECONDS", gt=0)
    jwks_max_stale_seconds: float = Field(3600.0, alias="DANVAN_JWKS_MAX_STALE_SECONDS", gt=0)
    # How often a service re-reads its token revocations (another replica may have applied
    # the event); the whole path from the registry's change stays well within 5 seconds.
    revocation_poll_seconds: float = Field(1.0, alias="DANVAN_REVOCATION_POLL_SECONDS", gt=0)
    token_issuer: str = Field("danvan-registry", alias="DANVAN_TOKEN_ISSUER")
    token_audience: str = Field("danvan", alias="DANVAN_TOKEN_AUDIENCE")
    stream_replicas: int = Field(1, alias="DANVAN_STREAM_REPLICAS", ge=1, le=5)
    duplicate_window_seconds: float = Field(86_400, alias="DANVAN_DUPLICATE_WINDOW_SECONDS")
    outbox_batch_size: int = Field(500, alias="DANVAN_OUTBOX_BATCH_SIZE", ge=1)
    outbox_poll_seconds: float = Field(1.0, alias="DANVAN_OUTBOX_POLL_SECONDS", gt=0)
    consumer_max_deliver: int = Field(5, alias="DANVAN_CONSUMER_MAX_DELIVER", ge=1)
    consumer_backoff_seconds: float = Field(0.5, alias="DANVAN_CONSUMER_BACKOFF_SECONDS", ge=0)
    consumer_batch_size: int = Field(100, alias="DANVAN_CONSUMER_BATCH_SIZE", ge=1)
    # Subscriptions that offer a batch handler use it (one transaction per fetch) when this
    # is on (the default); off, they are consumed one event per transaction
    # (docs/ARCHITECTURE.md, "Batched consumers").
    consumer_batching: bool = Field(True, alias="DANVAN_CONSUMER_BATCHING")
    # How long a batched subscription's batch waits to fill once its first message has come
    # (a backlog fills it at once; otherwise the events arriving meanwhile share one
    # transaction): shared/messaging/fetch.py.
    consumer_batch_wait_seconds: float = Field(
        0.1, alias="DANVAN_CONSUMER_BATCH_WAIT_SECONDS", gt=0, le=5
    )
    max_body_bytes: int = Field(1_048_576, alias="DANVAN_MAX_BODY_BYTES", ge=1024)

    @model_validator(mode="after")
    def _no_placeholder_database_in_production(self) -> ServiceSettings:
        if self.env == "production" and not self.database_url:
            raise ValueError("DATABASE_URL must be set in production")
        return self

    @model_validator(mode="after")
    def _nats_credentials_in_production(self) -> ServiceSettings:
        if self.env == "production" and self.uses_nats:
            if self.nats_nkey_seed is None and self.nats_nkey_seed_file is None:
                raise ValueError(
                    "DANVAN_NATS_NKEY_SEED (or DANVAN_NATS_NKEY_SEED_FILE) must be set in "
                    "production: the NATS servers refuse clients without credentials"
                )
            if self.nats_nkey_seed is not None:
                refuse_placeholder(
                    self.env, "DANVAN_NATS_NKEY_SEED", self.nats_nkey_seed.get_secret_value()
                )
        return self

    @property
    def log_json(self) -> bool:
        """Whether logs are JSON lines."""
        return self.log_format == "json" or (self.log_format == "auto" and self.env == "production")

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the service's SQLite file under the data folder."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"


def normalise_database_url(url: str) -> str:
    """Pick the async driver for a plain PostgreSQL or SQLite URL."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def refuse_placeholder(env: str, name: str, value: str) -> None:
    """Refuse a development placeholder secret outside development and tests."""
    placeholder = not value or value == DEVELOPMENT_PLACEHOLDER or "change_me" in value.lower()
    if env == "production" and placeholder:
        raise ValueError(f"{name} must be set to a real secret in production")


def refuse_weak_secret(env: str, name: str, value: str) -> None:
    """Refuse a placeholder, or a secret shorter than MIN_SECRET_BYTES, in production."""
    refuse_placeholder(env, name, value)
    size = len(value.encode("utf-8"))
    if env == "production" and size < MIN_SECRET_BYTES:
        raise ValueError(
            f"{name} must be at least {MIN_SECRET_BYTES} bytes in production (it has {size}); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
