"""The reporting calendar over HTTP: ad-hoc requests, deadline changes, closing, regime years."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import Column, MetaData, String, Table

from services.registry.app import MIGRATIONS
from shared.clock import VN_TZ
from shared.db import Database, UtcDateTime
from tests.integration.registry.support import error, running_registry
from tests.support.migrations import upgrade_to


def in_days(days: int) -> str:
    return (datetime.now(VN_TZ) + timedelta(days=days)).replace(microsecond=0).isoformat()


async def test_reviewers_open_ad_hoc_requests_numbered_per_year_with_resolved_units(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        year = datetime.now(VN_TZ).year
        body = {
            "title": "Báo cáo đột xuất về tiếp công dân",
            "content": "Tình hình tiếp công dân, giải quyết khiếu nại quý III.",
            "due_at": in_days(10),
            "scope": {"units": ["18115", "PNV"]},
        }
        first = await http.post("/v1/periods", json=body, headers=pnv)
        assert first.status_code == 201, first.text
        period = first.json()
        assert period["id"] == period["period_id"] == f"{year}-DX-01"
        assert period["kind"] == "ad_hoc" and period["status"] == "open"
        assert period["expected_units"] == ["18115", "PNV"]  # registry order
        assert (period["form_id"], period["form_version"]) == ("dvcq-dot-xuat", "2023.1")
        assert period["content"].startswith("Tình hình tiếp công dân")
        assert period["scope"] == {"units": ["18115", "PNV"]}

        wards = await http.post(
            "/v1/periods",
            json={**body, "scope": {"kinds": ["ward", "commune"]}},
            headers=await registry.auth("admin"),
        )
        assert wards.json()["id"] == f"{year}-DX-02"
        assert sorted(wards.json()["expected_units"]) == [
            "18115",
            "18118",
            "18121",
            "18124",
            "18127",
            "18130",
        ]
        everyone = await http.post(
            "/v1/periods", json={**body, "scope": {"all": True}}, headers=pnv
        )
        assert len(everyone.json()["expected_units"]) == 20

        read = await http.get(f"/v1/periods/{year}-DX-01", headers=await registry.auth("18115"))
        assert read.json()["expected_units"] == period["expected_units"]
        open_ad_hoc = await http.get("/v1/periods?kind=ad_hoc&status=open", headers=pnv)
        assert {p["period_id"] for p in open_ad_hoc.json()} == {
            f"{year}-DX-01",
            f"{year}-DX-02",
            f"{year}-DX-03",
        }
        events = await registry.published(
            lambda e: e["payload"]["period_id"] == f"{year}-DX-01",
            "danvan.registry.period.changed.v2",
        )
        assert events[0]["payload"]["kind"] == "ad_hoc"


async def test_bad_ad_hoc_requests_are_refused_and_nothing_is_opened(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        body = {"title": "Báo cáo nhanh", "due_at": in_days(5), "scope": {"all": True}}
        cases = [
            ({**body, "due_at": in_days(-1)}, 422, "due_in_past", "due_at"),
            ({**body, "scope": {"all": True, "units": ["18115"]}}, 422, "invalid_scope", "scope"),
            ({**body, "scope": {"units": ["KHONGCO"]}}, 422, "unknown_unit", "scope.units"),
            ({**body, "scope": {"kinds": ["province"]}}, 422, "unknown_kind", "scope.kinds"),
            ({**body, "scope": {"units": ["CATX"]}}, 422, "scope_empty", "scope"),
            ({**body, "title": "  "}, 422, "title_required", "title"),
        ]
        for request, status, code, field in cases:
            answer = await http.post("/v1/periods", json=request, headers=pnv)
            assert answer.status_code == status, (code, answer.text)
            assert error(answer)["code"] == code
            assert error(answer)["details"]["field"] == field
        for who in ("18115", "lanhdao"):
            refused = await http.post("/v1/periods", json=body, headers=await registry.auth(who))
            assert refused.status_code == 403
        periods = (await http.get("/v1/periods", headers=pnv)).json()
        assert [p["period_id"] for p in periods] == ["2023-Y", "2023-H1"]


async def test_deadlines_are_extended_and_periods_closed_and_reopened_with_new_versions(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        created = await http.post(
            "/v1/periods",
            json={"title": "Rà soát", "due_at": in_days(3), "scope": {"kinds": ["ward"]}},
            headers=pnv,
        )
        period_id = created.json()["id"]

        later = in_days(20)
        extended = await http.patch(
            f"/v1/periods/{period_id}",
            json={"due_at": later, "title": "Rà soát (gia hạn)"},
            headers=pnv,
        )
        assert extended.status_code == 200, extended.text
        assert extended.json()["version"] == 2
        assert datetime.fromisoformat(extended.json()["due_at"]) == datetime.fromisoformat(later)
        assert extended.json()["title"] == "Rà soát (gia hạn)"

        past = await http.patch(
            f"/v1/periods/{period_id}", json={"due_at": in_days(-2)}, headers=pnv
        )
        assert error(past)["code"] == "due_in_past"

        closed = await http.patch(
            f"/v1/periods/{period_id}", json={"status": "closed"}, headers=pnv
        )
        assert closed.json()["status"] == "closed" and closed.json()["version"] == 3
        same = await http.patch(f"/v1/periods/{period_id}", json={"status": "closed"}, headers=pnv)
        assert same.json()["version"] == 3  # nothing changed, nothing republished
        reopened = await http.patch(
            f"/v1/periods/{period_id}", json={"status": "open"}, headers=pnv
        )
        assert reopened.json()["status"] == "open" and reopened.json()["version"] == 4

        refused = await http.patch(
            f"/v1/periods/{period_id}",
            json={"status": "closed"},
            headers=await registry.auth("18115"),
        )
        assert refused.status_code == 403
        await registry.published(
            lambda e: e["payload"]["version"] == 4, "danvan.registry.period.changed.v2"
        )
        await registry.drained()
        assert [
            (e["payload"]["version"], e["payload"]["status"])
            for e in await registry.period_events(period_id)
        ] == [(1, "open"), (2, "open"), (3, "closed"), (4, "open")]


async def test_a_year_of_regime_periods_is_created_from_configuration_once(nats_server, databases):
    regime = [
        {
            "suffix": "H1",
            "kind": "six_month",
            "title": "6 tháng đầu năm {year}",
            "due_before": "06-10",
            "window_end": "06-14",
        },
        {
            "suffix": "Y",
            "kind": "annual",
            "title": "năm {year}",
            "due_before": "11-20",
            "window_end": "11-14",
        },
    ]
    async with running_registry(nats_server, databases, regime=regime) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        created = await http.post("/v1/periods/regime", json={"year": 2027}, headers=pnv)
        assert created.status_code == 200, created.text
        by_id = {p["period_id"]: p for p in created.json()}
        assert set(by_id) == {"2027-H1", "2027-Y"}
        assert by_id["2027-Y"]["due_at"].startswith("2027-11-19T17:00:00")  # 20/11 00:00 +07
        assert (by_id["2027-Y"]["window_start"], by_id["2027-Y"]["window_end"]) == (
            "2026-12-15",
            "2027-11-14",
        )
        assert len(by_id["2027-H1"]["expected_units"]) == 20
        again = await http.post("/v1/periods/regime", json={"year": 2027}, headers=pnv)
        assert [p["version"] for p in again.json()] == [1, 1]
        periods = (await http.get("/v1/periods?year=2027", headers=pnv)).json()
        assert len(periods) == 2
        refused = await http.post(
            "/v1/periods/regime", json={"year": 2028}, headers=await registry.auth("18115")
        )
        assert refused.status_code == 403


async def test_a_resent_ad_hoc_request_with_its_idempotency_key_opens_one_period(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        body = {
            "title": "Báo cáo đột xuất về công tác dân vận khéo",
            "content": "Kết quả xây dựng mô hình dân vận khéo năm nay.",
            "due_at": in_days(7),
            "scope": {"kinds": ["ward"]},
        }
        keyed = {**pnv, "Idempotency-Key": "form-7f3a"}
        twins = await asyncio.gather(
            *(http.post("/v1/periods", json=body, headers=keyed) for _ in range(3))
        )
        assert {t.status_code for t in twins} == {201}, [t.text for t in twins]
        assert len({t.json()["id"] for t in twins}) == 1
        # The first answer itself comes back, as intake does for submissions.
        assert all(t.json() == twins[0].json() for t in twins)
        assert sum(t.headers.get("idempotent-replayed") == "true" for t in twins) == 2
        periods = (await http.get("/v1/periods", headers=pnv)).json()
        assert [p["kind"] for p in periods].count("ad_hoc") == 1

        changed = await http.post(
            "/v1/periods", json={**body, "title": "Tiêu đề khác"}, headers=keyed
        )
        assert changed.status_code == 422
        assert error(changed)["code"] == "idempotency_key_reused"
        other_key = await http.post(
            "/v1/periods", json=body, headers={**pnv, "Idempotency-Key": "form-8b21"}
        )
        assert other_key.status_code == 201
        assert other_key.json()["id"] != twins[0].json()["id"]


async def test_a_key_remembered_before_the_upgrade_never_opens_a_second_period(
    nats_server, databases
):
    url = await databases.url("registry-upgrade")
    await upgrade_to(url, MIGRATIONS, "0004")
    request_keys = Table(
        "request_keys",
        MetaData(),
        Column("request_key", String(300), primary_key=True),
        Column("fingerprint", String(64)),
        Column("period_id", String(32)),
        Column("created_at", UtcDateTime()),
    )
    database = Database(url)
    try:
        async with database.sessions() as session, session.begin():
            await session.execute(
                request_keys.insert().values(
                    request_key="pnv:form-cu",
                    fingerprint="0" * 64,
                    period_id="2026-DX-01",
                    created_at=datetime.now(VN_TZ),
                )
            )
    finally:
        await database.dispose()
    async with running_registry(nats_server, databases, database_url=url) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        body = {
            "title": "Báo cáo đột xuất gửi trước khi nâng cấp",
            "due_at": in_days(7),
            "scope": {"all": True},
        }
        again = await http.post(
            "/v1/periods", json=body, headers={**pnv, "Idempotency-Key": "form-cu"}
        )
        assert again.status_code == 422, again.text
        assert error(again)["code"] == "idempotency_key_reused"
        periods = (await http.get("/v1/periods", headers=pnv)).json()
        assert [p["kind"] for p in periods].count("ad_hoc") == 0
