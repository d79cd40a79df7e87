"""Consolidation's HTTP contract: what `GET /v1/periods…` answers, read by the portal.

The completeness models carry everything a page shows of who has reported (counts, rates,
each unit's state with its Vietnamese label, the kind labels, a withdrawn report, the
deadline as it reads), so the portal shows what consolidation says and computes nothing.
Figures are JSON numbers: counts integers, amounts decimals; `total: null` means nobody
reported the figure, never 0.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from shared.contracts.api import RequestModel, ResponseModel

ProgressState = Literal["missing", "submitted", "awaiting_revision", "accepted"]
Amount = int | float
FigureValue = bool | int | float


class Rates(ResponseModel):
    """Shares of the expected units (0.6 = 60%); null when no unit is expected."""

    submitted: float | None
    on_time: float | None
    accepted: float | None


class KindTally(ResponseModel):
    """Who has reported among the expected units of one kind."""

    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    awaiting_revision: int
    accepted: int
    rates: Rates
    label: str  # the kind as users read it: "Phường", "Phòng, ban" …


class MissingUnit(ResponseModel):
    """An expected unit without a current report."""

    code: str
    name: str


class WithdrawnReport(ResponseModel):
    """The report a unit withdrew; the unit counts as missing until it sends again."""

    report_id: str
    version: int | None = None
    submitted_at: datetime | None = None
    first_submitted_at: datetime | None = None
    withdrawn_at: datetime | None = None


class UnitCompleteness(ResponseModel):
    """One expected unit's standing in a period."""

    code: str
    name: str
    kind: str
    state: ProgressState
    report_id: str | None
    version: int | None
    submitted_at: datetime | None
    first_submitted_at: datetime | None
    on_time: bool | None
    kind_label: str
    state_label: str  # "Chưa gửi", "Đã gửi, chờ xem xét" …
    withdrawn: WithdrawnReport | None = None


class PeriodCompleteness(ResponseModel):
    """Who has reported in a period: counts, rates, by unit kind, every expected unit."""

    period_id: str
    title: str
    kind: str
    due_at: datetime
    due_text: str  # "trước ngày 10/06/2023"
    window_start: date | None
    window_end: date | None
    data_window: str  # "số liệu từ ngày … đến ngày …" (shared.formatting.data_window_phrase)
    status: str
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: list[MissingUnit]
    missing_count: int
    awaiting_revision: int
    accepted: int
    rates: Rates
    by_kind: dict[str, KindTally]
    units: list[UnitCompleteness]


class OwnPeriodCompleteness(ResponseModel):
    """What a unit account sees of a period: the period and its own row (if expected)."""

    period_id: str
    title: str
    due_at: datetime
    status: str
    units: list[UnitCompleteness]


class Figure(ResponseModel):
    """A total over some units; for a yes/no indicator `total` is the number of "yes" and
    `yes`/`no` are given (absent for figures)."""

    total: Amount | None
    reported: int
    yes: int | None = None
    no: int | None = None

    @model_serializer(mode="wrap")
    def _yes_no_only_when_given(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without_none(handler(self), ("yes", "no"))


class IndicatorSummary(ResponseModel):
    """One indicator across the period: overall (`total`, `reported`), by unit kind, per
    unit, and against the same period a year earlier (`previous`, `change`) when known."""

    section: str
    code: str
    label: str
    type: str
    total: Amount | None
    reported: int
    yes: int | None = None
    no: int | None = None
    applicable: int  # reporting units the figure applies to
    expected: int  # expected units the figure applies to: the m of "n/m đơn vị"
    by_kind: dict[str, Figure]
    by_unit: dict[str, FigureValue]
    previous: Figure | None = None
    change: Amount | None = None

    @model_serializer(mode="wrap")
    def _comparison_only_when_known(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = _without_none(handler(self), ("yes", "no"))
        if isinstance(data, dict) and data.get("previous") is None:
            data.pop("previous", None)
            data.pop("change", None)
        return data


class UnitText(ResponseModel):
    """A text one unit wrote."""

    unit_code: str
    unit_name: str
    kind: str
    text: str


class SectionSummary(ResponseModel):
    """A task area of the form: its indicators and the units' narratives."""

    key: str
    title: str
    plan_ref: str | None
    expected: int  # expected units the task area applies to
    indicators: list[IndicatorSummary]
    narratives: list[UnitText]


class TextFieldSummary(ResponseModel):
    """A whole-report text field (tồn tại, phương hướng …) compiled from every unit."""

    code: str
    label: str
    entries: list[UnitText]


class DifficultySummary(ResponseModel):
    """A difficulty a unit raised, with Phòng Nội vụ's answer once given (`difficulty_id`
    is null for one only written in a report and not raised as a thread)."""

    difficulty_id: str | None
    unit_code: str
    unit_name: str
    text: str
    raised_at: datetime | None
    answered: bool
    answer: str
    answered_by: str
    answered_at: datetime | None


class ReportWarning(ResponseModel):
    """A validation warning kept with a unit's current report."""

    unit_code: str
    unit_name: str
    state: str
    path: str
    code: str
    field: str
    label: str
    message: str


class FormRef(ResponseModel):
    """The form (and version) the period's reports are read in."""

    form_id: str
    version: str
    title: str


class PeriodRef(ResponseModel):
    """Another period, named."""

    period_id: str
    title: str


class PeriodSummary(ResponseModel):
    """Everything Phòng Nội vụ consolidates for a period."""

    period_id: str
    title: str
    kind: str
    year: int
    due_at: datetime
    window_start: date | None
    window_end: date | None
    form: FormRef
    completeness: PeriodCompleteness
    sections: list[SectionSummary]
    text_fields: list[TextFieldSummary]
    difficulties: list[DifficultySummary]
    warnings: list[ReportWarning]
    comparison: PeriodRef | None  # the same period a year earlier, when known


class DraftPart(ResponseModel):
    """A part of the town report's draft: hand-written (`edited`, kept when the figures
    change) or generated from the latest reports; `changed`: its generated text differs
    from the one at the last save."""

    key: str
    heading: str  # the numbered heading it falls under, "I. KẾT QUẢ THỰC HIỆN"; "" for none
    title: str
    text: str  # plain paragraphs, one per line
    edited: bool
    changed: bool
    digest: str  # fingerprint of `text`: send it back as the edit's `base`


class UnitRef(ResponseModel):
    """A unit, named."""

    code: str
    name: str


class DraftChanges(ResponseModel):
    """What changed since the last save (the notice says it in one paragraph)."""

    since_version: int
    parts: list[str]  # generated parts updated from the latest reports
    outdated_edits: list[str]  # hand-written parts whose generated text has changed
    units_added: list[UnitRef]
    units_updated: list[UnitRef]
    units_removed: list[UnitRef]
    notice: str


class DraftSaveEntry(ResponseModel):
    """Who saved which version when."""

    version: int
    saved_at: datetime
    saved_by: str
    saved_by_name: str


class DraftWarning(ResponseModel):
    """Something to fix before the report is sent (e.g. the plan's number not filled in)."""

    code: str
    message: str


class Draft(ResponseModel):
    """A period's draft (dự thảo) of the town report: `version` 0 and `saved_*` null until
    the first save. Send `version` back with a save."""

    period_id: str
    version: int
    saved_at: datetime | None
    saved_by: str | None
    saved_by_name: str | None
    parts: list[DraftPart]
    recipients: list[str]  # Nơi nhận, without the archive line
    archive: str  # "VT, NV": printed "- Lưu: VT, NV."
    basis: str  # the document the report answers, as cited in the opening ("" for none)
    subject: str  # after "BÁO CÁO"
    plan_reference_unfilled: bool  # the deployment's plan citation still holds "…"
    warnings: list[DraftWarning]
    changes: DraftChanges | None  # null until the first save
    history: list[DraftSaveEntry]  # newest first
    editable: bool  # the caller may save it


class DraftPartEdit(RequestModel):
    """A new text for a part, or `reset: true` to follow the generated text again. With
    `base` (the part's `digest` as read), a text left as it was shown changes nothing, so a
    client may send every part of its form."""

    text: str | None = Field(None, max_length=120_000)
    reset: bool = False
    base: str | None = Field(None, max_length=64)


class DraftSave(RequestModel):
    """A save: the version read, and the parts changed (a part sent with the text generated
    now, or with the text it was read with and its `base`, is not an edit)."""

    version: int = Field(ge=0)
    parts: dict[str, DraftPartEdit] = Field(max_length=100)


class HighlightRequest(RequestModel):
    """Pick an excerpt of a unit's current report for the town report: `field` is a
    section's key ("1" …) for its narrative, or a text field's code ("ton_tai_han_che" …)."""

    unit_code: str = Field(min_length=1, max_length=32)
    field: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=20_000)


class PickedExcerpt(ResponseModel):
    """An excerpt picked for the town report; `in_report`: still in the unit's current
    report (only then does the draft use it)."""

    highlight_id: str
    unit_code: str
    unit_name: str
    field: str
    field_label: str
    text: str
    marked_by: str
    marked_at: datetime
    in_report: bool


def _without_none(data: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(data, dict):
        for key in keys:
            if data.get(key) is None:
                data.pop(key, None)
    return data
