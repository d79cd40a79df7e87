"""Consolidation rules without I/O: merging report events, completeness, aggregation.

Glossary: tổng hợp = consolidation; vướng mắc = a difficulty a unit asks Phòng Nội vụ to
answer; "chưa báo cáo" (not reported) is never the same as 0.
"""

from services.consolidation.domain.completeness import (
    KIND_LABELS,
    STATE_LABELS,
    Completeness,
    OwnProgress,
    ReportFacts,
    StoredStanding,
    Tally,
    UnitProgress,
    completeness,
    completeness_from_progress,
    kind_label,
    kind_rank,
)
from services.consolidation.domain.figures import (
    DifficultyItem,
    Figure,
    IndicatorSummary,
    SectionSummary,
    Summary,
    TextFieldSummary,
    UnitText,
    WarningItem,
    json_number,
)
from services.consolidation.domain.progress import (
    Counters,
    PeriodProgress,
    Recount,
    Standing,
    recount,
    unit_standing,
)
from services.consolidation.domain.records import (
    DifficultyRecord,
    PeriodInfo,
    ReportRecord,
    ReportState,
    Review,
    Submission,
    Withdrawal,
    current_reports,
    earlier_period,
)
from services.consolidation.domain.summary import parse_value, summarise

__all__ = [
    "KIND_LABELS",
    "STATE_LABELS",
    "Completeness",
    "Counters",
    "DifficultyItem",
    "DifficultyRecord",
    "Figure",
    "IndicatorSummary",
    "OwnProgress",
    "PeriodInfo",
    "PeriodProgress",
    "Recount",
    "ReportFacts",
    "ReportRecord",
    "ReportState",
    "Review",
    "SectionSummary",
    "Standing",
    "StoredStanding",
    "Submission",
    "Summary",
    "Tally",
    "TextFieldSummary",
    "UnitProgress",
    "UnitText",
    "WarningItem",
    "Withdrawal",
    "completeness",
    "completeness_from_progress",
    "current_reports",
    "earlier_period",
    "json_number",
    "kind_label",
    "kind_rank",
    "parse_value",
    "recount",
    "summarise",
    "unit_standing",
]
