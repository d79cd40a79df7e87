"""The nginx gateway routes to real services, and the per-ward pool example agrees with itself."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.deploy.support import APP_SERVICES, DEPLOY, K8S, compose, load_yaml_all

NGINX = (DEPLOY / "gateway" / "nginx.conf").read_text(encoding="utf-8")


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _map_block(variable: str) -> str:
    match = re.search(rf"map\s+\S+\s+\${variable}\s*\{{(.*?)\}}", NGINX, flags=re.DOTALL)
    assert match, f"no map for ${variable}"
    return _strip_comments(match.group(1))


def _scope(env: dict[str, Any]) -> set[str]:
    return set(str(env["DANVAN_INTAKE_UNIT_SCOPE"]).split(","))


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data: dict[str, Any] = compose()["services"]
    return data


def test_braces_balance() -> None:
    code = _strip_comments(NGINX)
    assert code.count("{") == code.count("}")


def test_gateway_mounts_this_config(services: dict[str, Any]) -> None:
    assert "./deploy/gateway/nginx.conf:/etc/nginx/nginx.conf:ro" in services["gateway"]["volumes"]


def test_every_upstream_is_a_compose_service_on_its_port(services: dict[str, Any]) -> None:
    upstreams = set(re.findall(r"\b([a-z][a-z-]*):(\d{4})\b", _strip_comments(NGINX)))
    assert upstreams
    for host, port in upstreams:
        assert host in services, host
        service_env = services[host]["environment"]
        assert service_env["DANVAN_HTTP_PORT"] == port, host


def test_root_goes_to_the_portal_and_each_api_prefix_to_its_service() -> None:
    code = _strip_comments(NGINX)
    assert re.search(r"location / \{\s*set \$danvan_upstream portal:8000;", code)
    for name, port in APP_SERVICES.items():
        if name == "portal":
            continue
        block = re.search(rf"location /api/{name}/v1/ \{{(.*?)\}}", code, flags=re.DOTALL)
        assert block, name
        assert f"rewrite ^/api/{name}/(v1/.*)$ /$1 break;" in block.group(1)
        if name != "intake":
            assert f"set $danvan_upstream {name}:{port};" in block.group(1)


def test_metrics_stay_inside_the_network() -> None:
    # Only /api/<service>/v1/ reaches a service; the portal's own /metrics answers 404
    # (tests/unit/deploy/test_public_routes.py follows nginx's location choice).
    code = _strip_comments(NGINX)
    assert re.search(r"location ~ \^/\(metrics\|docs\|[^{]*\{\s*return 404;", code)


def test_intake_is_resolved_per_request_so_new_replicas_get_traffic() -> None:
    code = _strip_comments(NGINX)
    assert re.search(r"resolver 127\.0\.0\.11", code)
    block = re.search(r"location /api/intake/v1/ \{(.*?)\}", code, flags=re.DOTALL)
    assert block
    assert "set $danvan_upstream $danvan_intake_upstream;" in block.group(1)
    assert "proxy_pass http://$danvan_upstream;" in block.group(1)


def test_ward_codes_at_the_gateway_equal_the_ward_pool_scope(services: dict[str, Any]) -> None:
    by_header = _map_block("danvan_intake_by_header")
    header_codes = set(re.findall(r"^\s*(\d{5})\s+intake-wards:8002;", by_header, re.MULTILINE))
    assert re.search(r"default\s+intake:8002;", by_header)
    by_path = _map_block("danvan_intake_upstream")
    (alternatives,) = re.findall(r"/units/\(([\d|]+)\)/", by_path)
    path_codes = set(alternatives.split("|"))
    scope = _scope(services["intake-wards"]["environment"])
    assert header_codes == path_codes == scope
    assert "DANVAN_INTAKE_UNIT_SCOPE" not in services["intake"]["environment"]


def test_ward_codes_of_the_kubernetes_canary_equal_the_pool_scope() -> None:
    objects = load_yaml_all(K8S / "components" / "ward-pool" / "intake-wards.yaml")
    objects += load_yaml_all(K8S / "components" / "ward-pool" / "ingress-wards.yaml")
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {v["name"]: v.get("value") for v in container["env"]}
    (ingress,) = [o for o in objects if o["kind"] == "Ingress"]
    pattern = ingress["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/canary-by-header-pattern"
    ]
    (alternatives,) = re.findall(r"^\^\(([\d|]+)\)\$$", pattern)
    assert set(alternatives.split("|")) == _scope(env)
    header = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-by-header"]
    assert header == "X-Danvan-Unit"
    assert "$http_x_danvan_unit" in NGINX
