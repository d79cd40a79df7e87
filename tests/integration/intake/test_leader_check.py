"""Plan II.5 from the registry: the form shows the unit's leader in charge, the unit confirms
it or reports who it is now, and a reported change reaches Phòng Nội vụ."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.contracts.intake import REPORT_SUBMITTED
from shared.contracts.registry import Leader, UnitChanged, UnitState
from tests.integration.intake.conftest import ward_body
from tests.support.http import eventually
from tests.support.reports import LEADER_CONFIRMED, full_report

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECTION = "8"
CODE = "lanh_dao_phu_trach"


async def _give_leader(stack, code: str, name: str, kind: str, full_name: str, title: str):
    """The registry records the unit's leader (a newer version of the unit)."""
    unit = UnitState(
        unit_id=f"{code}@2019-01-01",
        code=code,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        valid_from=date(2019, 1, 1),
        leader=Leader(full_name=full_name, title=title, phone="0912345678"),
        version=2,
    )
    await stack.publish(UnitChanged.new(unit, producer="registry"))

    async def shown() -> dict[str, Any] | None:
        answer = await stack.http.get("/v1/periods/2023-Y/form", headers=stack.unit(code))
        form: dict[str, Any] = answer.json()
        return form if form["unit"]["leader"] else None

    return await eventually(shown, timeout=15)


def _check(form: dict[str, Any]) -> dict[str, Any]:
    section = next(s for s in form["form"]["sections"] if s["plan_ref"] == "II.5")
    check: dict[str, Any] = section["leader_check"]
    return check


async def _submitted_event(stack, report_id: str, version: int) -> dict[str, Any] | None:
    for event in await stack.intake_events(REPORT_SUBMITTED):
        payload: dict[str, Any] = event["payload"]
        if (payload["report_id"], payload["version"]) == (report_id, version):
            return payload
    return None


async def test_the_form_shows_the_registrys_leader_in_the_plans_words(stack):
    form = await _give_leader(
        stack, "18121", "UBND phường Trung Lương", "ward", "Lê Văn Cường", "Chủ tịch"
    )
    assert form["unit"]["leader"] == {"full_name": "Lê Văn Cường", "title": "Chủ tịch"}
    check = _check(form)
    assert check["code"] == CODE and check["required"] is True
    assert check["label"] == (
        "Chủ tịch Ủy ban nhân dân trực tiếp phụ trách công tác dân vận của chính quyền"
    )
    department = (await stack.http.get("/v1/periods/2023-Y/form", headers=stack.unit("PTP"))).json()
    assert department["unit"]["leader"] is None  # the registry holds none for it
    assert _check(department)["label"] == (
        "01 đồng chí lãnh đạo phụ trách công tác dân vận của chính quyền"
    )
    # The 2023.1 form of 2023-H1 keeps its yes/no and has no leader check.
    h1 = (await stack.http.get("/v1/periods/2023-H1/form", headers=stack.unit("18121"))).json()
    assert all(s["leader_check"] is None for s in h1["form"]["sections"])


async def test_a_confirmed_leader_is_kept_with_the_version_and_its_event(stack):
    await _give_leader(stack, "18124", "UBND phường Đức Thuận", "ward", "Phan Thị Dung", "Chủ tịch")
    unit = stack.unit("18124")
    body = full_report("2023-Y", leader=LEADER_CONFIRMED)
    created = await stack.http.post("/v1/reports", json=body, headers=unit)
    assert created.status_code == 201, created.text
    report_id = created.json()["report_id"]
    report = (await stack.http.get(f"/v1/reports/{report_id}", headers=stack.reviewer())).json()
    assert report["content"]["sections"][SECTION][CODE] == {
        "confirmed": True,
        "full_name": None,
        "title": None,
    }
    assert report["leader_check"] == {
        "on_record": {"full_name": "Phan Thị Dung", "title": "Chủ tịch"},
        "confirmed": True,
        "changed": False,
        "reported": None,
    }
    payload = await eventually(lambda: _submitted_event(stack, report_id, 1), timeout=15)
    assert payload["leader_check"] == {
        "on_record": {"full_name": "Phan Thị Dung", "title": "Chủ tịch", "phone": "", "email": ""},
        "confirmed": True,
        "reported": None,
    }
    listed = await stack.http.get("/v1/leader-changes?period_id=2023-Y", headers=stack.reviewer())
    assert report_id not in {c["report_id"] for c in listed.json()}


async def test_a_unit_without_a_leader_on_record_cannot_confirm_one(stack):
    body = full_report("2023-Y", kind="department", leader=LEADER_CONFIRMED)
    before = await stack.counts()
    refused = await stack.http.post("/v1/reports", json=body, headers=stack.unit("PTCKH"))
    assert refused.status_code == 422, refused.text
    (issue,) = refused.json()["error"]["issues"]
    assert (issue["path"], issue["code"]) == (
        f"sections.{SECTION}.{CODE}.confirmed",
        "leader_not_on_record",
    )
    assert "họ và tên, chức vụ" in issue["message"] and CODE not in issue["message"]
    assert await stack.counts() == before
    missing = full_report("2023-Y", kind="department")
    del missing["sections"][SECTION][CODE]
    refused = await stack.http.post("/v1/reports", json=missing, headers=stack.unit("PTCKH"))
    assert [i["code"] for i in refused.json()["error"]["issues"]] == ["required"]


async def test_a_reported_change_reaches_phong_noi_vu_until_the_unit_confirms(stack):
    await _give_leader(stack, "18127", "UBND phường Đậu Liêu", "ward", "Võ Văn Em", "Chủ tịch")
    unit = stack.unit("18127")
    change = {"confirmed": False, "full_name": "Đặng Thị Giang", "title": "Chủ tịch"}
    created = await stack.http.post(
        "/v1/reports", json=full_report("2023-Y", leader=change), headers=unit
    )
    assert created.status_code == 201, created.text
    report_id = created.json()["report_id"]

    async def listed() -> list[dict[str, Any]]:
        answer = await stack.http.get(
            "/v1/leader-changes", params={"period_id": "2023-Y"}, headers=stack.reviewer()
        )
        assert answer.status_code == 200, answer.text
        return [c for c in answer.json() if c["report_id"] == report_id]

    [entry] = await listed()
    assert entry["unit_code"] == "18127" and entry["unit_name"] == "UBND phường Đậu Liêu"
    assert entry["on_record"] == {"full_name": "Võ Văn Em", "title": "Chủ tịch"}
    assert entry["reported"] == {"full_name": "Đặng Thị Giang", "title": "Chủ tịch"}
    assert (entry["version"], entry["status"]) == (1, "submitted")
    payload = await eventually(lambda: _submitted_event(stack, report_id, 1), timeout=15)
    assert payload["leader_check"]["confirmed"] is False
    assert payload["leader_check"]["reported"]["full_name"] == "Đặng Thị Giang"
    assert payload["content"]["sections"][SECTION][CODE]["full_name"] == "Đặng Thị Giang"
    # Units do not read the list; the unit reads its own report's answer.
    assert (await stack.http.get("/v1/leader-changes", headers=unit)).status_code == 403
    own = (await stack.http.get(f"/v1/reports/{report_id}", headers=unit)).json()
    assert own["leader_check"]["changed"] is True

    amended = await stack.http.put(
        f"/v1/reports/{report_id}",
        json=full_report("2023-Y", leader=LEADER_CONFIRMED),
        headers=unit,
    )
    assert amended.status_code == 200, amended.text
    assert await listed() == []
    versions = (await stack.http.get(f"/v1/reports/{report_id}/versions", headers=unit)).json()
    assert [v["leader_check"]["changed"] for v in versions] == [True, False]


async def test_a_2023_1_report_reads_as_before_without_a_leader_check(stack):
    created = await stack.http.post("/v1/reports", json=ward_body(), headers=stack.unit("18130"))
    assert created.status_code == 201, created.text
    report = (await stack.http.get(created.headers["location"], headers=stack.reviewer())).json()
    assert report["form_version"] == "2023.1" and report["leader_check"] is None
    assert report["content"]["sections"]["5"]["indicators"]["co_lanh_dao_phu_trach"] is True
