"""Retries with an Idempotency-Key get the first answer; one report per unit and period."""

from __future__ import annotations

import asyncio

import pytest

from services.intake import db
from tests.integration.intake.conftest import department_body, ward_body

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_same_key_sent_concurrently_creates_one_report(stack):
    headers = {**stack.unit("18115"), "Idempotency-Key": "bao-cao-18115-h1"}
    answers = await asyncio.gather(
        *(stack.http.post("/v1/reports", json=ward_body(), headers=headers) for _ in range(5))
    )
    assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
    assert len({a.json()["report_id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 4
    report_id = answers[0].json()["report_id"]
    assert await stack.count(db.reports, unit_code="18115") == 1
    assert await stack.count(db.report_versions, report_id=report_id) == 1
    assert await stack.count(db.difficulties, report_id=report_id) == 1

    again = await stack.http.post("/v1/reports", json=ward_body(), headers=headers)
    assert again.status_code == 201 and again.json() == answers[0].json()


async def test_the_same_key_with_another_body_is_refused(stack):
    headers = {**stack.unit("18118"), "Idempotency-Key": "k-1"}
    assert (
        await stack.http.post("/v1/reports", json=ward_body(), headers=headers)
    ).status_code == 201
    before = await stack.counts()
    reused = await stack.http.post(
        "/v1/reports", json=ward_body(phuong_huong="Khác trước."), headers=headers
    )
    # One rule for every service (shared.idempotency): the key with another request is a 422.
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert await stack.counts() == before


async def test_keys_belong_to_one_unit(stack):
    key = {"Idempotency-Key": "chung"}
    first = await stack.http.post(
        "/v1/reports", json=ward_body(), headers={**stack.unit("18121"), **key}
    )
    other = await stack.http.post(
        "/v1/reports", json=ward_body(), headers={**stack.unit("18124"), **key}
    )
    assert first.status_code == other.status_code == 201
    assert first.json()["report_id"] != other.json()["report_id"]


async def test_concurrent_submissions_without_keys_leave_one_report_and_409s(stack):
    answers = await asyncio.gather(
        *(
            stack.http.post("/v1/reports", json=ward_body(), headers=stack.unit("18127"))
            for _ in range(4)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409], [a.text for a in answers]
    created = next(a for a in answers if a.status_code == 201).json()
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["error"]["code"] == "report_exists"
        assert refused.json()["error"]["details"]["report_id"] == created["report_id"]
    assert await stack.count(db.reports, unit_code="18127") == 1


async def test_a_refused_request_does_not_burn_its_key(stack):
    headers = {**stack.unit("18130"), "Idempotency-Key": "thu-lai"}
    bad = await stack.http.post("/v1/reports", json=ward_body(phuong_huong=""), headers=headers)
    assert bad.status_code == 422
    good = await stack.http.post("/v1/reports", json=ward_body(), headers=headers)
    assert good.status_code == 201, good.text


async def test_an_unusable_key_is_400(stack):
    headers = {**stack.unit("18115"), "Idempotency-Key": "x" * 300}
    answer = await stack.http.post("/v1/reports", json=ward_body(), headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_idempotency_key"


async def test_concurrent_amendments_make_one_new_version_and_409s(stack):
    unit = stack.unit("VP")
    created = await stack.http.post("/v1/reports", json=department_body(), headers=unit)
    assert created.status_code == 201, created.text
    path, report_id = created.headers["location"], created.json()["report_id"]
    answers = await asyncio.gather(
        *(
            stack.http.put(path, json=department_body(phuong_huong=f"Bản {i}."), headers=unit)
            for i in range(3)
        )
    )
    # However the three interleave, no update is lost: each success is its own version.
    won = [a.json()["version"] for a in answers if a.status_code == 200]
    assert sorted(won) == list(range(2, 2 + len(won))) and won, [a.text for a in answers]
    lost = [a.json()["error"]["code"] for a in answers if a.status_code != 200]
    assert set(lost) <= {"report_changed"}
    assert await stack.count(db.report_versions, report_id=report_id) == 1 + len(won)
    versions = (await stack.http.get(f"{path}/versions", headers=unit)).json()
    assert [v["version"] for v in versions] == list(range(1, 2 + len(won)))

    retried = {**unit, "Idempotency-Key": "sua-lan-2"}
    twins = await asyncio.gather(
        *(stack.http.put(path, json=department_body(), headers=retried) for _ in range(3))
    )
    assert [a.status_code for a in twins] == [200] * 3, [a.text for a in twins]
    assert len({a.json()["version"] for a in twins}) == 1
    assert await stack.count(db.report_versions, report_id=report_id) == 2 + len(won)
