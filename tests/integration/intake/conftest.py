"""A running intake fed the registry's events over a real nats-server, and helpers to drive it."""

from __future__ import annotations

import copy
import importlib.resources
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import pytest_asyncio
import yaml
from nats.js import JetStreamContext
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake import db as intake_db
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.clock import VN_TZ, ManualClock, local_midnight
from shared.contracts.envelope import Envelope
from shared.contracts.registry import (
    ExpectedUnit,
    PeriodChanged,
    PeriodState,
    UnitChanged,
    UnitState,
)
from shared.db import create_engine
from tests.support.databases import TestDatabases
from tests.support.http import eventually, serve_app
from tests.support.nats import NatsServer
from tests.support.reports import periodic_form_version
from tests.support.tokens import TokenMint

# Before the 2023-H1 deadline (10/06/2023 00:00 local), so first submissions are on time.
BEFORE_H1_DEADLINE = datetime(2023, 6, 5, 9, 30, tzinfo=VN_TZ)

WARD_BODY: dict[str, Any] = {
    "period_id": "2023-H1",
    "sections": {
        "1": {
            "narrative": "Đã quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ.",
            "indicators": {"van_ban_ban_hanh": 3, "hoi_nghi_quan_triet": 2},
        },
        "2": {"narrative": "Đăng ký xây dựng 4 mô hình “Dân vận khéo”.", "indicators": {}},
        "3": {
            "narrative": "Tổ chức 1 lớp tập huấn kỹ năng.",
            "indicators": {"sai_pham_phat_hien": 1, "sai_pham_xu_ly": 2},
        },
        "4": {
            "narrative": "Giải quyết hồ sơ thủ tục hành chính đúng quy định.",
            "indicators": {
                "ho_so_tthc_tiep_nhan": 1200,
                "ho_so_tthc_dung_han": 1180,
                "ho_so_tthc_qua_han": 5,
                "ho_so_truc_tuyen": 900,
            },
        },
        "5": {"narrative": "Không phát sinh", "indicators": {"co_lanh_dao_phu_trach": True}},
        "6": {"narrative": "Ký kết quy chế phối hợp.", "indicators": {"nhan_dan_dong_gop": 125.5}},
        "7": {"narrative": "Tiếp công dân định kỳ.", "indicators": {"don_thu_tiep_nhan": 0}},
        "8": {"narrative": "Khen thưởng tập thể, cá nhân.", "indicators": {"ho_thoat_ngheo": 12}},
    },
    "ton_tai_han_che": "Một số hồ sơ còn giải quyết quá hạn.",
    "phuong_huong": "Tiếp tục đẩy mạnh cải cách hành chính.",
    "de_xuat_kien_nghi": "",
    "vuong_mac": ["Chưa có hướng dẫn chấm điểm mô hình Dân vận khéo."],
}


def department_body(**changes: Any) -> dict[str, Any]:
    """A valid 2023-H1 report of a department: without the ward-only indicators."""
    body = ward_body(**changes)
    body["sections"]["6"]["indicators"] = {}
    body["sections"]["8"]["indicators"] = {}
    return body


def ward_body(**changes: Any) -> dict[str, Any]:
    """A valid 2023-H1 report of a ward, with top-level keys replaced."""
    body = copy.deepcopy(WARD_BODY)
    body.update(changes)
    return body


@dataclass
class Stack:
    """The running services and what a test needs to drive and inspect them."""

    http: httpx.AsyncClient
    js: JetStreamContext
    clock: ManualClock
    mint: TokenMint
    engine: AsyncEngine
    database_url: str
    nats: NatsServer
    attachments_dir: Path

    @property
    def nats_url(self) -> str:
        """Where the test's nats-server listens."""
        return self.nats.url

    def unit(self, code: str) -> dict[str, str]:
        """Authorization headers of a unit account."""
        return self.mint.headers("unit", code)

    def reviewer(self) -> dict[str, str]:
        """Authorization headers of a Phòng Nội vụ reviewer."""
        return self.mint.headers("reviewer", username="pnv")

    async def count(self, table: Table, **where: Any) -> int:
        """Rows in one of intake's tables, optionally only those with these column values."""
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        async with self.engine.connect() as connection:
            return int((await connection.execute(query)).scalar() or 0)

    async def counts(self) -> dict[str, int]:
        """Rows in every table a request may write."""
        tables = (
            intake_db.reports,
            intake_db.report_versions,
            intake_db.idempotency_keys,
            intake_db.difficulties,
            intake_db.difficulty_messages,
            intake_db.drafts,
            intake_db.audit_log,
            intake_db.outbox,
        )
        return {table.name: await self.count(table) for table in tables}

    async def publish(self, event: Envelope[Any]) -> None:
        """Publish an event as its producer's relay would."""
        await self.js.publish(
            event.subject, event.to_json(), headers={"Nats-Msg-Id": str(event.event_id)}
        )

    async def wait_period(self, period_id: str, version: int = 1) -> None:
        """Until intake's projection holds the period at least at this version."""

        async def projected() -> bool:
            async with self.engine.connect() as connection:
                row = (
                    await connection.execute(
                        select(intake_db.periods.c.version).where(
                            intake_db.periods.c.period_id == period_id
                        )
                    )
                ).first()
            return row is not None and row.version >= version

        await eventually(projected, timeout=15)

    async def intake_events(self, subject: str) -> list[dict[str, Any]]:
        """Every event on a subject of the DANVAN_INTAKE stream, oldest first."""
        info = await self.js.stream_info("DANVAN_INTAKE")
        events = []
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            try:
                msg = await self.js.get_msg("DANVAN_INTAKE", seq)
            except nats.js.errors.NotFoundError:
                continue
            if msg.subject == subject:
                events.append(json.loads(msg.data or b"{}"))
        return events


def intake_settings(database_url: str, nats_url: str, **extra: Any) -> IntakeSettings:
    """Test settings for an intake instance."""
    return IntakeSettings(
        database_url=database_url,
        nats_url=nats_url,
        env="test",
        outbox_poll_seconds=0.2,
        consumer_backoff_seconds=0.1,
        **extra,
    )


def hong_linh_events() -> list[Envelope[Any]]:
    """The registry's seed as its events: every unit, and periods 2023-H1 (form 2023.1) and
    2023-Y (form 2023.2)."""
    seed_file = importlib.resources.files("services.registry.seed").joinpath("hong_linh.yaml")
    raw = yaml.safe_load(seed_file.read_text("utf-8"))
    units = [
        UnitState(
            unit_id=f"{item['code']}@2019-01-01",
            code=item["code"],
            name=item["name"],
            kind=item["kind"],
            tags=tuple(item.get("tags", ())),
            display_order=item.get("order", 0),
            must_report=item.get("must_report", True),
            valid_from=date(2019, 1, 1),
            version=1,
        )
        for item in raw["units"]
    ]
    expected = tuple(
        ExpectedUnit(
            code=u.code, name=u.name, kind=u.kind, tags=u.tags, display_order=u.display_order
        )
        for u in units
        if u.must_report
    )
    periods = [
        PeriodState(
            period_id=period_id,
            kind=kind,
            year=2023,
            title=title,
            form_id="dvcq-dinh-ky",
            form_version=periodic_form_version(period_id),
            window_start=date(2022, 12, 15),
            window_end=window_end,
            due_at=local_midnight(due),
            status="open",
            expected_units=expected,
            version=1,
        )
        for period_id, kind, title, window_end, due in (
            ("2023-H1", "six_month", "6 tháng đầu năm 2023", date(2023, 6, 14), date(2023, 6, 10)),
            ("2023-Y", "annual", "năm 2023", date(2023, 12, 14), date(2023, 11, 25)),
        )
    ]
    events: list[Envelope[Any]] = [UnitChanged.new(u, producer="registry") for u in units]
    events += [PeriodChanged.new(p, producer="registry") for p in periods]
    return events


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One running intake per test module: its tests use distinct units and periods."""
    root = tmp_path_factory.mktemp("intake")
    server = NatsServer(root / "nats")
    server.start()
    databases = TestDatabases(root)
    mint = TokenMint()
    clock = ManualClock(BEFORE_H1_DEADLINE)
    try:
        intake_url = await databases.url("intake")
        intake = create_intake(
            intake_settings(intake_url, server.url, data_dir=root / "data"),
            clock=clock,
            key_source=mint.key_source(),
        )
        async with AsyncExitStack() as exits:
            base = await exits.enter_async_context(serve_app(intake))
            http = await exits.enter_async_context(httpx.AsyncClient(base_url=base, timeout=20))
            nc = await nats.connect(server.url)
            exits.push_async_callback(nc.close)
            engine = create_engine(intake_url)
            exits.push_async_callback(engine.dispose)
            running = Stack(
                http=http,
                js=nc.jetstream(),
                clock=clock,
                mint=mint,
                engine=engine,
                database_url=intake_url,
                nats=server,
                attachments_dir=root / "data" / "intake-attachments",
            )
            await eventually(lambda: _streams_ready(running.js))
            for event in hong_linh_events():
                await running.publish(event)
            await running.wait_period("2023-H1")
            await running.wait_period("2023-Y")
            yield running
    finally:
        await databases.drop_all()
        server.stop()


@pytest.fixture
def stack(module_stack: Stack) -> Stack:
    """The module's running intake, its clock back before the 2023-H1 deadline."""
    module_stack.clock.set(BEFORE_H1_DEADLINE)
    return module_stack


async def _streams_ready(js: JetStreamContext) -> bool:
    try:
        await js.stream_info("DANVAN_REGISTRY")
    except nats.js.errors.NotFoundError:
        return False
    return True
