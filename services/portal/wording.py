"""What the pages say about dates, deadlines and states: Vietnamese, local time, no I/O.

Deadline semantics match the rest of the system: ``due_at`` is an exclusive instant, so
"trước ngày 10/6" is stored as 10/06 00:00 local and the last day to report on time
(the deadline day) is 09/06.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from shared import formatting
from shared.clock import VN_TZ

DeadlineTone = Literal["ok", "soon", "today", "overdue", "closed"]

# Within this many days the deadline is shown as pressing.
SOON_DAYS = 7

REPORT_STATUS_LABELS: dict[str, str] = {
    "submitted": "Đã gửi, chờ xem xét",
    "returned": "Trả lại, chờ bổ sung",
    "accepted": "Đã được chấp nhận",
    "withdrawn": "Đã rút",
}

# One wording per situation for sending the unit's report again, the same on the home page,
# the report page and the form's button, so the clerk recognises the step they started.
RESUBMIT_LABELS: dict[str, str] = {
    "withdrawn": "Gửi lại báo cáo",
    "returned": "Bổ sung theo yêu cầu",
    "submitted": "Sửa, gửi bản mới",
}

PERIOD_KIND_LABELS: dict[str, str] = {
    "six_month": "Báo cáo 6 tháng",
    "annual": "Báo cáo năm",
    "ad_hoc": "Báo cáo đột xuất",
}

DELIVERY_OUTCOME_LABELS: dict[str, str] = {
    "pending": "Đang gửi",
    "sent": "Đã gửi",
    "failed": "Gửi không thành công",
    "undeliverable": "Không có địa chỉ nhận",
}

CHANNEL_LABELS: dict[str, str] = {
    "email": "Thư điện tử",
    "webhook": "Tin nhắn (SMS/Zalo)",
    "none": "Không có kênh nhận",
}

ROLE_LABELS: dict[str, str] = {
    "unit": "Cán bộ đơn vị",
    "reviewer": "Phòng Nội vụ",
    "leader": "Lãnh đạo",
    "admin": "Quản trị",
    "service": "Tài khoản dịch vụ",
}


@dataclass(frozen=True)
class Deadline:
    """How a period's deadline reads today."""

    due_text: str  # "trước ngày 10/06/2023"
    last_day_text: str  # "09/06/2023"
    countdown: str  # "còn 5 ngày", "hôm nay là ngày cuối", "quá hạn 3 ngày"
    tone: DeadlineTone
    days_left: int
    days_overdue: int


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 instant from a backend as an aware datetime, or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A naive instant from a backend is taken as local time, the only zone users know.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def describe_deadline(due_at: datetime, now: datetime, *, closed: bool = False) -> Deadline:
    """The deadline as the home page shows it: date and days left or overdue."""
    last_day = formatting.last_on_time_day(due_at)
    today = now.astimezone(VN_TZ).date()
    due_text = formatting.vn_deadline(due_at)
    days_left = max(0, (last_day - today).days)
    days_overdue = max(0, (today - last_day).days) if now >= due_at else 0
    tone: DeadlineTone
    if closed:
        countdown, tone = "đã khóa sổ", "closed"
    elif now >= due_at:
        countdown, tone = f"quá hạn {days_overdue} ngày", "overdue"
    elif days_left == 0:
        countdown, tone = "hôm nay là ngày cuối", "today"
    else:
        countdown = f"còn {days_left} ngày"
        tone = "soon" if days_left <= SOON_DAYS else "ok"
    return Deadline(
        due_text=due_text,
        last_day_text=formatting.vn_date(last_day),
        countdown=countdown,
        tone=tone,
        days_left=days_left,
        days_overdue=days_overdue,
    )


def vn_date(value: Any) -> str:
    """dd/mm/yyyy of an ISO date or instant (local time); empty when absent."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return formatting.vn_date(value)
    if isinstance(value, str) and len(value) == 10:
        try:
            return formatting.vn_date(date.fromisoformat(value))
        except ValueError:
            return value
    instant = parse_instant(value)
    return formatting.vn_date(instant) if instant else ""


def vn_datetime(value: Any) -> str:
    """HH:MM dd/mm/yyyy of an ISO instant in local time; empty when absent."""
    instant = parse_instant(value)
    return formatting.vn_datetime(instant) if instant else ""


def vn_deadline(value: Any) -> str:
    """A backend's ``due_at`` worded as on every page ("trước ngày 10/06/2023"), or ""."""
    instant = parse_instant(value)
    return formatting.vn_deadline(instant) if instant else ""


def resubmit_label(status: Any) -> str:
    """The button that sends a new version of a report in this state."""
    return RESUBMIT_LABELS.get(str(status or ""), RESUBMIT_LABELS["submitted"])


def timeliness(on_time: Any) -> str:
    """ "Đúng hạn" / "Gửi muộn" / nothing."""
    if on_time is True:
        return "Đúng hạn"
    if on_time is False:
        return "Gửi muộn"
    return ""


def vn_number(value: Any) -> str:
    """A figure the Vietnamese way (1.000, 12,5); "chưa báo cáo" when absent."""
    if value is None or value == "":
        return "chưa báo cáo"
    if isinstance(value, bool | int | float):
        return formatting.vn_number(value)
    return formatting.vn_number(str(value))


def percent(rate: Any) -> str:
    """A share as "85,7%"; empty when absent."""
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        return ""
    return formatting.vn_percent(rate)
