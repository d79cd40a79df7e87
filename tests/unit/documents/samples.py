"""Sample specs shaped like the town's consolidated report and an urging letter."""

from __future__ import annotations

from datetime import date

from shared.documents import (
    Bullet,
    DocumentSpec,
    Heading,
    Issuer,
    Paragraph,
    Signature,
    Table,
)

SIGNER = "Nguyễn Huy Hùng"
SUBJECT = "Kết quả thực hiện công tác Dân vận chính quyền 6 tháng đầu năm 2023"
RECIPIENTS = (
    "Sở Nội vụ (báo cáo)",
    "Thường trực Thị ủy, HĐND thị xã",
    "Chủ tịch, các PCT UBND thị xã",
    "Ban Dân vận Thị ủy",
    "UBND các phường, xã",
    "Cổng thông tin điện tử thị xã",
)
ISSUER = Issuer("Ủy ban nhân dân", "Thị xã Hồng Lĩnh", "BC-UBND")


def _body() -> tuple[Heading | Paragraph | Bullet | Table, ...]:
    long_text = (
        "Thực hiện Kế hoạch số 45/KH-UBND, Ủy ban nhân dân thị xã đã chỉ đạo các phòng, "
        "ban, đơn vị và UBND các phường, xã triển khai đồng bộ các nhiệm vụ công tác Dân vận "
        "chính quyền, gắn với cải cách hành chính và thực hiện dân chủ ở cơ sở. "
    )
    return (
        Heading("I. KẾT QUẢ THỰC HIỆN", level=1),
        Heading("1. Công tác lãnh đạo, chỉ đạo", level=2),
        Paragraph(long_text * 3),
        Bullet("20/20 đơn vị đã gửi báo cáo; 18 đơn vị đúng hạn, 2 đơn vị quá hạn."),
        Heading("a) Số liệu tổng hợp", level=3),
        Table(
            columns=("Đơn vị", "Số cuộc đối thoại", "Tỷ lệ giải quyết (%)", "Ghi chú"),
            rows=(
                ("UBND phường Bắc Hồng", 12, 95.5, None),
                ("UBND xã Thuận Lộc", 1234, 100.0, "Đúng hạn"),
            ),
            widths_mm=(60, 35, 35, 35),
            totals_row=("Tổng cộng", 1246, None, ""),
        ),
        Paragraph("Trên đây là báo cáo kết quả thực hiện.", italic=True),
    )


def report_spec() -> DocumentSpec:
    """A 6-month consolidated report signed by the chairman on behalf of the committee."""
    return DocumentSpec(
        issuer=ISSUER,
        place="Hồng Lĩnh",
        issued_on=date(2023, 6, 5),
        kind_title="Báo cáo",
        subject=SUBJECT,
        signature=Signature.thay_mat("Ủy ban nhân dân", "Chủ tịch", SIGNER),
        body=_body(),
        recipients=RECIPIENTS,
    )


def cong_van_spec() -> DocumentSpec:
    """An urging letter to two late units, signed by a deputy chairman."""
    return DocumentSpec(
        issuer=Issuer("Ủy ban nhân dân", "Thị xã Hồng Lĩnh", "UBND-NV"),
        place="Hồng Lĩnh",
        issued_on=date(2024, 2, 3),
        kind_title="",
        subject="đôn đốc gửi báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2024",
        signature=Signature.ky_thay(
            "Chủ tịch", "Phó Chủ tịch", "Trần Văn A", body="Ủy ban nhân dân"
        ),
        body=(Paragraph("Đến ngày 03/02/2024, các đơn vị sau chưa gửi báo cáo."),),
        recipients_to=("UBND phường Nam Hồng", "Phòng Tư pháp"),
        recipients=("Như trên", "Chủ tịch UBND thị xã (b/c)"),
    )
