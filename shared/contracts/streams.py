"""JetStream streams: one per producing service, plus the dead-letter stream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamSpec:
    """A stream's name and the subjects it captures."""

    name: str
    subjects: tuple[str, ...]
    description: str


REGISTRY = StreamSpec("DANVAN_REGISTRY", ("danvan.registry.>",), "Đơn vị và kỳ báo cáo")
INTAKE = StreamSpec("DANVAN_INTAKE", ("danvan.intake.>",), "Báo cáo và vướng mắc")
REMINDERS = StreamSpec("DANVAN_REMINDERS", ("danvan.reminders.>",), "Đôn đốc")
CONSOLIDATION = StreamSpec("DANVAN_CONSOLIDATION", ("danvan.consolidation.>",), "Tổng hợp")
DEAD_LETTERS = StreamSpec("DANVAN_DLQ", ("danvan.dlq.>",), "Sự kiện không xử lý được")

ALL_STREAMS: tuple[StreamSpec, ...] = (REGISTRY, INTAKE, REMINDERS, CONSOLIDATION, DEAD_LETTERS)

DLQ_PREFIX = "danvan.dlq"


def stream_for_subject(subject: str) -> StreamSpec:
    """The stream that captures a subject."""
    for spec in ALL_STREAMS:
        for pattern in spec.subjects:
            if subject.startswith(pattern.removesuffix(">")):
                return spec
    raise LookupError(subject)


def dead_letter_subject(consumer: str, subject: str) -> str:
    """Where a poison message of a consumer goes."""
    return f"{DLQ_PREFIX}.{consumer}.{subject}"
