"""Intake settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from shared.settings import ServiceSettings

MIB = 1024 * 1024


class IntakeSettings(ServiceSettings):
    """Reports, versions, reviews, difficulties and attachments."""

    service_name: str = "intake"
    http_port: int = Field(8002, alias="DANVAN_HTTP_PORT")
    # Unit codes this instance serves (empty: every unit); a per-ward pool sets it.
    unit_scope: Annotated[tuple[str, ...], NoDecode] = Field((), alias="DANVAN_INTAKE_UNIT_SCOPE")
    # Where units outside the scope should send their requests (shown in the error).
    scope_hint_url: str = Field("", alias="DANVAN_INTAKE_SCOPE_HINT_URL")
    attachments_dir: Path | None = Field(None, alias="DANVAN_INTAKE_ATTACHMENTS_DIR")
    max_attachment_bytes: int = Field(10 * MIB, alias="DANVAN_INTAKE_MAX_ATTACHMENT_BYTES", ge=1)
    # The whole request may carry an attachment; JSON bodies keep the usual, smaller limit.
    max_body_bytes: int = Field(10 * MIB + 256 * 1024, alias="DANVAN_INTAKE_MAX_BODY_BYTES")
    max_json_bytes: int = Field(MIB, alias="DANVAN_MAX_BODY_BYTES", ge=1024)
    # The unit's own report (.docx): sent to the town (qua Phòng Nội vụ), a department issues
    # it under the town's name; the place in the date line of the town's departments.
    town_short: str = Field("UBND thị xã Hồng Lĩnh", alias="DANVAN_INTAKE_TOWN_SHORT", min_length=1)
    document_place: str = Field("Hồng Lĩnh", alias="DANVAN_DOCUMENT_PLACE", min_length=1)

    @field_validator("unit_scope", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(code.strip() for code in value.split(",") if code.strip())
        return value

    @model_validator(mode="after")
    def _room_for_an_attachment(self) -> IntakeSettings:
        if self.max_body_bytes < self.max_attachment_bytes:
            raise ValueError("DANVAN_INTAKE_MAX_BODY_BYTES must allow the largest attachment")
        return self

    @property
    def resolved_attachments_dir(self) -> Path:
        """Attachments live outside the database, under the data folder by default."""
        return self.attachments_dir or self.data_dir / "intake-attachments"

    def serves(self, unit_code: str) -> bool:
        """Whether this instance takes requests for the unit."""
        return not self.unit_scope or unit_code in self.unit_scope
