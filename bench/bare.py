"""The bare-stack baseline of intake: FastAPI + pydantic + SQLAlchemy, nothing else.

`PUT /v1/reports/{report_id}` validates the same report body the benchmark sends to intake
with a pydantic model and inserts it in one transaction, on an engine made by
`shared.db.create_engine` (the same SQLite settings: WAL, `synchronous=FULL`, one pooled
connection). It is served by uvicorn the way `shared.service.serve` serves a service, as its
own process: `python -m bench.bare --port N --database-url URL`.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert

from shared.db import UtcDateTime, create_engine, make_session_factory

metadata = MetaData()
reports = Table(
    "bare_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", String(64), nullable=False, index=True),
    Column("request_key", String(64), nullable=False),
    Column("content", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)


class LeaderAnswer(BaseModel):
    """The unit's answer to the leader check of a section (plan II.5)."""

    model_config = ConfigDict(extra="forbid")

    confirmed: bool
    full_name: str = Field("", max_length=200)
    title: str = Field("", max_length=200)


class Section(BaseModel):
    """One numbered section of the periodic report."""

    model_config = ConfigDict(extra="forbid")

    narrative: str = Field(max_length=20_000)
    indicators: dict[str, float] = Field(default_factory=dict, max_length=100)
    lanh_dao_phu_trach: LeaderAnswer | None = None


class ReportBody(BaseModel):
    """The periodic report body, typed (intake validates it against the form definition)."""

    model_config = ConfigDict(extra="forbid")

    period_id: str = Field(min_length=1, max_length=32)
    sections: dict[str, Section] = Field(max_length=20)
    ton_tai_han_che: str = Field("", max_length=20_000)
    phuong_huong: str = Field("", max_length=20_000)
    de_xuat_kien_nghi: str = Field("", max_length=20_000)
    vuong_mac: list[str] = Field(default_factory=list, max_length=50)


def create_app(database_url: str) -> FastAPI:
    engine = create_engine(database_url)
    sessions = make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(title="bare baseline", lifespan=lifespan)

    @app.put("/v1/reports/{report_id}")
    async def amend(report_id: str, body: ReportBody) -> dict[str, Any]:
        key = str(uuid.uuid4())
        async with sessions() as session, session.begin():
            await session.execute(
                insert(reports).values(
                    report_id=report_id,
                    request_key=key,
                    content=body.model_dump(mode="json"),
                    received_at=datetime.now(UTC),
                )
            )
        return {"report_id": report_id, "request_key": key}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.database_url),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
