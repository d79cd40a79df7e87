"""The unit's report as an official document: issuer, place, signature and subject."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.document import (
    DocumentSettings,
    ReportVersionText,
    document_spec,
    file_name,
    issuer,
    place,
    signature,
    signer_of,
)
from shared.contracts.registry import ExpectedUnit, Leader
from shared.forms import load_form

SETTINGS = DocumentSettings(town_short="UBND thị xã Hồng Lĩnh", place="Hồng Lĩnh")
COMMUNE = ExpectedUnit(code="18130", name="UBND xã Thuận Lộc", kind="commune")
CENTRE = ExpectedUnit(code="TTVHTT", name="Trung tâm Văn hóa - Truyền thông", kind="centre")


def test_a_commune_issues_as_its_people_s_committee_from_its_own_place() -> None:
    found = issuer(COMMUNE, SETTINGS)
    assert (found.parent_authority, found.name, found.number_suffix) == (
        "Ủy ban nhân dân",
        "xã Thuận Lộc",
        "BC-UBND",
    )
    assert found.parent_authority_bold and place(COMMUNE, SETTINGS) == "Thuận Lộc"


def test_a_centre_issues_under_the_town() -> None:
    found = issuer(CENTRE, SETTINGS)
    assert (found.parent_authority, found.name, found.number_suffix) == (
        "UBND thị xã Hồng Lĩnh",
        "Trung tâm Văn hóa - Truyền thông",
        "BC-TTVHTT",
    )
    assert not found.parent_authority_bold and place(CENTRE, SETTINGS) == "Hồng Lĩnh"


@pytest.mark.parametrize(
    ("unit", "leader", "lines", "title", "name"),
    [
        (
            COMMUNE,
            Leader(full_name="Hà Văn A", title="Chủ tịch"),
            ("TM. ỦY BAN NHÂN DÂN",),
            "Chủ tịch",
            "Hà Văn A",
        ),
        (
            COMMUNE,
            Leader(full_name="Hà Văn B", title="Phó Chủ tịch"),
            ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"),
            "Phó Chủ tịch",
            "Hà Văn B",
        ),
        (
            CENTRE,
            Leader(full_name="Lê C", title="Phó Giám đốc"),
            ("KT. GIÁM ĐỐC",),
            "Phó Giám đốc",
            "Lê C",
        ),
        (CENTRE, None, (), "Thủ trưởng đơn vị", ""),
        (COMMUNE, None, ("TM. ỦY BAN NHÂN DÂN",), "Chủ tịch", ""),
    ],
)
def test_the_leader_in_charge_signs_a_deputy_for_the_head(
    unit: ExpectedUnit, leader: Leader | None, lines: tuple[str, ...], title: str, name: str
) -> None:
    found = signature(unit, leader)
    assert (found.authority_lines, found.title, found.signer_name) == (lines, title, name)


def test_the_reported_leader_signs_before_the_one_on_record() -> None:
    reported, on_record = Leader(full_name="Mới"), Leader(full_name="Cũ")
    assert signer_of(reported, on_record, None) == reported
    assert signer_of(None, on_record, Leader(full_name="Nay")) == on_record
    assert signer_of(None, None, None) is None


def test_an_ad_hoc_report_takes_its_subject_from_the_request() -> None:
    text = ReportVersionText(
        period_title="Báo cáo đột xuất về tiếp công dân",
        period_kind="ad_hoc",
        window_start=None,
        window_end=None,
        unit=COMMUNE,
        version=2,
        sent_on=date(2023, 7, 1),
        content={"noi_dung": "Đã tiếp 45 lượt.\n\nKhông có vụ việc phức tạp.", "vuong_mac": []},
        form=load_form("dvcq-dot-xuat", "2023.1"),
        signer=None,
    )
    spec = document_spec(text, SETTINGS, None)
    assert spec.subject == "Đột xuất về tiếp công dân" and spec.kind_title == "Báo cáo"
    texts = [getattr(block, "text", "") for block in spec.body]
    assert texts[0] == "Ủy ban nhân dân xã Thuận Lộc báo cáo đột xuất về tiếp công dân như sau:"
    assert "Đã tiếp 45 lượt." in texts and "Không có vụ việc phức tạp." in texts
    assert "Không có." in texts  # no vướng mắc
    assert spec.recipients == ("UBND thị xã Hồng Lĩnh (qua Phòng Nội vụ)",)
    assert file_name("2023-DX 01", "18130", 2) == "bao-cao-2023-DX-01-18130-v2.docx"
