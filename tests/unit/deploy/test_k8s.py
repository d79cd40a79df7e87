"""The Kubernetes manifests: probes, resources, configuration and routing fit together."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.portal.settings import PortalSettings
from tests.unit.deploy.support import (
    APP_SERVICES,
    K8S,
    REPO,
    SECRET_EXAMPLE,
    k8s_container,
    k8s_environment,
    k8s_objects,
    k8s_of_kind,
    load_yaml,
)

OBJECTS = list(k8s_objects())
KUBECTL = shutil.which("kubectl")
_of_kind = k8s_of_kind
_container = k8s_container
_environment = k8s_environment

DEPLOYMENTS = _of_kind("Deployment")


def _by_name(kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in _of_kind(kind)}


def test_there_is_a_deployment_and_service_per_service() -> None:
    deployments, services = _by_name("Deployment"), _by_name("Service")
    assert set(APP_SERVICES) <= deployments.keys()
    assert deployments.keys() == services.keys()
    for name, service in services.items():
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items(), name
        assert service["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["metadata"]["name"])
def test_deployment_has_readiness_and_liveness_probes(deployment: dict[str, Any]) -> None:
    container = _container(deployment)
    ports = {p["name"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ports


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["metadata"]["name"])
def test_deployment_runs_its_service_non_root_within_limits(deployment: dict[str, Any]) -> None:
    container = _container(deployment)
    module = container["command"][2].removeprefix("services.")
    assert container["command"] == ["python", "-m", f"services.{module}"]
    assert container["ports"][0]["containerPort"] == APP_SERVICES[module]
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(APP_SERVICES[module])


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["metadata"]["name"])
def test_deployment_has_its_database_nats_and_port(deployment: dict[str, Any]) -> None:
    container = _container(deployment)
    module = container["command"][2].removeprefix("services.")
    env = _environment(container)
    if module == "portal":
        assert "DATABASE_URL" not in env, "the portal has no database"
    else:
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["DATABASE_URL"].endswith(f"/danvan_{module}")
        assert env["NATS_URL"].startswith("nats://")
    assert env["DANVAN_HTTP_PORT"] == str(APP_SERVICES[module])
    assert env["DANVAN_HTTP_HOST"] == "0.0.0.0"
    assert env["DANVAN_ENV"] == "production"


def test_registry_gets_the_signing_passphrase_and_reminders_the_smtp_login() -> None:
    deployments = _by_name("Deployment")
    registry = _environment(_container(deployments["registry"]))
    reminders = _environment(_container(deployments["reminders"]))
    assert "DANVAN_SIGNING_KEY_PASSPHRASE" in registry
    assert {"DANVAN_SMTP_USERNAME", "DANVAN_SMTP_PASSWORD"} <= reminders.keys()
    assert reminders["DANVAN_SMTP_HOST"]


def test_intake_autoscales_and_keeps_a_pod_through_disruptions() -> None:
    intake = _by_name("Deployment")["intake"]
    assert "replicas" not in intake["spec"], "the HorizontalPodAutoscaler owns the count"
    (hpa,) = _of_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "intake",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    pdb = _by_name("PodDisruptionBudget")["intake"]
    pod_labels = intake["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["spec"]["minAvailable"] >= 1


def test_intake_pods_share_one_read_write_many_attachments_volume() -> None:
    deployments = _by_name("Deployment")
    (claim,) = _of_kind("PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("intake", "intake-wards"):
        pod = deployments[name]["spec"]["template"]["spec"]
        container = _container(deployments[name])
        directory = Path(_environment(container)["DANVAN_INTAKE_ATTACHMENTS_DIR"])
        claimed = {
            v["name"]
            for v in pod["volumes"]
            if v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]
        }
        mounts = [m for m in container["volumeMounts"] if m["name"] in claimed]
        assert any(directory.is_relative_to(m["mountPath"]) for m in mounts), name


def test_the_portal_keeps_no_state_and_runs_replicated() -> None:
    portal = _by_name("Deployment")["portal"]
    pod = portal["spec"]["template"]["spec"]
    assert portal["spec"]["replicas"] >= 2
    assert all("persistentVolumeClaim" not in v for v in pod["volumes"])
    env = {v["name"]: v for v in _container(portal)["env"]}
    # One secret for every replica, so a cookie signed by one is accepted by the others.
    secret = env["DANVAN_PORTAL_SESSION_SECRET"]["valueFrom"]["secretKeyRef"]
    assert secret["name"] == "danvan-secrets"
    # TLS terminates at the Ingress.
    assert env["DANVAN_PORTAL_COOKIE_SECURE"]["value"] == "true"
    # The Ingress controller's X-Forwarded-For is believed (a pod address), a public peer's
    # is not.
    portal_settings = PortalSettings(
        env="test", trusted_proxies=json.loads(env["DANVAN_PORTAL_TRUSTED_PROXIES"]["value"])
    )
    assert portal_settings.trusts_proxy("10.244.1.17")
    assert not portal_settings.trusts_proxy("203.0.113.9")
    (entry,) = [
        ingress
        for ingress in _of_kind("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
        if path["backend"]["service"]["name"] == "portal"
    ]
    assert {rule["host"] for rule in entry["spec"]["rules"]} <= {
        host for tls in entry["spec"]["tls"] for host in tls["hosts"]
    }
    assert _by_name("PodDisruptionBudget")["portal"]["spec"]["minAvailable"] >= 1


def test_reminders_replicas_roll_without_a_gap() -> None:
    # A PostgreSQL advisory lock keeps a single active scheduler, so a standby replica and
    # a rolling update are safe; Recreate would leave no scheduler during each update.
    reminders = _by_name("Deployment")["reminders"]
    assert reminders["spec"]["replicas"] >= 2
    assert reminders["spec"]["strategy"]["type"] == "RollingUpdate"
    assert reminders["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    # The scheduler's lock lives with the rest of the reminders' data access.
    lock = (REPO / "services" / "reminders" / "store.py").read_text(encoding="utf-8")
    assert "pg_try_advisory_lock" in lock


def test_ingress_backends_exist() -> None:
    services = _by_name("Service")
    paths = [
        path
        for ingress in _of_kind("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert paths
    for path in paths:
        backend = path["backend"]["service"]
        ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
        assert backend["port"]["name"] in ports


def test_ingress_routes_the_portal_and_every_api() -> None:
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for ingress in _of_kind("Ingress")
        if "canary" not in str(ingress["metadata"].get("annotations", {}))
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes[r"/(?!(api|metrics|docs|redoc|openapi\.json|healthz|readyz)(/|$)).*"] == "portal"
    for name in ("registry", "intake", "reminders", "consolidation"):
        assert routes[f"/api/{name}(/)(v1/.*)"] == name


def test_secret_is_a_placeholder_kept_out_of_the_kustomization() -> None:
    secret = load_yaml(SECRET_EXAMPLE)
    assert secret["kind"] == "Secret"
    for key, value in secret["stringData"].items():
        assert "CHANGE_ME" in value, key
    for kustomization in K8S.rglob("kustomization.yaml"):
        data = load_yaml(kustomization)
        assert "secretGenerator" not in data
        assert not any("secret" in entry for entry in data.get("resources", []))


def test_every_secret_key_a_pod_reads_exists_in_the_placeholder() -> None:
    keys = load_yaml(SECRET_EXAMPLE)["stringData"].keys()
    for deployment in DEPLOYMENTS:
        for var in _container(deployment).get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in keys, (deployment["metadata"]["name"], ref["key"])


def test_kustomization_resources_exist() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        data = load_yaml(kustomization)
        for entry in data.get("resources", []) + data.get("components", []):
            assert (kustomization.parent / entry).exists(), (kustomization, entry)


def _build(path: Path) -> list[dict[str, Any]]:
    assert KUBECTL
    result = subprocess.run(
        [KUBECTL, "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kustomize_builds_the_base_into_the_danvan_namespace() -> None:
    objects = _build(K8S)
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Namespace", "danvan") in kinds
    assert ("HorizontalPodAutoscaler", "intake") in kinds
    assert not any(o["kind"] == "Secret" for o in objects)
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "danvan", obj["metadata"]["name"]
        if obj["kind"] == "Deployment":
            (container,) = obj["spec"]["template"]["spec"]["containers"]
            assert container["image"] == "danvan:0.1.0"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_example_overlay_adds_monitoring_and_the_ward_pool() -> None:
    objects = _build(K8S / "overlays" / "example")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    (monitor,) = by_kind["ServiceMonitor"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    scraped = [
        s["metadata"]["name"]
        for s in by_kind["Service"]
        if selector.items() <= s["metadata"]["labels"].items()
    ]
    assert sorted(scraped) == sorted([*APP_SERVICES, "intake-wards"])
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "danvan", obj["metadata"]["name"]


def test_nats_values_are_for_helm_not_kustomize() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        assert "nats-values.yaml" not in load_yaml(kustomization).get("resources", [])
    assert (REPO / "deploy" / "k8s" / "nats-values.yaml").exists()
