"""The town report's draft over real HTTP and JetStream: read, edit, refresh, conflicts,
permissions, picked excerpts, the .docx it renders, and a rebuild that restores it.

Run on SQLite and on PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from datetime import date
from typing import Any

import httpx
from docx import Document
from nats.js import api as js_api
from sqlalchemy import delete

from services.consolidation import db
from services.consolidation.domain.draft import text_digest
from shared.contracts.consolidation import DRAFT_SAVED, HIGHLIGHTS_CHANGED, DraftSaved
from shared.contracts.registry import PeriodChanged, PeriodState, RequestBasis
from shared.db import create_engine
from tests.integration.consolidation.test_consolidation_service import (
    REPO,
    jetstream,
    publish,
    running,
    settings_for,
)
from tests.support.http import eventually
from tests.unit.consolidation.factory import (
    DUE_2023_H1,
    UNITS,
    difficulty,
    period_event,
    submitted,
    three_reports,
)

DRAFT = "/v1/periods/2023-H1/draft"


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    return "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for row in t.rows for c in row.cells]
    )


async def settled_draft(http: httpx.AsyncClient, headers: dict[str, str], check: Any) -> Any:
    async def ready() -> Any:
        r = await http.get(DRAFT, headers=headers)
        body = r.json() if r.status_code == 200 else None
        return body if body is not None and check(body) else None

    return await eventually(ready, timeout=15)


def part(body: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in body["parts"] if p["key"] == key)


async def own_events(js: Any, subject: str) -> list[bytes]:
    info = await js.stream_info("DANVAN_CONSOLIDATION", subjects_filter=subject)
    count = sum((info.state.subjects or {}).values())
    if not count:
        return []
    sub = await js.subscribe(
        subject, ordered_consumer=True, deliver_policy=js_api.DeliverPolicy.ALL
    )
    try:
        return [(await sub.next_msg(timeout=5)).data for _ in range(count)]
    finally:
        await sub.unsubscribe()


async def test_a_reviewer_edits_the_draft_keeps_the_edit_through_a_new_report_and_downloads_it(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    leader = mint.headers("leader", username="ld")
    unit = mint.headers("unit", "18118")
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        for event in [*three_reports(), difficulty("d1", "PNV", "Thiếu biên chế.", answer="Có.")]:
            await publish(js, event)
        read = await settled_draft(
            http, reviewer, lambda b: part(b, "tinh_hinh_bao_cao")["text"].startswith("3/5")
        )
        assert (read["version"], read["saved_at"], read["saved_by"], read["changes"]) == (
            0,
            None,
            None,
            None,
        )
        assert read["editable"] is True
        assert read["recipients"][:2] == [
            "Ban Thường vụ Thị ủy (b/c)",
            "UBND tỉnh (qua Sở Nội vụ) (b/c)",
        ]
        assert read["basis"] == "Kế hoạch số …/KH-UBND ngày … tháng 02 năm 2023 của UBND thị xã"
        assert read["plan_reference_unfilled"] is True
        assert [w["code"] for w in read["warnings"]] == ["plan_reference_unfilled"]
        assert "10 (3/5 đơn vị báo cáo" in part(read, "muc_1")["text"]

        # Leaders read it, may not save it; a unit may do neither.
        assert (await http.get(DRAFT, headers=leader)).json()["editable"] is False
        edit = {"version": 0, "parts": {"muc_1": {"text": "Đã sửa tay mục 1."}}}
        for headers in (leader, unit):
            refused = await http.put(DRAFT, json=edit, headers=headers)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "forbidden"
        assert (await http.get(DRAFT, headers=unit)).status_code == 403

        saved = await http.put(DRAFT, json=edit, headers=reviewer)
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert (body["version"], body["saved_by"]) == (1, "pnv")
        assert part(body, "muc_1") == {
            "key": "muc_1",
            "heading": "I. KẾT QUẢ THỰC HIỆN",
            "title": "1. Quán triệt, thể chế hóa chủ trương về công tác dân vận",
            "text": "Đã sửa tay mục 1.",
            "edited": True,
            "changed": False,
            "digest": text_digest("Đã sửa tay mục 1."),
        }
        assert [h["version"] for h in body["history"]] == [1]

        # Somebody else saves over the same version: 409, naming who saved.
        late = await http.put(
            DRAFT, json={**edit, "parts": {"muc_2": {"text": "X"}}}, headers=mint.headers("admin")
        )
        assert late.status_code == 409
        error = late.json()["error"]
        assert error["code"] == "draft_version_conflict" and "pnv" in error["message"]
        assert error["details"]["version"] == 1 and error["details"]["saved_by"] == "pnv"

        # Bad texts change nothing and say why in Vietnamese.
        for parts, code in (
            ({"muc_1": {"text": "chuông \u0007"}}, "invalid_text"),
            ({"muc_1": {"text": "x" * 30_001}}, "text_too_long"),
            ({"muc_42": {"text": "x"}}, "unknown_draft_part"),
        ):
            bad = await http.put(DRAFT, json={"version": 1, "parts": parts}, headers=reviewer)
            assert bad.status_code == 422, bad.text
            assert bad.json()["error"]["code"] == code
            assert (
                "Mục" in bad.json()["error"]["message"] or "mục" in bad.json()["error"]["message"]
            )
        assert (await http.get(DRAFT, headers=reviewer)).json()["version"] == 1

        # A new unit reports: the edit stays, the generated parts and the appendix follow.
        await publish(js, submitted("18130", {"van_ban_ban_hanh": 4}))
        refreshed = await settled_draft(
            http, reviewer, lambda b: part(b, "tinh_hinh_bao_cao")["text"].startswith("4/5")
        )
        assert part(refreshed, "muc_1")["text"] == "Đã sửa tay mục 1."
        assert part(refreshed, "muc_1")["changed"] is True
        changes = refreshed["changes"]
        assert [u["code"] for u in changes["units_added"]] == ["18130"]
        assert "tinh_hinh_bao_cao" in changes["parts"] and "muc_1" in changes["outdated_edits"]
        assert "UBND xã Thuận Lộc" in changes["notice"]

        docx = await http.get("/v1/periods/2023-H1/report.docx", headers=reviewer)
        assert docx.status_code == 200
        text = docx_text(docx.content)
        assert "Đã sửa tay mục 1." in text
        assert "PHỤ LỤC" in text and "Phụ lục" in text
        assert "Ban Thường vụ Thị ủy (b/c)" in text and "UBND tỉnh (qua Sở Nội vụ)" in text
        assert "Trả lời:" not in text
        assert "UBND xã Thuận Lộc" in text and "4/5" in text  # the new unit is counted
        xlsx = await http.get("/v1/periods/2023-H1/report.xlsx", headers=leader)
        assert xlsx.status_code == 200

        # The save left through the outbox as consolidation's own event.
        async def published() -> list[bytes]:
            return await own_events(js, DRAFT_SAVED)

        events = await eventually(published, timeout=15)
        state = DraftSaved.model_validate_json(events[-1]).payload
        assert (state.period_id, state.version, state.saved_by) == ("2023-H1", 1, "pnv")


async def test_picked_excerpts_enter_the_draft_and_a_rebuild_restores_drafts_and_picks(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    highlights = "/v1/periods/2023-H1/highlights"
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        for event in three_reports():
            await publish(js, event)
        await settled_draft(http, reviewer, lambda b: "3/5" in part(b, "tinh_hinh_bao_cao")["text"])
        pick = {"unit_code": "18115", "field": "1", "text": "ban hành 3 văn bản"}
        marked = await http.post(highlights, json=pick, headers=reviewer)
        assert marked.status_code == 201, marked.text
        excerpt = marked.json()
        assert (excerpt["unit_name"], excerpt["in_report"]) == ("UBND phường Bắc Hồng", True)
        assert excerpt["field_label"].startswith("Mục 1. ")
        other = await http.post(
            highlights,
            json={**pick, "field": "ton_tai_han_che", "text": "nhân lực"},
            headers=reviewer,
        )
        assert other.status_code == 201
        missing = await http.post(highlights, json={**pick, "text": "30 văn bản"}, headers=reviewer)
        assert missing.status_code == 422
        assert missing.json()["error"]["code"] == "excerpt_not_found"
        leader = await http.post(highlights, json=pick, headers=mint.headers("leader"))
        assert leader.status_code == 403
        listed = (await http.get(highlights, headers=mint.headers("leader"))).json()
        assert [p["field"] for p in listed] == ["1", "ton_tai_han_che"]

        body = (await http.get(DRAFT, headers=reviewer)).json()
        assert "- UBND phường Bắc Hồng: ban hành 3 văn bản" in part(body, "muc_1")["text"]
        removed = await http.delete(
            f"{highlights}/{other.json()['highlight_id']}", headers=reviewer
        )
        assert removed.status_code == 204
        again = await http.delete(f"{highlights}/{other.json()['highlight_id']}", headers=reviewer)
        assert again.status_code == 404

        saved = await http.put(
            DRAFT,
            json={"version": 0, "parts": {"phuong_huong": {"text": "Viết tay."}}},
            headers=reviewer,
        )
        assert saved.status_code == 200
        second = await http.put(
            DRAFT,
            json={"version": 1, "parts": {"de_xuat_kien_nghi": {"text": "Đề xuất."}}},
            headers=reviewer,
        )
        assert second.status_code == 200
        live = (await http.get(DRAFT, headers=reviewer)).json()

        async def all_published() -> bool:
            drafts = await own_events(js, DRAFT_SAVED)
            picks = await own_events(js, HIGHLIGHTS_CHANGED)
            return len(drafts) == 2 and len(picks) == 3

        await eventually(all_published, timeout=15)

    # Lose the drafts and the picks, then rebuild from the streams as an operator would.
    engine = create_engine(settings.resolved_database_url)
    async with engine.begin() as connection:
        for table in (db.drafts, db.draft_saves, db.highlights):
            await connection.execute(delete(table))
    await engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": settings.resolved_database_url,
        "NATS_URL": nats_server.url,
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
    assert "0 bỏ qua" in out.decode()  # the completeness snapshots are not even read
    async with running(settings, mint) as http:
        rebuilt = (await http.get(DRAFT, headers=reviewer)).json()
        picks = (await http.get(highlights, headers=reviewer)).json()
    assert rebuilt == live
    assert [p["text"] for p in picks] == ["ban hành 3 văn bản"]
    assert part(rebuilt, "phuong_huong")["text"] == "Viết tay."
    assert [h["version"] for h in rebuilt["history"]] == [2, 1]


async def test_an_ad_hoc_request_and_a_period_without_reports_get_drafts_that_say_so(
    nats_server: Any, databases: Any, mint: Any
) -> None:
    settings = await settings_for(databases, nats_server)
    reviewer = mint.headers("reviewer", username="pnv")
    basis = RequestBasis(
        document_type="Công văn",
        number="125/SNV-XDCQ",
        issued_on=date(2024, 3, 2),
        issuer="Sở Nội vụ",
        subject="về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
    )
    request = PeriodChanged.new(
        PeriodState(
            period_id="2024-DX1",
            kind="ad_hoc",
            year=2024,
            title="Báo cáo 01 năm Chỉ thị 33",
            form_id="dvcq-dot-xuat",
            form_version="2023.1",
            due_at=DUE_2023_H1,
            status="open",
            basis=basis,
            expected_units=UNITS[:2],
            version=1,
        ),
        producer="test",
    )
    async with running(settings, mint) as http, jetstream(nats_server.url) as js:
        await publish(js, request)
        await publish(js, period_event("2023-Y"))

        async def known() -> Any:
            r = await http.get("/v1/periods/2024-DX1/draft", headers=reviewer)
            e = await http.get("/v1/periods/2023-Y/draft", headers=reviewer)
            return (r.json(), e.json()) if r.status_code == e.status_code == 200 else None

        ad_hoc, empty = await eventually(known, timeout=15)
        assert ad_hoc["subject"] == "Kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg"
        assert ad_hoc["basis"].startswith("Công văn số 125/SNV-XDCQ ngày 02/03/2024 của Sở Nội vụ")
        assert ad_hoc["warnings"] == []  # the plan is not cited
        assert part(ad_hoc, "mo_dau")["text"].startswith("Thực hiện Công văn số 125/SNV-XDCQ")
        docx = await http.get("/v1/periods/2024-DX1/report.docx", headers=reviewer)
        text = docx_text(docx.content)
        assert "BÁO CÁO\nKết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg\n" in text
        assert "Kết quả thực hiện công tác dân vận chính quyền Báo cáo" not in text
        assert part(empty, "tinh_hinh_bao_cao")["text"].startswith("Chưa có đơn vị nào gửi báo cáo")
        assert part(empty, "muc_1")["text"].startswith("Chưa có đơn vị nào gửi báo cáo")
        unknown = await http.get("/v1/periods/2099-H1/draft", headers=reviewer)
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "period_not_found"
