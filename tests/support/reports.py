"""Report bodies the tests submit."""

from __future__ import annotations

import re
from typing import Any

from services.registry.domain import DEFAULT_REGIME, regime_periods
from shared.forms import form_for_unit, load_form

PERIODIC_FORM_ID = "dvcq-dinh-ky"
_PERIOD_ID = re.compile(r"^(\d{4})-([A-Z0-9]+)$")


def periodic_form_version(period_id: str) -> str:
    """The version of the periodic form the registry's default regime gives this period
    (2023-H1 → 2023.1, 2023-Y and later → 2023.2); the newest for ids it does not know."""
    match = _PERIOD_ID.match(period_id)
    if match:
        for planned in regime_periods(int(match[1]), DEFAULT_REGIME):
            if planned.period_id == period_id:
                return planned.form[1]
    return regime_periods(9999, DEFAULT_REGIME)[0].form[1]


# Figures every unit reports when its form asks for them; `revision` changes the first.
FIGURES: dict[str, int | float] = {
    "van_ban_ban_hanh": 3,
    "hoi_nghi_quan_triet": 2,
    "ho_so_tthc_tiep_nhan": 120,
    "ho_so_tthc_dung_han": 118,
    "nhan_dan_dong_gop": 125.5,
    "dan_chu_cuoc_kiem_tra": 2,
    "dan_chu_hoi_nghi_doi_thoai": 1,
    "ton_giao_co_so": 4,
}


# The answer to the leader check (plan II.5, form 2023.2 on) when a test does not give one: a
# change, which needs no leader in the registry (the demo seed holds none).
LEADER_CHANGE: dict[str, Any] = {
    "confirmed": False,
    "full_name": "Nguyễn Văn An",
    "title": "Chủ tịch Ủy ban nhân dân",
}
LEADER_CONFIRMED: dict[str, Any] = {"confirmed": True}


def full_report(
    period_id: str,
    *,
    kind: str = "ward",
    tags: tuple[str, ...] = (),
    revision: int = 0,
    form_version: str | None = None,
    leader: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A valid periodic report for a unit of this kind, on the period's form version: every
    section it must fill has a narrative, the FIGURES it is asked for are filled in, and the
    leader check (if the form has one) is answered with `leader` (LEADER_CHANGE unless told)."""
    form = load_form(PERIODIC_FORM_ID, form_version or periodic_form_version(period_id))
    unit_form = form_for_unit(form, kind, set(tags))
    sections: dict[str, dict[str, Any]] = {}
    for section in unit_form.sections:
        narrative = f"Kết quả thực hiện nhiệm vụ {section.number}."
        if section.plan_ref == "IV.2":
            narrative = "Đăng tải 12 tin bài."
        figures = {
            ind.code: FIGURES[ind.code] + (revision if ind.code == "van_ban_ban_hanh" else 0)
            for ind in section.indicators
            if ind.code in FIGURES
        }
        sections[section.key] = {"narrative": narrative, "indicators": figures}
        if section.leader_check is not None:
            answer = LEADER_CHANGE if leader is None else leader
            sections[section.key][section.leader_check.code] = dict(answer)
    return {
        "period_id": period_id,
        "sections": sections,
        "ton_tai_han_che": "Một số chỉ tiêu còn chậm.",
        "phuong_huong": "Tiếp tục thực hiện kế hoạch.",
        "de_xuat_kien_nghi": "",
        "vuong_mac": ["Cần hướng dẫn cách tính số lượt người tham gia."],
    }
