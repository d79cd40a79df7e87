"""Signing keys (Ed25519) and token issuing."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import ALGORITHM, Principal
from shared.revocation import epoch


@dataclass(frozen=True)
class SigningKey:
    """A private key with its id and public JWK."""

    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, Any]


def generate_key(now: datetime) -> SigningKey:
    """A fresh Ed25519 key; the id carries its creation date for operators."""
    private_key = Ed25519PrivateKey.generate()
    kid = f"{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return SigningKey(kid, private_key, jwk)


def encrypt_key(key: SigningKey, passphrase: str) -> bytes:
    """PEM, encrypted with the configured passphrase."""
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def load_key(kid: str, pem: bytes, public_jwk: dict[str, Any], passphrase: str) -> SigningKey:
    """Decrypt a stored key."""
    private_key = serialization.load_pem_private_key(pem, password=passphrase.encode())
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"key {kid} is not Ed25519")
    return SigningKey(kid, private_key, public_jwk)


def issue_token(
    principal: Principal,
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    now: datetime,
    ttl: timedelta,
) -> str:
    """A signed, short-lived token for the principal."""
    claims = principal.claims() | {
        "iss": issuer,
        "aud": audience,
        # In milliseconds: a revocation refuses tokens issued before it (shared/revocation.py).
        "iat": epoch(now),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
