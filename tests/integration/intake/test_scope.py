"""A per-ward intake instance serves only its units and points the others elsewhere."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.intake import db
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.integration.intake.conftest import intake_settings, ward_body
from tests.support.http import serve_app

HINT = "https://danvan.honglinh.gov.vn/api/intake"


def test_the_scope_setting_reads_a_comma_list(monkeypatch):
    monkeypatch.setenv("DANVAN_INTAKE_UNIT_SCOPE", " 18115, 18118 ,")
    monkeypatch.setenv("DANVAN_INTAKE_SCOPE_HINT_URL", HINT)
    settings = IntakeSettings()
    assert settings.unit_scope == ("18115", "18118")
    assert settings.serves("18115") and not settings.serves("18121")
    monkeypatch.setenv("DANVAN_INTAKE_UNIT_SCOPE", "")
    assert IntakeSettings().unit_scope == () and IntakeSettings().serves("18121")


@pytest.mark.asyncio(loop_scope="module")
async def test_an_instance_scoped_to_18115_refuses_18118_with_a_pointer(stack):
    scoped = create_app(
        intake_settings(
            stack.database_url, stack.nats_url, unit_scope=("18115",), scope_hint_url=HINT
        ),
        clock=stack.clock,
        key_source=stack.mint.key_source(),
    )
    async with serve_app(scoped) as base, httpx.AsyncClient(base_url=base) as ward_pool:
        before = await stack.counts()
        refused = await ward_pool.post("/v1/reports", json=ward_body(), headers=stack.unit("18118"))
        assert refused.status_code == 421, refused.text
        error = refused.json()["error"]
        assert error["code"] == "unit_out_of_scope"
        assert error["details"] == {
            "unit_code": "18118",
            "served_units": ["18115"],
            "endpoint": HINT,
        }
        assert HINT in error["message"]
        assert await stack.counts() == before
        listing = await ward_pool.get("/v1/reports", headers=stack.unit("18118"))
        assert listing.json()["error"]["code"] == "unit_out_of_scope"

        # The pool and the main instance share the database: replicas, one report each.
        headers = {**stack.unit("18115"), "Idempotency-Key": "hai-may"}
        answers = await asyncio.gather(
            ward_pool.post("/v1/reports", json=ward_body(), headers=headers),
            stack.http.post("/v1/reports", json=ward_body(), headers=headers),
        )
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        assert answers[0].json()["report_id"] == answers[1].json()["report_id"]
        assert await stack.count(db.reports, unit_code="18115") == 1
        reviewer = await ward_pool.get("/v1/reports", headers=stack.reviewer())
        assert "18115" in {r["unit_code"] for r in reviewer.json()}
