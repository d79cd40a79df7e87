"""Registry settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from shared.settings import DEVELOPMENT_PLACEHOLDER, ServiceSettings, refuse_placeholder

DEFAULT_DEMO_PASSWORD = "danvan-demo"


class RegistrySettings(ServiceSettings):
    """Units, accounts, tokens and the reporting calendar."""

    service_name: str = "registry"
    http_port: int = Field(8001, alias="DANVAN_HTTP_PORT")
    seed_file: Path | None = Field(None, alias="DANVAN_SEED_FILE")
    seed_demo_accounts: bool = Field(True, alias="DANVAN_SEED_DEMO_ACCOUNTS")
    demo_password: str = Field(DEFAULT_DEMO_PASSWORD, alias="DANVAN_DEMO_PASSWORD")
    signing_key_passphrase: str = Field(
        DEVELOPMENT_PLACEHOLDER, alias="DANVAN_SIGNING_KEY_PASSPHRASE"
    )
    token_ttl_seconds: int = Field(3600, alias="DANVAN_TOKEN_TTL_SECONDS", ge=60, le=86_400)
    regime_years: tuple[int, ...] = Field((2023,), alias="DANVAN_REGIME_YEARS")

    @model_validator(mode="after")
    def _real_secrets_in_production(self) -> RegistrySettings:
        refuse_placeholder(self.env, "DANVAN_SIGNING_KEY_PASSPHRASE", self.signing_key_passphrase)
        if self.env == "production" and self.seed_demo_accounts:
            refuse_placeholder(
                self.env,
                "DANVAN_DEMO_PASSWORD",
                "" if self.demo_password == DEFAULT_DEMO_PASSWORD else self.demo_password,
            )
        return self
