from datetime import date, time

import pytest
from pydantic import ValidationError

from services.reminders.settings import RemindersSettings


def test_smtp_and_policy_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANVAN_SMTP_HOST", "smtp.honglinh.gov.vn")
    monkeypatch.setenv("DANVAN_SMTP_PORT", "587")
    monkeypatch.setenv("DANVAN_SMTP_STARTTLS", "true")
    monkeypatch.setenv("DANVAN_SMTP_USERNAME", "don-doc")
    monkeypatch.setenv("DANVAN_SMTP_PASSWORD", "mat-khau")
    monkeypatch.setenv("DANVAN_SMTP_FROM", "Phòng Nội vụ <pnv@honglinh.gov.vn>")
    monkeypatch.setenv("DANVAN_REMINDERS_BEFORE_DAYS", "[5, 2]")
    monkeypatch.setenv("DANVAN_REMINDERS_HOLIDAYS", '["2023-09-01", "2023-09-04"]')
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
    assert policy.holidays == frozenset({date(2023, 9, 1), date(2023, 9, 4)})
    assert policy.quiet_start == time(20, 0)
    assert settings.reviewer_emails == ("pnv@honglinh.gov.vn",)
    assert settings.portal_url == "https://baocao.honglinh.gov.vn"
    assert RemindersSettings(portal_url="http://x.test").portal_url == "http://x.test"


def test_a_policy_that_cannot_work_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="yên lặng"):
        RemindersSettings(send_time=time(22, 0))


def test_production_refuses_the_placeholder_webhook_secret() -> None:
    with pytest.raises(ValidationError, match="DANVAN_REMINDERS_WEBHOOK_SECRET"):
        RemindersSettings(env="production", database_url="postgresql://db/reminders")
    RemindersSettings(
        env="production", database_url="postgresql://db/reminders", webhook_secret="s3cret-value"
    )
