"""Consolidation over real NATS JetStream and HTTP: projections, snapshots, documents, rebuild."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
from docx import Document
from nats.js import api as js_api
from openpyxl import load_workbook
from sqlalchemy import delete, select, update

from services.consolidation import db
from services.consolidation.app import create_app
from services.consolidation.settings import ConsolidationSettings
from shared.contracts.consolidation import CONSOLIDATION_UPDATED, ConsolidationUpdated
from shared.contracts.envelope import Envelope
from shared.db import create_engine
from tests.support.http import eventually, serve_app
from tests.unit.consolidation.factory import (
    FIGURES,
    difficulty,
    period_event,
    submitted,
    three_reports,
    withdrawn,
)

REPO = Path(__file__).resolve().parents[3]


@asynccontextmanager
async def running(settings: ConsolidationSettings, mint: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The service over real HTTP, ready (NATS connected, subscribers running)."""
    app = create_app(settings, key_source=mint.key_source())
    async with serve_app(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await eventually(ready, timeout=20)
        yield http


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[Any]:
    connection = await nats.connect(url)
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


async def publish(js: Any, event: Envelope[Any], *, msg_id: str | None = None) -> None:
    """Publish a contract event as its producer's relay would."""
    await js.publish(
        event.subject, event.to_json(), headers={"Nats-Msg-Id": msg_id or str(event.event_id)}
    )


async def settings_for(databases: Any, nats_server: Any) -> ConsolidationSettings:
    return ConsolidationSettings(
        database_url=await databases.url("consolidation"),
        nats_url=nats_server.url,
        env="test",
        outbox_poll_seconds=0.2,
        consumer_backoff_seconds=0.1,
    )


async def snapshots(js: Any) -> list[ConsolidationUpdated]:
    """Every ConsolidationUpdated in the stream, in order."""
    info = await js.stream_info("DANVAN_CONSOLIDATION")
    found: list[ConsolidationUpdated] = []
    if info.state.messages == 0:
        return found
    sub = await js.subscribe(
        CONSOLIDATION_UPDATED, ordered_consumer=True, deliver_policy=js_api.DeliverPolicy.ALL
    )
    try:
        while len(found) < info.state.messages:
            msg = await sub.next_msg(timeout=5)
            found.append(ConsolidationUpdated.model_validate_json(msg.data))
    finally:
        await sub.unsubscribe()
    return found


async def test_completeness_survives_duplicates_and_out_of_order_delivery(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        period, first, second, late = three_reports()
        amended = submitted("18115", {"van_ban_ban_hanh": 7}, version=2)
        # Reports before their period, version 2 before version 1, and duplicates: the same
        # message id (JetStream drops it) and a new one (the consumer's inbox drops it).
        for event in (amended, late, second):
            await publish(js, event)
        await publish(js, late)
        await publish(js, second, msg_id=str(uuid.uuid4()))
        unknown = await http.get("/v1/periods/2023-H1/completeness", headers=reviewer)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "period_not_found"
        await publish(js, period)
        await publish(js, first)
        await publish(js, period, msg_id=str(uuid.uuid4()))

        async def complete() -> dict[str, Any]:
            r = await http.get("/v1/periods/2023-H1/completeness", headers=reviewer)
            body: dict[str, Any] = r.json() if r.status_code == 200 else {}
            return body if body.get("submitted") == 3 else {}

        body = await eventually(complete, timeout=15)
        assert (body["expected"], body["on_time"], body["late"]) == (5, 2, 1)
        assert [m["code"] for m in body["missing"]] == ["18130", "TTVHTT"]
        row = next(u for u in body["units"] if u["code"] == "18115")
        assert row["version"] == 2 and row["state"] == "submitted"

        summary = (await http.get("/v1/periods/2023-H1/summary", headers=reviewer)).json()
        van_ban = summary["sections"][0]["indicators"][0]
        assert (van_ban["total"], van_ban["reported"]) == (14, 3)  # 7 + 5 + 2, once each

        async def last_snapshot() -> ConsolidationUpdated | None:
            found = await snapshots(js)
            return found[-1] if found and found[-1].payload.submitted == 3 else None

        snapshot = (await eventually(last_snapshot, timeout=15)).payload
        assert (snapshot.expected, snapshot.missing, snapshot.late) == (5, 2, 1)
        assert snapshot.missing_units == ("18130", "TTVHTT")
        revisions = [s.payload.revision for s in await snapshots(js)]
        assert revisions == list(range(1, len(revisions) + 1))

        metrics = (await http.get("/metrics")).text
        assert 'danvan_period_completeness_ratio{period_id="2023-H1"} 0.6' in metrics


async def test_reading_needs_a_token_and_a_unit_sees_only_its_own_row(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        for event in three_reports():
            await publish(js, event)

        async def arrived() -> bool:
            r = await http.get("/v1/periods/2023-H1/completeness", headers=mint.headers("leader"))
            return r.status_code == 200 and r.json()["submitted"] == 3

        await eventually(arrived, timeout=15)
        assert (await http.get("/v1/periods/2023-H1/completeness")).status_code == 401
        own = await http.get(
            "/v1/periods/2023-H1/completeness", headers=mint.headers("unit", "18118")
        )
        assert own.status_code == 200
        assert [u["code"] for u in own.json()["units"]] == ["18118"]
        assert "missing" not in own.json()
        for path in ("summary", "report.docx", "report.xlsx"):
            r = await http.get(f"/v1/periods/2023-H1/{path}", headers=mint.headers("unit", "18118"))
            assert r.status_code == 403, path
            assert r.json()["error"]["code"] == "forbidden"
        for role in ("reviewer", "leader", "admin", "service"):
            r = await http.get("/v1/periods/2023-H1/summary", headers=mint.headers(role))
            assert r.status_code == 200, role


async def test_summary_and_documents_follow_amendment_withdrawal_and_answers(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        events = [
            *three_reports(),
            period_event("2022-H1"),
            submitted("18115", {"van_ban_ban_hanh": 4}, period_id="2022-H1"),
            submitted("18118", {**FIGURES["18118"], "van_ban_ban_hanh": 6}, version=2),
            withdrawn("PNV"),
            difficulty("d1", "18115", "Chưa có hướng dẫn về quy chế."),
            difficulty("d1", "18115", "Chưa có hướng dẫn về quy chế.", answer="Theo Công văn 12."),
        ]
        for event in events:
            await publish(js, event)

        async def settled() -> dict[str, Any]:
            r = await http.get("/v1/periods/2023-H1/summary", headers=reviewer)
            body: dict[str, Any] = r.json() if r.status_code == 200 else {}
            done = (
                body.get("comparison")
                and body["completeness"]["submitted"] == 2
                and body["sections"][0]["indicators"][0]["total"] == 9
                and any(d["answered"] for d in body["difficulties"])
            )
            return body if done else {}

        summary = await eventually(settled, timeout=15)
        van_ban = summary["sections"][0]["indicators"][0]
        assert (van_ban["reported"], van_ban["previous"]["total"], van_ban["change"]) == (2, 4, 5)
        assert summary["comparison"]["period_id"] == "2022-H1"
        assert [d["text"] for d in summary["difficulties"]] == ["Chưa có hướng dẫn về quy chế."]

        docx = await http.get("/v1/periods/2023-H1/report.docx", headers=reviewer)
        assert docx.status_code == 200
        assert "bao-cao-tong-hop-2023-H1.docx" in docx.headers["content-disposition"]
        document = Document(io.BytesIO(docx.content))
        text = "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for t in document.tables for row in t.rows for c in row.cells]
        )
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
        assert "Kết quả thực hiện công tác dân vận chính quyền 6 tháng đầu năm 2023" in text
        assert 'Phong trào thi đua "Dân vận khéo"' in text
        assert "Đơn vị chưa gửi báo cáo (3): UBND xã Thuận Lộc, Phòng Nội vụ" in text
        assert "Nơi nhận:" in text

        xlsx = await http.get("/v1/periods/2023-H1/report.xlsx", headers=reviewer)
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content))["Chỉ số theo đơn vị"]
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 1 + 5 + 1  # header, one row per expected unit, totals


async def test_rebuild_replays_the_streams_into_the_same_projections(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    events = [
        *three_reports(),
        submitted("18115", {"van_ban_ban_hanh": 7}, version=2),
        withdrawn("PNV"),
        difficulty("d1", "18118", "Hỏi về kinh phí.", answer="Đã bố trí."),
    ]
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        for event in events:
            await publish(js, event)

        async def settled() -> dict[str, Any]:
            r = await http.get("/v1/periods/2023-H1/summary", headers=reviewer)
            body: dict[str, Any] = r.json() if r.status_code == 200 else {}
            done = (
                body.get("completeness", {}).get("submitted") == 2
                and body["sections"][0]["indicators"][0]["total"] == 12
                and body["difficulties"]
            )
            return body if done else {}

        live = await eventually(settled, timeout=15)

    # Damage the projections while the service is stopped, then rebuild as an operator would.
    engine = create_engine(settings.resolved_database_url)
    counters_live = await stored_counters(engine)
    stamp_live = await stored_stamp(engine)
    assert counters_live[0]["submitted"] == 2
    async with engine.begin() as connection:
        await connection.execute(delete(db.reports))
        await connection.execute(delete(db.difficulties))
        await connection.execute(delete(db.unit_progress))
        await connection.execute(update(db.period_progress).values(submitted=99))
    await engine.dispose()
    assert "Đã dựng lại dữ liệu tổng hợp" in await rebuild_process(settings, nats_server.url)

    async with running(settings, mint) as http:
        rebuilt = (await http.get("/v1/periods/2023-H1/summary", headers=reviewer)).json()
    assert json.dumps(rebuilt, sort_keys=True) == json.dumps(live, sort_keys=True)
    engine = create_engine(settings.resolved_database_url)
    try:
        assert await stored_counters(engine) == counters_live
        assert await stored_stamp(engine) != stamp_live  # no answer cached before is valid
    finally:
        await engine.dispose()


async def stored_counters(engine: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The running counters of 2023-H1 and its units' standings, as stored."""
    async with engine.connect() as connection:
        progress = (
            await connection.execute(
                select(db.period_progress).where(db.period_progress.c.period_id == "2023-H1")
            )
        ).one()
        units = await connection.execute(
            select(db.unit_progress)
            .where(db.unit_progress.c.period_id == "2023-H1")
            .order_by(db.unit_progress.c.registry_order)
        )
        counters = dict(progress._mapping)
        del counters["stamp"]  # drawn anew by every change, a rebuild's included
        # How many snapshots were published: a rebuild publishes none (it counts them from 0,
        # as when the count was kept in `periods`, which this never compared).
        del counters["revision"]
        return counters, [dict(u._mapping) for u in units]


async def stored_stamp(engine: Any) -> str:
    """The answers' stamp of 2023-H1."""
    async with engine.connect() as connection:
        query = select(db.period_progress.c.stamp).where(
            db.period_progress.c.period_id == "2023-H1"
        )
        return str((await connection.execute(query)).scalar_one())


async def rebuild_process(settings: ConsolidationSettings, nats_url: str) -> str:
    """`python -m services.consolidation rebuild` as an operator runs it; its output."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.resolved_database_url,
        "NATS_URL": nats_url,
        "DANVAN_ENV": "test",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.consolidation",
        "rebuild",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_no_answer_cached_before_a_rebuild_is_served_after_it(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    """The service keeps running through a rebuild: what it cached of the projections
    before (here the damaged state, read under a stamp written by hand) is not served once
    the rebuild has replaced them."""
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    paths = ("/v1/periods/2023-H1/summary", "/v1/periods/2023-H1/completeness")
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        for event in [*three_reports(), difficulty("d1", "18118", "Hỏi về kinh phí.")]:
            await publish(js, event)

        async def settled() -> list[Any]:
            answers = [(await http.get(p, headers=reviewer)).json() for p in paths]
            # Every event applied: the three reports and the difficulty raised on its own
            # (another stream: it may come after the reports' difficulties are shown).
            raised = {d.get("difficulty_id") for d in answers[0].get("difficulties", [])}
            done = answers[0].get("completeness", {}).get("submitted") == 3 and "d1" in raised
            return answers if done else []

        live = await eventually(settled, timeout=15)
        engine = create_engine(settings.resolved_database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(delete(db.reports))
                await connection.execute(delete(db.difficulties))
                await connection.execute(update(db.period_progress).values(stamp="damaged"))
            damaged = [(await http.get(p, headers=reviewer)).json() for p in paths]
            assert damaged[0]["difficulties"] == [] and damaged != live  # read and cached
            assert [(await http.get(p, headers=reviewer)).json() for p in paths] == damaged
            await rebuild_process(settings, nats_server.url)
            assert await stored_stamp(engine) != "damaged"
        finally:
            await engine.dispose()
        assert [(await http.get(p, headers=reviewer)).json() for p in paths] == live


async def test_the_registry_seed_reaches_consolidation_with_its_expected_units(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    from services.registry.app import create_app as create_registry
    from services.registry.settings import RegistrySettings

    registry = create_registry(
        RegistrySettings(
            database_url=await databases.url("registry"),
            nats_url=nats_server.url,
            env="test",
            outbox_poll_seconds=0.2,
        )
    )
    settings = await settings_for(databases, nats_server)
    async with serve_app(registry), running(settings, mint) as http:

        async def seeded() -> dict[str, Any]:
            r = await http.get("/v1/periods", headers=mint.headers("admin"))
            periods = {p["period_id"]: p for p in r.json()} if r.status_code == 200 else {}
            return periods if {"2023-H1", "2023-Y"} <= set(periods) else {}

        periods = await eventually(seeded, timeout=20)
        h1 = periods["2023-H1"]
        assert (h1["expected"], h1["submitted"], len(h1["missing"])) == (20, 0, 20)
        assert h1["units"][0]["code"] == "18115"  # registry order: Bắc Hồng first
        assert h1["due_at"].startswith("2023-06-09T17:00:00")


async def test_pages_of_units_over_http_and_their_bounds(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    base = "/v1/periods/2023-H1"
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        for event in three_reports():
            await publish(js, event)

        async def settled() -> dict[str, Any]:
            r = await http.get(base + "/completeness", headers=reviewer)
            body: dict[str, Any] = r.json() if r.status_code == 200 else {}
            return body if body.get("submitted") == 3 else {}

        whole = await eventually(settled, timeout=15)
        codes = [u["code"] for u in whole["units"]]
        assert len(codes) >= 4
        r = await http.get(base + "/completeness?limit=2&offset=1", headers=reviewer)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert [u["code"] for u in r.json()["units"]] == codes[1:3]
        assert r.json()["expected"] == whole["expected"]
        summary = (await http.get(base + "/summary", headers=reviewer)).json()
        r = await http.get(base + "/summary?offset=2&limit=1", headers=reviewer)
        assert r.json()["completeness"]["units"] == summary["completeness"]["units"][2:3]
        assert r.json()["sections"] == summary["sections"]
        r = await http.get(base + "/completeness?offset=1000", headers=reviewer)
        assert r.status_code == 200 and r.json()["units"] == []
        # A unit account pages its own row only.
        unit = mint.headers("unit", codes[0])
        r = await http.get(base + "/completeness?limit=50", headers=unit)
        assert [u["code"] for u in r.json()["units"]] == [codes[0]]
        for path in ("/completeness", "/summary"):
            for query, name in (
                ("limit=0", "limit"),
                ("limit=10001", "limit"),
                ("limit=abc", "limit"),
                ("offset=-1", "offset"),
                ("offset=1.5", "offset"),
            ):
                r = await http.get(f"{base}{path}?{query}", headers=reviewer)
                assert r.status_code == 422, (path, query)
                error = r.json()["error"]
                assert error["code"] == "invalid_request"
                assert error["message"] == "Dữ liệu gửi lên không đúng định dạng."
                assert [d["path"] for d in error["details"]] == [f"query.{name}"]
