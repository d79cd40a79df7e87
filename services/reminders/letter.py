"""The urging letter (công văn đôn đốc) to units that have not reported; pure, no I/O.

Issuer, signer, place, copies, the plan it cites and the drafting office are configuration.
The letter cites the plan by number and date, is addressed in the administrative form (the
heads of the town's departments and units, the chairs of the wards' and commune's People's
Committees: only the lines whose kinds are late), lists the units that still owe the period
a report — never the office that drafts the letter (Phòng Nội vụ) — and asks for it within
a few working days. The data window and the deadline read as in every other text
(`shared.formatting.data_window_phrase`, `vn_deadline`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.reminders.domain import PeriodView, ReminderPolicy
from services.reminders.domain.plan import ExpectedUnit, MissingUnit
from services.reminders.domain.timing import deadline_day, nth_working_day_after
from shared.contracts.registry import UnitKind
from shared.documents import DocumentSpec, Issuer, Paragraph, Signature, Table
from shared.formatting import data_window_phrase, vn_date, vn_deadline

DEFAULT_PLAN_REFERENCE = "Kế hoạch số …/KH-UBND ngày … tháng 02 năm 2023 của UBND thị xã"
"""The plan the letter cites until a deployment sets its number and date."""
DEFAULT_DRAFTING_UNIT = "PNV"
"""Phòng Nội vụ, which drafts the letter (the seed's code)."""

_STATE_TEXT = {
    "not_submitted": "Chưa gửi báo cáo",
    "returned": "Báo cáo được trả lại để bổ sung, chưa gửi lại",
    "withdrawn": "Đã rút báo cáo, chưa gửi lại",
}
# "Kính gửi" in the administrative form: one line per group of late units, by kind.
_DEPARTMENTS = "Thủ trưởng các phòng, ban, đơn vị thuộc UBND thị xã"
_WARDS = "Chủ tịch UBND các phường, xã"
_ADDRESSEE_OF: dict[UnitKind, str] = {
    "department": _DEPARTMENTS,
    "centre": _DEPARTMENTS,
    "agency": _DEPARTMENTS,
    "ward": _WARDS,
    "commune": _WARDS,
}
# How the closing paragraph names the same people.
_ASKED = {_DEPARTMENTS: "Thủ trưởng các phòng, ban, đơn vị", _WARDS: "Chủ tịch UBND các phường, xã"}


@dataclass(frozen=True, slots=True)
class LetterConfig:
    """Who issues and signs the letter, and who gets a copy."""

    authority: str
    issuer: str
    number_suffix: str
    place: str
    head_title: str
    signer_title: str
    signer_name: str
    copies: tuple[str, ...]
    grace_working_days: int
    portal_url: str
    plan_reference: str = DEFAULT_PLAN_REFERENCE
    drafting_unit: str = DEFAULT_DRAFTING_UNIT


def late_list(
    missing: Sequence[MissingUnit], expected: Iterable[ExpectedUnit], config: LetterConfig
) -> tuple[list[MissingUnit], int]:
    """The units the letter lists and how many units it counts them against: the office
    that drafts the letter is in neither (it does not urge itself)."""
    listed = [u for u in missing if u.code != config.drafting_unit]
    counted = sum(1 for u in expected if u.code != config.drafting_unit)
    return listed, counted


def addressees(missing: Sequence[MissingUnit]) -> tuple[str, ...]:
    """The "Kính gửi" lines for these late units: departments first, then wards and the
    commune; a unit of unknown kind (a period stored before kinds were kept) brings both."""
    lines: set[str] = set()
    for unit in missing:
        line = _ADDRESSEE_OF.get(unit.kind) if unit.kind is not None else None
        if line is None:
            lines.update((_DEPARTMENTS, _WARDS))
        else:
            lines.add(line)
    return tuple(line for line in (_DEPARTMENTS, _WARDS) if line in lines)


def urging_letter(
    period: PeriodView,
    missing: Sequence[MissingUnit],
    *,
    expected: int,
    today: date,
    policy: ReminderPolicy,
    config: LetterConfig,
) -> DocumentSpec:
    """The công văn urging the listed units to send the period's report."""
    subject_title = period.title
    if subject_title.startswith("Báo cáo"):
        subject_title = "báo cáo" + subject_title[len("Báo cáo") :]
    last_day = deadline_day(policy, period.due_at)
    overdue_days = (today - last_day).days
    working_days = policy.calendar.working_days_between(last_day, today)
    reply_by = nth_working_day_after(policy, today, config.grace_working_days)
    if overdue_days > 0:
        status_line = (
            f"Đến ngày {vn_date(today)}, đã quá hạn {overdue_days} ngày ({working_days} "
            f"ngày làm việc) nhưng còn "
            f"{len(missing)}/{expected} cơ quan, đơn vị chưa gửi báo cáo, cụ thể:"
        )
    else:
        status_line = (
            f"Đến ngày {vn_date(today)}, còn {len(missing)}/{expected} cơ quan, đơn vị "
            f"chưa gửi báo cáo, cụ thể:"
        )
    window = data_window_phrase(
        period.data_window_start, period.data_window_end, period.due_at, policy.zone
    )
    asked_for = f"{subject_title} ({window})" if window else subject_title
    to = addressees(missing)
    who = " và ".join(_ASKED[line] for line in to)
    body = (
        Paragraph(
            f"Thực hiện {config.plan_reference.strip()}, Ủy ban nhân dân thị xã đã đề nghị các "
            f"cơ quan, đơn vị gửi {asked_for} {vn_deadline(period.due_at, policy.zone)}."
        ),
        Paragraph(status_line),
        Table(
            columns=("TT", "Cơ quan, đơn vị", "Tình trạng"),
            rows=[
                (str(i), unit.name, _STATE_TEXT.get(unit.state, unit.state))
                for i, unit in enumerate(missing, start=1)
            ],
            widths_mm=(12, 85, 68),
        ),
        Paragraph(
            "Để kịp thời tổng hợp, báo cáo theo quy định, Ủy ban nhân dân thị xã đề nghị "
            f"{who} có tên nêu trên khẩn trương chỉ đạo hoàn thành và gửi báo cáo về Ủy ban "
            f"nhân dân thị xã (qua Phòng Nội vụ) trước ngày {vn_date(reply_by)} qua Cổng báo "
            f"cáo công tác Dân vận chính quyền ({config.portal_url})."
        ),
        Paragraph("Yêu cầu các cơ quan, đơn vị nghiêm túc triển khai thực hiện./."),
    )
    if config.signer_title.strip().lower() == config.head_title.strip().lower():
        signature = Signature.thay_mat(config.authority, config.head_title, config.signer_name)
    else:
        signature = Signature.ky_thay(
            config.head_title, config.signer_title, config.signer_name, body=config.authority
        )
    return DocumentSpec(
        issuer=Issuer(config.authority, config.issuer, config.number_suffix),
        place=config.place,
        issued_on=today,
        kind_title="",
        subject=f"đôn đốc gửi {subject_title}",
        signature=signature,
        body=body,
        recipients_to=to,
        recipients=config.copies,
    )
