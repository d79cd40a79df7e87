"""The slice with the real registry: its events feed intake, its tokens sign the unit in."""

from __future__ import annotations

import httpx

from services.intake.app import create_app as create_intake
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.integration.intake.conftest import intake_settings, ward_body
from tests.support.http import eventually, serve_app


async def test_a_ward_signed_in_at_the_registry_submits_late_for_2023_h1(
    nats_server, databases, tmp_path
):
    registry = create_registry(
        RegistrySettings(
            database_url=await databases.url("registry"),
            nats_url=nats_server.url,
            env="test",
            demo_password="mat-khau-thu",
            outbox_poll_seconds=0.2,
        )
    )
    async with serve_app(registry) as registry_url, httpx.AsyncClient() as http:
        settings = intake_settings(
            await databases.url("intake"),
            nats_server.url,
            data_dir=tmp_path / "data",
            jwks_url=f"{registry_url}/.well-known/jwks.json",
        )
        async with serve_app(create_intake(settings)) as intake_url:
            login = await http.post(
                f"{registry_url}/v1/auth/token",
                data={"username": "18115", "password": "mat-khau-thu"},
            )
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

            async def projected() -> bool:
                answer = await http.get(f"{intake_url}/v1/periods/2023-H1/form", headers=auth)
                return answer.status_code == 200

            await eventually(projected, timeout=15)
            answer = await http.post(f"{intake_url}/v1/reports", json=ward_body(), headers=auth)
            assert answer.status_code == 201, answer.text
            assert answer.json()["on_time"] is False  # the real clock is past 10/06/2023
            report = await http.get(f"{intake_url}{answer.headers['location']}", headers=auth)
            assert report.json()["unit_name"] == "UBND phường Bắc Hồng"
