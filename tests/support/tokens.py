"""Tokens for tests of services other than the registry: a key pair and a minting helper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.registry.tokens import SigningKey, generate_key, issue_token
from shared.auth import Principal, Role, StaticKeySource

ISSUER = "danvan-registry"
AUDIENCE = "danvan"


class TokenMint:
    """Signs tokens like the registry does, with a key the test owns."""

    def __init__(self) -> None:
        self.key: SigningKey = generate_key(datetime.now(UTC))

    def key_source(self) -> StaticKeySource:
        """Pass to a service's create_app(key_source=...)."""
        return StaticKeySource({"keys": [self.key.public_jwk]})

    def token(
        self,
        role: Role,
        unit_code: str | None = None,
        *,
        username: str | None = None,
        ttl: timedelta = timedelta(minutes=10),
        now: datetime | None = None,
    ) -> str:
        principal = Principal(
            username=username or unit_code or role, role=role, unit_code=unit_code
        )
        return issue_token(
            principal,
            self.key,
            issuer=ISSUER,
            audience=AUDIENCE,
            now=now or datetime.now(UTC),
            ttl=ttl,
        )

    def headers(self, role: Role, unit_code: str | None = None, **kwargs: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, unit_code, **kwargs)}"}  # type: ignore[arg-type]
