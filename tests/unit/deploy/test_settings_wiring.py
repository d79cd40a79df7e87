"""Every container's environment is what its service's settings class reads and accepts.

The settings ignore unknown variables, so a misspelt name would silently fall back to a
default; and pydantic-settings reads list settings as JSON, so a wrong format only fails
when the container starts. These tests build each service's real settings class from the
exact environment compose and Kubernetes give it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.consolidation.settings import ConsolidationSettings
from services.intake.settings import IntakeSettings
from services.portal.settings import PortalSettings
from services.registry.app import regime_rules
from services.registry.domain import regime_periods
from services.registry.seed_files import load_reorganisation
from services.registry.settings import RegistrySettings
from services.reminders.settings import RemindersSettings
from tests.unit.deploy.support import (
    REPO,
    SETTINGS_CLASSES,
    compose,
    env_example,
    filled_in,
    k8s_container,
    k8s_environment,
    k8s_of_kind,
    load_settings,
    setting_names,
    settings_class,
)

WARD_CODES = ("18115", "18118", "18121", "18124", "18127", "18130")

# Variables the services refuse to start without in production (or with a placeholder);
# each must come from a secret, never from a file in the repository.
PRODUCTION_SECRETS: dict[str, tuple[str, ...]] = {
    "registry": ("DATABASE_URL", "DANVAN_SIGNING_KEY_PASSPHRASE"),
    "intake": ("DATABASE_URL",),
    "reminders": ("DATABASE_URL", "DANVAN_REMINDERS_WEBHOOK_SECRET"),
    "consolidation": ("DATABASE_URL",),
    "portal": ("DANVAN_PORTAL_SESSION_SECRET",),
}
SECRET_CASES = [(s, v) for s, names in PRODUCTION_SECRETS.items() for v in names]


def _service_of(command: list[str]) -> str:
    return str(command[2]).removeprefix("services.")


def _compose_containers() -> dict[str, tuple[str, dict[str, str]]]:
    """Each app container of compose: (service, environment with the secrets filled in)."""
    services = compose(filled_in(env_example()))["services"]
    result = {}
    for name, service in services.items():
        command = service.get("command", [])
        if command[:2] == ["python", "-m"] and str(command[2]).startswith("services."):
            env = {str(k): str(v) for k, v in service["environment"].items()}
            result[name] = (_service_of(command), env)
    return result


def _k8s_containers() -> dict[str, tuple[str, dict[str, str]]]:
    """Each Deployment's container: (service, environment with the secrets filled in)."""
    result = {}
    for deployment in k8s_of_kind("Deployment"):
        container = k8s_container(deployment)
        env = filled_in(k8s_environment(container))
        result[deployment["metadata"]["name"]] = (_service_of(container["command"]), env)
    return result


@functools.cache
def _deployments() -> dict[str, dict[str, tuple[str, dict[str, str]]]]:
    """Resolved inside the tests, so a missing variable or secret fails them one by one."""
    return {"compose": _compose_containers(), "k8s": _k8s_containers()}


def _compose_names() -> list[str]:
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    return sorted(name for name, s in raw.items() if s.get("command", [])[:2] == ["python", "-m"])


CASES = [("compose", name) for name in _compose_names()] + [
    ("k8s", d["metadata"]["name"]) for d in k8s_of_kind("Deployment")
]


def _container(kind: str, name: str) -> tuple[str, dict[str, str]]:
    return _deployments()[kind][name]


def _settings(kind: str, name: str) -> Any:
    service, env = _container(kind, name)
    return load_settings(service, env)


def test_every_service_runs_in_both_deployments() -> None:
    for containers in _deployments().values():
        assert {service for service, _ in containers.values()} == set(SETTINGS_CLASSES)


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_the_service_starts_with_its_deployment_environment(kind: str, name: str) -> None:
    service, env = _container(kind, name)
    settings = load_settings(service, env)
    assert settings.env == "production"
    assert str(settings.http_port) == env["DANVAN_HTTP_PORT"]
    assert settings.http_host == "0.0.0.0"


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_every_variable_a_container_gets_is_read_by_some_service(kind: str, name: str) -> None:
    _, env = _container(kind, name)
    known = set().union(*(setting_names(settings_class(s)) for s in SETTINGS_CLASSES))
    assert set(env) - known == set()


def test_service_specific_variables_are_read_by_their_own_service() -> None:
    # Variables set for one compose service (outside the shared block) and in one
    # Deployment's own env list must be settings of that very service.
    shared = set(compose()["x-danvan-env"])
    for name, (service, env) in _deployments()["compose"].items():
        own = set(env) - shared
        assert own - setting_names(settings_class(service)) == set(), name
    for deployment in k8s_of_kind("Deployment"):
        container = k8s_container(deployment)
        own = {var["name"] for var in container.get("env", [])}
        unknown = own - setting_names(settings_class(_service_of(container["command"])))
        assert unknown == set(), deployment["metadata"]["name"]


@pytest.mark.parametrize(("service", "variable"), SECRET_CASES)
def test_the_service_refuses_to_start_without_the_secret(service: str, variable: str) -> None:
    # Keeps PRODUCTION_SECRETS honest: each listed variable really is required.
    environments = [
        env for c in _deployments().values() for svc, env in c.values() if svc == service
    ]
    assert len(environments) >= 2
    for env in environments:
        load_settings(service, env)
        with pytest.raises(ValidationError, match=variable):
            load_settings(service, {k: v for k, v in env.items() if k != variable})
        if variable != "DATABASE_URL":
            with pytest.raises(ValidationError, match=variable):
                load_settings(service, {**env, variable: "changeme"})


@pytest.mark.parametrize(("service", "variable"), SECRET_CASES)
def test_the_secret_comes_from_a_required_variable_or_the_secret(
    service: str, variable: str
) -> None:
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    containers = [name for name, (svc, _) in _deployments()["compose"].items() if svc == service]
    assert containers
    for name in containers:
        value = str(raw[name]["environment"][variable])
        assert re.search(r"\$\{\w+:\?", value), f"{name}: {variable} = {value}"
    deployments = [
        k8s_container(d)
        for d in k8s_of_kind("Deployment")
        if _service_of(k8s_container(d)["command"]) == service
    ]
    assert deployments
    for container in deployments:
        (var,) = [v for v in container["env"] if v["name"] == variable]
        assert var["valueFrom"]["secretKeyRef"]["name"] == "danvan-secrets"


def test_the_example_session_secret_is_refused_until_replaced() -> None:
    # The placeholder is too short on purpose: a portal left with it does not start.
    service, env = _container("compose", "portal")
    placeholder = compose()["services"]["portal"]["environment"]["DANVAN_PORTAL_SESSION_SECRET"]
    with pytest.raises(ValidationError, match="DANVAN_PORTAL_SESSION_SECRET"):
        load_settings(service, {**env, "DANVAN_PORTAL_SESSION_SECRET": placeholder})


@pytest.mark.parametrize("kind", ["compose", "k8s"])
def test_the_registry_opens_only_periods_after_the_2025_merger(kind: str) -> None:
    settings = _settings(kind, "registry")
    assert isinstance(settings, RegistrySettings)
    assert settings.reorganisation_files == ("hong_linh_2025.yaml",)
    merger = load_reorganisation("hong_linh_2025.yaml").effective_from
    planned = [
        p for year in settings.regime_years for p in regime_periods(year, regime_rules(settings))
    ]
    assert planned, "no periodic report would exist"
    # A period whose data window began before the merger would expect the six dissolved
    # wards (and, its deadline being long past, open overdue for every unit).
    for period in planned:
        assert period.window_start >= merger, period.period_id
    assert settings.trust_forwarded_for is True
    # A town's system creates no account with a shared password.
    assert settings.demo_accounts is False


@pytest.mark.parametrize("kind", ["compose", "k8s"])
def test_intake_pools_share_the_attachments_folder(kind: str) -> None:
    main = _settings(kind, "intake")
    wards = _settings(kind, "intake-wards")
    assert isinstance(main, IntakeSettings)
    assert isinstance(wards, IntakeSettings)
    assert main.resolved_attachments_dir == wards.resolved_attachments_dir
    assert main.resolved_attachments_dir.is_absolute()
    assert main.unit_scope == ()
    assert wards.unit_scope == WARD_CODES
    assert wards.scope_hint_url.endswith("/api/intake")


@pytest.mark.parametrize("kind", ["compose", "k8s"])
def test_reminders_sign_webhooks_and_read_their_lists(kind: str) -> None:
    settings = _settings(kind, "reminders")
    assert isinstance(settings, RemindersSettings)
    assert settings.webhook_secret not in {"", "changeme"}
    assert isinstance(settings.reviewer_emails, tuple)
    assert isinstance(settings.holidays, tuple)
    assert settings.smtp_host
    assert settings.portal_url.startswith("http")
    assert settings.scheduler_enabled


@pytest.mark.parametrize("kind", ["compose", "k8s"])
def test_consolidation_prints_the_configured_signature(kind: str) -> None:
    settings = _settings(kind, "consolidation")
    assert isinstance(settings, ConsolidationSettings)
    assert settings.signer_authority == ("TM. Ủy ban nhân dân",)
    assert settings.signer_title == "Chủ tịch"
    assert settings.signer_name


def test_the_portal_cookie_is_secure_in_every_deployment() -> None:
    compose_portal = _settings("compose", "portal")
    k8s_portal = _settings("k8s", "portal")
    assert isinstance(compose_portal, PortalSettings)
    assert isinstance(k8s_portal, PortalSettings)
    for portal in (compose_portal, k8s_portal):
        assert portal.cookie_secure is True
        assert portal.allow_insecure_cookie is False
        assert portal.database_url is None
        assert len(portal.session_secret.encode()) >= 32
    # A trial over plain HTTP starts only with the explicit override.
    service, env = _container("compose", "portal")
    plain = {**env, "DANVAN_PORTAL_COOKIE_SECURE": "false"}
    with pytest.raises(ValidationError, match="DANVAN_PORTAL_ALLOW_INSECURE_COOKIE"):
        load_settings(service, {**plain, "DANVAN_PORTAL_ALLOW_INSECURE_COOKIE": "false"})
    trial = load_settings(service, {**plain, "DANVAN_PORTAL_ALLOW_INSECURE_COOKIE": "true"})
    assert isinstance(trial, PortalSettings)
    assert trial.cookie_secure is False


def test_list_settings_are_written_as_json_and_the_unit_scope_as_a_comma_list() -> None:
    # pydantic-settings decodes tuple settings from JSON; the intake scope alone is a
    # comma-separated list (its validator splits it). A JSON scope would be misread.
    service, env = _container("compose", "intake-wards")
    registry_env = _container("compose", "registry")[1]
    with pytest.raises(ValidationError):
        load_settings("registry", {**registry_env, "DANVAN_REGIME_YEARS": "2027"})
    misread = load_settings(service, {**env, "DANVAN_INTAKE_UNIT_SCOPE": '["18115"]'})
    assert isinstance(misread, IntakeSettings)
    assert misread.unit_scope != ("18115",)
    assert Path(str(env["DANVAN_INTAKE_ATTACHMENTS_DIR"])).is_absolute()
