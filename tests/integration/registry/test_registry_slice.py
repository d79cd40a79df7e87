"""The registry seeds Hồng Lĩnh, signs tokens and publishes its state through the outbox."""

from __future__ import annotations

import httpx
import nats

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.support.http import eventually, serve_app


async def test_seeded_registry_signs_in_units_and_publishes_units_and_periods(
    nats_server, databases
):
    settings = RegistrySettings(
        database_url=await databases.url("registry"),
        nats_url=nats_server.url,
        env="test",
        demo_password="mat-khau-thu",
    )
    async with serve_app(create_app(settings)) as base, httpx.AsyncClient(base_url=base) as http:
        bad = await http.post("/v1/auth/token", data={"username": "18115", "password": "sai"})
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "invalid_credentials"

        login = await http.post(
            "/v1/auth/token", data={"username": "18115", "password": "mat-khau-thu"}
        )
        assert login.status_code == 200, login.text
        token = login.json()
        assert token["token_type"] == "bearer" and token["expires_in"] > 0
        auth = {"Authorization": f"Bearer {token['access_token']}"}

        period = (await http.get("/v1/periods/2023-H1", headers=auth)).json()
        assert period["title"] == "6 tháng đầu năm 2023"
        assert period["due_at"].startswith("2023-06-09T17:00:00")  # 10/06 00:00 +07:00
        assert "18115" in period["expected_units"] and "PNV" in period["expected_units"]
        assert "CATX" not in period["expected_units"]  # agencies do not report
        assert len(period["expected_units"]) == 20

        assert (await http.get("/v1/periods/2023-H1")).status_code == 401
        jwks = (await http.get("/.well-known/jwks.json")).json()
        assert jwks["keys"][0]["crv"] == "Ed25519"

        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()

            async def all_published() -> bool:
                info = await js.stream_info("DANVAN_REGISTRY")
                return info.state.messages == 23 + 2  # 23 units, 2 periods

            await eventually(all_published)
        finally:
            await nc.close()
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await http.get(path)).status_code == 200
