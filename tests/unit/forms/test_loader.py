"""Loading the packaged form definitions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.errors import NotFound
from shared.forms import FormDefinition, FormNotFound, available_forms, load_form

PERIODIC_CODES = [
    "van_ban_ban_hanh",
    "hoi_nghi_quan_triet",
    "luot_nguoi_quan_triet",
    "mo_hinh_dvk_dang_ky",
    "mo_hinh_dvk_cong_nhan",
    "dien_hinh_dvk_khen_thuong",
    "lop_tap_huan",
    "luot_nguoi_tap_huan",
    "cuoc_kiem_tra_giam_sat",
    "sai_pham_phat_hien",
    "sai_pham_xu_ly",
    "ho_so_tthc_tiep_nhan",
    "ho_so_tthc_dung_han",
    "ho_so_tthc_qua_han",
    "ho_so_truc_tuyen",
    "co_lanh_dao_phu_trach",
    "can_bo_dan_van_boi_duong",
    "quy_che_phoi_hop",
    "cong_trinh_cung_lam",
    "nhan_dan_dong_gop",
    "cuoc_doi_thoai",
    "buoi_tiep_cong_dan",
    "luot_cong_dan_duoc_tiep",
    "don_thu_tiep_nhan",
    "don_thu_giai_quyet",
    "kien_nghi_cu_tri_tiep_nhan",
    "kien_nghi_cu_tri_giai_quyet",
    "tap_the_khen_thuong",
    "ca_nhan_khen_thuong",
    "ho_thoat_ngheo",
    "chuyen_de_phat_song",
]


def test_available_forms_lists_every_packaged_version() -> None:
    assert available_forms() == [
        ("dvcq-dinh-ky", "2023.1"),
        ("dvcq-dinh-ky", "2023.2"),
        ("dvcq-dot-xuat", "2023.1"),
    ]


def test_every_available_form_loads() -> None:
    for form_id, version in available_forms():
        form = load_form(form_id, version)
        assert (form.form_id, form.version) == (form_id, version)


def test_periodic_form_has_the_nine_sections_and_indicator_codes_in_order(
    periodic: FormDefinition,
) -> None:
    assert periodic.kind == "periodic"
    assert [s.number for s in periodic.sections] == list(range(1, 10))
    assert [s.plan_ref for s in periodic.sections] == [f"II.{n}" for n in range(1, 9)] + ["IV.2"]
    assert [ind.code for ind in periodic.indicators] == PERIODIC_CODES


def test_periodic_form_carries_the_exact_labels_and_types(periodic: FormDefinition) -> None:
    section_2 = periodic.section("2")
    assert section_2 is not None
    assert section_2.title == 'Phong trào thi đua "Dân vận khéo"'
    assert section_2.narrative.label == "Kết quả thực hiện"
    qua_han = periodic.indicator("ho_so_tthc_qua_han")
    assert qua_han is not None and qua_han.label == "Số hồ sơ giải quyết quá hạn"
    co_lanh_dao = periodic.indicator("co_lanh_dao_phu_trach")
    assert co_lanh_dao is not None
    assert co_lanh_dao.label == "Đã phân công 01 lãnh đạo phụ trách công tác dân vận"
    assert co_lanh_dao.type == "yes_no"
    dong_gop = periodic.indicator("nhan_dan_dong_gop")
    assert dong_gop is not None
    assert (dong_gop.type, dong_gop.decimal_places) == ("decimal", 1)
    assert dong_gop.label == "Giá trị Nhân dân đóng góp (triệu đồng)"


def test_bounds_come_from_the_form_limits_by_type(periodic: FormDefinition) -> None:
    count = periodic.indicator("van_ban_ban_hanh")
    decimal = periodic.indicator("nhan_dan_dong_gop")
    assert count is not None and decimal is not None
    assert (count.minimum, count.maximum) == (Decimal(0), Decimal(1_000_000))
    assert (decimal.minimum, decimal.maximum) == (Decimal(0), Decimal(1_000_000_000))


def test_part_b_fields_required_and_limits(periodic: FormDefinition) -> None:
    fields = {f.code: f for f in periodic.text_fields}
    assert {code: f.required for code, f in fields.items()} == {
        "ton_tai_han_che": True,
        "phuong_huong": True,
        "de_xuat_kien_nghi": False,
        "vuong_mac": False,
    }
    assert fields["ton_tai_han_che"].label == "Tồn tại, hạn chế và nguyên nhân"
    assert fields["vuong_mac"].label == "Khó khăn, vướng mắc cần hướng dẫn"
    assert (fields["vuong_mac"].max_items, fields["vuong_mac"].max_length) == (50, 5000)
    assert fields["phuong_huong"].max_length == 20_000


def test_rules_are_data_with_their_severities(periodic: FormDefinition) -> None:
    rules = {(tuple(r.left), r.right): r.severity for r in periodic.rules}
    assert rules == {
        (("sai_pham_xu_ly",), "sai_pham_phat_hien"): "warning",
        (("ho_so_tthc_dung_han", "ho_so_tthc_qua_han"), "ho_so_tthc_tiep_nhan"): "error",
        (("ho_so_truc_tuyen",), "ho_so_tthc_tiep_nhan"): "error",
        (("don_thu_giai_quyet",), "don_thu_tiep_nhan"): "warning",
        (("kien_nghi_cu_tri_giai_quyet",), "kien_nghi_cu_tri_tiep_nhan"): "warning",
    }
    assert all(r.kind == "sum_le" for r in periodic.rules)


def test_ad_hoc_form_has_noi_dung_and_vuong_mac(ad_hoc: FormDefinition) -> None:
    assert ad_hoc.kind == "ad_hoc"
    assert ad_hoc.sections == ()
    assert [(f.code, f.required) for f in ad_hoc.text_fields] == [
        ("noi_dung", True),
        ("vuong_mac", False),
    ]
    assert ad_hoc.attachment_allowed


def test_loading_twice_returns_the_cached_definition() -> None:
    assert load_form("dvcq-dinh-ky", "2023.1") is load_form("dvcq-dinh-ky", "2023.1")


@pytest.mark.parametrize(
    ("form_id", "version"),
    [
        ("dvcq-dinh-ky", "2099.1"),
        ("khong-co", "2023.1"),
        ("dvcq-dinh-ky", "../../model"),
        ("../forms", "2023.1"),
        ("dvcq-dinh-ky", ""),
    ],
)
def test_unknown_form_or_version_raises_form_not_found(form_id: str, version: str) -> None:
    with pytest.raises(FormNotFound) as caught:
        load_form(form_id, version)
    assert isinstance(caught.value, NotFound)
    assert caught.value.code == "form_not_found"
    assert caught.value.status == 404
    assert "Không tìm thấy biểu mẫu" in caught.value.message
