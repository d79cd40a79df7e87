"""Production files rendered for one machine: the same text with addresses, ports and folders
substituted. Each substitution must find what it replaces (a production file that changed
shape fails the rendering instead of yielding a config that quietly differs), and none adds
or removes a line, so a line of a rendered file is the same line of its source."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from shared.topology.compose import REPO

NATS_CONF = REPO / "deploy" / "nats" / "nats.conf"
NGINX_CONF = REPO / "deploy" / "gateway" / "nginx.conf"
PROMETHEUS_YML = REPO / "deploy" / "prometheus" / "prometheus.yml"
ALERTS_YML = REPO / "deploy" / "prometheus" / "alerts.yml"
INIT_DATABASES_SQL = REPO / "deploy" / "postgres" / "init-databases.sql"

NATS_NODES = ("nats-1", "nats-2", "nats-3")


class RenderError(ValueError):
    """A production file no longer has the shape the rendering expects."""


@dataclass(frozen=True)
class Ports:
    """Where each part listens on 127.0.0.1 (`shifted` moves them all, for tests)."""

    gateway: int = 8080
    prometheus: int = 9090
    portal: int = 8000
    registry: int = 8001
    intake_1: int = 8002
    intake_2: int = 8012
    intake_wards: int = 8022
    # nginx's stand-in for the compose DNS name "intake" (both replicas), for the portal.
    intake_pool: int = 8032
    reminders: int = 8003
    consolidation: int = 8004
    smtp: int = 1025
    postgres: int = 15432
    nats_1: int = 14222
    nats_2: int = 14223
    nats_3: int = 14224
    route_1: int = 16222
    route_2: int = 16223
    route_3: int = 16224
    monitor_1: int = 18222
    monitor_2: int = 18223
    monitor_3: int = 18224
    exporter_1: int = 17777
    exporter_2: int = 17778
    exporter_3: int = 17779

    def shifted(self, offset: int) -> Ports:
        return Ports(**{f.name: getattr(self, f.name) + offset for f in fields(self)})

    def all(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def nats(self, node: int) -> int:
        return int(getattr(self, f"nats_{node}"))

    def route(self, node: int) -> int:
        return int(getattr(self, f"route_{node}"))

    def monitor(self, node: int) -> int:
        return int(getattr(self, f"monitor_{node}"))

    def exporter(self, node: int) -> int:
        return int(getattr(self, f"exporter_{node}"))


def substitute(text: str, source: Path, rules: Sequence[tuple[str, str]]) -> str:
    """Apply regex substitutions, each of which must match at least once."""
    for pattern, replacement in rules:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if count == 0:
            raise RenderError(f"{source}: nothing matches {pattern!r} any more")
    return text


def line_of(text: str, pattern: str) -> int:
    """The 1-based line of the first match of `pattern` (0 when absent)."""
    match = re.search(pattern, text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def render_nats(node: int, ports: Ports, store: Path) -> str:
    """deploy/nats/nats.conf for one node: its ports, its store, routes to the others."""
    text = NATS_CONF.read_text(encoding="utf-8")
    rules = [
        (r"^listen: 0\.0\.0\.0:4222$", f"listen: 127.0.0.1:{ports.nats(node)}"),
        (r"^http: 0\.0\.0\.0:8222$", f"http: 127.0.0.1:{ports.monitor(node)}"),
        (r"^(\s*)store_dir: /data/jetstream$", rf"\g<1>store_dir: {store}"),
        (r"^(\s*)listen: 0\.0\.0\.0:6222$", rf"\g<1>listen: 127.0.0.1:{ports.route(node)}"),
    ]
    for peer in (1, 2, 3):
        rules.append(
            (rf"nats-route://nats-{peer}:6222", f"nats-route://127.0.0.1:{ports.route(peer)}")
        )
    return substitute(text, NATS_CONF, rules)


# Compose service names, as they appear in URLs and upstreams, and where they are here.
def host_ports(ports: Ports) -> dict[str, int]:
    return {
        "registry": ports.registry,
        "intake": ports.intake_pool,
        "intake-wards": ports.intake_wards,
        "reminders": ports.reminders,
        "consolidation": ports.consolidation,
        "portal": ports.portal,
        "postgres": ports.postgres,
        "nats-1": ports.nats_1,
        "nats-2": ports.nats_2,
        "nats-3": ports.nats_3,
        "mailcatcher": ports.smtp,
    }


# The gateway's upstreams: compose resolves "intake" to both replicas; here an upstream
# block lists them (and nginx picks the other one when a replica is down).
def upstreams(ports: Ports) -> dict[str, list[int]]:
    return {
        "registry": [ports.registry],
        "intake": [ports.intake_1, ports.intake_2],
        "intake-wards": [ports.intake_wards],
        "reminders": [ports.reminders],
        "consolidation": [ports.consolidation],
        "portal": [ports.portal],
    }


def render_nginx_local(ports: Ports, folder: Path) -> str:
    """What one machine adds inside the gateway's `http {}`: writable temporary folders,
    the upstream blocks that stand in for Docker's DNS, and the "intake" service address
    the portal calls (both replicas, as compose's DNS name resolves)."""
    lines = ["# Written by shared.topology: this machine's stand-ins for Docker's DNS."]
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        lines.append(f"{kind}_temp_path {folder / 'temp' / kind};")
    for name, members in upstreams(ports).items():
        servers = " ".join(f"server 127.0.0.1:{port};" for port in members)
        lines.append(f"upstream {name} {{ {servers} }}")
    lines += [
        "server {",
        f"    listen 127.0.0.1:{ports.intake_pool};",
        "    location / { proxy_pass http://intake; }",
        "}",
        "",
    ]
    return "\n".join(lines)


def render_nginx(ports: Ports, local_conf: Path) -> str:
    """deploy/gateway/nginx.conf on port `gateway`, upstreams named without ports."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    names = "|".join(re.escape(name) for name in upstreams(ports))
    return substitute(
        text,
        NGINX_CONF,
        [
            (r"^http \{$", f"http {{ include {local_conf};"),
            (r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{ports.gateway};"),
            # "registry:8001" names the upstream block "registry" (nginx looks a variable's
            # host up among the upstream blocks only when it carries no port).
            (rf"(?<![\w.-])({names}):\d+\b", r"\1"),
        ],
    )


def render_prometheus(
    ports: Ports, rules: Path, *, scrape_interval: str | None = None
) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with static targets where compose uses DNS."""
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_YML.read_text(encoding="utf-8"))
    instances = {
        "registry": [ports.registry],
        "intake": [ports.intake_1, ports.intake_2],
        "intake-wards": [ports.intake_wards],
        "reminders": [ports.reminders],
        "consolidation": [ports.consolidation],
        "portal": [ports.portal],
    }
    exporters = {f"nats-exporter-{n}:7777": ports.exporter(n) for n in (1, 2, 3)}
    if len(config.get("rule_files", [])) != 1:
        raise RenderError(f"{PROMETHEUS_YML}: expected one rule file")
    config["rule_files"] = [str(rules)]
    if scrape_interval is not None:
        config["global"]["scrape_interval"] = scrape_interval
        config["global"]["evaluation_interval"] = scrape_interval
        config["global"]["scrape_timeout"] = scrape_interval
    for job in config["scrape_configs"]:
        if "dns_sd_configs" in job:
            targets = [
                f"127.0.0.1:{port}"
                for discovery in job.pop("dns_sd_configs")
                for name in discovery["names"]
                for port in instances[name]
            ]
            job["static_configs"] = [{"targets": targets}]
        for group in job.get("static_configs", []):
            mapped = []
            for target in group["targets"]:
                if target in exporters:
                    mapped.append(f"127.0.0.1:{exporters[target]}")
                elif target == "localhost:9090":
                    mapped.append(f"127.0.0.1:{ports.prometheus}")
                elif target.startswith("127.0.0.1:"):
                    mapped.append(target)
                else:
                    raise RenderError(f"{PROMETHEUS_YML}: unknown scrape target {target}")
            group["targets"] = mapped
    return config


def shorten_for(rules_text: str, duration: str) -> str:
    """A test-time copy of the alert rules with every `for:` set to `duration`; the rule
    files keep their production values (and `promtool test rules` tests those)."""
    return re.sub(r"^(\s+)for: \S+$", rf"\g<1>for: {duration}", rules_text, flags=re.MULTILINE)


def local_address(value: str, ports: Ports) -> str:
    """A compose environment value with the compose hosts replaced by this machine's."""
    hosts = host_ports(ports)
    names = "|".join(re.escape(name) for name in sorted(hosts, key=len, reverse=True))

    def replace(match: re.Match[str]) -> str:
        return f"127.0.0.1:{hosts[match.group(1)]}"

    # Only in host position: after "//" or "@" or "," (URL lists), or the whole value.
    value = re.sub(rf"(?:(?<=//)|(?<=@)|(?<=,))({names})(?::\d+)?(?=[/,]|$)", replace, value)
    if value == "mailcatcher":
        return "127.0.0.1"
    return value


def service_environment(
    compose_env: Mapping[str, Any], ports: Ports, *, port: int, volume: Path
) -> dict[str, str]:
    """A compose service's environment on this machine: its port, local hosts, and `volume`
    where the container has /data (intake's replicas share one, as the intake-data volume)."""
    env = {key: local_address(str(value), ports) for key, value in compose_env.items()}
    env["DANVAN_HTTP_HOST"] = "127.0.0.1"
    env["DANVAN_HTTP_PORT"] = str(port)
    if compose_env.get("DANVAN_SMTP_HOST") == "mailcatcher":
        env["DANVAN_SMTP_PORT"] = str(ports.smtp)
    for key, value in list(env.items()):
        if value == "/data" or value.startswith("/data/"):
            env[key] = str(volume) + value.removeprefix("/data")
    return env
