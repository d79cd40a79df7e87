"""Consolidation settings: the service, and what is printed on the town's consolidated report."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from services.consolidation.domain.draft import DEFAULT_PLAN, PlanCitation
from shared.settings import ServiceSettings

# The town report goes up: plan IV.4 has Phòng Nội vụ compile the units' reports "để tổng hợp
# báo cáo Ban Thường vụ Thị ủy, Ủy ban nhân dân tỉnh". "Lưu: VT, NV." is the archive line.
DEFAULT_RECIPIENTS: tuple[str, ...] = (
    "Ban Thường vụ Thị ủy (b/c)",
    "UBND tỉnh (qua Sở Nội vụ) (b/c)",
    "Sở Nội vụ",
    "Thường trực HĐND thị xã",
    "Chủ tịch, các PCT UBND thị xã",
    "Ban Dân vận Thị ủy",
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
    # How often the stamps of the periods whose answers are cached are checked, to build
    # again in the background those that moved (services/consolidation/refresh.py; this
    # process's own changes wake it at once); 0: never, the reads build as before.
    answer_refresh_s: float = Field(5.0, ge=0, alias="DANVAN_ANSWER_REFRESH_SECONDS")
    # The plan the periodic report answers, cited by number and date: one setting for the
    # deployment (the reminders' urging letter cites the same). The seed leaves the number
    # and day blank, so the default keeps "…" and the draft warns until it is filled in.
    plan_reference: str = Field(
        DEFAULT_PLAN,
        validation_alias=AliasChoices(
            "DANVAN_PLAN_REFERENCE", "DANVAN_DOCUMENT_PLAN_REFERENCE", "plan_reference"
        ),
        min_length=1,
        max_length=500,
    )

    @property
    def plan(self) -> PlanCitation:
        """The plan as the report cites it."""
        return PlanCitation(self.plan_reference)

    @property
    def issuer_prose(self) -> str:
        """The issuer inside a sentence: "Ủy ban nhân dân thị xã Hồng Lĩnh"."""
        name = self.issuer_name.strip()
        return f"{self.issuer_parent.strip()} {name[:1].lower()}{name[1:]}".strip()
