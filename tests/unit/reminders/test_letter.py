import io
from dataclasses import replace
from datetime import date

import pytest
from docx import Document

from services.reminders.domain import ReminderPolicy
from services.reminders.domain.plan import ExpectedUnit, MissingUnit
from services.reminders.letter import LetterConfig, late_list, urging_letter
from shared.contracts.registry import UnitKind
from shared.documents import build_docx

from .clock import h1_2023, vn

CONFIG = LetterConfig(
    authority="Ủy ban nhân dân",
    issuer="Thị xã Hồng Lĩnh",
    number_suffix="UBND-NV",
    place="Hồng Lĩnh",
    head_title="Chủ tịch",
    signer_title="Phó Chủ tịch",
    signer_name="Nguyễn Văn A",
    copies=("Như trên", "Chủ tịch, các PCT UBND thị xã (b/c)"),
    grace_working_days=3,
    portal_url="http://cong.honglinh.test",
)
LATE = [
    MissingUnit("18115", "UBND phường Bắc Hồng", "not_submitted", None, True, "ward"),
    MissingUnit("PTP", "Phòng Tư pháp", "returned", "Thiếu số liệu", False, "department"),
]


def text_of(data: bytes) -> tuple[str, list[list[str]]]:
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs += [p.text for p in cell.paragraphs]
    return "\n".join(paragraphs), cells


def test_urging_letter_opens_with_python_docx_and_lists_the_late_units() -> None:
    spec = urging_letter(
        h1_2023(),
        LATE,
        expected=20,
        today=date(2023, 6, 13),
        policy=ReminderPolicy(),
        config=CONFIG,
    )

    text, rows = text_of(build_docx(spec))

    assert ["1", "UBND phường Bắc Hồng", "Chưa gửi báo cáo"] in rows
    assert ["2", "Phòng Tư pháp", "Báo cáo được trả lại để bổ sung, chưa gửi lại"] in rows
    assert "V/v đôn đốc gửi báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2023" in text
    assert (
        "đã quá hạn 4 ngày (2 ngày làm việc) nhưng còn 2/20 cơ quan, đơn vị chưa gửi báo cáo"
        in (text)
    )
    assert "trước ngày 16/06/2023" in text  # three working days after Tuesday 13/06
    assert "Hồng Lĩnh, ngày 13 tháng 6 năm 2023" in text
    assert "KT. CHỦ TỊCH" in text.upper() and "Nguyễn Văn A" in text


def test_many_late_units_are_still_counted_against_the_expected_units() -> None:
    many = [
        MissingUnit(f"U{i}", f"Đơn vị {i}", "not_submitted", None, False, "ward") for i in range(9)
    ]

    spec = urging_letter(
        h1_2023(), many, expected=20, today=date(2023, 6, 1), policy=ReminderPolicy(), config=CONFIG
    )

    assert spec.recipients_to == ("Chủ tịch UBND các phường, xã",)
    assert "còn 9/20 cơ quan, đơn vị chưa gửi báo cáo" in spec.body[1].text  # type: ignore[union-attr]


def test_the_letter_cites_the_plan_by_number_and_date_and_the_window_as_everywhere() -> None:
    config = replace(
        CONFIG, plan_reference="Kế hoạch số 25/KH-UBND ngày 15 tháng 02 năm 2023 của UBND thị xã"
    )
    spec = urging_letter(
        h1_2023(),
        LATE,
        expected=20,
        today=date(2023, 6, 13),
        policy=ReminderPolicy(),
        config=config,
    )

    text, _ = text_of(build_docx(spec))

    assert (
        "Thực hiện Kế hoạch số 25/KH-UBND ngày 15 tháng 02 năm 2023 của UBND thị xã, Ủy ban nhân "
        "dân thị xã đã đề nghị các cơ quan, đơn vị gửi báo cáo công tác Dân vận chính quyền 6 "
        "tháng đầu năm 2023 (số liệu từ ngày 15/12/2022 đến ngày 14/06/2023, trong đó số liệu từ "
        "ngày 10/06/2023 đến hết kỳ là số liệu ước thực hiện) trước ngày 10/06/2023."
    ) in text
    # Until a deployment fills it in, the default keeps the plan's blanks visible.
    default = urging_letter(
        h1_2023(),
        LATE,
        expected=20,
        today=date(2023, 6, 13),
        policy=ReminderPolicy(),
        config=CONFIG,
    )
    assert default.body[0].text.startswith(  # type: ignore[union-attr]
        "Thực hiện Kế hoạch số …/KH-UBND ngày … tháng 02 năm 2023 của UBND thị xã, "
    )


def test_an_ad_hoc_request_without_a_window_and_a_deadline_in_the_afternoon() -> None:
    ad_hoc = replace(
        h1_2023(due_at=vn(2023, 6, 16, 17)), data_window_start=None, data_window_end=None
    )

    spec = urging_letter(
        ad_hoc, LATE, expected=20, today=date(2023, 6, 13), policy=ReminderPolicy(), config=CONFIG
    )

    opening = spec.body[0].text  # type: ignore[union-attr]
    assert opening.endswith("6 tháng đầu năm 2023 trước 17:00 ngày 16/06/2023.")
    assert "số liệu" not in opening


@pytest.mark.parametrize(
    ("kinds", "addressed"),
    [
        (("ward", "commune"), ("Chủ tịch UBND các phường, xã",)),
        (("department", "centre"), ("Thủ trưởng các phòng, ban, đơn vị thuộc UBND thị xã",)),
        (
            ("commune", "department"),
            (
                "Thủ trưởng các phòng, ban, đơn vị thuộc UBND thị xã",
                "Chủ tịch UBND các phường, xã",
            ),
        ),
        (
            ("ward", None),  # a period stored before the kinds were kept
            (
                "Thủ trưởng các phòng, ban, đơn vị thuộc UBND thị xã",
                "Chủ tịch UBND các phường, xã",
            ),
        ),
    ],
)
def test_the_letter_is_addressed_to_the_kinds_of_units_that_are_late(
    kinds: tuple[UnitKind | None, ...], addressed: tuple[str, ...]
) -> None:
    late = [
        MissingUnit(f"U{i}", f"Đơn vị {i}", "not_submitted", None, False, kind)
        for i, kind in enumerate(kinds)
    ]

    spec = urging_letter(
        h1_2023(),
        late,
        expected=20,
        today=date(2023, 6, 13),
        policy=ReminderPolicy(),
        config=CONFIG,
    )

    assert spec.recipients_to == addressed
    asked = spec.body[3].text  # type: ignore[union-attr]
    if len(addressed) == 2:
        assert (
            "đề nghị Thủ trưởng các phòng, ban, đơn vị và Chủ tịch UBND các phường, xã có tên"
            in (asked)
        )
    text, _ = text_of(build_docx(spec))
    assert "Các cơ quan, đơn vị có tên tại danh sách dưới đây" not in text
    assert ("Kính gửi:" in text) and all(line in text for line in addressed)


def test_the_drafting_office_is_neither_listed_nor_counted() -> None:
    pnv = MissingUnit("PNV", "Phòng Nội vụ", "not_submitted", None, True, "department")
    expected = [ExpectedUnit("18115", "UBND phường Bắc Hồng"), ExpectedUnit("PNV", "Phòng Nội vụ")]
    expected += [ExpectedUnit(f"U{i}", f"Đơn vị {i}") for i in range(18)]

    listed, counted = late_list([LATE[0], pnv], expected, CONFIG)

    assert [u.code for u in listed] == ["18115"] and counted == 19
    assert late_list([pnv], expected, CONFIG) == ([], 19)
    elsewhere = replace(CONFIG, drafting_unit="VP")
    assert [u.code for u in late_list([LATE[0], pnv], expected, elsewhere)[0]] == ["18115", "PNV"]
