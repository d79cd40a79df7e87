"""Intake takes reports while NATS is down; they are published once it is back."""

from __future__ import annotations

import pytest

from shared.contracts.intake import REPORT_SUBMITTED
from tests.integration.intake.conftest import ward_body
from tests.support.http import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_submission_while_nats_is_down_is_accepted_and_published_once_it_is_back(
    stack,
):
    stack.nats.kill()
    answer = await stack.http.post("/v1/reports", json=ward_body(), headers=stack.unit("18127"))
    assert answer.status_code == 201, answer.text
    stack.nats.start()

    async def published():
        try:
            events = await stack.intake_events(REPORT_SUBMITTED)
        except Exception:  # the test's own connection is still reconnecting
            return None
        return [e for e in events if e["payload"]["unit_code"] == "18127"]

    events = await eventually(published, timeout=20)
    assert len(events) == 1 and events[0]["payload"]["report_id"] == answer.json()["report_id"]
