import io
from datetime import date

from docx import Document

from services.reminders.domain import ReminderPolicy
from services.reminders.domain.plan import MissingUnit
from services.reminders.letter import LetterConfig, urging_letter
from shared.documents import build_docx

from .clock import h1_2023

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
    MissingUnit("18115", "UBND phường Bắc Hồng", "not_submitted", None, True),
    MissingUnit("PTP", "Phòng Tư pháp", "returned", "Thiếu số liệu", False),
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


def test_many_late_units_are_addressed_through_the_list() -> None:
    many = [MissingUnit(f"U{i}", f"Đơn vị {i}", "not_submitted", None, False) for i in range(9)]

    spec = urging_letter(
        h1_2023(), many, expected=20, today=date(2023, 6, 1), policy=ReminderPolicy(), config=CONFIG
    )

    assert spec.recipients_to == ("Các cơ quan, đơn vị có tên tại danh sách dưới đây",)
    assert "còn 9/20 cơ quan, đơn vị chưa gửi báo cáo" in spec.body[1].text  # type: ignore[union-attr]
