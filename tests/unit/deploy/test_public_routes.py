"""What the public entry routes (issue 9, item 6): the portal, the services' `/v1/` APIs and
the JWKS; never `/metrics`, `/docs`, `/redoc`, `/openapi.json`, `/healthz` or `/readyz` of a
service or of the portal.

Both entries are read as their server reads them: the gateway's nginx.conf as `make
run-cluster` renders it (nginx picks an exact location, else the longest prefix unless a
regular expression matches first, then rewrites), the Ingress objects as ingress-nginx
turns them into locations (with `use-regex` on a host every path is a case-insensitive
regular expression anchored at its start, `Exact` paths excepted; no match: the default
backend's 404).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.topology.render import Ports, render_nginx
from tests.unit.deploy.support import k8s_of_kind

SERVICES = ("registry", "intake", "reminders", "consolidation")
HIDDEN = ("/metrics", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")


def hidden_requests() -> list[str]:
    """Every way to ask for a hidden endpoint of a service or of the portal."""
    paths = []
    for endpoint in HIDDEN:
        paths += [endpoint, endpoint + "/", endpoint.upper(), endpoint + "/x"]
        for name in SERVICES:
            paths += [
                f"/api/{name}{endpoint}",
                f"/api/{name}{endpoint}/",
                f"/api/{name}/v1/..{endpoint}",
                f"/API/{name.upper()}{endpoint.upper()}",
            ]
    paths += ["/docs/oauth2-redirect", "/api/registry/docs/oauth2-redirect"]
    return paths


def normalised(path: str) -> str:
    """The URI as both servers match it: dot segments resolved, slashes merged."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    trailing = "/" if path.endswith("/") and parts else ""
    return "/" + "/".join(parts) + trailing


@dataclass(frozen=True)
class Routed:
    """Where a request went: a backend and the path it asked for, or None for a 404."""

    backend: str | None
    path: str


def reaches_a_hidden_endpoint(routed: Routed) -> bool:
    """Whether the backend would answer it from a hidden endpoint (the services match paths
    case-sensitively; FastAPI redirects a trailing slash to the path without it)."""
    if routed.backend is None:
        return False
    path = routed.path.rstrip("/")
    return any(path == e or path.startswith(e + "/") for e in HIDDEN)


# -- the gateway (nginx) --------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    kind: str  # "=", "prefix", "~"
    pattern: str
    body: str


def gateway_locations(tmp_path: Path) -> list[Location]:
    text = render_nginx(Ports(), tmp_path / "local.conf")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    server = code[code.index("server {") :]
    found = []
    for match in re.finditer(r"location\s+(=|~)?\s*(\S+)\s*\{(.*?)\}", server, flags=re.DOTALL):
        kind = match.group(1) or "prefix"
        found.append(Location(kind, match.group(2), match.group(3)))
    return found


def through_gateway(locations: list[Location], path: str) -> Routed:
    uri = normalised(path)
    exact = [loc for loc in locations if loc.kind == "=" and loc.pattern == uri]
    chosen: Location | None = exact[0] if exact else None
    if chosen is None:
        prefixes = [
            loc for loc in locations if loc.kind == "prefix" and uri.startswith(loc.pattern)
        ]
        longest = max(prefixes, key=lambda loc: len(loc.pattern), default=None)
        regexes = [loc for loc in locations if loc.kind == "~" and re.search(loc.pattern, uri)]
        chosen = regexes[0] if regexes else longest
    assert chosen is not None, uri
    if "return 404" in chosen.body:
        return Routed(None, uri)
    upstream = re.search(r"set \$danvan_upstream (\S+);", chosen.body)
    assert upstream, chosen
    rewrite = re.search(r"rewrite (\S+) (\S+) break;", chosen.body)
    if rewrite:
        match = re.search(rewrite.group(1), uri)
        assert match, (uri, chosen)
        uri = re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))), rewrite.group(2))
    backend = upstream.group(1).split(":")[0]
    return Routed("intake" if backend.startswith("$danvan_intake") else backend, uri)


@pytest.fixture(scope="module")
def locations(tmp_path_factory: pytest.TempPathFactory) -> list[Location]:
    return gateway_locations(tmp_path_factory.mktemp("gateway"))


def test_the_gateway_routes_the_portal_every_api_and_the_jwks(locations: list[Location]) -> None:
    assert through_gateway(locations, "/") == Routed("portal", "/")
    assert through_gateway(locations, "/bao-cao/2023-H1") == Routed("portal", "/bao-cao/2023-H1")
    for name in SERVICES:
        assert through_gateway(locations, f"/api/{name}/v1/periods") == Routed(name, "/v1/periods")
    assert through_gateway(locations, "/.well-known/jwks.json") == Routed(
        "registry", "/.well-known/jwks.json"
    )


@pytest.mark.parametrize("path", hidden_requests())
def test_the_gateway_never_reaches_a_hidden_endpoint(locations: list[Location], path: str) -> None:
    routed = through_gateway(locations, path)
    assert not reaches_a_hidden_endpoint(routed), routed


# -- the Kubernetes Ingress (ingress-nginx) ---------------------------------------------------


@dataclass(frozen=True)
class IngressPath:
    pattern: str
    exact: bool
    backend: str
    rewrite: str | None
    canary: bool


@functools.cache
def ingress_paths() -> list[IngressPath]:
    found = []
    for ingress in k8s_of_kind("Ingress"):
        annotations = ingress["metadata"].get("annotations", {})
        for rule in ingress["spec"]["rules"]:
            assert rule["host"] == "danvan.example.invalid"
            for path in rule["http"]["paths"]:
                found.append(
                    IngressPath(
                        pattern=path["path"],
                        exact=path["pathType"] == "Exact",
                        backend=path["backend"]["service"]["name"],
                        rewrite=annotations.get("nginx.ingress.kubernetes.io/rewrite-target"),
                        canary=annotations.get("nginx.ingress.kubernetes.io/canary") == "true",
                    )
                )
    return found


def test_the_host_uses_regular_expressions() -> None:
    # Which is what makes every path below a regular expression (ingress-nginx applies
    # use-regex to every path of the host once one Ingress of the host sets it).
    assert all(
        i["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/use-regex") == "true"
        for i in k8s_of_kind("Ingress")
    )


def through_ingress(paths: list[IngressPath], path: str, *, canary: bool) -> list[Routed]:
    """Where the request may go: the main rule, and the canary's when its header matches."""
    uri = normalised(path)
    routed = []
    for candidates in ([p for p in paths if not p.canary], [p for p in paths if p.canary]):
        if candidates and candidates[0].canary and not canary:
            continue
        exact = [p for p in candidates if p.exact and p.pattern == uri]
        # ingress-nginx orders regex locations longest first; the first match wins.
        regexes = sorted((p for p in candidates if not p.exact), key=lambda p: -len(p.pattern))
        match = next(
            ((p, m) for p in regexes if (m := re.match(p.pattern, uri, flags=re.IGNORECASE))),
            None,
        )
        if exact:
            routed.append(Routed(exact[0].backend, uri))
        elif match is None:
            routed.append(Routed(None, uri))  # the default backend: 404
        else:
            rule, found = match
            target = uri
            if rule.rewrite:
                target = found.expand(re.sub(r"\$(\d)", r"\\\1", rule.rewrite))
            routed.append(Routed(rule.backend, target))
    return routed


def test_the_ingress_routes_the_portal_every_api_and_the_jwks() -> None:
    paths = ingress_paths()
    assert through_ingress(paths, "/", canary=False) == [Routed("portal", "/")]
    assert through_ingress(paths, "/dang-nhap", canary=False) == [Routed("portal", "/dang-nhap")]
    for name in SERVICES:
        routed = through_ingress(paths, f"/api/{name}/v1/periods", canary=False)
        assert routed == [Routed(name, "/v1/periods")]
    assert through_ingress(paths, "/api/intake/v1/reports", canary=True)[1] == Routed(
        "intake-wards", "/v1/reports"
    )
    assert through_ingress(paths, "/.well-known/jwks.json", canary=False) == [
        Routed("registry", "/.well-known/jwks.json")
    ]


@pytest.mark.parametrize("path", hidden_requests())
def test_the_ingress_never_reaches_a_hidden_endpoint(path: str) -> None:
    for routed in through_ingress(ingress_paths(), path, canary=True):
        assert not reaches_a_hidden_endpoint(routed), routed
