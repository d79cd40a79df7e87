"""Upgrading intake to the shared Idempotency-Key table keeps the stored answers replayable."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table

from services.intake import db
from services.intake.app import MIGRATIONS
from shared.db import Database, UtcDateTime
from shared.idempotency import IdempotentRequest, replay
from shared.migrations import upgrade_to_head
from tests.support.migrations import upgrade_to

# The table as revision 0002 had it, with its report_id column.
_before = Table(
    "idempotency_keys",
    MetaData(),
    Column("scope", String(80), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64)),
    Column("report_id", String(36)),
    Column("status_code", Integer),
    Column("response", JSON),
    Column("created_at", UtcDateTime()),
)


def _old_fingerprint(operation: str, body: object) -> str:
    # Intake's own fingerprint before shared.idempotency, verbatim.
    text = json.dumps([operation, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def test_answers_stored_before_the_upgrade_are_still_replayed(databases) -> None:
    url = await databases.url("intake-upgrade")
    await upgrade_to(url, MIGRATIONS, "0002")
    body = {"period_id": "2023-H1", "noi_dung": "Báo cáo đột xuất"}
    answer = {"report_id": "r-1", "version": 1, "status": "submitted"}
    database = Database(url)
    try:
        async with database.sessions() as session, session.begin():
            await session.execute(
                _before.insert().values(
                    scope="unit:18115",
                    key="gui-lan-1",
                    fingerprint=_old_fingerprint("POST /v1/reports", body),
                    report_id="r-1",
                    status_code=201,
                    response=answer,
                    created_at=datetime(2023, 6, 5, 3, tzinfo=UTC),
                )
            )
        await upgrade_to_head(database.engine, MIGRATIONS)
        keyed = IdempotentRequest.of(
            "gui-lan-1", caller="unit:18115", method="POST", path="/v1/reports", body=body
        )
        assert keyed is not None
        async with database.sessions() as session:
            earlier = await replay(session, db.idempotency_keys, keyed)
        assert earlier is not None
        assert (earlier.status_code, earlier.body, earlier.replayed) == (201, answer, True)
    finally:
        await database.dispose()
