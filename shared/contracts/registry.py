"""Events the registry publishes: state-carrying, so consumers upsert and replays are harmless."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope
from shared.formatting import vn_date

UNIT_CHANGED = "danvan.registry.unit.changed.v1"
PERIOD_CHANGED = "danvan.registry.period.changed.v1"
"""The period with its whole expected set inline (no longer published; still consumed)."""
PERIOD_CHANGED_V2 = "danvan.registry.period.changed.v2"
"""The period, with its expected set inline when it fits one part, else in parts."""
PERIOD_EXPECTED_UNITS = "danvan.registry.period.expected_units.v1"
"""One part of a period version's expected set (`PeriodExpectedUnits`)."""
EXPECTED_UNITS_PER_PART = 2000
"""At most this many expected units travel in one event (~260 KB, under NATS's 1 MB)."""
TOKENS_REVOKED = "danvan.registry.tokens.revoked.v1"

UnitKind = Literal["department", "centre", "ward", "commune", "agency"]
PeriodKind = Literal["six_month", "annual", "ad_hoc"]
PeriodStatus = Literal["open", "closed"]
RevocationReason = Literal[
    "deactivated",
    "role_changed",
    "password_changed",
    "password_reset",
    "api_key_revoked",
    "logout",
]

UNIT_KIND_ORDER: tuple[str, ...] = ("ward", "commune", "department", "centre", "agency")
"""The order unit kinds are listed in, on every page, document and JSON answer."""
UNIT_KIND_LABELS: dict[str, str] = {
    "ward": "Phường",
    "commune": "Xã",
    "department": "Phòng, ban",
    "centre": "Trung tâm, đơn vị",
    "agency": "Cơ quan",
}
"""A unit kind as users read it in headings and tables (consolidation's `kind_label`)."""


class Leader(Contract):
    """The unit's leader in charge of mass-mobilisation work (plan II.5)."""

    full_name: str
    title: str = ""
    phone: str = ""
    email: str = ""


class Contacts(Contract):
    """Where a unit is reached: e-mail addresses, phone, a webhook for SMS/Zalo gateways."""

    emails: tuple[str, ...] = ()
    phone: str = ""
    webhook_url: str = ""


class UnitState(Contract):
    """A unit as the registry holds it now."""

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
    leader: Leader | None = None
    contacts: Contacts = Field(default_factory=Contacts)
    version: int


class ExpectedUnit(Contract):
    """A unit expected to report in a period, as resolved by the registry at the deadline."""

    code: str
    name: str
    kind: UnitKind
    tags: tuple[str, ...] = ()
    display_order: int = 0


class RequestBasis(Contract):
    """The document that asked for an ad-hoc report (every field optional): e.g. "Công văn số
    125/SNV-XDCQ ngày 02/3/2024 của Sở Nội vụ về việc báo cáo kết quả 01 năm thực hiện Chỉ thị
    số 33/CT-TTg". The report's subject and opening follow it."""

    document_type: str = ""  # "Công văn", "Chỉ thị", "Kế hoạch" …
    number: str = ""  # "125/SNV-XDCQ"
    issued_on: date | None = None
    issuer: str = ""  # "Sở Nội vụ", "UBND tỉnh" …
    subject: str = ""  # "về việc …" (trích yếu)

    def citation(self) -> str:
        """The document cited by its given parts: "Công văn số 125/SNV-XDCQ ngày 02/03/2024
        của Sở Nội vụ về việc …" ("Văn bản" when its type is not given)."""
        parts = (
            self.document_type.strip() or "Văn bản",
            f"số {self.number.strip()}" if self.number.strip() else "",
            f"ngày {vn_date(self.issued_on)}" if self.issued_on else "",
            f"của {self.issuer.strip()}" if self.issuer.strip() else "",
            self.subject.strip(),
        )
        return " ".join(p for p in parts if p)


class PeriodState(Contract):
    """A reporting period with the units the registry expects to report in it."""

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
    basis: RequestBasis | None = None  # ad-hoc periods: the asking document, when recorded
    expected_units: tuple[ExpectedUnit, ...] = ()
    version: int


class PeriodHeader(PeriodState):
    """A period version as `PeriodChangedV2` carries it: the period's fields, and how its
    expected set travels. `expected_units` holds the whole set when it fits one part
    (`expected_parts` is then 0); else it is empty and the set comes in `expected_parts`
    `PeriodExpectedUnits` events. `expected_sha256` is the digest of the whole set
    (`expected_units_digest`), checked before a consumer applies the version."""

    expected_count: int
    expected_sha256: str
    expected_parts: int = 0


class ExpectedUnitsPart(Contract):
    """Part `part` (1…n) of a period version's expected set, in the set's order."""

    period_id: str
    version: int
    part: int
    units: tuple[ExpectedUnit, ...]


def expected_units_digest(units: Sequence[ExpectedUnit]) -> str:
    """The SHA-256 (hex) of the expected set as a canonical JSON list (sorted keys, no
    spaces, UTF-8): what `PeriodHeader.expected_sha256` holds."""
    canonical = json.dumps(
        [u.model_dump(mode="json") for u in units],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def split_period(
    period: PeriodState, per_part: int = EXPECTED_UNITS_PER_PART
) -> tuple[PeriodHeader, tuple[ExpectedUnitsPart, ...]]:
    """A period version as its header and the parts of its expected set (none when the set
    fits one part: it then travels inline in the header)."""
    units = period.expected_units
    fields = period.model_dump(exclude={"expected_units"})
    common = {"expected_count": len(units), "expected_sha256": expected_units_digest(units)}
    if len(units) <= per_part:
        return PeriodHeader(**fields, **common, expected_units=units), ()
    parts = tuple(
        ExpectedUnitsPart(
            period_id=period.period_id,
            version=period.version,
            part=i // per_part + 1,
            units=units[i : i + per_part],
        )
        for i in range(0, len(units), per_part)
    )
    return PeriodHeader(**fields, **common, expected_parts=len(parts)), parts


class UnitChanged(Envelope[UnitState]):
    """A unit was created or changed; carries the whole unit."""

    subject: ClassVar[str] = UNIT_CHANGED


class PeriodChanged(Envelope[PeriodState]):
    """A period was opened, changed or closed; carries the whole period (v1: no longer
    published, over NATS's 1 MB payload limit at ~8,000 expected units; consumers still
    apply the v1 events already in the stream)."""

    subject: ClassVar[str] = PERIOD_CHANGED


class PeriodChangedV2(Envelope[PeriodHeader]):
    """A period was opened, changed or closed: its fields, and its expected set inline or
    announced in parts (`PeriodHeader`). Consumers apply the version once it is whole."""

    subject: ClassVar[str] = PERIOD_CHANGED_V2


class PeriodExpectedUnits(Envelope[ExpectedUnitsPart]):
    """One part of a period version's expected set, published just before its
    `PeriodChangedV2` in the same transaction."""

    subject: ClassVar[str] = PERIOD_EXPECTED_UNITS


class TokenRevocation(Contract):
    """Tokens that must no longer be accepted, on any service.

    `subject` is the token's `sub` (a username, or `apikey:<key id>` for an API key's
    tokens). With `valid_after`, every token of that subject issued (`iat`) before it is
    refused; with `token_id`, the one token with that `jti` (a sign-out). `forget_after` is
    when the entry no longer matters: every token it refuses has expired by then."""

    subject: str
    valid_after: datetime | None = None
    token_id: str | None = None
    forget_after: datetime
    reason: RevocationReason


class TokensRevoked(Envelope[TokenRevocation]):
    """An account was deactivated, changed role or password, an API key was revoked, or a
    user signed out: tokens issued before are refused from now on."""

    subject: ClassVar[str] = TOKENS_REVOKED
