"""Input the registry refuses (issue 9.7): text with control characters, implausible dates and
windows, empty codes; each a 4xx with a Vietnamese message and a stable code, nothing changed.
And the asking document of an ad-hoc request (issue 10.4), stored and published."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.clock import VN_TZ
from tests.integration.registry.support import error, running_registry


def in_days(days: int) -> str:
    return (datetime.now(VN_TZ) + timedelta(days=days)).replace(microsecond=0).isoformat()


def refused(answer: Any, status: int, code: str, field: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    body = error(answer)
    assert body["code"] == code, answer.text
    if field is not None:
        assert body["details"]["field"] == field, answer.text
    assert body["message"] and not body["message"].isascii()  # Vietnamese


async def test_period_text_dates_and_windows_are_checked(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        periods_before = (await http.get("/v1/periods", headers=admin)).json()
        h1 = "2023-H1"
        cases: list[tuple[dict[str, Any], int, str, str]] = [
            ({"title": "\x04o"}, 422, "control_character", "title"),
            ({"title": "Tiêu đề\nhai dòng"}, 422, "control_character", "title"),
            ({"content": "Nội dung \x00"}, 422, "control_character", "content"),
            (
                {"window_start": "2000-01-01", "window_end": "2000-01-01"},
                422,
                "window_implausible",
                "window_start",
            ),
            ({"window_end": "2024-12-31"}, 422, "window_implausible", "window_end"),
            (
                {"window_start": "2023-07-01", "window_end": "2023-07-05"},
                422,
                "window_start_after_due",
                "window_start",
            ),
            ({"window_start": "1000-01-01"}, 422, "implausible_date", "window_start"),
            ({"due_at": "9999-12-31T23:59:59+14:00"}, 422, "implausible_date", "due_at"),
            ({"basis": {"number": "125/SNV"}}, 422, "basis_not_ad_hoc", "basis"),
        ]
        for patch, status, code, field in cases:
            answer = await http.patch(f"/v1/periods/{h1}", json=patch, headers=admin)
            refused(answer, status, code, field)

        # A 2027 request whose data window is 01/01/2000 is refused, like one due in 9999.
        ad_hoc = {"title": "Báo cáo nhanh", "due_at": in_days(60), "scope": {"all": True}}
        for body, code, field in [
            (
                {**ad_hoc, "window_start": "2000-01-01", "window_end": "2000-01-01"},
                "window_implausible",
                "window_start",
            ),
            ({**ad_hoc, "due_at": "9999-12-31T23:59:59"}, "implausible_date", "due_at"),
            ({**ad_hoc, "title": "a\x1bb"}, "control_character", "title"),
            ({**ad_hoc, "title": "x" * 301}, "title_too_long", "title"),
            ({**ad_hoc, "basis": {"issuer": "Sở\x07"}}, "control_character", "basis.issuer"),
            (
                {**ad_hoc, "basis": {"issued_on": "2999-01-01"}},
                "implausible_date",
                "basis.issued_on",
            ),
            (
                {**ad_hoc, "basis": {"issued_on": in_days(30)[:10]}},
                "issued_in_future",
                "basis.issued_on",
            ),
        ]:
            refused(await http.post("/v1/periods", json=body, headers=admin), 422, code, field)
        assert (await http.get("/v1/periods", headers=admin)).json() == periods_before
        missing = await http.get("/v1/periods/%00x", headers=admin)
        refused(missing, 404, "period_not_found")


async def test_units_accounts_and_reorganisations_refuse_bad_input(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, admin = registry.http, await registry.auth("admin")
        units_before = (await http.get("/v1/units", headers=admin)).json()
        unit = {"code": "TTX", "name": "Trung tâm thử", "kind": "centre"}
        for body, code, field in [
            ({**unit, "name": "Trung\x00tâm"}, "control_character", "name"),
            ({**unit, "valid_to": "9999-12-31"}, "implausible_date", "valid_to"),
            ({**unit, "valid_from": "0001-01-01"}, "implausible_date", "valid_from"),
            ({**unit, "display_order": 2**40}, "invalid_display_order", "display_order"),
            (
                {**unit, "leader": {"full_name": "Lê\x0bVăn"}},
                "control_character",
                "leader.full_name",
            ),
            ({**unit, "contacts": {"emails": ["a\x00@b.vn"]}}, "invalid_email", "contacts.emails"),
            (
                {**unit, "contacts": {"webhook_url": "https://x.vn/\x04"}},
                "invalid_webhook_url",
                "contacts.webhook_url",
            ),
        ]:
            refused(await http.post("/v1/units", json=body, headers=admin), 422, code, field)
        close = await http.post(
            "/v1/units/VP/close", json={"valid_to": "9999-12-31"}, headers=admin
        )
        refused(close, 422, "implausible_date", "valid_to")
        for body, code, field in [
            (
                {
                    "effective_from": "2025-07-01",
                    "successors": [
                        {"code": "", "name": "X", "kind": "ward", "predecessors": ["18115"]}
                    ],
                },
                "invalid_code",
                "successors.0.code",
            ),
            (
                {
                    "effective_from": "2025-07-01",
                    "successors": [
                        {
                            "code": "X1",
                            "name": "X",
                            "kind": "ward",
                            "predecessors": ["18115"],
                            "leader": {"email": ""},
                        }
                    ],
                },
                "leader_name_required",
                "successors.0.leader.full_name",
            ),
            (
                {"effective_from": "9999-12-31", "closures": [{"code": "VP"}]},
                "implausible_date",
                "effective_from",
            ),
            (
                {"effective_from": "2025-07-01", "note": "\x01", "closures": [{"code": "VP"}]},
                "control_character",
                "note",
            ),
            (
                {
                    "effective_from": "2025-07-01",
                    "closures": [{"code": "VP", "successor_codes": [""]}],
                },
                "unknown_successor",
                "closures.0.successor_codes",
            ),
        ]:
            answer = await http.post("/v1/units/reorganisations", json=body, headers=admin)
            refused(answer, 422, code, field)
        assert (await http.get("/v1/units", headers=admin)).json() == units_before

        account = {
            "username": "vanthu.thu",
            "display_name": "Văn\x00thư",
            "role": "reviewer",
        }
        answer = await http.post("/v1/accounts", json=account, headers=admin)
        refused(answer, 422, "control_character", "display_name")
        key = {"unit_code": "18115", "name": "Máy\x02", "expires_at": "9999-12-31T00:00:00"}
        refused(
            await http.post("/v1/api-keys", json=key, headers=admin),
            422,
            "control_character",
            "name",
        )
        key = {"unit_code": "18115", "name": "Máy chủ", "expires_at": "9999-12-31T00:00:00"}
        refused(
            await http.post("/v1/api-keys", json=key, headers=admin),
            422,
            "implausible_date",
            "expires_at",
        )
        assert (await http.get("/v1/accounts/a%00b", headers=admin)).status_code == 404
        login = await http.post(
            "/v1/auth/token", data={"username": "ad\x00min" + "x" * 300, "password": "p"}
        )
        refused(login, 401, "invalid_credentials")


async def test_an_ad_hoc_request_records_and_publishes_its_basis(nats_server, databases):
    async with running_registry(nats_server, databases) as registry:
        http, pnv = registry.http, await registry.auth("pnv")
        basis = {
            "document_type": "Công văn",
            "number": "125/SNV-XDCQ",
            "issued_on": "2024-03-02",
            "issuer": "Sở Nội vụ",
            "subject": "về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
        }
        body = {
            "title": "Báo cáo kết quả 01 năm thực hiện Chỉ thị 33/CT-TTg",
            "due_at": in_days(10),
            "scope": {"all": True},
            "basis": basis,
        }
        created = await http.post("/v1/periods", json=body, headers=pnv)
        assert created.status_code == 201, created.text
        period_id = created.json()["period_id"]
        assert created.json()["basis"] == basis
        read = await http.get(f"/v1/periods/{period_id}", headers=await registry.auth("18115"))
        assert read.json()["basis"] == basis
        events = await registry.published(
            lambda e: e["payload"]["period_id"] == period_id and e["payload"]["basis"],
            "danvan.registry.period.changed.v2",
        )
        assert events[0]["payload"]["basis"] == basis

        changed = {**basis, "number": "130/SNV-XDCQ", "issued_on": "2024-03-05"}
        patched = await http.patch(f"/v1/periods/{period_id}", json={"basis": changed}, headers=pnv)
        assert patched.status_code == 200 and patched.json()["basis"] == changed
        assert patched.json()["version"] == 2
        await registry.published(
            lambda e: (
                e["payload"]["period_id"] == period_id
                and e["payload"]["version"] == 2
                and e["payload"]["basis"]["number"] == "130/SNV-XDCQ"
            ),
            "danvan.registry.period.changed.v2",
        )
        cleared = await http.patch(f"/v1/periods/{period_id}", json={"basis": None}, headers=pnv)
        assert cleared.json()["basis"] is None and cleared.json()["version"] == 3
        # Without a basis, nothing is recorded.
        plain = await http.post("/v1/periods", json={**body, "basis": None}, headers=pnv)
        assert plain.json()["basis"] is None
