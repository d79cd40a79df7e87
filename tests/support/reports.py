"""Report bodies the tests submit."""

from __future__ import annotations

from typing import Any


def full_report(
    period_id: str, *, kind: str = "ward", tags: tuple[str, ...] = (), revision: int = 0
) -> dict[str, Any]:
    """A valid periodic report for a unit of this kind; `revision` varies the figures."""
    sections: dict[str, dict[str, Any]] = {
        str(n): {"narrative": f"Kết quả thực hiện nhiệm vụ {n}.", "indicators": {}}
        for n in range(1, 9)
    }
    sections["1"]["indicators"] = {"van_ban_ban_hanh": 3 + revision, "hoi_nghi_quan_triet": 2}
    sections["4"]["indicators"] = {"ho_so_tthc_tiep_nhan": 120, "ho_so_tthc_dung_han": 118}
    if kind in ("ward", "commune"):
        sections["6"]["indicators"] = {"nhan_dan_dong_gop": 125.5}
    if "communication" in tags:
        sections["9"] = {"narrative": "Đăng tải 12 tin bài.", "indicators": {}}
    return {
        "period_id": period_id,
        "sections": sections,
        "ton_tai_han_che": "Một số chỉ tiêu còn chậm.",
        "phuong_huong": "Tiếp tục thực hiện kế hoạch.",
        "de_xuat_kien_nghi": "",
        "vuong_mac": ["Cần hướng dẫn cách tính số lượt người tham gia."],
    }
