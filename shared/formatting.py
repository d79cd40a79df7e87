"""Numbers and dates the Vietnamese way, written once for every page, message and document.

- Numbers: "." groups thousands, "," starts the decimals, and every decimal given is kept
  (1000.125 → "1.000,125"; a float prints as its shortest exact repr, so 0.1 → "0,1").
  Trailing zeros carry nothing and are dropped (12.50 → "12,5"); booleans are "Có"/"Không".
- Dates: dd/mm/yyyy in local time (Asia/Ho_Chi_Minh unless a zone is given); a time of day
  comes first: "14:30 05/06/2023".
- Deadlines: "trước ngày 10/06/2023" when they fall at local midnight (the plan's wording for
  an exclusive deadline), else "trước 17:00 ngày 16/06/2023".
- The date line of an official document (Nghị định 30/2020): "Hồng Lĩnh, ngày 05 tháng 6 năm
  2023".
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from shared.clock import VN_TZ

Number = int | float | Decimal


def vn_number(value: Number | str) -> str:
    """A number with "." between thousands and "," before its decimals, none dropped.

    Booleans read "Có"/"Không"; text that is not a number is returned as it is.
    """
    if isinstance(value, bool):
        return "Có" if value else "Không"
    try:
        # str() of a float is its shortest repr, the digits the number was written with.
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    sign = "-" if number < 0 else ""
    number = abs(number)
    whole = int(number)
    text = f"{whole:,}".replace(",", ".")
    fraction = number - whole
    if fraction:
        text += "," + format(fraction.normalize(), "f").partition(".")[2]
    return sign + text


def vn_percent(rate: float) -> str:
    """A share (0.857) as "85,7%", one decimal, none when it is zero ("100%")."""
    value = round(float(rate) * 100, 1)
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}%"


def vn_date(value: date | datetime, zone: tzinfo = VN_TZ) -> str:
    """dd/mm/yyyy; an instant is first taken to local time."""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def vn_time(value: datetime, zone: tzinfo = VN_TZ) -> str:
    """HH:MM of an instant in local time."""
    local = value.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"


def vn_datetime(value: datetime, zone: tzinfo = VN_TZ) -> str:
    """HH:MM dd/mm/yyyy of an instant in local time."""
    return f"{vn_time(value, zone)} {vn_date(value, zone)}"


def vn_deadline(due_at: datetime, zone: tzinfo = VN_TZ) -> str:
    """How a deadline reads: 'trước ngày 10/06/2023' when it falls at local midnight,
    else 'trước 17:00 ngày 16/06/2023'."""
    local = due_at.astimezone(zone)
    if (local.hour, local.minute) == (0, 0):
        return f"trước ngày {vn_date(local, zone)}"
    return f"trước {vn_time(local, zone)} ngày {vn_date(local, zone)}"


def vn_date_line(place: str, day: date) -> str:
    """'Hồng Lĩnh, ngày 05 tháng 6 năm 2023', as Nghị định 30/2020/NĐ-CP writes dates."""
    # The decree pads days below 10 and months 1 and 2 only, so "tháng 02" but "tháng 6".
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    text = f"{place.strip()}, ngày {day.day:02d} tháng {month} năm {day.year}"
    return unicodedata.normalize("NFC", text)


def last_on_time_day(due_at: datetime, zone: tzinfo = VN_TZ) -> date:
    """The last local day on which a report is on time: 09/06 for 'trước ngày 10/06'; the
    deadline's own day when it falls during the day ('trước 17:00 ngày 16/06')."""
    local = due_at.astimezone(zone)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return local.date() - timedelta(days=1)
    return local.date()


def data_window_phrase(
    window_start: date | None, window_end: date | None, due_at: datetime, zone: tzinfo = VN_TZ
) -> str:
    """The period the figures cover, said the same way in the form, e-mails, the letter and
    the reports: 'số liệu từ ngày 15/12/2022 đến ngày 14/06/2023'. When the window ends after
    the last day a report is on time (the cut-off days of Nghị định 09/2019), the figures from
    the submission day to the window's end can only be estimates, and the phrase says so:
    '…, trong đó số liệu từ ngày 10/06/2023 đến hết kỳ là số liệu ước thực hiện'. Empty when
    the period has no window."""
    if window_start is None or window_end is None:
        return ""
    phrase = f"số liệu từ ngày {vn_date(window_start)} đến ngày {vn_date(window_end)}"
    last_day = last_on_time_day(due_at, zone)
    if window_end > last_day:
        estimated_from = max(window_start, last_day + timedelta(days=1))
        phrase += (
            f", trong đó số liệu từ ngày {vn_date(estimated_from)} đến hết kỳ là số liệu ước "
            "thực hiện"
        )
    return phrase
