"""A report's life: amend, versions, review and return, withdrawal, listing, closed periods."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.clock import VN_TZ
from shared.contracts.intake import REPORT_REVIEWED, REPORT_SUBMITTED, REPORT_WITHDRAWN
from shared.contracts.registry import PeriodChanged, PeriodState
from tests.integration.intake.conftest import department_body, ward_body
from tests.support.http import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _submit(stack, unit: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = await stack.http.post(
        "/v1/reports", json=body or ward_body(), headers=stack.unit(unit)
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def _review(stack, report_id: str, **body):
    return await stack.http.post(
        f"/v1/reports/{report_id}/review", json=body, headers=stack.reviewer()
    )


async def _own_period(stack, period_id: str, unit: str, *, status: str, version: int) -> None:
    """A period of this test alone, so closing it leaves the other tests alone."""
    period = PeriodState(
        period_id=period_id,
        kind="ad_hoc",
        year=2023,
        title="Báo cáo đột xuất quý III năm 2023",
        form_id="dvcq-dinh-ky",
        form_version="2023.1",
        due_at=datetime(2023, 9, 30, tzinfo=VN_TZ),
        status=status,
        expected_units=[{"code": unit, "name": "UBND phường Trung Lương", "kind": "ward"}],
        version=version,
    )
    await stack.publish(PeriodChanged.new(period, producer="registry"))
    await stack.wait_period(period_id, version=version)


async def _events_of(stack, subject: str, report_id: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        events = [
            e for e in await stack.intake_events(subject) if e["payload"]["report_id"] == report_id
        ]
        return events if len(events) >= count else None

    found: list[dict[str, Any]] = await eventually(enough)
    return found


async def test_returned_then_resubmitted_late_keeps_the_first_timeliness(stack):
    created = await _submit(stack, "18115")
    report_id, unit = created["report_id"], stack.unit("18115")

    no_reason = await _review(stack, report_id, decision="returned", reason="  ")
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "reason_required"
    returned = await _review(stack, report_id, decision="returned", reason="Bổ sung số liệu mục 4.")
    assert returned.status_code == 200, returned.text
    seen = (await stack.http.get(f"/v1/reports/{report_id}", headers=unit)).json()
    assert seen["status"] == "returned"
    assert seen["review"]["reason"] == "Bổ sung số liệu mục 4."
    again = await _review(stack, report_id, decision="accepted")
    assert again.json()["error"]["code"] == "report_awaiting_resubmission"

    stack.clock.advance(timedelta(days=20))  # past the deadline
    amended = await stack.http.put(
        f"/v1/reports/{report_id}",
        json=ward_body(de_xuat_kien_nghi="Đề nghị tập huấn thêm."),
        headers=unit,
    )
    assert amended.status_code == 200, amended.text
    v2 = amended.json()
    assert v2["version"] == 2 and v2["on_time"] is True
    assert v2["first_submitted_at"] == created["submitted_at"] != v2["submitted_at"]

    versions = (await stack.http.get(f"/v1/reports/{report_id}/versions", headers=unit)).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content"]["de_xuat_kien_nghi"] is None
    assert versions[1]["content"]["de_xuat_kien_nghi"] == "Đề nghị tập huấn thêm."

    accepted = await _review(stack, report_id, decision="accepted", version=2)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    locked = await stack.http.put(f"/v1/reports/{report_id}", json=ward_body(), headers=unit)
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "report_accepted"

    submitted = await _events_of(stack, REPORT_SUBMITTED, report_id, 2)
    assert [(e["payload"]["version"], e["payload"]["on_time"]) for e in submitted] == [
        (1, True),
        (2, True),
    ]
    reviews = await _events_of(stack, REPORT_REVIEWED, report_id, 2)
    assert [e["payload"]["decision"] for e in reviews] == ["returned", "accepted"]

    trail = (await stack.http.get(f"/v1/reports/{report_id}/audit", headers=unit)).json()
    assert [(t["action"], t["actor"]) for t in trail] == [
        ("report_submitted", "18115"),
        ("report_returned", "pnv"),
        ("report_amended", "18115"),
        ("report_accepted", "pnv"),
    ]


async def test_a_unit_cannot_read_or_change_another_units_report(stack):
    report_id = (await _submit(stack, "18118"))["report_id"]
    other = stack.unit("18130")  # a unit with no report of its own in this module
    for method, path in (
        ("GET", f"/v1/reports/{report_id}"),
        ("GET", f"/v1/reports/{report_id}/versions"),
        ("GET", f"/v1/reports/{report_id}/audit"),
        ("PUT", f"/v1/reports/{report_id}"),
        ("POST", f"/v1/reports/{report_id}/withdraw"),
    ):
        answer = await stack.http.request(method, path, json=ward_body(), headers=other)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "report_not_found"
    assert (await stack.http.get("/v1/reports", headers=other)).json() == []
    peek = await stack.http.get("/v1/reports?unit_code=18118", headers=other)
    assert peek.status_code == 403
    unchanged = await stack.http.get(f"/v1/reports/{report_id}", headers=stack.unit("18118"))
    assert unchanged.json()["version"] == 1
    units_review = await stack.http.post(
        f"/v1/reports/{report_id}/review", json={"decision": "accepted"}, headers=other
    )
    assert units_review.status_code == 403


async def test_withdrawal_then_a_new_version(stack):
    report_id = (await _submit(stack, "18124"))["report_id"]
    unit = stack.unit("18124")
    withdrawn = await stack.http.post(f"/v1/reports/{report_id}/withdraw", headers=unit)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    twice = await stack.http.post(f"/v1/reports/{report_id}/withdraw", headers=unit)
    assert twice.json()["error"]["code"] == "report_withdrawn"
    review = await _review(stack, report_id, decision="accepted")
    assert review.status_code == 409 and review.json()["error"]["code"] == "report_withdrawn"
    events = await _events_of(stack, REPORT_WITHDRAWN, report_id, 1)
    assert events[0]["payload"]["version"] == 1

    moved = await stack.http.put(
        f"/v1/reports/{report_id}", json=ward_body(period_id="2023-Y"), headers=unit
    )
    assert moved.status_code == 422
    assert moved.json()["error"]["issues"][0]["code"] == "period_mismatch"
    back = await stack.http.put(f"/v1/reports/{report_id}", json=ward_body(), headers=unit)
    assert back.status_code == 200 and back.json()["version"] == 2
    current = (await stack.http.get(f"/v1/reports/{report_id}", headers=unit)).json()
    assert current["status"] == "submitted" and current["withdrawn_at"] is None


async def test_listing_by_period_unit_and_state(stack):
    first = await _submit(stack, "VP", department_body())
    await _submit(stack, "PTP", department_body())
    await _review(stack, first["report_id"], decision="accepted")

    def codes(answer) -> set[str]:
        assert answer.status_code == 200, answer.text
        return {r["unit_code"] for r in answer.json()}

    reviewer = stack.reviewer()
    in_period = codes(await stack.http.get("/v1/reports?period_id=2023-H1", headers=reviewer))
    assert {"VP", "PTP"} <= in_period
    accepted = codes(await stack.http.get("/v1/reports?status=accepted", headers=reviewer))
    assert "VP" in accepted and "PTP" not in accepted
    leader = stack.mint.headers("leader", username="lanhdao")
    assert codes(await stack.http.get("/v1/reports?unit_code=PTP", headers=leader)) == {"PTP"}
    # A service account reads what leaders read and changes nothing.
    service = stack.mint.headers("service", username="tich-hop")
    assert codes(await stack.http.get("/v1/reports?unit_code=PTP", headers=service)) == {"PTP"}
    refused = await stack.http.post(
        f"/v1/reports/{first['report_id']}/review", json={"decision": "accepted"}, headers=service
    )
    assert refused.status_code == 403
    assert codes(await stack.http.get("/v1/reports", headers=stack.unit("PTP"))) == {"PTP"}
    assert codes(await stack.http.get("/v1/reports?period_id=2023-Y", headers=reviewer)) == set()
    bad = await stack.http.get("/v1/reports?status=lost", headers=reviewer)
    assert bad.status_code == 422


async def test_nothing_changes_once_the_period_is_closed(stack):
    await _own_period(stack, "2023-Q3", "18121", status="open", version=1)
    body = ward_body(period_id="2023-Q3")
    report_id = (await _submit(stack, "18121", body))["report_id"]
    await _own_period(stack, "2023-Q3", "18121", status="closed", version=2)
    unit = stack.unit("18121")
    amend = await stack.http.put(f"/v1/reports/{report_id}", json=body, headers=unit)
    assert amend.status_code == 409 and amend.json()["error"]["code"] == "period_closed"
    withdraw = await stack.http.post(f"/v1/reports/{report_id}/withdraw", headers=unit)
    assert withdraw.json()["error"]["code"] == "period_closed"
    # Returning would leave the unit unable to answer; accepting is still possible.
    ret = await _review(stack, report_id, decision="returned", reason="Thiếu số liệu.")
    assert ret.status_code == 409 and ret.json()["error"]["code"] == "period_closed"
    assert (await _review(stack, report_id, decision="accepted")).status_code == 200
