"""API keys for machine clients: issued per unit by an admin, shown once, stored hashed,
exchanged for a unit token, and revocable."""

from __future__ import annotations

from sqlalchemy import select

from services.registry import db
from tests.integration.registry.support import error, running_registry


async def test_an_api_key_is_exchanged_for_a_unit_token_until_it_is_revoked(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        issued = await http.post(
            "/v1/api-keys",
            json={"unit_code": "18115", "name": "Phần mềm một cửa phường Bắc Hồng"},
            headers=admin,
        )
        assert issued.status_code == 201, issued.text
        api_key = issued.json()["api_key"]
        key_id = issued.json()["key_id"]
        assert api_key.startswith(f"dvk.{key_id}.")

        listed = (await http.get("/v1/api-keys?unit_code=18115", headers=admin)).json()
        assert [k["key_id"] for k in listed] == [key_id]
        assert "api_key" not in listed[0] and api_key not in str(listed)
        async with registry.app.state.context.store.reading() as session:
            stored = (await session.execute(select(db.api_keys))).one()
        assert api_key.split(".")[2] not in stored.secret_hash  # only a hash is kept

        exchanged = await http.post(
            "/v1/auth/token", data={"grant_type": "api_key", "api_key": api_key}
        )
        assert exchanged.status_code == 200, exchanged.text
        assert (exchanged.json()["role"], exchanged.json()["unit_code"]) == ("unit", "18115")
        machine = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
        me = (await http.get("/v1/me", headers=machine)).json()
        assert me["sub"] == f"apikey:{key_id}"
        own = (await http.get("/v1/units/18115", headers=machine)).json()
        assert own["contacts"] is not None  # the unit's own data
        assert (await http.get("/v1/units/18118", headers=machine)).json()["contacts"] is None
        refused = await http.post(
            "/v1/units", json={"code": "X", "name": "X", "kind": "agency"}, headers=machine
        )
        assert refused.status_code == 403
        last_used = (await http.get("/v1/api-keys", headers=admin)).json()[0]["last_used_at"]
        assert last_used is not None

        for who in ("pnv", "18115"):
            headers = await registry.auth(who)
            denied = await http.post(
                "/v1/api-keys", json={"unit_code": "18115", "name": "x"}, headers=headers
            )
            assert denied.status_code == 403
        unknown = await http.post(
            "/v1/api-keys", json={"unit_code": "KHONGCO", "name": "x"}, headers=admin
        )
        assert unknown.status_code == 422 and error(unknown)["code"] == "unknown_unit"

        revoked = await http.post(f"/v1/api-keys/{key_id}/revoke", headers=admin)
        assert revoked.json()["revoked_at"] is not None
        after = await http.post(
            "/v1/auth/token", data={"grant_type": "api_key", "api_key": api_key}
        )
        assert after.status_code == 401 and error(after)["code"] == "invalid_api_key"

        forged = api_key[:-3] + ("xyz" if not api_key.endswith("xyz") else "abc")
        bad = await http.post("/v1/auth/token", data={"grant_type": "api_key", "api_key": forged})
        assert bad.status_code == 401
        odd = await http.post("/v1/auth/token", data={"grant_type": "magic", "api_key": forged})
        assert odd.status_code == 400 and error(odd)["code"] == "unsupported_grant_type"
