"""The passphrase that encrypts the token signing keys: never a known placeholder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.registry.settings import PASSPHRASE_FILE, RegistrySettings
from shared.natsauth import new_key_pair
from shared.settings import DEVELOPMENT_PLACEHOLDER


def production(**extra: object) -> RegistrySettings:
    return RegistrySettings(
        env="production",
        database_url="postgresql://db/registry",
        nats_nkey_seed=new_key_pair().seed,
        seed_demo_accounts=False,
        **extra,  # type: ignore[arg-type]
    )


def test_production_requires_a_long_passphrase() -> None:
    with pytest.raises(ValidationError, match="DANVAN_SIGNING_KEY_PASSPHRASE"):
        production()
    for weak in (DEVELOPMENT_PLACEHOLDER, "CHANGE_ME_long_random_passphrase", "x" * 31):
        with pytest.raises(ValidationError, match="DANVAN_SIGNING_KEY_PASSPHRASE"):
            production(signing_key_passphrase=weak)
    assert production(signing_key_passphrase="p" * 32).signing_key_passphrase == "p" * 32


def test_development_generates_a_random_passphrase_once_into_the_data_folder(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = RegistrySettings(env="development", data_dir=data)
    path = data / PASSPHRASE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert len(first.signing_key_passphrase) >= 32
    assert first.signing_key_passphrase != DEVELOPMENT_PLACEHOLDER
    assert path.read_text(encoding="utf-8").strip() == first.signing_key_passphrase
    # The next start reads the same one (the keys in the database stay readable).
    assert RegistrySettings(env="development", data_dir=data).signing_key_passphrase == (
        first.signing_key_passphrase
    )
    # Another data folder, another passphrase.
    other = RegistrySettings(env="development", data_dir=tmp_path / "other")
    assert other.signing_key_passphrase != first.signing_key_passphrase


def test_an_explicit_passphrase_is_used_as_given_and_writes_nothing(tmp_path: Path) -> None:
    settings = RegistrySettings(
        env="development", data_dir=tmp_path, signing_key_passphrase="mot-cum-tu-bi-mat"
    )
    assert settings.signing_key_passphrase == "mot-cum-tu-bi-mat"
    assert not (tmp_path / PASSPHRASE_FILE).exists()


def test_tests_get_a_random_passphrase_not_the_placeholder(tmp_path: Path) -> None:
    settings = RegistrySettings(env="test", data_dir=tmp_path)
    assert len(settings.signing_key_passphrase) >= 32
    assert settings.signing_key_passphrase != DEVELOPMENT_PLACEHOLDER
    assert not (tmp_path / PASSPHRASE_FILE).exists()
