"""Settings refuse placeholder secrets in production and pick the async database driver."""

from __future__ import annotations

import pytest

from shared.settings import normalise_database_url, refuse_placeholder


@pytest.mark.parametrize("value", ["", "changeme", "CHANGE_ME", "CHANGE_ME_signing_passphrase"])
def test_placeholder_secrets_are_refused_in_production(value):
    with pytest.raises(ValueError, match="DANVAN_X"):
        refuse_placeholder("production", "DANVAN_X", value)


def test_placeholders_are_fine_in_development():
    refuse_placeholder("development", "DANVAN_X", "changeme")


def test_a_real_secret_passes_in_production():
    refuse_placeholder("production", "DANVAN_X", "k8Jq2-long-and-random-0f7c1e")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/d", "postgresql+asyncpg://u@h:5432/d"),
        ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_plain_database_urls_get_the_async_driver(given, expected):
    assert normalise_database_url(given) == expected


def test_production_refuses_a_signing_secret_under_32_bytes():
    from shared.settings import MIN_SECRET_BYTES, refuse_weak_secret

    assert MIN_SECRET_BYTES == 32
    for value in ("1", "x" * 31, "CHANGE_ME_" + "x" * 40):
        with pytest.raises(ValueError, match="DANVAN_X"):
            refuse_weak_secret("production", "DANVAN_X", value)
    refuse_weak_secret("production", "DANVAN_X", "x" * 32)
    # Development and tests keep their short local values.
    refuse_weak_secret("development", "DANVAN_X", "1")
    refuse_weak_secret("test", "DANVAN_X", "changeme")
