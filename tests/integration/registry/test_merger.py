"""The 2025 reorganisation: six wards/communes become two (Nghị quyết 1665/NQ-UBTVQH15), codes
18115 and 18118 are reused, the town's departments close with the district level, and only
periods due after 01/7/2025 change who is expected."""

from __future__ import annotations

import importlib.resources
from typing import Any, TypedDict

import yaml

from tests.integration.registry.support import error, running_registry

MERGED = {"18121", "18124", "18127", "18130"}
DEPARTMENTS = {
    "VP", "PNV", "PTP", "PTCKH", "PTNMT", "PLDTBXH", "PVHTT", "PGDDT", "PYT", "TTRA", "PKT",
    "PQLDT", "TTVHTT", "BQLDA",
}  # fmt: skip


class MergerOptions(TypedDict):
    """Registry settings that seed the 2025 regime and apply the merger file."""

    regime_years: tuple[int, ...]
    reorganisation_files: tuple[str, ...]


def merger_body() -> dict[str, Any]:
    text = (
        importlib.resources.files("services.registry.seed")
        .joinpath("hong_linh_2025.yaml")
        .read_text("utf-8")
    )
    body: dict[str, Any] = yaml.safe_load(text)["reorganisation"]
    return body


async def test_the_merger_changes_the_period_due_after_1_july_2025_and_not_the_one_before(
    nats_server, databases
):
    async with running_registry(nats_server, databases, regime_years=(2025,)) as registry:
        http, admin = registry.http, await registry.auth("admin")
        h1 = (await http.get("/v1/periods/2025-H1", headers=admin)).json()
        annual = (await http.get("/v1/periods/2025-Y", headers=admin)).json()
        assert len(h1["expected_units"]) == len(annual["expected_units"]) == 20

        refused = await http.post(
            "/v1/units/reorganisations", json=merger_body(), headers=await registry.auth("pnv")
        )
        assert refused.status_code == 403
        applied = await http.post("/v1/units/reorganisations", json=merger_body(), headers=admin)
        assert applied.status_code == 201, applied.text
        assert len(applied.json()["units"]) == 22  # six merged, fourteen closed, two created

        h1_after = (await http.get("/v1/periods/2025-H1", headers=admin)).json()
        assert h1_after["version"] == 1
        assert h1_after["expected_units"] == h1["expected_units"]

        annual_after = (await http.get("/v1/periods/2025-Y", headers=admin)).json()
        assert annual_after["version"] == 2
        # The district level ended: only the two new wards report for 2025-Y.
        assert sorted(annual_after["expected_units"]) == ["18115", "18118"]
        assert not (MERGED | DEPARTMENTS) & set(annual_after["expected_units"])
        names = {u["code"]: u["name"] for u in annual_after["expected_unit_details"]}
        assert names["18115"] == "UBND phường Bắc Hồng Lĩnh"
        assert names["18118"] == "UBND phường Nam Hồng Lĩnh"

        # The code is reused: the old record is closed with its successor, the new one is current.
        old = (await http.get("/v1/units/18115@2019-01-01", headers=admin)).json()
        assert old["valid_to"] == "2025-06-30" and old["successor_codes"] == ["18115"]
        on_the_day = (await http.get("/v1/units/18115?on=2025-06-30", headers=admin)).json()
        assert on_the_day["name"] == "UBND phường Bắc Hồng"
        assert (await http.get("/v1/units/18115", headers=admin)).json()["unit_id"] == (
            "18115@2025-07-01"
        )
        thuan_loc = (await http.get("/v1/units/18130", headers=admin)).json()
        assert thuan_loc["successor_codes"] == ["18118"]
        pnv = (await http.get("/v1/units/PNV", headers=admin)).json()
        assert (pnv["valid_to"], pnv["successor_codes"]) == ("2025-06-30", [])
        on_the_day = (await http.get("/v1/units?on=2025-07-01", headers=admin)).json()
        assert {u["code"] for u in on_the_day if u["must_report"]} == {"18115", "18118"}
        pnv_history = (await http.get("/v1/units/PNV/history", headers=admin)).json()
        assert pnv_history["entries"][-1]["action"] == "closed"
        assert "cấp huyện" in pnv_history["entries"][-1]["note"]
        history = (await http.get("/v1/units/18115/history", headers=admin)).json()
        assert [(e["unit_id"], e["action"]) for e in history["entries"]][-2:] == [
            ("18115@2019-01-01", "closed"),
            ("18115@2025-07-01", "created"),
        ]

        # Consumers get the new set in the event; the earlier period is not republished.
        await registry.published(
            lambda e: e["payload"]["version"] == 2, "danvan.registry.period.changed.v2"
        )
        await registry.drained()
        assert [e["payload"]["version"] for e in await registry.period_events("2025-H1")] == [1]
        republished = await registry.period_events("2025-Y")
        assert [e["payload"]["version"] for e in republished] == [1, 2]
        assert len(republished[-1]["payload"]["expected_units"]) == 2

        again = await http.post("/v1/units/reorganisations", json=merger_body(), headers=admin)
        assert again.status_code == 409
        assert error(again)["code"] == "reorganisation_already_applied"


async def test_a_bad_merger_is_refused_whole(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        body = merger_body()
        body["successors"][1]["predecessors"].append("KHONGCO")
        answer = await http.post("/v1/units/reorganisations", json=body, headers=admin)
        assert answer.status_code == 422
        assert error(answer)["code"] == "unknown_predecessor"
        units = (await http.get("/v1/units", headers=admin)).json()
        assert all(u["valid_to"] is None for u in units) and len(units) == 23


async def test_the_merger_file_applies_once_at_start_up(nats_server, databases):
    url = await databases.url("registry")
    options: MergerOptions = {
        "regime_years": (2025,),
        "reorganisation_files": ("hong_linh_2025.yaml",),
    }
    async with running_registry(nats_server, databases, database_url=url, **options) as registry:
        admin = await registry.auth("admin")
        annual = (await registry.http.get("/v1/periods/2025-Y", headers=admin)).json()
        assert annual["version"] == 2 and len(annual["expected_units"]) == 2
        await registry.drained()
        published = len(await registry.events())
    # A restart seeds and applies nothing twice.
    async with running_registry(nats_server, databases, database_url=url, **options) as registry:
        admin = await registry.auth("admin")
        units = (await registry.http.get("/v1/units", headers=admin)).json()
        assert len(units) == 25
        await registry.drained()
        assert len(await registry.events()) == published


async def test_a_registry_that_applied_only_the_merger_closes_the_departments_on_restart(
    nats_server, databases
):
    url = await databases.url("registry")
    async with running_registry(
        nats_server, databases, database_url=url, regime_years=(2025,)
    ) as registry:
        admin = await registry.auth("admin")
        only_merger = {**merger_body(), "closures": []}  # the file as it was before
        applied = await registry.http.post(
            "/v1/units/reorganisations", json=only_merger, headers=admin
        )
        assert applied.status_code == 201, applied.text
        annual = (await registry.http.get("/v1/periods/2025-Y", headers=admin)).json()
        assert len(annual["expected_units"]) == 16  # the departments still expected
    async with running_registry(
        nats_server,
        databases,
        database_url=url,
        regime_years=(2025,),
        reorganisation_files=("hong_linh_2025.yaml",),
    ) as registry:
        admin = await registry.auth("admin")
        annual = (await registry.http.get("/v1/periods/2025-Y", headers=admin)).json()
        assert (annual["version"], sorted(annual["expected_units"])) == (3, ["18115", "18118"])
        h1 = (await registry.http.get("/v1/periods/2025-H1", headers=admin)).json()
        assert h1["version"] == 1 and len(h1["expected_units"]) == 20
        units = (await registry.http.get("/v1/units", headers=admin)).json()
        closed = {u["code"] for u in units if u["valid_to"] == "2025-06-30"}
        assert DEPARTMENTS | MERGED | {"18115", "18118"} == closed
