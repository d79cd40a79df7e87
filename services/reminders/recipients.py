"""Who a reminder goes to, over which channel; pure, so bad contact data is a value, not a crash.

A unit's own reminders go to its responsible leader and its contacts: every e-mail address,
its webhook (an SMS/Zalo gateway of its own) and, when a town gateway is configured, its phone
numbers through that gateway. An escalation goes to the leader and to the reviewers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from services.reminders.domain import Audience
from services.reminders.webhook_addresses import WebhookAddressPolicy
from shared.contracts.registry import Contacts, Leader

ChannelName = Literal["email", "webhook", "none"]

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+?[0-9][0-9 .-]{5,19}$")

NO_CONTACT = "no_contact"
INVALID_ADDRESS = "invalid_address"
INVALID_URL = "invalid_url"

REASONS = {
    NO_CONTACT: "Đơn vị chưa có địa chỉ liên hệ (e-mail, điện thoại hoặc webhook)",
    INVALID_ADDRESS: "Địa chỉ e-mail không hợp lệ",
    INVALID_URL: "Địa chỉ webhook không hợp lệ (phải là http:// hoặc https://)",
}


@dataclass(frozen=True, slots=True)
class Target:
    """One recipient on one channel; `problem` is a reason code when it cannot be used, and
    `reason` its words when they say more than the code's (`REASONS`)."""

    channel: ChannelName
    recipient: str
    problem: str | None = None
    reason: str | None = None


def is_valid_email(address: str) -> bool:
    """A plain addr-spec without display name, spaces or line breaks."""
    return len(address) <= 254 and _EMAIL.fullmatch(address) is not None


def is_webhook_url(value: str) -> bool:
    """Whether a recipient is a webhook address (as opposed to a phone number)."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def delivery_targets(
    audience: Audience,
    leader: Leader | None,
    contacts: Contacts,
    *,
    reviewer_emails: Sequence[str] = (),
    gateway: bool = False,
    webhooks: WebhookAddressPolicy | None = None,
) -> list[Target]:
    """Every target of one reminder; a single `none` target when nobody can be reached.

    A webhook written with an address `webhooks` refuses (a private or loopback IP) is a
    target with its problem, recorded without any attempt; host names are checked when
    the webhook is sent."""
    leader_emails = [leader.email] if leader is not None and leader.email else []
    leader_phones = [leader.phone] if leader is not None and leader.phone else []
    if audience == "escalation":
        emails = [*leader_emails, *reviewer_emails]
        webhook_urls: list[str] = []
        phones = leader_phones
    else:
        emails = [*leader_emails, *contacts.emails]
        webhook_urls = [contacts.webhook_url] if contacts.webhook_url else []
        phones = [*leader_phones, *([contacts.phone] if contacts.phone else [])]
    targets = [
        Target("email", e, None if is_valid_email(e) else INVALID_ADDRESS) for e in _unique(emails)
    ]
    targets += [_webhook_target(url, webhooks) for url in _unique(webhook_urls)]
    if gateway:
        targets += [Target("webhook", p) for p in _unique(phones) if _PHONE.fullmatch(p)]
    return targets or [Target("none", "", NO_CONTACT)]


def _webhook_target(url: str, webhooks: WebhookAddressPolicy | None) -> Target:
    if not is_webhook_url(url):
        return Target("webhook", url, INVALID_URL)
    refused = webhooks.literal_refusal(url) if webhooks is not None else None
    if refused is not None:
        return Target("webhook", url, refused.code, refused.reason)
    return Target("webhook", url)


def _unique(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            result.append(value)
    return result
