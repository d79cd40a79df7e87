"""Upgrading to difficulty threads keeps every answer as the thread's first office message and
marks the unanswered threads as waiting since they were raised."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, select

from services.intake import db
from services.intake.app import MIGRATIONS
from shared.db import Database, UtcDateTime
from shared.migrations import upgrade_to_head
from tests.support.migrations import upgrade_to

RAISED = datetime(2023, 6, 5, 2, tzinfo=UTC)
ANSWERED = datetime(2023, 6, 6, 3, tzinfo=UTC)

# The tables as revision 0005 had them (no open_since, a version always).
_old = MetaData()
_reports = Table(
    "reports",
    _old,
    Column("report_id", String(36), primary_key=True),
    Column("period_id", String(32)),
    Column("unit_code", String(32)),
    Column("unit_name", String(300)),
    Column("status", String(12)),
    Column("version", Integer),
    Column("form_id", String(64)),
    Column("form_version", String(32)),
    Column("first_submitted_at", UtcDateTime()),
    Column("on_time", Boolean),
    Column("submitted_at", UtcDateTime()),
)
_difficulties = Table(
    "difficulties",
    _old,
    Column("difficulty_id", String(36), primary_key=True),
    Column("report_id", String(36)),
    Column("period_id", String(32)),
    Column("unit_code", String(32)),
    Column("text", Text),
    Column("text_sha256", String(64)),
    Column("raised_at", UtcDateTime()),
    Column("raised_in_version", Integer),
    Column("position", Integer),
    Column("answer", Text),
    Column("answered_by", String(64)),
    Column("answered_at", UtcDateTime()),
)


async def test_answers_become_messages_and_open_threads_wait_since_raised(databases) -> None:
    url = await databases.url("intake-threads")
    await upgrade_to(url, MIGRATIONS, "0005")
    database = Database(url)
    try:
        async with database.sessions() as session, session.begin():
            await session.execute(
                _reports.insert().values(
                    report_id="r-1",
                    period_id="2023-H1",
                    unit_code="18115",
                    unit_name="UBND phường Bắc Hồng",
                    status="submitted",
                    version=1,
                    form_id="dvcq-dinh-ky",
                    form_version="2023.1",
                    first_submitted_at=RAISED,
                    on_time=True,
                    submitted_at=RAISED,
                )
            )
            common = {
                "report_id": "r-1",
                "period_id": "2023-H1",
                "unit_code": "18115",
                "raised_at": RAISED,
                "raised_in_version": 1,
                "answer": None,
                "answered_by": None,
                "answered_at": None,
            }
            await session.execute(
                _difficulties.insert(),
                [
                    {
                        **common,
                        "difficulty_id": "d-1",
                        "text": "Hỏi 1",
                        "text_sha256": "1" * 64,
                        "position": 0,
                        "answer": "Đáp 1",
                        "answered_by": "pnv",
                        "answered_at": ANSWERED,
                    },
                    {
                        **common,
                        "difficulty_id": "d-2",
                        "text": "Hỏi 2",
                        "text_sha256": "2" * 64,
                        "position": 1,
                    },
                ],
            )
        await upgrade_to_head(database.engine, MIGRATIONS)
        async with database.sessions() as session:
            threads = {
                row.difficulty_id: row.open_since
                for row in await session.execute(select(db.difficulties))
            }
            messages = (await session.execute(select(db.difficulty_messages))).all()
        assert threads == {"d-1": None, "d-2": RAISED}
        [message] = messages
        assert (message.difficulty_id, message.side, message.author, message.text) == (
            "d-1",
            "office",
            "pnv",
            "Đáp 1",
        )
        assert message.posted_at == ANSWERED
    finally:
        await database.dispose()
