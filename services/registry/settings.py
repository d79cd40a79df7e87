"""Registry settings."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.registry import domain
from shared.contracts.registry import PeriodKind
from shared.forms import FormNotFound, load_form
from shared.settings import ServiceSettings, refuse_placeholder, refuse_weak_secret

DEFAULT_DEMO_PASSWORD = "danvan-demo"

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class RegimeRuleSetting(BaseModel):
    """One periodic report of the regime, as configured (dates are "MM-DD")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suffix: str = Field(pattern=r"^[A-Z0-9]{1,4}$")
    kind: PeriodKind
    title: str
    due_before: str
    window_start: str = "12-15"
    window_start_previous_year: bool = True
    window_end: str
    form_id: str = "dvcq-dinh-ky"
    # Pins one version for every year of this report; unset, each period takes the version
    # of DANVAN_PERIODIC_FORMS in use at its deadline.
    form_version: str | None = None

    @field_validator("due_before", "window_start", "window_end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        match = _MONTH_DAY.match(value)
        if not match or not (1 <= int(match[1]) <= 12 and 1 <= int(match[2]) <= 31):
            raise ValueError(f"expected MM-DD, got {value!r}")
        return value


class PeriodicFormSetting(BaseModel):
    """A version of the periodic form and the first deadline day it is used for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    form_id: str = "dvcq-dinh-ky"
    version: str
    due_from: date


DEFAULT_PERIODIC_FORMS: tuple[PeriodicFormSetting, ...] = tuple(
    PeriodicFormSetting(form_id=f.form_id, version=f.version, due_from=f.due_from)
    for f in domain.DEFAULT_PERIODIC_FORMS
)


def _packaged_periodic_form(variable: str, form_id: str, version: str) -> None:
    """Refuse a form that is not packaged or not periodic, naming the variable."""
    try:
        form = load_form(form_id, version)
    except FormNotFound:
        raise ValueError(f"{variable}: no packaged form {form_id} version {version}") from None
    if form.kind != "periodic":
        raise ValueError(f"{variable}: {form_id} {version} is not a periodic form")


# Plan IV.4 (due dates) and Nghị định 09/2019 (data windows from 15/12 of the year before).
DEFAULT_REGIME: tuple[RegimeRuleSetting, ...] = (
    RegimeRuleSetting(
        suffix="H1",
        kind="six_month",
        title="6 tháng đầu năm {year}",
        due_before="06-10",
        window_end="06-14",
    ),
    RegimeRuleSetting(
        suffix="Y", kind="annual", title="năm {year}", due_before="11-25", window_end="12-14"
    ),
)


# Tests without DANVAN_SIGNING_KEY_PASSPHRASE: random, the same for the whole test process
# (a registry restarted on the same database reads its keys again).
_TEST_PASSPHRASE = secrets.token_urlsafe(32)
PASSPHRASE_FILE = "registry-signing-key.passphrase"


def _local_passphrase(settings: ServiceSettings) -> str:
    """Development: a random passphrase generated once into `<data>/` (mode 0600), so no
    signing key is ever encrypted with a known placeholder. Tests: one per process."""
    if settings.env == "test":
        return _TEST_PASSPHRASE
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = settings.data_dir / PASSPHRASE_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="utf-8").strip()


class RegistrySettings(ServiceSettings):
    """Units, accounts, tokens and the reporting calendar."""

    service_name: str = "registry"
    http_port: int = Field(8001, alias="DANVAN_HTTP_PORT")
    seed_file: Path | None = Field(None, alias="DANVAN_SEED_FILE")
    # Reorganisations applied at start-up, idempotently: a path, or the name of a packaged
    # file such as "hong_linh_2025.yaml" (the 2025 merger).
    reorganisation_files: tuple[str, ...] = Field((), alias="DANVAN_REORGANISATION_FILES")
    # Development only: an account per unit plus pnv, lanhdao and admin, all with the demo
    # password. Unset, on outside production and off in production; production refuses them
    # unless DANVAN_DEMO_ACCOUNTS_IN_PRODUCTION=true (a demonstration cluster, never a town's
    # system). Real accounts: `python -m services.registry create-admin`, then activation
    # codes (README, "Accounts and activation").
    seed_demo_accounts: bool | None = Field(None, alias="DANVAN_SEED_DEMO_ACCOUNTS")
    demo_accounts_in_production: bool = Field(False, alias="DANVAN_DEMO_ACCOUNTS_IN_PRODUCTION")
    # Demo mailboxes in the reserved .invalid domain; the embedded launcher turns them on.
    seed_demo_contacts: bool = Field(False, alias="DANVAN_SEED_DEMO_CONTACTS")
    demo_password: str = Field(DEFAULT_DEMO_PASSWORD, alias="DANVAN_DEMO_PASSWORD")
    # Encrypts the token signing keys at rest. Required in production (at least 32 bytes);
    # unset in development, a random one is generated once into the data folder (0600).
    signing_key_passphrase: str = Field("", alias="DANVAN_SIGNING_KEY_PASSPHRASE")
    token_ttl_seconds: int = Field(3600, alias="DANVAN_TOKEN_TTL_SECONDS", ge=60, le=86_400)
    # How often a registry replica rereads the signing keys (another replica may rotate).
    key_refresh_seconds: float = Field(30.0, alias="DANVAN_KEY_REFRESH_SECONDS", gt=0)
    regime_years: tuple[int, ...] = Field((2023,), alias="DANVAN_REGIME_YEARS")
    regime: tuple[RegimeRuleSetting, ...] = Field(DEFAULT_REGIME, alias="DANVAN_REGIME")
    # Which version of the periodic form a new period uses, by its deadline (JSON list of
    # {"version", "due_from": "YYYY-MM-DD", "form_id"?}); periods already created keep theirs.
    periodic_forms: tuple[PeriodicFormSetting, ...] = Field(
        DEFAULT_PERIODIC_FORMS, alias="DANVAN_PERIODIC_FORMS", min_length=1
    )

    password_min_length: int = Field(10, alias="DANVAN_PASSWORD_MIN_LENGTH", ge=10)
    # How long an activation code (first sign-in, or after an admin's reset) stays usable.
    activation_code_hours: float = Field(
        72.0, alias="DANVAN_ACTIVATION_CODE_HOURS", gt=0, le=24 * 30
    )
    # Sign-in slow-down: failures allowed before a lock, doubling from the base up to the cap;
    # failures are forgotten after a quiet window. Offices share an address behind NAT, so the
    # per-address allowance is larger than the per-username one.
    login_free_failures: int = Field(5, alias="DANVAN_LOGIN_FREE_FAILURES", ge=1)
    login_ip_free_failures: int = Field(30, alias="DANVAN_LOGIN_IP_FREE_FAILURES", ge=1)
    login_lock_base_seconds: float = Field(2.0, alias="DANVAN_LOGIN_LOCK_BASE_SECONDS", gt=0)
    login_lock_max_seconds: float = Field(900.0, alias="DANVAN_LOGIN_LOCK_MAX_SECONDS", gt=0)
    login_failure_window_seconds: float = Field(
        900.0, alias="DANVAN_LOGIN_FAILURE_WINDOW_SECONDS", gt=0
    )
    # Argon2 checks running at once (each takes 64 MiB); the others wait their turn.
    password_check_slots: int = Field(2, alias="DANVAN_PASSWORD_CHECK_SLOTS", ge=1, le=16)
    # Past its free failures, an address is slowed down, never locked out: each further
    # attempt from it waits this long (doubling up to the cap) before its password is checked.
    login_ip_delay_seconds: float = Field(1.0, alias="DANVAN_LOGIN_IP_DELAY_SECONDS", ge=0)
    login_ip_delay_max_seconds: float = Field(5.0, alias="DANVAN_LOGIN_IP_DELAY_MAX_SECONDS", ge=0)
    # Only behind a gateway that sets X-Forwarded-For itself; otherwise clients could forge it.
    # Even then the header counts only when the direct peer is one of DANVAN_TRUSTED_PROXIES
    # (JSON list of addresses or networks; default: loopback and the private networks, where
    # the gateway, the Ingress and the portal run).
    trust_forwarded_for: bool = Field(False, alias="DANVAN_TRUST_FORWARDED_FOR")
    trusted_proxies: tuple[str, ...] = Field(
        ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
        alias="DANVAN_TRUSTED_PROXIES",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    def trusts_proxy(self, peer: str) -> bool:
        """Whether X-Forwarded-For from this direct peer is believed."""
        if not self.trust_forwarded_for:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies
        )

    import_max_bytes: int = Field(512 * 1024, alias="DANVAN_IMPORT_MAX_BYTES", ge=1024)
    import_max_rows: int = Field(2000, alias="DANVAN_IMPORT_MAX_ROWS", ge=1)

    @model_validator(mode="after")
    def _real_secrets_in_production(self) -> RegistrySettings:
        if self.env == "production":
            refuse_weak_secret(
                self.env, "DANVAN_SIGNING_KEY_PASSPHRASE", self.signing_key_passphrase
            )
        elif not self.signing_key_passphrase:
            # Frozen settings: set once, here, before anyone reads them.
            object.__setattr__(self, "signing_key_passphrase", _local_passphrase(self))
        if self.env == "production" and self.seed_demo_accounts:
            if not self.demo_accounts_in_production:
                raise ValueError(
                    "DANVAN_SEED_DEMO_ACCOUNTS: production creates no demo accounts (they share "
                    "one password); create the first administrator with `python -m "
                    "services.registry create-admin`, or set "
                    "DANVAN_DEMO_ACCOUNTS_IN_PRODUCTION=true for a demonstration only"
                )
            refuse_placeholder(
                self.env,
                "DANVAN_DEMO_PASSWORD",
                "" if self.demo_password == DEFAULT_DEMO_PASSWORD else self.demo_password,
            )
        if len({rule.suffix for rule in self.regime}) != len(self.regime):
            raise ValueError("DANVAN_REGIME: every rule needs its own suffix")
        for form in self.periodic_forms:
            _packaged_periodic_form("DANVAN_PERIODIC_FORMS", form.form_id, form.version)
        for rule in self.regime:
            if rule.form_version is not None:
                _packaged_periodic_form("DANVAN_REGIME", rule.form_id, rule.form_version)
        return self

    @property
    def demo_accounts(self) -> bool:
        """Whether the demo accounts are seeded (on by default outside production)."""
        if self.seed_demo_accounts is None:
            return self.env != "production"
        return self.seed_demo_accounts

    def periodic_form_schedule(self) -> tuple[domain.FormInUse, ...]:
        """DANVAN_PERIODIC_FORMS as the domain's schedule."""
        return tuple(
            domain.FormInUse(f.form_id, f.version, f.due_from) for f in self.periodic_forms
        )
