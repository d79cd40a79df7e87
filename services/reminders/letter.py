"""The urging letter (công văn đôn đốc) to units that have not reported; pure, no I/O.

Issuer, signer, place and copies are configuration; the letter lists the units that still
owe the period a report and asks for it within a few working days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.reminders.domain import PeriodView, ReminderPolicy
from services.reminders.domain.plan import MissingUnit
from services.reminders.domain.timing import deadline_day, nth_working_day_after
from shared.documents import DocumentSpec, Issuer, Paragraph, Signature, Table
from shared.formatting import vn_date

_STATE_TEXT = {
    "not_submitted": "Chưa gửi báo cáo",
    "returned": "Báo cáo được trả lại để bổ sung, chưa gửi lại",
    "withdrawn": "Đã rút báo cáo, chưa gửi lại",
}
# Beyond this many units the "Kính gửi" block points at the list instead of naming them all.
_MAX_NAMED_ADDRESSEES = 6


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
    body = (
        Paragraph(
            f"Thực hiện chế độ báo cáo công tác Dân vận chính quyền, Ủy ban nhân dân thị xã "
            f"đã đề nghị các cơ quan, đơn vị gửi {subject_title} (số liệu từ ngày "
            f"{vn_date(period.data_window_start)} đến ngày "
            f"{vn_date(period.data_window_end)}) trước ngày "
            f"{vn_date(_due_day(period, policy))}."
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
            "Thủ trưởng các cơ quan, đơn vị, Chủ tịch UBND các phường, xã có tên nêu trên "
            "khẩn trương chỉ đạo hoàn thành và gửi báo cáo về Ủy ban nhân dân thị xã (qua "
            f"Phòng Nội vụ) trước ngày {vn_date(reply_by)} qua Cổng báo cáo công tác "
            f"Dân vận chính quyền ({config.portal_url})."
        ),
        Paragraph("Yêu cầu các cơ quan, đơn vị nghiêm túc triển khai thực hiện./."),
    )
    if len(missing) <= _MAX_NAMED_ADDRESSEES:
        addressees: tuple[str, ...] = tuple(unit.name for unit in missing)
    else:
        addressees = ("Các cơ quan, đơn vị có tên tại danh sách dưới đây",)
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
        recipients_to=addressees,
        recipients=config.copies,
    )


def _due_day(period: PeriodView, policy: ReminderPolicy) -> date:
    """The date of "trước ngày …": the local day of due_at."""
    return period.due_at.astimezone(policy.zone).date()
