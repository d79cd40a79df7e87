"""The registry's HTTP contract: the bodies clients send and the answers the registry gives.

Units and periods are written as the registry's events carry them (dates "YYYY-MM-DD",
deadlines as pydantic writes them, "…Z"); accounts, API keys, history entries and signing keys
as `datetime.isoformat()` ("…+00:00"). Both read back as aware datetimes.

A unit's personal data (contacts, the leader's phone and e-mail) are shown only to callers who
may see them; others get `contacts: null` and a leader with `full_name` and `title` only
(`PublicLeader`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, PlainSerializer, WithJsonSchema

from shared.contracts.api import RequestModel, ResponseModel
from shared.contracts.registry import (
    Contacts,
    ExpectedUnit,
    Leader,
    PeriodKind,
    PeriodStatus,
    RequestBasis,
    UnitKind,
)

__all__ = [
    "AccountIn",
    "AccountInfo",
    "AccountPatch",
    "Activated",
    "ActivationCode",
    "ActivationRequest",
    "ApiKeyIn",
    "ApiKeyInfo",
    "CloseIn",
    "ClosureIn",
    "ContactsIn",
    "CreatedAccount",
    "CreatedPeriod",
    "HistoryEntryView",
    "ImportReport",
    "Instant",
    "IssuedApiKey",
    "Jwks",
    "KeyRotation",
    "LeaderIn",
    "LeaderRecord",
    "Me",
    "PasswordChange",
    "PasswordChanged",
    "PeriodIn",
    "PeriodPatch",
    "PeriodView",
    "PublicLeader",
    "RegimeYearIn",
    "ReorganisationIn",
    "Reorganised",
    "RequestBasisIn",
    "RingKeyInfo",
    "SuccessorIn",
    "TokenAnswer",
    "UnitHistory",
    "UnitIn",
    "UnitPatch",
    "UnitView",
]


def _iso(value: datetime) -> str:
    return value.isoformat()


Instant = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware instant written as `isoformat()` ("2023-06-05T02:30:00+00:00")."""


class _Body(RequestModel):
    """A registry request body; passwords are taken exactly as typed."""

    verbatim: ClassVar[frozenset[str]] = frozenset({"password", "old_password", "new_password"})


# --- sign-in and the caller's account --------------------------------------------------


class TokenAnswer(ResponseModel):
    """A bearer token and who it is for."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str
    unit_code: str | None


class Jwks(ResponseModel):
    """The public keys verifiers accept now (JWK Set)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    keys: list[dict[str, Any]]


class Me(ResponseModel):
    """The token's claims."""

    sub: str
    role: str
    unit: str | None
    name: str


class PasswordChange(_Body):
    """The current password and the new one."""

    old_password: str
    new_password: str


class PasswordChanged(ResponseModel):
    """The password was replaced."""

    changed: bool


class RingKeyInfo(ResponseModel):
    """A signing key: when it was made and when it leaves the JWKS (null: it signs now)."""

    kid: str
    created_at: Instant
    retires_at: Instant | None


class KeyRotation(ResponseModel):
    """The key that signs from now on and every key still published."""

    kid: str
    keys: list[RingKeyInfo]


# --- accounts and API keys -------------------------------------------------------------


class AccountIn(_Body):
    """A new account; its holder sets the password with the activation code of the answer."""

    username: str
    display_name: str
    role: str
    unit_code: str | None = None


class AccountPatch(_Body):
    """Fields to change (a password is never set by an admin: POST …/activation resets it)."""

    display_name: str | None = None
    role: str | None = None
    unit_code: str | None = None
    active: bool | None = None


class AccountInfo(ResponseModel):
    """An account as admins see it (never the password hash); `password_set` is false until
    its holder activated it."""

    username: str
    display_name: str
    role: str
    unit_code: str | None
    active: bool
    created_at: Instant
    password_set: bool = True


class ActivationCode(ResponseModel):
    """A one-time code with which the account's holder sets their own password (at
    POST /v1/auth/activate); shown in this answer only."""

    username: str
    code: str
    expires_at: Instant


class CreatedAccount(AccountInfo):
    """A new account and its activation code (shown once)."""

    activation: ActivationCode


class ActivationRequest(_Body):
    """The holder of an account sets their password with its activation code."""

    verbatim: ClassVar[frozenset[str]] = frozenset({"new_password", "code"})

    username: str
    code: str
    new_password: str


class Activated(ResponseModel):
    """The account's password is set; sign in with it."""

    username: str
    activated: bool = True


class ApiKeyIn(_Body):
    """A key for one unit's machine client."""

    unit_code: str
    name: str
    expires_at: datetime | None = None


class ApiKeyInfo(ResponseModel):
    """An issued API key, without its secret."""

    key_id: str
    prefix: str
    unit_code: str
    name: str
    created_by: str
    created_at: Instant
    expires_at: Instant | None
    revoked_at: Instant | None
    last_used_at: Instant | None


class IssuedApiKey(ApiKeyInfo):
    """A key just issued: `api_key` is in this answer only."""

    api_key: str


# --- units -------------------------------------------------------------------------------


class LeaderIn(_Body):
    """The leader in charge of mass-mobilisation work; on PATCH, given fields replace."""

    full_name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None


class ContactsIn(_Body):
    """Contact channels; on PATCH, given channels replace."""

    emails: list[str] | None = None
    phone: str | None = None
    webhook_url: str | None = None


class UnitIn(_Body):
    """A new unit record."""

    code: str
    name: str
    kind: str
    tags: list[str] = Field(default_factory=list)
    parent_code: str | None = None
    display_order: int = 0
    must_report: bool = True
    valid_from: date | None = None
    valid_to: date | None = None
    successor_codes: list[str] = Field(default_factory=list)
    leader: LeaderIn | None = None
    contacts: ContactsIn | None = None


class UnitPatch(_Body):
    """Fields to change; code and valid_from identify the record and cannot change."""

    name: str | None = None
    kind: str | None = None
    tags: list[str] | None = None
    parent_code: str | None = None
    display_order: int | None = None
    must_report: bool | None = None
    valid_to: date | None = None
    successor_codes: list[str] | None = None
    leader: LeaderIn | None = None
    contacts: ContactsIn | None = None


class CloseIn(_Body):
    """The last day of validity and the units that take over."""

    valid_to: date
    successor_codes: list[str] = Field(default_factory=list)


class SuccessorIn(_Body):
    """A unit created by a reorganisation and the units merged into it."""

    code: str
    name: str
    kind: str
    predecessors: list[str]
    display_order: int = 0
    tags: list[str] = Field(default_factory=list)
    parent_code: str | None = None
    must_report: bool = True
    leader: LeaderIn | None = None
    contacts: ContactsIn | None = None


class ClosureIn(_Body):
    """A unit that ends with the reorganisation without merging into a new one."""

    code: str
    successor_codes: list[str] = Field(default_factory=list)


class ReorganisationIn(_Body):
    """Mergers and closures taking effect on one day (e.g. from 01/7/2025, Nghị quyết
    1665/NQ-UBTVQH15 and the end of the district level)."""

    effective_from: date
    note: str = ""
    successors: list[SuccessorIn] = Field(default_factory=list)
    closures: list[ClosureIn] = Field(default_factory=list)


class PublicLeader(ResponseModel):
    """A leader as everyone may see them: name and title, no phone or e-mail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: str = ""
    title: str = ""


class UnitView(ResponseModel):
    """A unit record as this caller may see it (`contacts` null and a `PublicLeader` for
    callers who may not see personal data)."""

    unit_id: str
    code: str
    name: str
    kind: UnitKind
    tags: tuple[str, ...] = ()
    parent_code: str | None = None
    display_order: int = 0
    must_report: bool = True
    valid_from: date
    valid_to: date | None = None
    successor_codes: tuple[str, ...] = ()
    leader: PublicLeader | Leader | None = None
    contacts: Contacts | None = None
    version: int


class HistoryEntryView(ResponseModel):
    """One recorded change of a record: each changed field `{from, to}` (personal data hidden
    as `{from: null, to: null, hidden: true}` from callers who may not see it)."""

    unit_id: str
    code: str
    version: int
    action: str
    changed_by: str
    changed_at: Instant
    changes: dict[str, dict[str, Any]]
    note: str


class LeaderRecord(ResponseModel):
    """Who led a record's mass-mobilisation work, from when to when."""

    unit_id: str
    leader: PublicLeader | Leader | None
    since: Instant
    until: Instant | None
    recorded_by: str


class UnitHistory(ResponseModel):
    """A code's recorded changes and its leaders over time."""

    code: str
    entries: list[HistoryEntryView]
    leaders: list[LeaderRecord]


class ImportReport(ResponseModel):
    """What an import wrote (or, with `dry_run`, would write)."""

    dry_run: bool
    columns: list[str]
    rows: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class Reorganised(ResponseModel):
    """The records a reorganisation closed and created."""

    units: list[UnitView]


# --- periods -----------------------------------------------------------------------------


class RequestBasisIn(_Body):
    """The document that asked for an ad-hoc report (every field optional), e.g. "Công văn"
    "125/SNV-XDCQ" of 02/3/2024 by "Sở Nội vụ" "về việc báo cáo kết quả 01 năm thực hiện Chỉ
    thị số 33/CT-TTg"."""

    document_type: str = ""
    number: str = ""
    issued_on: date | None = None
    issuer: str = ""
    subject: str = ""


class PeriodIn(_Body):
    """An ad-hoc request: what is asked, of whom, by when, and the document that asked."""

    title: str
    content: str = ""
    due_at: datetime
    scope: dict[str, Any]
    window_start: date | None = None
    window_end: date | None = None
    basis: RequestBasisIn | None = None


class PeriodPatch(_Body):
    """Fields to change; `status: closed` stops submissions, `open` reopens."""

    title: str | None = None
    content: str | None = None
    due_at: datetime | None = None
    status: Literal["open", "closed"] | None = None
    scope: dict[str, Any] | None = None
    window_start: date | None = None
    window_end: date | None = None
    # Ad-hoc requests only; null removes it.
    basis: RequestBasisIn | None = None


class RegimeYearIn(_Body):
    """The year whose periodic reports to create."""

    year: int


class PeriodView(ResponseModel):
    """A reporting period with the codes of the units expected to report, their details and
    the scope it asks."""

    period_id: str
    kind: PeriodKind
    year: int
    title: str
    form_id: str
    form_version: str
    window_start: date | None = None
    window_end: date | None = None
    due_at: datetime
    status: PeriodStatus
    content: str = ""
    basis: RequestBasis | None = None
    expected_units: list[str]
    expected_unit_details: list[ExpectedUnit]
    version: int
    scope: dict[str, Any]


class CreatedPeriod(PeriodView):
    """A new ad-hoc request; `id` is its period id (YYYY-DX-NN)."""

    id: str
