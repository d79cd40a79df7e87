"""Consolidation settings: the service, and what is printed on the town's consolidated report."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings

# UNITS.md, from the plan's "Nơi nhận"; "Lưu: VT, NV." is the archive line, set apart.
DEFAULT_RECIPIENTS: tuple[str, ...] = (
    "Sở Nội vụ (báo cáo)",
    "Thường trực Thị ủy, HĐND thị xã",
    "Chủ tịch, các PCT UBND thị xã",
    "Ban Dân vận Thị ủy",
    "Ban Tuyên giáo Thị ủy",
    "UBMTTQ và các đoàn thể thị xã",
    "Các phòng, ban, cơ quan, đơn vị thị xã",
    "Trung tâm Văn hóa - Truyền thông",
    "UBND các phường, xã",
    "Cổng thông tin điện tử thị xã",
)


class ConsolidationSettings(ServiceSettings):
    """Projections of reports per period, and the documents built from them."""

    service_name: str = "consolidation"
    http_port: int = Field(8004, alias="DANVAN_HTTP_PORT")
    document_place: str = Field("Hồng Lĩnh", alias="DANVAN_DOCUMENT_PLACE")
    issuer_parent: str = Field("Ủy ban nhân dân", alias="DANVAN_DOCUMENT_ISSUER_PARENT")
    issuer_name: str = Field("Thị xã Hồng Lĩnh", alias="DANVAN_DOCUMENT_ISSUER_NAME")
    number_suffix: str = Field("BC-UBND", alias="DANVAN_DOCUMENT_NUMBER_SUFFIX")
    recipients: tuple[str, ...] = Field(DEFAULT_RECIPIENTS, alias="DANVAN_DOCUMENT_RECIPIENTS")
    archive: str = Field("VT, NV", alias="DANVAN_DOCUMENT_ARCHIVE")
    signer_authority: tuple[str, ...] = Field(
        ("TM. Ủy ban nhân dân",), alias="DANVAN_DOCUMENT_SIGNER_AUTHORITY"
    )
    signer_title: str = Field("Chủ tịch", alias="DANVAN_DOCUMENT_SIGNER_TITLE")
    signer_name: str = Field("Nguyễn Huy Hùng", alias="DANVAN_DOCUMENT_SIGNER_NAME")
    plan_reference: str = Field(
        "Kế hoạch của Ủy ban nhân dân thị xã về thực hiện công tác dân vận chính quyền",
        alias="DANVAN_DOCUMENT_PLAN_REFERENCE",
    )
