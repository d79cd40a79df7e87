"""Units in and out as CSV and XLSX: templates, exports, and imports that write everything or
nothing, naming each bad row."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from tests.integration.registry.support import error, running_registry

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GOOD_CSV = (
    "code,name,kind,display_order,valid_from,leader_full_name,leader_title,leader_phone\n"
    "18115,UBND phường Bắc Hồng,ward,1,01/01/2019,Nguyễn Văn An,Phó Chủ tịch,0912345678\n"
    "TTDVC,Trung tâm Dịch vụ công,centre,32,01/01/2024,Lê Thị Bình,Giám đốc,0987654321\n"
)
BAD_CSV = (
    "code,name,kind,display_order,valid_from,leader_full_name\n"
    "18115,UBND phường Bắc Hồng,ward,1,01/01/2019,Nguyễn Văn An\n"
    "TTDVC,Trung tâm Dịch vụ công,trung-tam,32,01/01/2024,Lê Thị Bình\n"
    "PNV,Phòng Nội vụ,department,11,01/01/2019,Trần Văn Cảnh\n"
)


def upload(content: bytes, name: str, media: str = CSV) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, media)}


async def test_templates_and_exports_download_as_csv_and_xlsx(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        template = await http.get("/v1/units/template.csv", headers=pnv)
        assert template.status_code == 200
        assert template.headers["content-type"].startswith("text/csv")
        assert template.content.decode("utf-8-sig").strip().startswith("code,name,kind")
        xlsx = await http.get("/v1/units/template.xlsx", headers=pnv)
        workbook = load_workbook(io.BytesIO(xlsx.content))
        assert workbook.sheetnames == ["Đơn vị", "Hướng dẫn"]
        assert workbook["Đơn vị"].max_row == 1

        exported = await http.get("/v1/units/export.csv", headers=pnv)
        lines = exported.content.decode("utf-8-sig").strip().splitlines()
        assert len(lines) == 24 and "UBND phường Bắc Hồng" in lines[1]
        exported = await http.get("/v1/units/export.xlsx", headers=pnv)
        sheet = load_workbook(io.BytesIO(exported.content))["Đơn vị"]
        assert sheet.max_row == 24 and sheet["A2"].value == "18115"

        unit = await registry.auth("18115")
        assert (await http.get("/v1/units/export.csv", headers=unit)).status_code == 403
        assert (await http.get("/v1/units/template.csv")).status_code == 401


async def test_a_csv_with_one_bad_row_writes_nothing_and_names_the_row(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        await registry.drained()
        published = len(await registry.events())

        answer = await http.post(
            "/v1/units/import", files=upload(BAD_CSV.encode(), "don-vi.csv"), headers=admin
        )
        assert answer.status_code == 422, answer.text
        body = error(answer)
        assert body["code"] == "import_invalid"
        assert body["details"]["errors"] == [
            {
                "row": 3,
                "column": "kind",
                "code": "unknown_kind",
                "message": body["details"]["errors"][0]["message"],
            }
        ]
        assert "Dòng 3" in body["message"] and "trung-tam" in body["message"]

        units = (await http.get("/v1/units", headers=admin)).json()
        assert len(units) == 23 and all(u["leader"] is None for u in units)
        history = (await http.get("/v1/units/18115/history", headers=admin)).json()
        assert len(history["entries"]) == 1  # only its creation by the seed
        await registry.drained()
        assert len(await registry.events()) == published

        for headers in (await registry.auth("pnv"), await registry.auth("18115")):
            refused = await http.post(
                "/v1/units/import", files=upload(GOOD_CSV.encode(), "a.csv"), headers=headers
            )
            assert refused.status_code == 403


async def test_a_valid_file_creates_and_updates_units_with_history_and_events(
    nats_server, databases
):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        dry = await http.post(
            "/v1/units/import?dry_run=true", files=upload(GOOD_CSV.encode(), "a.csv"), headers=admin
        )
        assert dry.json()["created"] == ["TTDVC@2024-01-01"]
        assert (await http.get("/v1/units/TTDVC", headers=admin)).status_code == 404

        imported = await http.post(
            "/v1/units/import", files=upload(GOOD_CSV.encode(), "a.csv"), headers=admin
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] == ["TTDVC@2024-01-01"]
        assert imported.json()["updated"] == ["18115@2019-01-01"]
        bac_hong = (await http.get("/v1/units/18115", headers=admin)).json()
        assert bac_hong["leader"]["full_name"] == "Nguyễn Văn An" and bac_hong["version"] == 2
        history = (await http.get("/v1/units/18115/history", headers=admin)).json()
        assert history["entries"][-1]["note"] == "Nhập từ tệp a.csv"
        assert history["entries"][-1]["changed_by"] == "admin"
        await registry.published(
            lambda e: e["payload"]["code"] == "TTDVC", "danvan.registry.unit.changed.v1"
        )

        again = await http.post(
            "/v1/units/import", files=upload(GOOD_CSV.encode(), "a.csv"), headers=admin
        )
        assert sorted(again.json()["unchanged"]) == ["18115@2019-01-01", "TTDVC@2024-01-01"]

        # The export reads back in unchanged; an XLSX upload goes through the same checks.
        exported = await http.get("/v1/units/export.xlsx", headers=admin)
        round_trip = await http.post(
            "/v1/units/import", files=upload(exported.content, "export.xlsx", XLSX), headers=admin
        )
        assert round_trip.status_code == 200, round_trip.text
        assert round_trip.json()["created"] == round_trip.json()["updated"] == []
        assert len(round_trip.json()["unchanged"]) == 24

        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["code", "name", "kind", "valid_from", "parent_code"])
        sheet.append(["TO1", "Tổ công tác", "agency", "2024-01-01", "KHONGCO"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        bad = await http.post(
            "/v1/units/import", files=upload(buffer.getvalue(), "x.xlsx", XLSX), headers=admin
        )
        assert bad.status_code == 422
        assert error(bad)["details"]["errors"][0]["row"] == 2
        assert error(bad)["details"]["errors"][0]["code"] == "unknown_parent"


async def test_oversized_and_malformed_files_are_refused_clearly(nats_server, databases):
    async with running_registry(nats_server, databases, import_max_bytes=2048) as registry:
        http, admin = registry.http, await registry.auth("admin")
        big = GOOD_CSV.encode() + b"X,Y,agency\n" * 300
        answer = await http.post("/v1/units/import", files=upload(big, "big.csv"), headers=admin)
        assert answer.status_code == 413 and error(answer)["code"] == "import_too_large"
        broken = await http.post(
            "/v1/units/import", files=upload(b"PK\x03\x04garbage", "x.xlsx", XLSX), headers=admin
        )
        assert broken.status_code == 422 and error(broken)["code"] == "malformed_file"
        latin = await http.post(
            "/v1/units/import",
            files=upload("code,name\nX,Bắc\n".encode("utf-16"), "x.csv"),
            headers=admin,
        )
        assert latin.status_code == 422 and error(latin)["code"] == "malformed_file"
        missing = await http.post("/v1/units/import", headers=admin)
        assert missing.status_code == 422
        assert len((await http.get("/v1/units", headers=admin)).json()) == 23
