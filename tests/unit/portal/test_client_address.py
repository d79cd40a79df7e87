"""Which address the portal tells the registry on sign-in: never one a browser can forge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from services.portal.client_address import browser_address
from services.portal.settings import PortalSettings

DEFAULT = PortalSettings(env="test")
GATEWAY_ONLY = PortalSettings(env="test", trusted_proxies=("10.0.0.5/32",))


def request_with(*forwarded_for: str, peer: str | None = "10.0.0.5") -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded_for]
    client = (peer, 5000) if peer else None
    return Request({"type": "http", "headers": headers, "client": client})


def test_from_the_trusted_gateway_the_address_it_wrote_counts_not_one_to_its_left():
    assert browser_address(request_with("1.2.3.4, 203.0.113.9"), GATEWAY_ONLY) == "203.0.113.9"
    assert browser_address(request_with("1.2.3.4", "203.0.113.9"), GATEWAY_ONLY) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_first_untrusted_address():
    chained = request_with("1.2.3.4, 203.0.113.9, 10.0.0.5")
    assert browser_address(chained, GATEWAY_ONLY) == "203.0.113.9"


def test_an_untrusted_peer_cannot_set_its_own_address():
    assert browser_address(request_with("203.0.113.9", peer="10.0.0.6"), GATEWAY_ONLY) == (
        "10.0.0.6"
    )
    # By default only loopback is trusted: a browser on the network is its own address.
    assert browser_address(request_with("203.0.113.9", peer="192.0.2.1"), DEFAULT) == "192.0.2.1"
    assert browser_address(request_with("203.0.113.9", peer="127.0.0.1"), DEFAULT) == (
        "203.0.113.9"
    )


def test_a_trusted_peer_without_the_header_is_the_address_and_no_peer_sends_none():
    assert browser_address(request_with(), GATEWAY_ONLY) == "10.0.0.5"
    assert browser_address(request_with(" , "), GATEWAY_ONLY) == "10.0.0.5"
    assert browser_address(request_with(peer=None), GATEWAY_ONLY) is None


def test_a_malformed_trusted_proxy_setting_is_refused():
    with pytest.raises(ValidationError, match="not-a-network"):
        PortalSettings(env="test", trusted_proxies=("not-a-network",))
