"""Which address the sign-in throttle counts: never one the client can forge."""

from __future__ import annotations

from starlette.requests import Request

from services.registry.api import _client_address


def request_with(forwarded_for: str | None, peer: str = "10.0.0.5") -> Request:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return Request({"type": "http", "headers": headers, "client": (peer, 5000)})


def test_behind_a_trusted_proxy_the_address_it_appended_counts_not_a_forged_one():
    forged = request_with("1.2.3.4, 203.0.113.9")
    assert _client_address(forged, trust_forwarded_for=True) == "203.0.113.9"


def test_without_trust_the_header_is_ignored():
    assert _client_address(request_with("1.2.3.4"), trust_forwarded_for=False) == "10.0.0.5"


def test_trusted_but_no_header_falls_back_to_the_peer():
    assert _client_address(request_with(None), trust_forwarded_for=True) == "10.0.0.5"
