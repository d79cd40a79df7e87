"""What the HTTP API shows: the registry's records as the answers of
`shared.contracts.api.registry`, with personal data held back from callers who may not see it."""

from __future__ import annotations

import csv
import io
from typing import Any

from services.registry.domain import Scope
from services.registry.keyring import RingKey
from services.registry.tabular import formula_safe
from services.registry.unit_rules import HistoryEntry, leader_timeline
from shared.auth import Permission, Principal
from shared.contracts.api.registry import (
    AccountInfo,
    ActivationCode,
    CreatedPeriod,
    HistoryEntryView,
    KeyRotation,
    LeaderRecord,
    PeriodView,
    PublicLeader,
    RingKeyInfo,
    UnitHistory,
    UnitView,
)
from shared.contracts.registry import Leader, PeriodState, UnitState
from shared.formatting import vn_datetime


def may_see_contacts(principal: Principal, code: str) -> bool:
    """Officials' phone numbers and e-mail addresses are personal data: reviewers, admins and
    the unit itself only."""
    return principal.may(Permission.READ_CONTACTS) or (
        principal.role == "unit" and principal.unit_code == code
    )


def _public_leader(leader: Any) -> Any:
    if not isinstance(leader, dict):
        return leader
    return {k: leader.get(k, "") for k in ("full_name", "title")}


def _leader(raw: Any, private: bool) -> PublicLeader | Leader | None:
    if not raw:
        return None
    return (
        PublicLeader.model_validate(_public_leader(raw)) if private else Leader.model_validate(raw)
    )


def unit_view(unit: UnitState, principal: Principal) -> UnitView:
    """A unit as this caller may see it."""
    view = unit.model_dump()
    if not may_see_contacts(principal, unit.code):
        view["contacts"] = None
        view["leader"] = (
            PublicLeader(full_name=unit.leader.full_name, title=unit.leader.title)
            if unit.leader
            else None
        )
    else:
        view["contacts"] = unit.contacts
        view["leader"] = unit.leader
    return UnitView(**view)


def history_view(code: str, entries: list[HistoryEntry], principal: Principal) -> UnitHistory:
    """A unit's recorded changes and its leaders over time, as this caller may see them."""
    private = not may_see_contacts(principal, code)
    shown: list[HistoryEntryView] = []
    for entry in entries:
        changes = {name: dict(change) for name, change in entry.changes.items()}
        if private:
            if "contacts" in changes:
                changes["contacts"] = {"from": None, "to": None, "hidden": True}
            if "leader" in changes:
                changes["leader"] = {
                    side: _public_leader(changes["leader"].get(side)) for side in ("from", "to")
                }
        shown.append(
            HistoryEntryView(
                unit_id=entry.unit_id,
                code=entry.code,
                version=entry.version,
                action=entry.action,
                changed_by=entry.changed_by,
                changed_at=entry.changed_at,
                changes=changes,
                note=entry.note,
            )
        )
    leaders = [
        LeaderRecord(
            unit_id=record["unit_id"],
            leader=_leader(record["leader"], private),
            since=record["since"],
            until=record["until"],
            recorded_by=record["recorded_by"],
        )
        for record in leader_timeline(entries)
    ]
    return UnitHistory(code=code, entries=shown, leaders=leaders)


def period_view(period: PeriodState, scope: Scope) -> PeriodView:
    """A period with the codes of the units expected to report (and their details)."""
    return PeriodView(**_period_fields(period, scope))


def created_period(period: PeriodState, scope: Scope) -> CreatedPeriod:
    """A new ad-hoc request, with `id`."""
    return CreatedPeriod(**_period_fields(period, scope), id=period.period_id)


def _period_fields(period: PeriodState, scope: Scope) -> dict[str, Any]:
    fields = period.model_dump(exclude={"expected_units"})
    fields["basis"] = period.basis
    fields["expected_units"] = [u.code for u in period.expected_units]
    fields["expected_unit_details"] = list(period.expected_units)
    fields["scope"] = scope.as_dict()
    return fields


def key_rotation(new: RingKey, keys: list[RingKey]) -> KeyRotation:
    """The key that signs now and every key still published."""
    return KeyRotation(
        kid=new.key.kid,
        keys=[
            RingKeyInfo(kid=k.key.kid, created_at=k.created_at, retires_at=k.retires_at)
            for k in keys
        ],
    )


def handover_csv(
    unit_code: str, sheet: list[tuple[AccountInfo, ActivationCode]], hours: float
) -> bytes:
    """The handover sheet as CSV (UTF-8 with BOM, formula-safe): one line per account with
    its activation code, and how to use it."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["Đơn vị", "Tên đăng nhập", "Tên hiển thị", "Mã kích hoạt", "Hết hạn (giờ Việt Nam)"]
    )
    for account, code in sheet:
        writer.writerow(
            [
                formula_safe(unit_code),
                formula_safe(account.username),
                formula_safe(account.display_name),
                code.code,
                vn_datetime(code.expires_at),
            ]
        )
    writer.writerow([])
    writer.writerow(
        [
            f"Mỗi mã dùng một lần, trong {hours:g} giờ: mở trang kích hoạt tài khoản, nhập tên "
            "đăng nhập, mã kích hoạt và mật khẩu mới (ít nhất 10 ký tự, không chứa tên đăng "
            "nhập). Không gửi mã qua thư điện tử hay tin nhắn."
        ]
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
