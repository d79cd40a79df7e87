"""docker-compose.yml wires the town data-centre deployment together consistently."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.portal.settings import PortalSettings
from tests.unit.deploy.support import APP_SERVICES, DEPLOY, REPO, compose, env_example

NATS_NODES = ("nats-1", "nats-2", "nats-3")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data: dict[str, Any] = compose()["services"]
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment is written as a mapping"
    return {str(k): str(v) for k, v in env.items()}


def _app_services(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every container running one of our services (the ward pool included)."""
    apps = {}
    for name, service in services.items():
        command = service.get("command", [])
        if command[:2] == ["python", "-m"] and str(command[2]).startswith("services."):
            apps[name] = service
    return apps


def test_compose_has_every_part_of_the_deployment(services: dict[str, Any]) -> None:
    expected = {*APP_SERVICES, "postgres", *NATS_NODES, "prometheus", "grafana"}
    expected |= {"mailcatcher", "gateway"}
    assert expected <= services.keys()


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_each_service_runs_its_module_on_its_port(services: dict[str, Any], name: str) -> None:
    service = services[name]
    assert service["command"] == ["python", "-m", f"services.{name}"]
    env = _env(service)
    assert env["DANVAN_HTTP_PORT"] == str(APP_SERVICES[name])
    assert env["DANVAN_HTTP_HOST"] == "0.0.0.0"
    assert env["DANVAN_ENV"] == "production"


def test_every_stateful_service_container_has_its_database_and_nats(
    services: dict[str, Any],
) -> None:
    apps = _app_services(services)
    assert set(APP_SERVICES) <= apps.keys()
    for name, service in apps.items():
        env = _env(service)
        module = service["command"][2].removeprefix("services.")
        if module == "portal":
            assert "DATABASE_URL" not in env, "the portal has no database"
            continue
        database = urlsplit(env["DATABASE_URL"])
        assert database.scheme == "postgresql+asyncpg", name
        assert database.hostname == "postgres", name
        assert database.path == f"/danvan_{module}", name
        nats_hosts = [urlsplit(u).hostname for u in env["NATS_URL"].split(",")]
        assert nats_hosts == list(NATS_NODES), name


def test_all_service_containers_run_the_one_image(services: dict[str, Any]) -> None:
    apps = _app_services(services)
    images = {svc["image"] for svc in apps.values()}
    assert len(images) == 1
    builders = [name for name, svc in apps.items() if "build" in svc]
    assert builders == ["registry"]
    assert services["registry"]["build"]["dockerfile"] == "Dockerfile"


def test_stream_replicas_match_the_nats_cluster(services: dict[str, Any]) -> None:
    for name, service in _app_services(services).items():
        assert _env(service)["DANVAN_STREAM_REPLICAS"] == str(len(NATS_NODES)), name


def test_intake_scales_without_a_fixed_host_port(services: dict[str, Any]) -> None:
    intake = services["intake"]
    assert intake["deploy"]["replicas"] == 2
    assert "ports" not in intake
    assert "container_name" not in intake


@pytest.mark.parametrize("name", ["registry", "reminders", "consolidation", "portal"])
def test_other_services_have_a_fixed_loopback_port(services: dict[str, Any], name: str) -> None:
    port = APP_SERVICES[name]
    assert services[name]["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_init_script_creates_every_database_a_service_uses(services: dict[str, Any]) -> None:
    script = (DEPLOY / "postgres" / "init-databases.sql").read_text(encoding="utf-8")
    created = set(re.findall(r"CREATE DATABASE (\w+)", script))
    used = {
        urlsplit(_env(svc)["DATABASE_URL"]).path.lstrip("/")
        for svc in _app_services(services).values()
        if "DATABASE_URL" in _env(svc)
    }
    assert used == created
    assert "danvan_portal" not in created
    mounts = services["postgres"]["volumes"]
    assert any(
        m.startswith("./deploy/postgres/init-databases.sql:/docker-entrypoint-initdb.d/")
        for m in mounts
    )


def test_nats_nodes_share_one_config_with_their_own_name_and_store(
    services: dict[str, Any],
) -> None:
    stores = set()
    for node in NATS_NODES:
        service = services[node]
        assert _env(service)["NATS_SERVER_NAME"] == node
        # The folder: nats.conf and the authorization.conf it includes.
        assert "./deploy/nats:/etc/nats:ro" in service["volumes"]
        assert service["command"] == ["--config", "/etc/nats/nats.conf"]
        assert "healthcheck" in service
        stores |= {v for v in service["volumes"] if v.endswith(":/data")}
    assert len(stores) == len(NATS_NODES)


def test_bind_mounts_point_at_files_in_the_repository(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source}"


def test_healthy_dependencies_have_healthchecks(services: dict[str, Any]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        for dependency, rule in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} -> {dependency}"


def test_secrets_are_required_variables_never_literal_values() -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if re.search(r"PASSWORD|PASSPHRASE|SECRET", key) and value.strip():
            assert value.strip().startswith("${"), line
    for url in re.findall(r"postgresql\+asyncpg://[^\s\"']+", text):
        assert ":${POSTGRES_PASSWORD:?" in url, url


def test_env_example_gives_a_placeholder_for_every_required_variable() -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = env_example()
    assert required <= example.keys()
    for key in required:
        assert "CHANGE_ME" in example[key], key
    optional = set(re.findall(r"\$\{(\w+):-", text))
    assert optional <= example.keys(), optional - example.keys()


def test_mail_goes_to_the_mail_catcher_by_default(services: dict[str, Any]) -> None:
    assert _env(services["reminders"])["DANVAN_SMTP_HOST"] == "mailcatcher"
    assert (
        compose({**env_example(), "DANVAN_SMTP_HOST": ""})["services"]["reminders"]["environment"][
            "DANVAN_SMTP_HOST"
        ]
        == "mailcatcher"
    )
    assert "mailpit" in services["mailcatcher"]["image"]


REQUIRED_VARIABLES = sorted(
    set(re.findall(r"\$\{(\w+):\?", (REPO / "docker-compose.yml").read_text(encoding="utf-8")))
)


def test_every_secret_is_a_required_variable() -> None:
    assert {
        "POSTGRES_PASSWORD",
        "DANVAN_SIGNING_KEY_PASSPHRASE",
        "DANVAN_PORTAL_SESSION_SECRET",
        "DANVAN_REMINDERS_WEBHOOK_SECRET",
        "GRAFANA_ADMIN_PASSWORD",
    } <= set(REQUIRED_VARIABLES)


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
def test_compose_refuses_to_start_without_a_required_variable(variable: str) -> None:
    with pytest.raises(KeyError, match=variable):
        compose({**env_example(), variable: ""})
    without = {k: v for k, v in env_example().items() if k != variable}
    with pytest.raises(KeyError, match=variable):
        compose(without)


def test_the_portal_needs_only_the_registry_and_intake(services: dict[str, Any]) -> None:
    portal = services["portal"]
    assert set(portal["depends_on"]) == {"registry", "intake"}
    env = _env(portal)
    backends = {
        name: urlsplit(env[f"DANVAN_{name.upper()}_URL"])
        for name in APP_SERVICES
        if name != "portal"
    }
    for name, url in backends.items():
        assert url.hostname == name
        assert url.port == APP_SERVICES[name]
    assert "volumes" not in portal, "the portal keeps nothing on disk"
    # The cookie carries the bearer token: Secure by default (TLS in front of the gateway);
    # plain HTTP only by the explicit override.
    assert env["DANVAN_PORTAL_COOKIE_SECURE"] == "true"
    assert env["DANVAN_PORTAL_ALLOW_INSECURE_COOKIE"] == "false"
    trial = compose(
        {
            **env_example(),
            "DANVAN_PORTAL_COOKIE_SECURE": "false",
            "DANVAN_PORTAL_ALLOW_INSECURE_COOKIE": "true",
        }
    )["services"]["portal"]["environment"]
    assert trial["DANVAN_PORTAL_COOKIE_SECURE"] == "false"
    assert trial["DANVAN_PORTAL_ALLOW_INSECURE_COOKIE"] == "true"
    # The gateway's X-Forwarded-For is believed (it is on the compose network), a public
    # peer's is not.
    portal_settings = PortalSettings(
        env="test", trusted_proxies=json.loads(env["DANVAN_PORTAL_TRUSTED_PROXIES"])
    )
    assert portal_settings.trusts_proxy("172.18.0.7")
    assert not portal_settings.trusts_proxy("203.0.113.9")


def test_every_intake_container_shares_one_attachments_volume(services: dict[str, Any]) -> None:
    pools = {
        n: s for n, s in _app_services(services).items() if s["command"][2] == "services.intake"
    }
    assert set(pools) == {"intake", "intake-wards"}
    mounts = set()
    for name, service in pools.items():
        directory = _env(service)["DANVAN_INTAKE_ATTACHMENTS_DIR"]
        (volume,) = [
            v for v in service["volumes"] if directory.startswith(v.split(":")[1].rstrip("/") + "/")
        ]
        source = volume.split(":")[0]
        assert not source.startswith(("./", "/")), f"{name}: a named volume, not a bind mount"
        mounts.add((source, directory))
    assert len(mounts) == 1, mounts
    assert next(iter(mounts))[0] in compose()["volumes"]


def test_only_intake_keeps_files(services: dict[str, Any]) -> None:
    data_volumes = {
        name
        for name, service in _app_services(services).items()
        for volume in service.get("volumes", [])
        if not volume.startswith("./")
    }
    assert data_volumes == {"intake", "intake-wards"}


def test_the_registry_trusts_only_the_address_the_gateway_sets(services: dict[str, Any]) -> None:
    assert _env(services["registry"])["DANVAN_TRUST_FORWARDED_FOR"] == "true"
    nginx = (DEPLOY / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in nginx.splitlines())
    assert re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", code) == ["$remote_addr"]


def test_gateway_is_the_only_port_open_beyond_the_host(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            if name == "gateway":
                assert port.endswith(":80")
            else:
                assert port.startswith("127.0.0.1:"), f"{name}: {port}"
