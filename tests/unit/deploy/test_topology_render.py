"""`make run-cluster` renders the production files for one machine: only addresses, ports and
folders change, line for line, and a production file that changed shape fails loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from shared.natsauth import USERS, key_variable, new_key_pair, seed_variable
from shared.topology.cluster import INSTANCES, Cluster, Options
from shared.topology.compose import load_compose, read_env_file
from shared.topology.render import (
    NATS_CONF,
    NGINX_CONF,
    Ports,
    RenderError,
    local_address,
    render_nats,
    render_nginx,
    render_nginx_local,
    render_prometheus,
    service_environment,
    shorten_for,
    substitute,
)
from tests.unit.deploy.support import DEPLOY

PORTS = Ports()


def _changed_lines(source: str, rendered: str) -> list[tuple[str, str]]:
    a, b = source.splitlines(), rendered.splitlines()
    assert len(a) == len(b), "a rendering adds or removes no line"
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_each_nats_node_gets_its_ports_store_and_routes_and_nothing_else(tmp_path: Path):
    source = NATS_CONF.read_text(encoding="utf-8")
    rendered = render_nats(2, PORTS, tmp_path / "js")
    changed = _changed_lines(source, rendered)
    assert [new.strip() for _, new in changed] == [
        "listen: 127.0.0.1:14223",
        "http: 127.0.0.1:18223",
        f"store_dir: {tmp_path / 'js'}",
        "listen: 127.0.0.1:16223",
        "nats-route://127.0.0.1:16222",
        "nats-route://127.0.0.1:16223",
        "nats-route://127.0.0.1:16224",
    ]
    for keep in ("sync_interval: always", "include ./authorization.conf", "name: danvan"):
        assert keep in rendered


def test_a_production_file_that_changed_shape_fails_the_rendering() -> None:
    with pytest.raises(RenderError, match="nothing matches"):
        substitute("listen: 0.0.0.0:4333\n", NATS_CONF, [(r"^listen: 0\.0\.0\.0:4222$", "x")])


def test_the_gateway_keeps_its_routes_on_local_upstreams(tmp_path: Path):
    source = NGINX_CONF.read_text(encoding="utf-8")
    rendered = render_nginx(PORTS, tmp_path / "local.conf")
    changed = _changed_lines(source, rendered)
    assert changed, "something is rendered"
    names = r"(?<![\w.-])(registry|intake-wards|intake|reminders|consolidation|portal):\d+\b"
    for old, new in changed:
        if old.strip() not in ("http {", "listen 80;"):
            assert new == re.sub(names, r"\1", old), (old, new)
    assert "listen 127.0.0.1:8080;" in rendered
    assert f"include {tmp_path / 'local.conf'};" in rendered
    assert not re.search(r"\b(registry|intake|portal):\d{4}\b", rendered)
    local = render_nginx_local(PORTS, tmp_path)
    assert "upstream intake { server 127.0.0.1:8002; server 127.0.0.1:8012; }" in local
    assert "upstream intake-wards { server 127.0.0.1:8022; }" in local
    assert "listen 127.0.0.1:8032;" in local


def test_prometheus_scrapes_every_instance_with_the_production_jobs(tmp_path: Path):
    production = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config = render_prometheus(PORTS, tmp_path / "alerts.yml", scrape_interval="2s")
    assert [j["job_name"] for j in config["scrape_configs"]] == [
        j["job_name"] for j in production["scrape_configs"]
    ]
    targets = {
        job["job_name"]: [t for g in job["static_configs"] for t in g["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets["danvan-intake"] == ["127.0.0.1:8002", "127.0.0.1:8012", "127.0.0.1:8022"]
    assert targets["nats"] == ["127.0.0.1:17777", "127.0.0.1:17778", "127.0.0.1:17779"]
    nats_labels = [
        g["labels"]["nats_node"]
        for j in config["scrape_configs"]
        for g in j["static_configs"]
        if j["job_name"] == "nats"
    ]
    assert nats_labels == ["nats-1", "nats-2", "nats-3"]
    assert config["rule_files"] == [str(tmp_path / "alerts.yml")]
    assert config["global"]["scrape_interval"] == "2s"
    assert config["global"]["external_labels"] == production["global"]["external_labels"]


def test_the_test_rendering_of_the_rules_shortens_only_for() -> None:
    source = (DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8")
    short = shorten_for(source, "10s")
    changed = _changed_lines(source, short)
    assert changed and all(re.fullmatch(r"\s+for: \S+", old) for old, _ in changed)
    assert all(new.strip() == "for: 10s" for _, new in changed)


def test_compose_hosts_become_local_addresses_only_in_host_position() -> None:
    assert local_address("http://registry:8001/.well-known/jwks.json", PORTS) == (
        "http://127.0.0.1:8001/.well-known/jwks.json"
    )
    assert (
        local_address("nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222", PORTS)
        == "nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224"
    )
    assert (
        local_address("postgresql+asyncpg://danvan:pw@postgres:5432/danvan_registry", PORTS)
        == "postgresql+asyncpg://danvan:pw@127.0.0.1:15432/danvan_registry"
    )
    assert local_address("http://127.0.0.1:8080/api/intake", PORTS) == (
        "http://127.0.0.1:8080/api/intake"
    )
    assert local_address("mailcatcher", PORTS) == "127.0.0.1"


def test_secrets_are_generated_from_the_example_and_kept(tmp_path: Path):
    cluster = Cluster(Options(data_dir=tmp_path, ports=PORTS, demo_password="mat-khau-thu"))
    keys = {user: new_key_pair() for user in USERS}
    lines = cluster.secrets(keys)
    assert cluster.secrets_file.stat().st_mode & 0o777 == 0o600
    text = cluster.secrets_file.read_text(encoding="utf-8")
    assert "CHANGE_ME" not in "".join(line.value for line in lines.values())
    example = read_env_file(DEPLOY / "compose.env.example")
    assert set(lines) == set(example)
    assert lines["DANVAN_DEMO_PASSWORD"].value == "mat-khau-thu"
    assert lines["DANVAN_DEMO_ACCOUNTS"].value == "true"
    for user, pair in keys.items():
        assert lines[key_variable(user)].value == pair.public_key
        assert lines[seed_variable(user)].value == pair.seed
    assert cluster.secrets({user: new_key_pair() for user in USERS}) == lines
    assert cluster.secrets_file.read_text(encoding="utf-8") == text


def test_every_service_gets_its_compose_environment_with_local_addresses(tmp_path: Path):
    cluster = Cluster(Options(data_dir=tmp_path, ports=PORTS))
    lines = cluster.secrets({user: new_key_pair() for user in USERS})
    compose = load_compose({k: v.value for k, v in lines.items()})["services"]
    for name, service, port_name in INSTANCES:
        port = getattr(PORTS, port_name)
        env = service_environment(
            compose[service]["environment"], PORTS, port=port, volume=tmp_path / name
        )
        assert env["DANVAN_ENV"] == "production"
        assert env["DANVAN_HTTP_PORT"] == str(port)
        assert env["DANVAN_HTTP_HOST"] == "127.0.0.1"
        assert env["DANVAN_DATA_DIR"] == str(tmp_path / name)
        assert not re.search(r"//(registry|intake|postgres|nats-\d|reminders):", str(env)), name
        if service != "portal":
            assert env["DANVAN_NATS_NKEY_SEED"] == lines[seed_variable(service.split("-")[0])].value
            assert env["NATS_URL"].count("127.0.0.1:1422") == 3
            assert env["DANVAN_STREAM_REPLICAS"] == "3"
    wards = service_environment(
        compose["intake-wards"]["environment"], PORTS, port=8022, volume=tmp_path / "v"
    )
    assert wards["DANVAN_INTAKE_ATTACHMENTS_DIR"] == str(tmp_path / "v" / "intake-attachments")
    assert wards["DANVAN_INTAKE_UNIT_SCOPE"] == "18115,18118,18121,18124,18127,18130"
