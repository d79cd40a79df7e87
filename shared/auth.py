"""Bearer tokens: the claims the registry signs and local verification with its JWKS keys."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal, Protocol

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.backoff import Backoff
from shared.errors import Forbidden, Unauthorized
from shared.revocation import Revocations, issued_at

log = logging.getLogger(__name__)

Role = Literal["unit", "reviewer", "leader", "admin", "service"]
ROLES: tuple[Role, ...] = ("unit", "reviewer", "leader", "admin", "service")
ALGORITHM = "EdDSA"


class Permission(StrEnum):
    """What an account may do; every service and the portal check these, never role names.

    Which unit's data a permission reaches is a separate, data-level rule: a unit account
    only ever sees its own reports, difficulties and attachments.
    """

    SUBMIT = "submit"
    """Send, amend and withdraw the unit's own reports; attach their signed scans."""
    READ_REPORTS = "read_reports"
    """Read every unit's reports, difficulties, completeness, summaries and the consolidated
    documents; see the units still missing and the urging letter."""
    REVIEW = "review"
    """Accept or return a report; answer a difficulty; edit the town report's draft and pick
    the excerpts of units' reports it quotes."""
    MANAGE_PERIODS = "manage_periods"
    """Open ad-hoc requests, create a year's periodic reports, change deadlines, close and
    reopen periods."""
    URGE = "urge"
    """Urge units now and read the reminders' delivery log."""
    READ_CONTACTS = "read_contacts"
    """See the phones and e-mail addresses of every unit's officials; export the units."""
    READ_ATTACHMENTS = "read_attachments"
    """Download the signed scans attached to reports (a unit: its own)."""
    ADMINISTER = "administer"
    """Accounts, API keys, units and their reorganisations, signing keys."""


_OFFICE = frozenset(
    {
        Permission.READ_REPORTS,
        Permission.REVIEW,
        Permission.MANAGE_PERIODS,
        Permission.URGE,
        Permission.READ_CONTACTS,
        Permission.READ_ATTACHMENTS,
    }
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # A unit's clerk (or its machine client with an API key).
        "unit": frozenset({Permission.SUBMIT, Permission.READ_ATTACHMENTS}),
        # Phòng Nội vụ.
        "reviewer": _OFFICE,
        # The town's leaders: read-only.
        "leader": frozenset({Permission.READ_REPORTS}),
        "admin": _OFFICE | {Permission.ADMINISTER},
        # A machine reader (an integration); it reads what leaders read, changes nothing.
        "service": frozenset({Permission.READ_REPORTS}),
    }
)
"""The one table of who may do what (docs/ARCHITECTURE.md, "Permissions")."""


_GRANTED: dict[str, frozenset[Permission]] = {str(k): v for k, v in ROLE_PERMISSIONS.items()}


def role_may(role: str | None, permission: Permission) -> bool:
    """Whether an account of this role has the permission (unknown roles have none)."""
    return role is not None and permission in _GRANTED.get(role, frozenset())


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, its role, and for unit accounts the unit code."""

    username: str
    role: Role
    unit_code: str | None = None
    display_name: str = ""
    # The verified token's `jti` and `exp` (epoch seconds), for a sign-out that revokes it.
    token_id: str | None = field(default=None, compare=False)
    token_expires_at: float | None = field(default=None, compare=False)

    def may(self, permission: Permission) -> bool:
        """Whether the principal has the permission."""
        return role_may(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Refuse (403) unless the principal has the permission."""
        if not self.may(permission):
            raise Forbidden()

    def require_unit(self) -> str:
        """The caller's unit code; only unit accounts have one."""
        if self.role != "unit" or not self.unit_code:
            raise Forbidden("Chỉ tài khoản của đơn vị mới thực hiện được thao tác này.")
        return self.unit_code

    def claims(self) -> dict[str, Any]:
        """The claims a token for this principal carries."""
        return {
            "sub": self.username,
            "role": self.role,
            "unit": self.unit_code,
            "name": self.display_name,
        }


def _keys_unavailable() -> Unauthorized:
    return Unauthorized(
        "Không kiểm tra được phiên đăng nhập: dịch vụ danh mục chưa sẵn sàng.",
        code="keys_unavailable",
        status=503,
    )


def _unknown_key() -> Unauthorized:
    # A retired or foreign key id: to the user, simply a token that is no longer valid.
    return Unauthorized("Mã đăng nhập không hợp lệ hoặc đã hết hiệu lực.", code="invalid_token")


class KeySource(Protocol):
    """Where public keys come from, by key id."""

    async def key(self, kid: str) -> Any: ...


class StaticKeySource:
    """Keys given up front (the registry itself, and tests)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks.get("keys", [])}

    async def key(self, kid: str) -> Any:
        """The key with this id."""
        if kid not in self._keys:
            raise _unknown_key()
        return self._keys[kid]


class JwksKeySource:
    """The registry's JWKS, fetched and cached, verified against locally.

    - A cached key is served while the copy is younger than `ttl_seconds`; after that the
      copy is refreshed in the background while the cached keys keep serving.
    - An unknown key id (a rotation) waits for a refresh, at most once per
      `min_refresh_seconds`; a key id still unknown afterwards is refused (401).
    - One refresh at a time: every caller that needs one awaits the same fetch and shares its
      result (single flight; the state is read and the fetch started under one lock).
    - After a failed fetch the next one waits `Backoff(backoff_base, backoff_cap)`: 1 s,
      2 s, 4 s … so a registry that is down is not asked again by every request.
    - Keys older than `max_stale_seconds` (no successful fetch since) are no longer trusted:
      a token is then refused with 503 `keys_unavailable` until the registry answers again,
      so a key withdrawn from the JWKS does not stay valid forever while the registry is away.
    - One HTTP client for the life of the service (`aclose` at shutdown).
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        ttl_seconds: float = 300.0,
        min_refresh_seconds: float = 5.0,
        max_stale_seconds: float = 3600.0,
        backoff: Backoff | None = None,
        fetch_timeout_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._owns_client = client is None
        self._client = client
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._max_stale = max(max_stale_seconds, ttl_seconds)
        self._backoff = backoff or Backoff(base_seconds=1.0, cap_seconds=60.0)
        self._timeout = fetch_timeout_seconds
        self._now = monotonic
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch started
        self._failures = 0
        self._next_attempt = float("-inf")
        self._inflight: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Fetches started so far (metrics and tests)."""

    @property
    def client(self) -> httpx.AsyncClient:
        """The one HTTP client, created on first use."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client (when this source created it) and drop a running fetch."""
        task, self._inflight = self._inflight, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def wait_idle(self) -> None:
        """Wait for a running fetch (a background refresh) to finish."""
        task = self._inflight
        if task is not None:
            await asyncio.gather(asyncio.shield(task), return_exceptions=True)

    def _age(self, now: float) -> float:
        return float("inf") if self._fetched_at is None else now - self._fetched_at

    async def key(self, kid: str) -> Any:
        """The key with this id, fetching the JWKS when needed."""
        now = self._now()
        age = self._age(now)
        if kid in self._keys and age <= self._ttl:
            return self._keys[kid]
        if kid in self._keys and age <= self._max_stale:
            # Known key, copy past its TTL: refresh in the background, answer now.
            async with self._lock:
                self._start_refresh(self._now(), unknown_kid=False)
            return self._keys[kid]
        async with self._lock:
            # Decide under the lock: another caller may have just refreshed or failed.
            now = self._now()
            task = self._start_refresh(now, unknown_kid=kid not in self._keys)
        if task is not None:
            await asyncio.shield(task)
        if self._age(self._now()) > self._max_stale:
            raise _keys_unavailable()
        if kid not in self._keys:
            raise _unknown_key()
        return self._keys[kid]

    def _start_refresh(self, now: float, *, unknown_kid: bool) -> asyncio.Task[None] | None:
        """The running fetch, or a new one when allowed now; None when none may start.
        Called with the lock held."""
        if self._inflight is not None and not self._inflight.done():
            return self._inflight
        if now < self._next_attempt:
            return None  # backing off after a failure
        if (
            unknown_kid
            and self._attempted_at is not None
            and self._age(now) <= self._max_stale
            and now - self._attempted_at < self._min_refresh
        ):
            return None  # asked very recently; a still unknown key id is simply refused
        self._attempted_at = now
        self.fetches += 1
        self._inflight = asyncio.get_running_loop().create_task(
            self._refresh(), name="jwks-refresh"
        )
        return self._inflight

    async def _refresh(self) -> None:
        try:
            response = await self.client.get(self._url, timeout=self._timeout)
            response.raise_for_status()
            keys = {k["kid"]: jwt.PyJWK(k).key for k in response.json().get("keys", [])}
        except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
            self._failures += 1
            pause = self._backoff.delay(self._failures)
            self._next_attempt = self._now() + pause
            log.warning(
                "JWKS fetch from %s failed (%s); next attempt in %.1fs",
                self._url,
                type(exc).__name__,
                pause,
            )
            return
        self._keys = keys
        self._fetched_at = self._now()
        self._failures = 0
        self._next_attempt = float("-inf")


@dataclass(frozen=True)
class _Verified:
    """A token whose signature and claims were checked, and with which key."""

    kid: str
    key: Any
    principal: Principal
    subject: str
    issued_at: float
    expires_at: float


class TokenVerifier:
    """Checks signature, expiry, issuer and audience locally.

    A token that passed is remembered (at most `cache_size` of them, each for at most
    `cache_seconds`), so that the next request with it skips decoding and the Ed25519
    check. What can change is checked on every request all the same: the key its id names
    must still be the one that verified it (a rotated or withdrawn key sends it through the
    full check again), it must not have expired, and the revocations (`TokensRevoked`, the
    sign-out) are consulted each time, so a revoked token stops working at once.
    """

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        revocations: Revocations | None = None,
        cache_size: int = 4096,
        cache_seconds: float = 60.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.revocations = revocations
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds
        self._now = now
        # token → (verified, remembered until); insertion order is the eviction order.
        self._verified: dict[str, tuple[_Verified, float]] = {}

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; Unauthorized otherwise."""
        verified = await self._remembered(token)
        if verified is None:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token") from None
            kid = header.get("kid")
            if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
                raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token")
            verified = self._decode(token, kid, await self._keys.key(kid))
            self._remember(token, verified)
        revoked = self.revocations is not None and self.revocations.refuses(
            verified.subject, verified.issued_at, verified.principal.token_id
        )
        if revoked:
            raise Unauthorized(
                "Phiên đăng nhập đã bị thu hồi (tài khoản, vai trò hoặc mật khẩu đã thay đổi, "
                "hoặc đã đăng xuất); vui lòng đăng nhập lại.",
                code="token_revoked",
            )
        return verified.principal

    async def _remembered(self, token: str) -> _Verified | None:
        """The earlier check of this token, if it still holds now: not expired, and its key
        id still names the key that verified it."""
        found = self._verified.get(token)
        if found is None:
            return None
        verified, until = found
        now = self._now()
        # As jwt.decode's leeway of 10 s: past that the full check answers token_expired.
        fresh = now <= until and now <= verified.expires_at + 10
        if not fresh or await self._keys.key(verified.kid) is not verified.key:
            self._verified.pop(token, None)
            return None
        return verified

    def _remember(self, token: str, verified: _Verified) -> None:
        if self._cache_size <= 0:
            return
        while len(self._verified) >= self._cache_size:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (verified, self._now() + self._cache_seconds)

    def _decode(self, token: str, kid: str, key: Any) -> _Verified:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=10,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(
                "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", code="token_expired"
            ) from None
        except jwt.PyJWTError:
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token") from None
        role = claims.get("role")
        if role not in ROLES:
            raise Unauthorized("Mã đăng nhập không hợp lệ.", code="invalid_token")
        jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None
        principal = Principal(
            username=str(claims["sub"]),
            role=role,
            unit_code=claims.get("unit"),
            display_name=str(claims.get("name") or ""),
            token_id=jti,
            token_expires_at=float(claims["exp"]),
        )
        return _Verified(
            kid=kid,
            key=key,
            principal=principal,
            subject=str(claims["sub"]),
            issued_at=issued_at(claims),
            expires_at=float(claims["exp"]),
        )


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the verified caller, from `app.state.verifier`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Thiếu mã đăng nhập (Bearer token).", code="missing_token")
    verifier = getattr(request.app.state, "verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise TypeError("app.state.verifier is not a TokenVerifier")
    return await verifier.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
