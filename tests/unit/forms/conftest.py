"""Shared fixtures: the packaged forms and a complete, valid report body for a ward."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.forms import FormDefinition, load_form

WARD_BODY: dict[str, Any] = {
    "sections": {
        "1": {
            "narrative": "Đã quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ.",
            "indicators": {
                "van_ban_ban_hanh": 3,
                "hoi_nghi_quan_triet": 2,
                "luot_nguoi_quan_triet": 150,
            },
        },
        "2": {
            "narrative": "Đăng ký xây dựng mô hình Dân vận khéo.",
            "indicators": {
                "mo_hinh_dvk_dang_ky": 4,
                "mo_hinh_dvk_cong_nhan": 2,
                "dien_hinh_dvk_khen_thuong": 1,
            },
        },
        "3": {
            "narrative": "Tổ chức tập huấn kỹ năng.",
            "indicators": {
                "lop_tap_huan": 1,
                "luot_nguoi_tap_huan": 40,
                "cuoc_kiem_tra_giam_sat": 2,
                "sai_pham_phat_hien": 1,
                "sai_pham_xu_ly": 1,
            },
        },
        "4": {
            "narrative": "Giải quyết hồ sơ thủ tục hành chính đúng quy định.",
            "indicators": {
                "ho_so_tthc_tiep_nhan": 1200,
                "ho_so_tthc_dung_han": 1180,
                "ho_so_tthc_qua_han": 5,
                "ho_so_truc_tuyen": 900,
            },
        },
        "5": {
            "narrative": "Đã phân công Phó Chủ tịch phụ trách.",
            "indicators": {"co_lanh_dao_phu_trach": True, "can_bo_dan_van_boi_duong": 3},
        },
        "6": {
            "narrative": "Ký kết quy chế phối hợp với Mặt trận.",
            "indicators": {
                "quy_che_phoi_hop": 1,
                "cong_trinh_cung_lam": 6,
                "nhan_dan_dong_gop": 125.5,
            },
        },
        "7": {
            "narrative": "Tiếp công dân định kỳ hằng tháng.",
            "indicators": {
                "cuoc_doi_thoai": 2,
                "buoi_tiep_cong_dan": 12,
                "luot_cong_dan_duoc_tiep": 30,
                "don_thu_tiep_nhan": 8,
                "don_thu_giai_quyet": 7,
                "kien_nghi_cu_tri_tiep_nhan": 10,
                "kien_nghi_cu_tri_giai_quyet": 9,
            },
        },
        "8": {
            "narrative": "Không phát sinh",
            "indicators": {
                "tap_the_khen_thuong": 2,
                "ca_nhan_khen_thuong": 5,
                "ho_thoat_ngheo": 12,
            },
        },
    },
    "ton_tai_han_che": "Một số hồ sơ còn quá hạn.",
    "phuong_huong": "Tiếp tục đẩy mạnh cải cách hành chính.",
    "de_xuat_kien_nghi": "Đề nghị tăng cường tập huấn.",
    "vuong_mac": ["Chưa có hướng dẫn về mô hình Dân vận khéo."],
}


@pytest.fixture
def periodic() -> FormDefinition:
    return load_form("dvcq-dinh-ky", "2023.1")


@pytest.fixture
def ad_hoc() -> FormDefinition:
    return load_form("dvcq-dot-xuat", "2023.1")


@pytest.fixture
def ward_body() -> dict[str, Any]:
    """A fresh deep copy, so a test can change it freely."""
    return copy.deepcopy(WARD_BODY)


@pytest.fixture
def department_body(ward_body: dict[str, Any]) -> dict[str, Any]:
    """The ward body without the figures only wards and communes report."""
    del ward_body["sections"]["6"]["indicators"]["nhan_dan_dong_gop"]
    del ward_body["sections"]["8"]["indicators"]["ho_thoat_ngheo"]
    return ward_body
