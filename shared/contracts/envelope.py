"""The envelope every event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

P = TypeVar("P", bound=BaseModel)


class Contract(BaseModel):
    """Base for payloads: frozen, unknown fields ignored so additive changes are harmless."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel, Generic[P]):
    """An event: identity, time, producer, schema version and the payload."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    subject: ClassVar[str] = ""
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime
    producer: str
    schema_version: int = Field(default=1, alias="schema")
    payload: P

    @classmethod
    def new(cls, payload: P, *, producer: str, occurred_at: datetime | None = None) -> Self:
        """Build an event with a fresh id."""
        return cls(
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            payload=payload,
        )

    def to_json(self) -> bytes:
        """Serialise with the wire field names."""
        return self.model_dump_json(by_alias=True).encode()

    def to_wire(self) -> dict[str, Any]:
        """A JSON-ready dict with the wire field names."""
        return self.model_dump(mode="json", by_alias=True)
