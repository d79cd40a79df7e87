"""Which addresses a unit's webhook may reach: the public Internet, and what a deployment allows.

A unit's webhook address comes from the registry, so anyone who can edit a unit could point
it at the data centre's own services (SSRF): the database, the NATS monitor, a cloud
metadata endpoint. A webhook is therefore refused when it leads to a loopback, private,
link-local, multicast or otherwise non-public address, unless that address lies in a network
the deployment allows (`DANVAN_REMINDERS_WEBHOOK_ALLOWED_NETWORKS`, e.g. the town's own SMS
gateway on the intranet).

The check runs twice: without any network wait when a unit's contacts are projected and
when a reminder's deliveries are recorded (an address written as an IP is refused there and
then, with the reason in the delivery log), and at send time, when the host name is
resolved: every address it resolves to must be allowed, and the request then goes to the
checked address itself (`PinnedTarget`), so a name that resolves differently a moment later
(DNS rebinding) cannot lead it elsewhere. The town's own gateway for phone numbers
(`DANVAN_REMINDERS_WEBHOOK_GATEWAY_URL`) is configuration, not unit data, and is not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host name and port to the addresses they resolve to (`system_resolver` in production)."""

ADDRESS_REFUSED = "webhook_address_refused"
DNS_FAILED = "webhook_dns_failed"
ALLOW_SETTING = "DANVAN_REMINDERS_WEBHOOK_ALLOWED_NETWORKS"


class WebhookAddressError(Exception):
    """A webhook address that may not be used now: stable code, Vietnamese reason, whether
    trying again may help (a name that did not resolve)."""

    def __init__(self, code: str, reason: str, *, transient: bool) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.transient = transient


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Networks from "10.20.0.0/16", "127.0.0.1" (one address) or "fd00::/8"; ValueError with
    the entry named otherwise."""
    networks = []
    for position, entry in enumerate(entries, start=1):
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{ALLOW_SETTING}: mục thứ {position} ({entry!r}) không phải là địa chỉ hoặc "
                'dải địa chỉ IP, ví dụ "10.20.0.0/16" hoặc "127.0.0.1"'
            ) from None
    return tuple(networks)


def _kind(address: Address) -> str | None:
    """What a non-public address is, in words; None for a public one."""
    if address.is_loopback:
        return "máy cục bộ (loopback)"
    if address.is_link_local:
        return "địa chỉ link-local (như dịch vụ siêu dữ liệu của máy chủ)"
    if address.is_multicast:
        return "địa chỉ multicast"
    if address.is_unspecified:
        return "địa chỉ không xác định"
    if address.is_private:
        return "mạng nội bộ"
    if not address.is_global:
        return "địa chỉ không công khai"
    return None


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where a webhook request goes: the checked address, and the host name it stands for
    (the Host header and the TLS server name)."""

    address: Address
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class WebhookAddressPolicy:
    """The public Internet, plus the networks a deployment allows."""

    allowed: tuple[Network, ...] = ()

    def refusal(self, address: Address) -> str | None:
        """Why this address may not be reached (words for the log), or None if it may."""
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        candidates = [address] if mapped is None else [address, mapped]
        if any(a in network for a in candidates for network in self.allowed):
            return None
        for candidate in reversed(candidates):  # an IPv4-mapped address is its IPv4 address
            kind = _kind(candidate)
            if kind is not None:
                return kind
        return None

    def _refused(self, shown: str, address: Address, kind: str) -> WebhookAddressError:
        where = shown if shown == str(address) else f"{shown} ({address})"
        return WebhookAddressError(
            ADDRESS_REFUSED,
            f"Địa chỉ webhook {where} trỏ tới {kind}; chỉ gửi tới địa chỉ công khai trên "
            f"Internet hoặc địa chỉ được cho phép ({ALLOW_SETTING})",
            transient=False,
        )

    def literal_refusal(self, url: str) -> WebhookAddressError | None:
        """The refusal of a webhook whose host is written as an IP address, without any
        network wait; None when it is allowed or is a host name (checked when sending)."""
        host = _host(url)
        literal = _literal(host)
        if literal is None:
            return None
        kind = self.refusal(literal[0])
        return None if kind is None else self._refused(host, literal[0], kind)

    async def pin(self, url: str, resolver: Resolver) -> PinnedTarget:
        """Resolve the webhook's host, check every address it resolves to, and give the one
        to connect to; raises WebhookAddressError."""
        parts = urlsplit(url)
        host = _host(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = _literal(host)
        if addresses is None:
            try:
                found = await resolver(host, port)
            except OSError as exc:
                raise WebhookAddressError(
                    DNS_FAILED,
                    f"Không phân giải được tên miền của webhook {host} ({exc})",
                    transient=True,
                ) from exc
            # A scoped IPv6 answer ("fe80::1%eth0") is the address before its zone.
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not addresses:
            raise WebhookAddressError(
                DNS_FAILED, f"Tên miền của webhook {host} không có địa chỉ", transient=True
            )
        for address in addresses:
            kind = self.refusal(address)
            if kind is not None:
                raise self._refused(host, address, kind)
        return PinnedTarget(addresses[0], host, port)


def _literal(host: str) -> list[Address] | None:
    """The host as an address when it is written as one."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return None


def _host(url: str) -> str:
    return (urlsplit(url.strip()).hostname or "").rstrip(".").lower()


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for a host (IPv4 and IPv6), in its order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
