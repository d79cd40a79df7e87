"""The whole path of issue 2 in one process: registry → intake → consolidation over a real
nats-server, including a submission made while NATS is down."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import httpx
import pytest
from docx import Document

from services.consolidation.app import create_app as create_consolidation
from services.consolidation.settings import ConsolidationSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.support.http import eventually, serve_app
from tests.support.reports import full_report

PASSWORD = "mat-khau-thu"


class CommonSettings(TypedDict):
    """Settings every service of the town shares in this test."""

    nats_url: str
    env: Literal["test"]
    outbox_poll_seconds: float


@dataclass
class Town:
    registry: str
    intake: str
    consolidation: str


@contextlib.asynccontextmanager
async def town(nats_server, databases) -> AsyncIterator[Town]:
    common: CommonSettings = {
        "nats_url": nats_server.url,
        "env": "test",
        "outbox_poll_seconds": 0.2,
    }
    registry_settings = RegistrySettings(
        database_url=await databases.url("registry"), demo_password=PASSWORD, **common
    )
    async with contextlib.AsyncExitStack() as stack:
        registry = await stack.enter_async_context(serve_app(create_registry(registry_settings)))
        jwks_url = f"{registry}/.well-known/jwks.json"
        intake = await stack.enter_async_context(
            serve_app(
                create_intake(
                    IntakeSettings(
                        database_url=await databases.url("intake"), jwks_url=jwks_url, **common
                    )
                )
            )
        )
        consolidation = await stack.enter_async_context(
            serve_app(
                create_consolidation(
                    ConsolidationSettings(
                        database_url=await databases.url("consolidation"),
                        jwks_url=jwks_url,
                        **common,
                    )
                )
            )
        )
        yield Town(registry, intake, consolidation)


async def login(http: httpx.AsyncClient, town: Town, username: str) -> dict[str, str]:
    response = await http.post(
        f"{town.registry}/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("nats_down", [False, True], ids=["nats-up", "nats-down"])
async def test_a_ward_report_reaches_consolidation_exactly_once(nats_server, databases, nats_down):
    async with town(nats_server, databases) as t, httpx.AsyncClient(timeout=10) as http:
        ward = await login(http, t, "18115")
        reviewer = await login(http, t, "pnv")
        completeness = f"{t.consolidation}/v1/periods/2023-H1/completeness"

        async def ready() -> bool:
            form = await http.get(f"{t.intake}/v1/periods/2023-H1/form", headers=ward)
            seen = await http.get(completeness, headers=reviewer)
            return form.status_code == 200 and seen.status_code == 200

        await eventually(ready, timeout=20)
        if nats_down:
            nats_server.kill()
        submitted = await http.post(
            f"{t.intake}/v1/reports", json=full_report("2023-H1"), headers=ward
        )
        assert submitted.status_code == 201, submitted.text
        assert submitted.json()["on_time"] is False
        if nats_down:
            nats_server.start()

        async def shows_it() -> dict[str, Any] | None:
            body = (await http.get(completeness, headers=reviewer)).json()
            return body if body["submitted"] == 1 else None

        body = await eventually(shows_it, timeout=30)
        assert (body["late"], body["on_time"], body["expected"]) == (1, 0, 20)
        assert "18115" not in {u["code"] for u in body["missing"]}

        summary = (
            await http.get(f"{t.consolidation}/v1/periods/2023-H1/summary", headers=reviewer)
        ).json()
        # The content reached consolidation, not only the counters.
        text = json.dumps(summary, ensure_ascii=False)
        assert "125.5" in text
        assert "Cần hướng dẫn cách tính số lượt người tham gia." in text
        stored = (
            await http.get(f"{t.intake}/v1/reports/{submitted.json()['report_id']}", headers=ward)
        ).json()
        assert stored["content"]["sections"]["6"]["indicators"]["nhan_dan_dong_gop"] == "125.5"


async def test_2023_h1_on_form_2023_1_and_2023_y_on_form_2023_2_both_consolidate(
    nats_server, databases
):
    async with town(nats_server, databases) as t, httpx.AsyncClient(timeout=10) as http:
        ward = await login(http, t, "18115")
        reviewer = await login(http, t, "pnv")

        async def forms() -> dict[str, Any] | None:
            found = {}
            for period_id in ("2023-H1", "2023-Y"):
                answer = await http.get(f"{t.intake}/v1/periods/{period_id}/form", headers=ward)
                seen = await http.get(
                    f"{t.consolidation}/v1/periods/{period_id}/completeness", headers=reviewer
                )
                if answer.status_code != 200 or seen.status_code != 200:
                    return None
                found[period_id] = answer.json()["form"]
            return found

        found = await eventually(forms, timeout=20)
        assert (found["2023-H1"]["version"], found["2023-Y"]["version"]) == ("2023.1", "2023.2")
        annual = json.dumps(found["2023-Y"], ensure_ascii=False)
        assert "dân chủ ở cơ sở" in annual and "tôn giáo" in annual
        assert "dân chủ ở cơ sở" not in json.dumps(found["2023-H1"], ensure_ascii=False)
        titles = {s["title"] for s in found["2023-Y"]["sections"]}
        assert {"Thực hiện dân chủ ở cơ sở", "Công tác tín ngưỡng, tôn giáo"} <= titles

        for period_id in ("2023-H1", "2023-Y"):
            sent = await http.post(
                f"{t.intake}/v1/reports", json=full_report(period_id), headers=ward
            )
            assert sent.status_code == 201, sent.text

        async def summaries() -> dict[str, Any] | None:
            found = {}
            for period_id in ("2023-H1", "2023-Y"):
                summary = await http.get(
                    f"{t.consolidation}/v1/periods/{period_id}/summary", headers=reviewer
                )
                body = summary.json()
                if body["completeness"]["submitted"] != 1:
                    return None
                found[period_id] = body
            return found

        consolidated = await eventually(summaries, timeout=30)
        h1, annual_summary = consolidated["2023-H1"], consolidated["2023-Y"]
        assert (h1["form"]["version"], annual_summary["form"]["version"]) == ("2023.1", "2023.2")

        def figure(summary: dict[str, Any], code: str) -> dict[str, Any]:
            return next(
                i for s in summary["sections"] for i in s["indicators"] if i["code"] == code
            )

        # The same figure in section 4 of 2023.1 and section 7 of 2023.2.
        assert (
            figure(h1, "ho_so_tthc_tiep_nhan")["section"],
            figure(h1, "ho_so_tthc_tiep_nhan")["total"],
        ) == ("4", 120)
        tthc = figure(annual_summary, "ho_so_tthc_tiep_nhan")
        assert (tthc["section"], tthc["total"], tthc["reported"]) == ("7", 120, 1)
        assert figure(annual_summary, "dan_chu_cuoc_kiem_tra")["total"] == 2
        assert figure(annual_summary, "ton_giao_co_so")["by_unit"] == {"18115": 4}
        democracy = next(s for s in annual_summary["sections"] if s["key"] == "5")
        assert democracy["title"] == "Thực hiện dân chủ ở cơ sở"
        assert [n["unit_code"] for n in democracy["narratives"]] == ["18115"]
        docx = await http.get(f"{t.consolidation}/v1/periods/2023-Y/report.docx", headers=reviewer)
        assert docx.status_code == 200
        text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
        assert "Thực hiện dân chủ ở cơ sở" in text and "Công tác tín ngưỡng, tôn giáo" in text
