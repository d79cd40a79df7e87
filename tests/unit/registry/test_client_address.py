"""Which address the sign-in throttle counts: never one the client can forge."""

from __future__ import annotations

from starlette.requests import Request

from services.registry.api import _client_address
from services.registry.settings import RegistrySettings

TRUSTING = RegistrySettings(env="test", trust_forwarded_for=True)
GATEWAY_ONLY = RegistrySettings(
    env="test", trust_forwarded_for=True, trusted_proxies=("10.0.0.5/32",)
)


def request_with(forwarded_for: str | None, peer: str = "10.0.0.5") -> Request:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return Request({"type": "http", "headers": headers, "client": (peer, 5000)})


def test_behind_a_trusted_proxy_the_address_it_appended_counts_not_a_forged_one():
    forged = request_with("1.2.3.4, 203.0.113.9")
    assert _client_address(forged, TRUSTING) == "203.0.113.9"
    assert _client_address(forged, GATEWAY_ONLY) == "203.0.113.9"


def test_without_trust_the_header_is_ignored():
    untrusting = RegistrySettings(env="test")
    assert _client_address(request_with("1.2.3.4"), untrusting) == "10.0.0.5"


def test_a_direct_caller_that_is_not_a_trusted_proxy_cannot_set_its_own_address():
    direct = request_with("203.0.113.9", peer="198.51.100.7")
    assert _client_address(direct, TRUSTING) == "198.51.100.7"
    other_private = request_with("203.0.113.9", peer="10.0.0.6")
    assert _client_address(other_private, GATEWAY_ONLY) == "10.0.0.6"


def test_trusted_but_no_header_falls_back_to_the_peer():
    assert _client_address(request_with(None), TRUSTING) == "10.0.0.5"
