"""The signed session cookie and the CSRF check."""

from __future__ import annotations

import pytest

from services.portal.session import (
    anonymous_session,
    csrf_matches,
    decode_session,
    encode_session,
)
from services.portal.settings import PortalSettings

SECRET = "s" * 40


def signed_in_session(now: int = 1000):  # type: ignore[no-untyped-def]
    return anonymous_session(now).sign_in(
        token="tok",
        username="18115",
        role="unit",
        unit_code="18115",
        display_name="UBND phường Bắc Hồng",
        now=now,
        expires_at=now + 3600,
    )


def test_a_session_survives_the_cookie_round_trip() -> None:
    session = signed_in_session()
    decoded = decode_session(encode_session(session, SECRET), SECRET, now=1100, max_age=600)
    assert decoded == session
    assert decoded is not None and decoded.display_name == "UBND phường Bắc Hồng"


def test_signing_in_renews_the_csrf_token() -> None:
    anonymous = anonymous_session(1000)
    assert signed_in_session().csrf != anonymous.csrf


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),
        lambda v: "e30." + v.rsplit(".", 1)[1],  # another payload ({}) with the old signature
        lambda v: v.replace(".", ""),
        lambda v: "",
    ],
)
def test_a_tampered_cookie_is_ignored(mangle) -> None:  # type: ignore[no-untyped-def]
    value = encode_session(signed_in_session(), SECRET)
    assert decode_session(mangle(value), SECRET, now=1100, max_age=600) is None


def test_another_secret_or_an_old_cookie_is_ignored() -> None:
    value = encode_session(signed_in_session(), SECRET)
    assert decode_session(value, "t" * 40, now=1100, max_age=600) is None
    assert decode_session(value, SECRET, now=1000 + 601, max_age=600) is None


def test_an_expired_token_is_noticed() -> None:
    session = signed_in_session()
    assert not session.is_expired(4599)
    assert session.is_expired(4600)


def test_csrf_must_match_exactly() -> None:
    session = anonymous_session(1)
    assert csrf_matches(session, session.csrf)
    assert not csrf_matches(session, session.csrf + "x")
    assert not csrf_matches(session, "")
    assert not csrf_matches(session, None)
    assert not csrf_matches(None, session.csrf)


def test_production_refuses_the_placeholder_secret_but_needs_no_database() -> None:
    with pytest.raises(ValueError, match="DANVAN_PORTAL_SESSION_SECRET"):
        PortalSettings(env="production")
    with pytest.raises(ValueError, match="at least 32"):
        PortalSettings(env="production", session_secret="short", cookie_secure=True)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        PortalSettings(env="production", session_secret="x" * 31, cookie_secure=True)
    # 32 bytes, not characters: "đ" is two bytes in UTF-8.
    PortalSettings(env="production", session_secret="đ" * 16, cookie_secure=True)
    settings = PortalSettings(env="production", session_secret="x" * 40, cookie_secure=True)
    assert settings.database_url is None
    assert settings.http_port == 8000
    assert settings.intake_url == "http://127.0.0.1:8002"


def test_production_refuses_an_insecure_cookie_unless_told_explicitly() -> None:
    secret = "x" * 40
    with pytest.raises(ValueError, match="DANVAN_PORTAL_COOKIE_SECURE must be true"):
        PortalSettings(env="production", session_secret=secret)
    trial = PortalSettings(env="production", session_secret=secret, allow_insecure_cookie=True)
    assert trial.cookie_secure is False
    # Development keeps plain http on 127.0.0.1.
    assert PortalSettings(env="development").cookie_secure is False
