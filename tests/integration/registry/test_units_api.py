"""Units over HTTP: admins write, everyone signed in reads, personal data stays with those
who need it, every change is versioned, kept as history and published."""

from __future__ import annotations

from tests.integration.registry.support import error, running_registry

NEW_CENTRE = {
    "code": "TTDVC",
    "name": "Trung tâm Dịch vụ công",
    "kind": "centre",
    "valid_from": "2024-01-01",
    "display_order": 32,
    "leader": {
        "full_name": "Lê Văn Cường",
        "title": "Giám đốc",
        "phone": "0912 345 678",
        "email": "cuong@honglinh.gov.vn",
    },
    "contacts": {"emails": ["ttdvc@honglinh.gov.vn"], "phone": "0239 3836 123"},
}


async def test_admin_creates_updates_and_closes_a_unit_with_versions_history_and_events(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")

        created = await http.post("/v1/units", json=NEW_CENTRE, headers=admin)
        assert created.status_code == 201, created.text
        assert created.json()["unit_id"] == "TTDVC@2024-01-01"
        assert created.json()["version"] == 1

        renamed = await http.patch(
            "/v1/units/TTDVC", json={"name": "Trung tâm Phục vụ hành chính công"}, headers=admin
        )
        assert renamed.json()["version"] == 2
        assert renamed.json()["leader"]["phone"] == "0912 345 678"  # untouched by the patch

        new_leader = await http.patch(
            "/v1/units/TTDVC",
            json={"leader": {"full_name": "Phạm Thị Dung", "phone": "0987 654 321"}},
            headers=admin,
        )
        assert new_leader.status_code == 200, new_leader.text
        leader = new_leader.json()["leader"]
        # A partial leader update: the given fields replace, the title stays.
        assert leader == {
            "full_name": "Phạm Thị Dung",
            "title": "Giám đốc",
            "phone": "0987 654 321",
            "email": "cuong@honglinh.gov.vn",
        }
        assert new_leader.json()["version"] == 3

        unchanged = await http.patch("/v1/units/TTDVC", json={"kind": "centre"}, headers=admin)
        assert unchanged.json()["version"] == 3  # nothing changed: no new version

        closed = await http.post(
            "/v1/units/TTDVC/close",
            json={"valid_to": "2025-12-31", "successor_codes": ["VP"]},
            headers=admin,
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["valid_to"] == "2025-12-31"
        assert closed.json()["successor_codes"] == ["VP"]
        assert closed.json()["version"] == 4
        again = await http.post(
            "/v1/units/TTDVC/close", json={"valid_to": "2026-01-31"}, headers=admin
        )
        assert again.status_code == 409 and error(again)["code"] == "unit_already_closed"

        history = (await http.get("/v1/units/TTDVC/history", headers=admin)).json()
        assert [e["action"] for e in history["entries"]] == [
            "created",
            "updated",
            "updated",
            "closed",
        ]
        assert {e["changed_by"] for e in history["entries"]} == {"admin"}
        assert history["entries"][1]["changes"] == {
            "name": {"from": "Trung tâm Dịch vụ công", "to": "Trung tâm Phục vụ hành chính công"}
        }
        # The previous leader stays on record, with when they were replaced.
        leaders = history["leaders"]
        assert [r["leader"]["full_name"] for r in leaders] == ["Lê Văn Cường", "Phạm Thị Dung"]
        assert leaders[0]["until"] == leaders[1]["since"] and leaders[1]["until"] is None
        assert leaders[0]["leader"]["phone"] == "0912 345 678"

        events = await registry.published(
            lambda e: e["payload"]["code"] == "TTDVC" and e["payload"]["version"] == 4,
            "danvan.registry.unit.changed.v1",
        )
        assert events[0]["payload"]["valid_to"] == "2025-12-31"
        assert [e["payload"]["version"] for e in await registry.unit_events("TTDVC")] == [
            1,
            2,
            3,
            4,
        ]


async def test_a_unit_token_sees_only_its_own_contacts_and_cannot_write(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        await http.patch(
            "/v1/units/18118",
            json={
                "leader": {"full_name": "Võ Văn Em", "phone": "0912000111", "email": "em@x.vn"},
                "contacts": {"emails": ["namhong@x.vn"], "phone": "02393000111"},
            },
            headers=admin,
        )
        bac_hong = await registry.auth("18115")
        nam_hong = await registry.auth("18118")

        other = (await http.get("/v1/units/18118", headers=bac_hong)).json()
        assert other["contacts"] is None
        assert other["leader"] == {"full_name": "Võ Văn Em", "title": ""}
        listed = {u["code"]: u for u in (await http.get("/v1/units", headers=bac_hong)).json()}
        assert listed["18118"]["contacts"] is None and "phone" not in listed["18118"]["leader"]
        history = (await http.get("/v1/units/18118/history", headers=bac_hong)).json()
        assert "phone" not in history["leaders"][0]["leader"]
        assert history["entries"][-1]["changes"]["contacts"]["hidden"] is True

        own = (await http.get("/v1/units/18118", headers=nam_hong)).json()
        assert own["contacts"]["emails"] == ["namhong@x.vn"] and own["leader"]["phone"]
        for who in ("pnv", "admin"):
            seen = (await http.get("/v1/units/18118", headers=await registry.auth(who))).json()
            assert seen["leader"]["email"] == "em@x.vn"
        leader_view = await http.get("/v1/units/18118", headers=await registry.auth("lanhdao"))
        assert leader_view.json()["contacts"] is None

        for headers in (bac_hong, nam_hong, await registry.auth("pnv")):
            refused = await http.post("/v1/units", json=NEW_CENTRE, headers=headers)
            assert refused.status_code == 403 and error(refused)["code"] == "forbidden"
        refused = await http.patch("/v1/units/18115", json={"name": "X"}, headers=bac_hong)
        assert refused.status_code == 403
        refused = await http.post(
            "/v1/units/18115/close", json={"valid_to": "2025-06-30"}, headers=bac_hong
        )
        assert refused.status_code == 403
        assert (await http.get("/v1/units")).status_code == 401


async def test_bad_unit_input_is_refused_naming_the_field_and_writes_nothing(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        await registry.drained()
        before = len(await registry.events())

        cases = [
            (
                {**NEW_CENTRE, "code": "18115", "valid_from": "2020-01-01"},
                409,
                "duplicate_code",
                "code",
            ),
            ({**NEW_CENTRE, "parent_code": "KHONGCO"}, 422, "unknown_parent", "parent_code"),
            (
                {**NEW_CENTRE, "valid_to": "2023-12-31"},
                422,
                "valid_to_before_valid_from",
                "valid_to",
            ),
            ({**NEW_CENTRE, "kind": "province"}, 422, "unknown_kind", "kind"),
            (
                {**NEW_CENTRE, "valid_to": "2025-06-30", "successor_codes": ["KHONGCO"]},
                422,
                "unknown_successor",
                "successor_codes",
            ),
            ({**NEW_CENTRE, "code": "mã có dấu"}, 422, "invalid_code", "code"),
            (
                {**NEW_CENTRE, "leader": {"full_name": "A", "email": "sai"}},
                422,
                "invalid_email",
                "leader.email",
            ),
        ]
        for body, status, code, field in cases:
            answer = await http.post("/v1/units", json=body, headers=admin)
            assert answer.status_code == status, (code, answer.text)
            assert error(answer)["code"] == code
            assert error(answer)["details"]["field"] == field
            assert error(answer)["message"]  # Vietnamese, for the user

        refused = await http.post(
            "/v1/units/18121/close",
            json={"valid_to": "2018-12-31"},
            headers=admin,
        )
        assert error(refused)["code"] == "valid_to_before_valid_from"
        refused = await http.patch("/v1/units/18121", json={"code": "X"}, headers=admin)
        assert refused.status_code == 422 and error(refused)["code"] == "invalid_request"
        missing = await http.patch("/v1/units/KHONGCO", json={"name": "X"}, headers=admin)
        assert missing.status_code == 404 and error(missing)["code"] == "unit_not_found"

        units = (await http.get("/v1/units", headers=admin)).json()
        assert len(units) == 23 and all(u["version"] == 1 for u in units)
        assert len(await registry.events()) == before


async def test_a_new_reporting_unit_joins_the_open_periods_but_a_leader_change_does_not_bump_them(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        await http.patch(
            "/v1/periods/2023-Y", json={"status": "closed"}, headers=await registry.auth("pnv")
        )
        await http.patch(
            "/v1/units/18115", json={"leader": {"full_name": "Nguyễn Văn A"}}, headers=admin
        )
        period = (await http.get("/v1/periods/2023-H1", headers=admin)).json()
        assert period["version"] == 1  # who leads a unit is not part of the period

        created = await http.post(
            "/v1/units", json={**NEW_CENTRE, "valid_from": "2019-01-01"}, headers=admin
        )
        assert created.status_code == 201
        period = (await http.get("/v1/periods/2023-H1", headers=admin)).json()
        assert period["version"] == 2 and "TTDVC" in period["expected_units"]
        closed = (await http.get("/v1/periods/2023-Y", headers=admin)).json()
        assert "TTDVC" not in closed["expected_units"]  # a closed period is frozen

        events = await registry.published(
            lambda e: e["payload"]["period_id"] == "2023-H1" and e["payload"]["version"] == 2,
            "danvan.registry.period.changed.v2",
        )
        assert "TTDVC" in [u["code"] for u in events[0]["payload"]["expected_units"]]
