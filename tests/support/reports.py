"""Report bodies the tests submit."""

from __future__ import annotations


def full_report(period_id: str) -> dict[str, object]:
    sections = {
        str(n): {"narrative": f"Kết quả thực hiện nhiệm vụ {n}.", "indicators": {}}
        for n in range(1, 9)
    }
    sections["1"]["indicators"] = {"van_ban_ban_hanh": 3, "hoi_nghi_quan_triet": 2}
    sections["4"]["indicators"] = {"ho_so_tthc_tiep_nhan": 120, "ho_so_tthc_dung_han": 118}
    sections["6"]["indicators"] = {"nhan_dan_dong_gop": 125.5}
    return {
        "period_id": period_id,
        "sections": sections,
        "ton_tai_han_che": "Một số chỉ tiêu còn chậm.",
        "phuong_huong": "Tiếp tục thực hiện kế hoạch.",
        "de_xuat_kien_nghi": "",
        "vuong_mac": ["Cần hướng dẫn cách tính số lượt người tham gia."],
    }
