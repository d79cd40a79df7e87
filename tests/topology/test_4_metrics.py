"""Every metric the Grafana dashboard and the alert rules query exists in the live scrape of
the production topology (a renamed metric would leave a panel empty and an alert silent)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import yaml

from shared.topology.render import ALERTS_YML
from tests.support.reports import full_report
from tests.topology.topology import PASSWORD, Topology, login, wait_for
from tests.unit.deploy.support import DEPLOY, HISTOGRAMS, metric_names

# The first test of the session also starts the topology (a minute on two busy cores).
pytestmark = [pytest.mark.slow, pytest.mark.topology, pytest.mark.timeout(900)]

DASHBOARD = DEPLOY / "grafana" / "dashboards" / "danvan.json"


def queried_metrics() -> set[str]:
    """The metric names of every dashboard query and alert expression (histograms by the
    `_bucket` series Prometheus stores)."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"]]
    groups = yaml.safe_load(ALERTS_YML.read_text(encoding="utf-8"))["groups"]
    exprs += [rule["expr"] for group in groups for rule in group["rules"]]
    names: set[str] = set()
    for expr in exprs:
        names |= metric_names(expr)
    return {f"{n}_bucket" if n in HISTOGRAMS else n for n in names}


def use_the_system(topology: Topology) -> None:
    """What makes the services export their lazily labelled series: a refused and an amended
    submission, a reminder sent, a failed sign-in."""
    with httpx.Client(timeout=30) as http:
        unit = login(http, topology, "PGDDT")
        reviewer = login(http, topology, "pnv")
        created = http.post(
            topology.gateway + "/api/intake/v1/reports",
            json=full_report("2023-H1", kind="department"),
            headers={**unit, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        # A figure the form refuses (a negative count): 422 validation_failed.
        invalid = full_report("2023-H1", kind="department", revision=1)
        invalid["sections"]["1"]["indicators"]["van_ban_ban_hanh"] = -3
        refused = http.put(
            topology.gateway + f"/api/intake/v1/reports/{created.json()['report_id']}",
            json=invalid,
            headers={**unit, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert refused.status_code == 422, refused.text
        amended = http.put(
            topology.gateway + f"/api/intake/v1/reports/{created.json()['report_id']}",
            json=full_report("2023-H1", kind="department", revision=1),
            headers={**unit, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert amended.status_code == 200, amended.text
        urged = http.post(
            topology.gateway + "/api/reminders/v1/periods/2023-H1/remind",
            json={"units": ["PYT"]},
            headers=reviewer,
        )
        assert urged.status_code == 202, urged.text
        wrong = http.post(
            topology.gateway + "/api/registry/v1/auth/token",
            data={"username": "PYT", "password": PASSWORD + "-sai"},
        )
        assert wrong.status_code == 401, wrong.text


def test_every_metric_of_the_dashboard_and_the_alerts_is_in_the_live_scrape(
    topology: Topology,
):
    use_the_system(topology)
    wanted = queried_metrics()
    assert {"up", "gnatsd_healthz_status", "danvan_dead_letters_total"} <= wanted

    def missing() -> set[str]:
        response = httpx.get(topology.prometheus + "/api/v1/label/__name__/values", timeout=5)
        return wanted - set(response.json()["data"])

    try:
        wait_for(lambda: not missing(), 90, "every queried metric scraped")
    except AssertionError as error:
        raise AssertionError(f"{error}: never scraped: {sorted(missing())}") from None
