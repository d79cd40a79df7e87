"""Reminders settings: the policy, the channels, the portal link and the urging letter."""

from __future__ import annotations

import ipaddress
import json
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator

from services.reminders.domain import ReminderPolicy, ReminderPolicyError
from services.reminders.letter import DEFAULT_DRAFTING_UNIT, DEFAULT_PLAN_REFERENCE
from services.reminders.webhook_addresses import WebhookAddressPolicy, parse_networks
from shared.settings import DEVELOPMENT_PLACEHOLDER, ServiceSettings, refuse_weak_secret
from shared.working_calendar import DEFAULT_COUNTRY, CalendarError, WorkingCalendar


def is_loopback_url(url: str) -> bool:
    """Whether a URL points at this machine: localhost, 127.0.0.0/8, ::1 (or 0.0.0.0)."""
    host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


_CALENDAR_VARIABLES = {
    "holidays": "DANVAN_REMINDERS_HOLIDAYS",
    "make_up_days": "DANVAN_REMINDERS_MAKE_UP_DAYS",
}


class RemindersSettings(ServiceSettings):
    """When and how units are urged; list values come from the environment as JSON."""

    service_name: str = "reminders"
    http_port: int = Field(8003, alias="DANVAN_HTTP_PORT")

    before_days: tuple[int, ...] = Field((7, 3, 1), alias="DANVAN_REMINDERS_BEFORE_DAYS")
    send_time: time = Field(time(8, 0), alias="DANVAN_REMINDERS_SEND_TIME")
    overdue_every_working_days: int = Field(2, alias="DANVAN_REMINDERS_OVERDUE_EVERY_WORKING_DAYS")
    escalate_after_days: int = Field(3, alias="DANVAN_REMINDERS_ESCALATE_AFTER_DAYS")
    quiet_start: time = Field(time(21, 0), alias="DANVAN_REMINDERS_QUIET_START")
    quiet_end: time = Field(time(7, 0), alias="DANVAN_REMINDERS_QUIET_END")
    skip_weekends: bool = Field(True, alias="DANVAN_REMINDERS_SKIP_WEEKENDS")
    # The working calendar: Vietnam's public holidays (the `holidays` package, Tết included;
    # "" for none), plus extra days off and make-up working days ("ngày làm bù"), as JSON
    # lists of "YYYY-MM-DD". An entry that is not a date stops the service at start-up.
    holidays: tuple[date, ...] = Field((), alias="DANVAN_REMINDERS_HOLIDAYS")
    make_up_days: tuple[date, ...] = Field((), alias="DANVAN_REMINDERS_MAKE_UP_DAYS")
    holiday_country: str = Field(DEFAULT_COUNTRY, alias="DANVAN_REMINDERS_HOLIDAY_COUNTRY")
    template_dir: Path | None = Field(None, alias="DANVAN_REMINDERS_TEMPLATE_DIR")
    reviewer_emails: tuple[str, ...] = Field((), alias="DANVAN_REMINDERS_REVIEWER_EMAILS")
    portal_url: str = Field(
        "http://127.0.0.1:8000",
        validation_alias=AliasChoices("DANVAN_PORTAL_BASE_URL", "DANVAN_PORTAL_URL", "portal_url"),
    )
    # Explicit override for trying the production shape on one machine (`make run-cluster`),
    # where the gateway is on 127.0.0.1: never set in a real deployment.
    allow_local_portal_url: bool = Field(False, alias="DANVAN_ALLOW_LOCAL_PORTAL_URL")

    tick_seconds: float = Field(60.0, alias="DANVAN_REMINDERS_TICK_SECONDS", gt=0)
    scheduler_enabled: bool = Field(True, alias="DANVAN_REMINDERS_SCHEDULER_ENABLED")
    events_wait_seconds: float = Field(10.0, alias="DANVAN_REMINDERS_EVENTS_WAIT_SECONDS", ge=0)
    delivery_attempts: int = Field(4, alias="DANVAN_REMINDERS_DELIVERY_ATTEMPTS", ge=1, le=20)
    retry_backoff_seconds: float = Field(2.0, alias="DANVAN_REMINDERS_RETRY_BACKOFF_SECONDS", ge=0)
    retry_backoff_cap_seconds: float = Field(
        60.0, alias="DANVAN_REMINDERS_RETRY_BACKOFF_CAP_SECONDS", ge=0
    )
    delivery_concurrency: int = Field(8, alias="DANVAN_REMINDERS_DELIVERY_CONCURRENCY", ge=1)
    delivery_lease_seconds: float = Field(
        900.0, alias="DANVAN_REMINDERS_DELIVERY_LEASE_SECONDS", gt=0
    )

    smtp_enabled: bool = Field(True, alias="DANVAN_SMTP_ENABLED")
    smtp_host: str = Field("127.0.0.1", alias="DANVAN_SMTP_HOST")
    smtp_port: int = Field(8025, alias="DANVAN_SMTP_PORT", ge=1, le=65535)
    smtp_starttls: bool = Field(False, alias="DANVAN_SMTP_STARTTLS")
    smtp_username: str = Field("", alias="DANVAN_SMTP_USERNAME")
    smtp_password: str = Field("", alias="DANVAN_SMTP_PASSWORD")
    smtp_from: str = Field(
        "Phòng Nội vụ thị xã Hồng Lĩnh <don-doc@honglinh.local>", alias="DANVAN_SMTP_FROM"
    )
    smtp_timeout_seconds: float = Field(15.0, alias="DANVAN_SMTP_TIMEOUT_SECONDS", gt=0)

    webhook_secret: str = Field(DEVELOPMENT_PLACEHOLDER, alias="DANVAN_REMINDERS_WEBHOOK_SECRET")
    webhook_gateway_url: str = Field("", alias="DANVAN_REMINDERS_WEBHOOK_GATEWAY_URL")
    webhook_timeout_seconds: float = Field(10.0, alias="DANVAN_REMINDERS_WEBHOOK_TIMEOUT_SECONDS")
    # Units' webhooks reach only public addresses, and these networks (JSON list of
    # addresses or CIDR ranges, e.g. ["10.20.0.0/16"]); see webhook_addresses.py.
    webhook_allowed_networks: tuple[str, ...] = Field(
        (), alias="DANVAN_REMINDERS_WEBHOOK_ALLOWED_NETWORKS"
    )

    letter_authority: str = Field("Ủy ban nhân dân", alias="DANVAN_LETTER_AUTHORITY")
    letter_issuer: str = Field("Thị xã Hồng Lĩnh", alias="DANVAN_LETTER_ISSUER")
    letter_number_suffix: str = Field("UBND-NV", alias="DANVAN_LETTER_NUMBER_SUFFIX")
    letter_place: str = Field("Hồng Lĩnh", alias="DANVAN_LETTER_PLACE")
    letter_signer_title: str = Field("Phó Chủ tịch", alias="DANVAN_LETTER_SIGNER_TITLE")
    letter_signer_name: str = Field("", alias="DANVAN_LETTER_SIGNER_NAME")
    letter_head_title: str = Field("Chủ tịch", alias="DANVAN_LETTER_HEAD_TITLE")
    letter_copies: tuple[str, ...] = Field(
        ("Như trên", "Chủ tịch, các PCT UBND thị xã (b/c)"), alias="DANVAN_LETTER_COPIES"
    )
    letter_grace_working_days: int = Field(3, alias="DANVAN_LETTER_GRACE_WORKING_DAYS", ge=1)
    # The office that drafts the letter (Phòng Nội vụ): never listed among the late units.
    letter_drafting_unit: str = Field(DEFAULT_DRAFTING_UNIT, alias="DANVAN_LETTER_DRAFTING_UNIT")
    # The plan the letter cites by number and date, one setting for the whole deployment
    # (consolidation's town report cites the same plan; its older name is accepted too). The
    # seed leaves the number blank, so the default keeps "…" until a deployment fills it.
    plan_reference: str = Field(
        DEFAULT_PLAN_REFERENCE,
        validation_alias=AliasChoices(
            "DANVAN_PLAN_REFERENCE", "DANVAN_DOCUMENT_PLAN_REFERENCE", "plan_reference"
        ),
        min_length=1,
        max_length=500,
    )

    @field_validator("holidays", "make_up_days", mode="before")
    @classmethod
    def _dates(cls, raw: Any, info: ValidationInfo) -> Any:
        """Each entry a real day written YYYY-MM-DD, refused with the entry named."""
        variable = _CALENDAR_VARIABLES[str(info.field_name)]
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise ValueError(
                    f"{variable} phải là danh sách JSON các ngày dạng YYYY-MM-DD, "
                    f'ví dụ ["2027-02-11"]; đã nhận {raw!r}'
                ) from None
        if not isinstance(raw, list | tuple):
            raise ValueError(f"{variable} phải là danh sách JSON các ngày dạng YYYY-MM-DD")
        days = []
        for position, entry in enumerate(raw, start=1):
            if isinstance(entry, date):
                days.append(entry)
                continue
            try:
                days.append(date.fromisoformat(str(entry)))
            except ValueError:
                raise ValueError(
                    f"{variable}: mục thứ {position} ({entry!r}) không phải là một ngày "
                    "hợp lệ dạng YYYY-MM-DD"
                ) from None
        return tuple(days)

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        """Each entry an IP address or network, refused with the entry named."""
        parse_networks(entries)
        return entries

    @model_validator(mode="after")
    def _valid_policy_and_secrets(self) -> RemindersSettings:
        self.policy()
        # Units' webhook addresses come from the registry, so any deployment may sign.
        refuse_weak_secret(self.env, "DANVAN_REMINDERS_WEBHOOK_SECRET", self.webhook_secret)
        if (
            self.env == "production"
            and not self.allow_local_portal_url
            and is_loopback_url(self.portal_url)
        ):
            # Every e-mail and the urging letter send clerks to this address.
            raise ValueError(
                "DANVAN_PORTAL_BASE_URL trỏ tới máy cục bộ "
                f"({self.portal_url}); ở môi trường production phải là địa chỉ Cổng báo cáo "
                "mà các đơn vị truy cập được, ví dụ https://baocao.honglinh.gov.vn"
            )
        return self

    def policy(self) -> ReminderPolicy:
        """The reminder policy these settings describe (raises on a bad configuration)."""
        return ReminderPolicy(
            before_days=self.before_days,
            send_time=self.send_time,
            overdue_every_working_days=self.overdue_every_working_days,
            escalate_after_days=self.escalate_after_days,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            skip_weekends=self.skip_weekends,
            calendar=self.calendar(),
        )

    def webhook_addresses(self) -> WebhookAddressPolicy:
        """Which addresses units' webhooks may reach."""
        return WebhookAddressPolicy(parse_networks(self.webhook_allowed_networks))

    def calendar(self) -> WorkingCalendar:
        """The working calendar these settings describe (raises on a contradiction)."""
        try:
            return WorkingCalendar(
                days_off=frozenset(self.holidays),
                make_up_days=frozenset(self.make_up_days),
                country=self.holiday_country or None,
            )
        except CalendarError as exc:
            raise ReminderPolicyError(str(exc), code="calendar_invalid") from exc
