import os
import subprocess
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.reminders.app import create_app
from services.reminders.settings import RemindersSettings
from shared.natsauth import new_key_pair

REPO = Path(__file__).resolve().parents[3]


def test_smtp_and_policy_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANVAN_SMTP_HOST", "smtp.honglinh.gov.vn")
    monkeypatch.setenv("DANVAN_SMTP_PORT", "587")
    monkeypatch.setenv("DANVAN_SMTP_STARTTLS", "true")
    monkeypatch.setenv("DANVAN_SMTP_USERNAME", "don-doc")
    monkeypatch.setenv("DANVAN_SMTP_PASSWORD", "mat-khau")
    monkeypatch.setenv("DANVAN_SMTP_FROM", "Phòng Nội vụ <pnv@honglinh.gov.vn>")
    monkeypatch.setenv("DANVAN_REMINDERS_BEFORE_DAYS", "[5, 2]")
    monkeypatch.setenv("DANVAN_REMINDERS_HOLIDAYS", '["2023-09-01", "2023-09-04"]')
    monkeypatch.setenv("DANVAN_REMINDERS_MAKE_UP_DAYS", '["2023-09-09"]')
    monkeypatch.setenv("DANVAN_REMINDERS_QUIET_START", "20:00")
    monkeypatch.setenv("DANVAN_REMINDERS_REVIEWER_EMAILS", '["pnv@honglinh.gov.vn"]')
    monkeypatch.setenv("DANVAN_PORTAL_BASE_URL", "https://baocao.honglinh.gov.vn")

    settings = RemindersSettings()

    assert (settings.service_name, settings.http_port) == ("reminders", 8003)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.honglinh.gov.vn",
        587,
        True,
    )
    assert (settings.smtp_username, settings.smtp_password) == ("don-doc", "mat-khau")
    policy = settings.policy()
    assert policy.before_days == (5, 2)
    assert policy.calendar.days_off == frozenset({date(2023, 9, 1), date(2023, 9, 4)})
    assert policy.calendar.make_up_days == frozenset({date(2023, 9, 9)})
    assert policy.calendar.country == "VN"
    assert policy.is_working_day(date(2023, 9, 9))  # a Saturday worked in exchange
    assert policy.quiet_start == time(20, 0)
    assert settings.reviewer_emails == ("pnv@honglinh.gov.vn",)
    assert settings.portal_url == "https://baocao.honglinh.gov.vn"
    assert RemindersSettings(portal_url="http://x.test").portal_url == "http://x.test"


def test_a_policy_that_cannot_work_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="yên lặng"):
        RemindersSettings(send_time=time(22, 0))


PUBLIC_PORTAL = "https://baocao.honglinh.gov.vn"
# A real secret: at least 32 bytes (shared.settings.MIN_SECRET_BYTES).
WEBHOOK_SECRET = "s3cret-value-of-at-least-32-bytes-0f7c1e"


def test_production_refuses_the_placeholder_webhook_secret() -> None:
    nats: dict[str, Any] = {"nats_nkey_seed": new_key_pair().seed}
    with pytest.raises(ValidationError, match="DANVAN_REMINDERS_WEBHOOK_SECRET"):
        RemindersSettings(
            env="production",
            database_url="postgresql://db/reminders",
            portal_url=PUBLIC_PORTAL,
            **nats,
        )
    RemindersSettings(
        env="production",
        database_url="postgresql://db/reminders",
        webhook_secret=WEBHOOK_SECRET,
        portal_url=PUBLIC_PORTAL,
        **nats,
    )


@pytest.mark.parametrize(
    "portal",
    [
        "http://127.0.0.1:8000",  # the embedded default
        "http://127.0.1.1",
        "http://localhost",
        "https://LOCALHOST./cong",
        "http://portal.localhost:8000",
        "http://[::1]:8000",
        "http://0.0.0.0",
    ],
)
def test_production_refuses_a_loopback_portal_address(portal: str) -> None:
    with pytest.raises(ValidationError, match="DANVAN_PORTAL_BASE_URL trỏ tới máy cục bộ"):
        RemindersSettings(
            env="production",
            database_url="postgresql://db/reminders",
            webhook_secret=WEBHOOK_SECRET,
            portal_url=portal,
            nats_nkey_seed=new_key_pair().seed,
        )
    # Development and tests keep the embedded default.
    assert RemindersSettings(env="development", portal_url=portal).portal_url == portal
    # `make run-cluster` (the production shape on one machine) overrides it explicitly.
    assert (
        RemindersSettings(
            env="production",
            database_url="postgresql://db/reminders",
            webhook_secret=WEBHOOK_SECRET,
            portal_url=portal,
            nats_nkey_seed=new_key_pair().seed,
            allow_local_portal_url=True,
        ).portal_url
        == portal
    )


def test_a_public_portal_address_is_accepted_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANVAN_PORTAL_BASE_URL", "http://10.0.0.5")  # an intranet address
    settings = RemindersSettings(
        env="production",
        database_url="postgresql://db/reminders",
        webhook_secret=WEBHOOK_SECRET,
        nats_nkey_seed=new_key_pair().seed,
    )
    assert settings.portal_url == "http://10.0.0.5"


def test_one_plan_reference_setting_for_the_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "…/KH-UBND ngày … tháng 02 năm 2023" in RemindersSettings().plan_reference
    reference = "Kế hoạch số 25/KH-UBND ngày 15 tháng 02 năm 2023 của UBND thị xã"
    monkeypatch.setenv("DANVAN_PLAN_REFERENCE", reference)
    assert RemindersSettings().plan_reference == reference
    assert create_app(RemindersSettings(env="test")).state.context.letter.plan_reference == (
        reference
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "DANVAN_REMINDERS_HOLIDAYS",
            '["2026-11-24", "2026-02-30"]',
            "DANVAN_REMINDERS_HOLIDAYS: mục thứ 2 ('2026-02-30') không phải là một ngày hợp lệ",
        ),
        (
            "DANVAN_REMINDERS_MAKE_UP_DAYS",
            '["31/12/2026"]',
            "DANVAN_REMINDERS_MAKE_UP_DAYS: mục thứ 1 ('31/12/2026') không phải là một ngày",
        ),
        (
            "DANVAN_REMINDERS_HOLIDAYS",
            '"2026-11-24"',
            "DANVAN_REMINDERS_HOLIDAYS phải là danh sách",
        ),
        ("DANVAN_REMINDERS_HOLIDAY_COUNTRY", "XX", "Không có lịch nghỉ lễ của quốc gia «XX»"),
    ],
)
def test_a_calendar_entry_that_is_not_a_date_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        RemindersSettings()
    assert message in str(refused.value)


def test_a_day_both_off_and_worked_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="vừa là ngày nghỉ vừa là ngày làm bù"):
        RemindersSettings(holidays=(date(2027, 2, 13),), make_up_days=(date(2027, 2, 13),))


def test_the_service_refuses_to_start_with_a_bad_holiday_list(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DANVAN_REMINDERS_HOLIDAYS": '["2027-02-11", "mùng 5 Tết"]',
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'never.db'}",
        "DANVAN_HTTP_PORT": "1",  # would fail loudly if it ever got as far as listening
    }
    started = subprocess.run(
        [sys.executable, "-m", "services.reminders"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode != 0
    assert "DANVAN_REMINDERS_HOLIDAYS: mục thứ 2 ('mùng 5 Tết') không phải là một ngày" in (
        started.stderr
    )
    assert not (tmp_path / "never.db").exists()
