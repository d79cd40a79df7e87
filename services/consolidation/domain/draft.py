"""The town report's draft (dự thảo), composed from the projections without I/O.

A draft is a list of parts (the opening, one per task area of the period's form, the
completeness sentence, tồn tại – hạn chế, phương hướng, đề xuất – kiến nghị, the difficulties'
summary). Each part's text is generated from the figures and the excerpts a reviewer picked
(`compose`); a reviewer may replace any part's text by hand. What is stored is the last
save (`DraftState`): the hand-written parts, and a digest of what was generated at the save.
Reading the draft (`view`) puts the hand-written parts over a fresh composition, so the
figures and the generated parts always follow the latest reports while hand edits stay, and
says what changed since the save. Saving (`saved_after`) checks the version read, the keys and the
texts.

The figures are written once (`figure_lines`): the totals table of the appendix and the
sentences of the parts read the same lines, so they cannot disagree. Every figure is "n/m
đơn vị": n units reported it out of the m expected units it applies to.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.consolidation.domain.completeness import Completeness, kind_label
from services.consolidation.domain.figures import IndicatorSummary, Summary
from services.consolidation.domain.records import PeriodInfo
from shared.contracts.consolidation import (
    CountedReport,
    DraftPart,
    DraftState,
    Highlight,
    HighlightSet,
)
from shared.contracts.registry import RequestBasis
from shared.errors import Conflict, NotFound, Unprocessable
from shared.formatting import data_window_phrase, vn_datetime, vn_number
from shared.forms import FormDefinition, TextRejected, clean_text

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
PART_MAX = 30_000  # characters in one part of the draft
# Characters written by hand in a whole draft: the saved draft travels as one event, which must
# stay well below the NATS payload limit (1 MB) whatever the script (3 bytes per character).
DRAFT_MAX = 150_000
EXCERPT_MAX = 2_000  # characters in one picked excerpt
HIGHLIGHTS_MAX = 60  # excerpts picked in one period (the set travels as one event)
NOT_REPORTED = "Chưa có số liệu"
OPENING = "mo_dau"
COMPLETENESS = "tinh_hinh_bao_cao"
DIFFICULTIES = "vuong_mac"
PLACEHOLDER = "…"


def section_part(key: str) -> str:
    """The draft part of a task area ("muc_1" for section "1")."""
    return f"muc_{key}"


# --- what the report is about: subject, basis, opening -----------------------------------


DEFAULT_PLAN = (
    f"Kế hoạch số {PLACEHOLDER}/KH-UBND ngày {PLACEHOLDER} tháng 02 năm 2023 của UBND thị xã"
)


@dataclass(frozen=True)
class PlanCitation:
    """The plan the periodic reports answer, cited by number and date (one deployment
    setting, the same the urging letter cites); "…" marks what is not filled in yet."""

    text: str = DEFAULT_PLAN

    @property
    def unfilled(self) -> bool:
        """Whether the citation still holds a placeholder instead of a number or date."""
        return not self.text.strip() or PLACEHOLDER in self.text or "..." in self.text


@dataclass(frozen=True)
class ReportFrame:
    """What the document is about: its subject (trích yếu, after "BÁO CÁO"), the document
    it answers (`basis`, cited in the opening; empty when none), and the issuer as prose."""

    subject: str
    basis: str
    issuer: str
    cites_plan: bool

    @property
    def subject_in_prose(self) -> str:
        """The subject inside a sentence ("kết quả thực hiện …")."""
        return _lower_first(self.subject)


def basis_citation(basis: RequestBasis) -> str:
    """The citation of the given parts: Công văn số 125/SNV-XDCQ ngày 02/03/2024 của …
    (written once, by the contract, for the report and the portal's pages alike)."""
    return basis.citation()


def _has_content(basis: RequestBasis | None) -> bool:
    return basis is not None and any(
        (basis.number.strip(), basis.issuer.strip(), basis.subject.strip(), basis.issued_on)
    )


_SUBJECT_LEAD = re.compile(r"^(v/v|về việc|về)\s+", re.IGNORECASE)
_REPORT_WORD = re.compile(r"^báo cáo\s+", re.IGNORECASE)


def _subject_from(text: str) -> str:
    """A document's subject as the report's own: "về việc báo cáo kết quả …" → "Kết quả …"."""
    subject = _REPORT_WORD.sub("", _SUBJECT_LEAD.sub("", text.strip())).strip().rstrip(".")
    return subject[:1].upper() + subject[1:]


def report_frame(period: PeriodInfo, plan: PlanCitation, issuer: str) -> ReportFrame:
    """The subject and basis of a period's town report.

    A periodic report answers the plan: "Kết quả thực hiện công tác dân vận chính quyền 6
    tháng đầu năm 2023". An ad-hoc report follows the request: the asking document's subject
    when it is recorded ("Báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg …"), else the
    request's title."""
    if period.kind != "ad_hoc":
        return ReportFrame(
            subject=f"Kết quả thực hiện công tác dân vận chính quyền {period.title.strip()}",
            basis=plan.text.strip(),
            issuer=issuer,
            cites_plan=True,
        )
    basis = period.basis if _has_content(period.basis) else None
    subject = _subject_from(basis.subject) if basis is not None and basis.subject.strip() else ""
    return ReportFrame(
        subject=subject or _subject_from(period.title) or period.title.strip(),
        basis=basis_citation(basis) if basis is not None else "",
        issuer=issuer,
        cites_plan=False,
    )


def opening_text(frame: ReportFrame, period: PeriodInfo) -> str:
    """The opening paragraph, and the data window the figures cover."""
    if frame.cites_plan:
        text = (
            f"Thực hiện {frame.basis}; trên cơ sở báo cáo của các phòng, ban, đơn vị và Ủy ban "
            f"nhân dân các phường, xã, {frame.issuer} báo cáo {frame.subject_in_prose} như sau:"
        )
    elif frame.basis:
        text = f"Thực hiện {frame.basis}, {frame.issuer} báo cáo như sau:"
    else:
        text = (
            f"Thực hiện yêu cầu báo cáo {frame.subject_in_prose}; trên cơ sở báo cáo của các "
            f"đơn vị, {frame.issuer} báo cáo như sau:"
        )
    window = data_window_phrase(period.window_start, period.window_end, period.due_at)
    if window:
        text += f"\n({window[:1].upper()}{window[1:]}.)"
    return text


# --- the figures, written once ------------------------------------------------------------


@dataclass(frozen=True)
class FigureLine:
    """One indicator as the report writes it, in the totals table and in the sentences."""

    indicator: IndicatorSummary
    compared: bool  # the same period a year earlier is known

    @property
    def reported(self) -> int:
        """n: the units that reported the figure."""
        return self.indicator.overall.reported

    @property
    def expected(self) -> int:
        """m: the expected units asked for the figure."""
        return self.indicator.expected

    @property
    def share(self) -> str:
        """n/m, e.g. 3/20."""
        return f"{self.reported}/{self.expected}"

    @property
    def value(self) -> str:
        """The total as printed: "10", "12,8", "2 đơn vị có", or "Chưa có số liệu"."""
        fig = self.indicator.overall
        if fig.total is None:
            return NOT_REPORTED
        if self.indicator.type == "yes_no":
            return f"{fig.yes} đơn vị có"
        return vn_number(fig.total)

    @property
    def previous(self) -> str:
        """The same period a year earlier, as printed."""
        prev = self.indicator.previous
        if prev is None or prev.total is None:
            return NOT_REPORTED
        if self.indicator.type == "yes_no":
            return f"{prev.yes} đơn vị có"
        return vn_number(prev.total)

    @property
    def change_sign(self) -> str:
        """The change as the table prints it: "+6", "-2", "0", or "-" with nothing to compare."""
        change = self.indicator.change
        if change is None:
            return "-"
        if change == 0:
            return "0"
        return ("+" if change > 0 else "-") + vn_number(-change if change < 0 else change)

    @property
    def change_words(self) -> str:
        """The change in words, ", tăng 3 so với cùng kỳ" (empty with nothing to compare)."""
        change = self.indicator.change
        if not self.compared or change is None or self.indicator.type == "yes_no":
            return ""
        if change == 0:
            return ", bằng cùng kỳ"
        word = "tăng" if change > 0 else "giảm"
        return f", {word} {vn_number(-change if change < 0 else change)} so với cùng kỳ"

    def by_kind_words(self) -> str:
        """The split by kind, "; trong đó phường: 8; phòng, ban: 2", when several kinds reported."""
        if self.indicator.type == "yes_no":
            return ""
        reported = [(k, f.total) for k, f in self.indicator.by_kind.items() if f.total is not None]
        if len(reported) < 2:
            return ""
        return "; trong đó " + "; ".join(
            f"{kind_label(k).lower()}: {vn_number(total)}" for k, total in reported
        )

    def sentence(self) -> str:
        """The line of a part: - Số văn bản …: 10 (3/20 đơn vị báo cáo), tăng 6 so với cùng kỳ."""
        return (
            f"- {self.indicator.label}: {self.value} ({self.share} đơn vị báo cáo"
            f"{self.by_kind_words()}){self.change_words}."
        )


def figure_lines(
    summary: Summary, indicators: Sequence[IndicatorSummary] | None = None
) -> tuple[FigureLine, ...]:
    """The figures of the given indicators (default: every one, in form order)."""
    chosen = indicators if indicators is not None else list(summary.indicators.values())
    return tuple(FigureLine(i, summary.earlier is not None) for i in chosen)


# --- composing the parts ------------------------------------------------------------------


@dataclass(frozen=True)
class PartSpec:
    """A part of the draft as generated: its place in the document and its text."""

    key: str
    heading: str  # the numbered heading it falls under ("I. KẾT QUẢ THỰC HIỆN"); "" for none
    title: str
    text: str
    subheading: bool = False  # printed with its title ("1. Quán triệt …")


@dataclass(frozen=True)
class GeneratedDraft:
    """What the reports give now: every part's text, and the reports the figures count."""

    parts: tuple[PartSpec, ...]
    reports: tuple[CountedReport, ...]

    def part(self, key: str) -> PartSpec | None:
        """A part by key."""
        return next((p for p in self.parts if p.key == key), None)


def counted_reports(status: Completeness) -> tuple[CountedReport, ...]:
    """The current report (and its version) of every expected unit that has one."""
    return tuple(
        CountedReport(unit_code=u.code, report_id=u.report_id, version=u.version or 0)
        for u in status.units
        if u.state != "missing" and u.report_id is not None
    )


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def excerpt_in(source: str, excerpt: str) -> bool:
    """Whether the excerpt is part of the text (spacing and line breaks aside)."""
    wanted = _squash(excerpt)
    return bool(wanted) and wanted in _squash(source)


def field_texts(summary: Summary, field: str) -> dict[str, str]:
    """Each reporting unit's current text of a field (a section's key for its narrative,
    or a text field's code), by unit code."""
    for section in summary.sections:
        if section.key == field:
            return {n.unit_code: n.text for n in section.narratives}
    for text_field in summary.text_fields:
        if text_field.code == field:
            return {e.unit_code: e.text for e in text_field.entries}
    return {}


def _picked(summary: Summary, highlights: HighlightSet | None, field: str) -> list[str]:
    """The picked excerpts of a field still in their unit's current report, as lines."""
    if highlights is None:
        return []
    texts = field_texts(summary, field)
    order = {u.code: i for i, u in enumerate(summary.completeness.units)}
    names = {u.code: u.name for u in summary.completeness.units}
    chosen = [
        h
        for h in highlights.highlights
        if h.field == field and excerpt_in(texts.get(h.unit_code, ""), h.text)
    ]
    chosen.sort(key=lambda h: (order.get(h.unit_code, len(order)), h.marked_at, h.highlight_id))
    return [f"- {names.get(h.unit_code, h.unit_code)}: {_squash(h.text)}" for h in chosen]


_NOBODY = "Chưa có đơn vị nào gửi báo cáo nên chưa có kết quả của nội dung này."


def _section_text(summary: Summary, key: str, highlights: HighlightSet | None) -> str:
    section = next(s for s in summary.sections if s.key == key)
    if summary.completeness.tally.submitted == 0:
        return _NOBODY
    if section.expected == 0:
        return "Nội dung này không áp dụng cho đơn vị nào phải báo cáo trong kỳ."
    lines = [
        f"{len(section.narratives)}/{section.expected} đơn vị báo cáo kết quả thực hiện "
        "nội dung này."
    ]
    lines += [
        line.sentence() for line in figure_lines(summary, section.indicators) if line.reported
    ]
    picked = _picked(summary, highlights, key)
    if picked:
        lines += ["Một số kết quả nổi bật:", *picked]
    return "\n".join(lines)


# How a Part B field is said in "n/m đơn vị nêu …".
_FIELD_VERBS: dict[str, str] = {
    "ton_tai_han_che": "nêu tồn tại, hạn chế",
    "phuong_huong": "nêu phương hướng, nhiệm vụ thời gian tới",
    "de_xuat_kien_nghi": "có đề xuất, kiến nghị",
    "noi_dung": "báo cáo nội dung được yêu cầu",
}


def _field_text(summary: Summary, code: str, label: str, highlights: HighlightSet | None) -> str:
    status = summary.completeness
    if status.tally.submitted == 0:
        return _NOBODY
    entries = next((t.entries for t in summary.text_fields if t.code == code), ())
    verb = _FIELD_VERBS.get(code, f"nêu {_lower_first(label)}")
    if not entries:
        return f"Chưa có đơn vị nào {verb}."
    lines = [f"{len(entries)}/{status.tally.expected} đơn vị {verb} (chi tiết tại Phụ lục)."]
    picked = _picked(summary, highlights, code)
    if picked:
        lines += ["Một số nội dung nổi bật:", *picked]
    return "\n".join(lines)


def completeness_sentence(status: Completeness) -> str:
    """Who has reported, in one sentence: how many, on time, late, and who has not."""
    t = status.tally
    if t.expected == 0:
        return "Kỳ báo cáo này không có đơn vị nào phải báo cáo."
    if t.submitted == 0:
        return f"Chưa có đơn vị nào gửi báo cáo (0/{t.expected} đơn vị phải báo cáo)."
    text = (
        f"{t.submitted}/{t.expected} đơn vị đã gửi báo cáo "
        f"({t.on_time} đúng hạn, {t.late} gửi muộn)"
    )
    missing = [u.name for u in status.in_state("missing")]
    if missing:
        return f"{text}; {len(missing)} đơn vị chưa gửi: {', '.join(missing)}."
    return f"{text}; tất cả các đơn vị đã gửi báo cáo."


def difficulties_sentence(summary: Summary) -> str:
    """The difficulties raised and where they stand, without the questions and answers."""
    items = summary.difficulties
    if not items:
        return "Các đơn vị không nêu khó khăn, vướng mắc cần hướng dẫn."
    answered = sum(1 for d in items if d.answered)
    units = len({d.unit_code for d in items})
    text = f"{units} đơn vị nêu {len(items)} khó khăn, vướng mắc cần hướng dẫn; "
    if answered == len(items):
        return text + "tất cả đã được hướng dẫn, giải đáp."
    return text + f"đã hướng dẫn, giải đáp {answered}, đang xem xét {len(items) - answered}."


def compose(
    summary: Summary,
    form: FormDefinition,
    frame: ReportFrame,
    highlights: HighlightSet | None = None,
) -> GeneratedDraft:
    """Every part of the period's draft as the reports and the picked excerpts give it."""
    period = summary.period
    numerals = iter(ROMAN)
    parts = [PartSpec(OPENING, "", "Mở đầu", opening_text(frame, period))]
    results = f"{next(numerals)}. KẾT QUẢ THỰC HIỆN"
    fields = [f for f in form.text_fields if not f.repeated]
    for section in form.sections:
        parts.append(
            PartSpec(
                section_part(section.key),
                results,
                f"{section.number}. {section.title}",
                _section_text(summary, section.key, highlights),
                subheading=True,
            )
        )
    if not form.sections:
        for f in fields:
            parts.append(
                PartSpec(
                    f.code, results, f.label, _field_text(summary, f.code, f.label, highlights)
                )
            )
    parts.append(
        PartSpec(
            COMPLETENESS,
            f"{next(numerals)}. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ",
            "Tình hình gửi báo cáo của các đơn vị",
            completeness_sentence(summary.completeness),
        )
    )
    difficulties_placed = False
    for f in fields if form.sections else ():
        heading = f"{next(numerals)}. {f.label.upper()}"
        parts.append(
            PartSpec(f.code, heading, f.label, _field_text(summary, f.code, f.label, highlights))
        )
        if f.code == "ton_tai_han_che":
            parts.append(_difficulties_part(summary, heading))
            difficulties_placed = True
    if not difficulties_placed:
        parts.append(_difficulties_part(summary, f"{next(numerals)}. KHÓ KHĂN, VƯỚNG MẮC"))
    return GeneratedDraft(tuple(parts), counted_reports(summary.completeness))


def _difficulties_part(summary: Summary, heading: str) -> PartSpec:
    return PartSpec(
        DIFFICULTIES, heading, "Khó khăn, vướng mắc của các đơn vị", difficulties_sentence(summary)
    )


# --- reading a draft: the saved edits over a fresh composition -----------------------------


def text_digest(text: str) -> str:
    """A short fingerprint of a part's text as shown, which a save may send back (`base`)
    to say the reviewer left the part as it was."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).strip().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DraftPartView:
    """A part as the draft reads now."""

    key: str
    heading: str
    title: str
    text: str
    edited: bool
    # The text generated from the reports differs from the one at the last save.
    changed: bool
    subheading: bool = False

    @property
    def digest(self) -> str:
        """The fingerprint of the text shown."""
        return text_digest(self.text)


@dataclass(frozen=True)
class UnitRef:
    """A unit named in a notice."""

    code: str
    name: str


@dataclass(frozen=True)
class DraftChanges:
    """What changed since the last save."""

    since_version: int
    parts: tuple[str, ...]  # generated parts whose text changed
    outdated_edits: tuple[str, ...]  # hand-written parts whose generated text changed
    added: tuple[UnitRef, ...]  # units whose report counts now but did not at the save
    updated: tuple[UnitRef, ...]  # units that sent a newer version since
    removed: tuple[UnitRef, ...]  # units whose report no longer counts
    notice: str


@dataclass(frozen=True)
class DraftView:
    """The draft of a period as a reader sees it."""

    period_id: str
    version: int
    saved: DraftState | None
    parts: tuple[DraftPartView, ...]
    changes: DraftChanges | None

    def text(self, key: str) -> str:
        """A part's text."""
        return next(p.text for p in self.parts if p.key == key)


def view(generated: GeneratedDraft, saved: DraftState | None, status: Completeness) -> DraftView:
    """The draft now: hand-written parts as saved, every other part as generated now."""
    held = {p.key: p for p in saved.parts} if saved is not None else {}
    parts = []
    for spec in generated.parts:
        was = held.get(spec.key)
        edited = was is not None and was.edited
        parts.append(
            DraftPartView(
                key=spec.key,
                heading=spec.heading,
                title=spec.title,
                text=was.text if was is not None and edited else spec.text,
                edited=edited,
                changed=was is not None and was.generated_digest != text_digest(spec.text),
                subheading=spec.subheading,
            )
        )
    changes = _changes(generated, saved, tuple(parts), status) if saved is not None else None
    period_id = status.period.period_id
    return DraftView(period_id, saved.version if saved else 0, saved, tuple(parts), changes)


def _changes(
    generated: GeneratedDraft,
    saved: DraftState,
    parts: tuple[DraftPartView, ...],
    status: Completeness,
) -> DraftChanges:
    names = {u.code: u.name for u in status.units}
    before = {r.unit_code: r for r in saved.reports}
    now = {r.unit_code: r for r in generated.reports}

    def ref(code: str) -> UnitRef:
        return UnitRef(code, names.get(code, code))

    added = tuple(ref(c) for c in now if c not in before)
    removed = tuple(ref(c) for c in before if c not in now)
    updated = tuple(
        ref(c)
        for c, r in now.items()
        if c in before and (before[c].report_id, before[c].version) != (r.report_id, r.version)
    )
    regenerated = tuple(p.key for p in parts if p.changed and not p.edited)
    outdated = tuple(p.key for p in parts if p.changed and p.edited)
    titles = {p.key: p.title for p in parts}
    return DraftChanges(
        since_version=saved.version,
        parts=regenerated,
        outdated_edits=outdated,
        added=added,
        updated=updated,
        removed=removed,
        notice=_notice(saved, added, updated, removed, regenerated, outdated, titles),
    )


def _names(units: tuple[UnitRef, ...]) -> str:
    return ", ".join(u.name for u in units)


def _notice(
    saved: DraftState,
    added: tuple[UnitRef, ...],
    updated: tuple[UnitRef, ...],
    removed: tuple[UnitRef, ...],
    regenerated: tuple[str, ...],
    outdated: tuple[str, ...],
    titles: Mapping[str, str],
) -> str:
    who = saved.saved_by_name or saved.saved_by
    since = f"Từ lần lưu phiên bản {saved.version} ({who}, {vn_datetime(saved.saved_at)})"
    if not (added or updated or removed or regenerated or outdated):
        return f"{since}: không có thay đổi."
    said = []
    if added:
        said.append(f"có thêm báo cáo của {len(added)} đơn vị ({_names(added)})")
    if updated:
        said.append(f"{len(updated)} đơn vị gửi phiên bản mới ({_names(updated)})")
    if removed:
        said.append(f"báo cáo của {len(removed)} đơn vị không còn được tính ({_names(removed)})")
    if regenerated:
        said.append("đã cập nhật: " + "; ".join(titles[k] for k in regenerated))
    text = f"{since}: {', '.join(said)}." if said else f"{since}."
    if outdated:
        text += (
            " Các mục đã sửa tay được giữ nguyên; số liệu tự động của các mục sau đã thay đổi, "
            "đề nghị xem lại: " + "; ".join(titles[k] for k in outdated) + "."
        )
    return text


# --- saving a draft -----------------------------------------------------------------------


@dataclass(frozen=True)
class PartEdit:
    """What a save says of one part: a new text, or back to the generated text. `base`, the
    digest of the text the reviewer was shown, lets a client send every part: a text still
    matching it was not touched and changes nothing."""

    text: str | None = None
    reset: bool = False
    base: str | None = None

    def untouched(self) -> bool:
        """The text sent is the one shown (per `base`)."""
        return (
            self.base is not None
            and self.text is not None
            and not self.reset
            and text_digest(self.text) == self.base
        )


def _checked_text(spec: PartSpec, raw: str) -> str:
    try:
        text = clean_text(raw)
    except TextRejected as exc:
        raise Unprocessable(
            f"Mục «{spec.title}» có ký tự không được phép ({exc.codepoint}) ở vị trí "
            f"{exc.position + 1}.",
            code="invalid_text",
            details={"part": spec.key, "position": exc.position, "character": exc.codepoint},
        ) from None
    if len(text) > PART_MAX:
        raise Unprocessable(
            f"Mục «{spec.title}» dài {vn_number(len(text))} ký tự, vượt quá "
            f"{vn_number(PART_MAX)} ký tự cho phép.",
            code="text_too_long",
            details={"part": spec.key, "length": len(text), "max_length": PART_MAX},
        )
    return text


def draft_conflict(saved: DraftState) -> Conflict:
    """Somebody saved the draft after it was read."""
    who = saved.saved_by_name or saved.saved_by
    return Conflict(
        f"Dự thảo đã được {who} lưu lúc {vn_datetime(saved.saved_at)} (phiên bản "
        f"{saved.version}) sau khi mở. Tải lại dự thảo để xem các thay đổi rồi lưu lại.",
        code="draft_version_conflict",
        details={
            "version": saved.version,
            "saved_at": saved.saved_at.isoformat(),
            "saved_by": saved.saved_by,
            "saved_by_name": saved.saved_by_name,
        },
    )


def saved_after(
    generated: GeneratedDraft,
    saved: DraftState | None,
    *,
    period_id: str,
    version_read: int,
    edits: Mapping[str, PartEdit],
    by: str,
    by_name: str,
    at: datetime,
) -> DraftState:
    """The draft after a save over `version_read`. A part given with the text generated now,
    or reset, follows the reports again; any other text given is kept as written; parts not
    given keep what they were. 409 when the draft was saved after `version_read`; 422 (and
    nothing saved) for an unknown part or an unusable text."""
    current = saved.version if saved is not None else 0
    if version_read != current:
        if saved is None:
            raise Conflict(
                "Dự thảo chưa được lưu lần nào; phiên bản đọc được phải là 0.",
                code="draft_version_conflict",
                details={"version": 0},
            )
        raise draft_conflict(saved)
    specs = {p.key: p for p in generated.parts}
    unknown = sorted(set(edits) - set(specs))
    if unknown:
        raise Unprocessable(
            f"Dự thảo không có mục «{unknown[0]}».",
            code="unknown_draft_part",
            details={"parts": unknown, "known": list(specs)},
        )
    held = {p.key: p for p in saved.parts} if saved is not None else {}
    parts = []
    for spec in generated.parts:
        edit = edits.get(spec.key)
        was = held.get(spec.key)
        if edit is not None and edit.untouched():
            edit = None
        if edit is not None:
            if edit.reset == (edit.text is not None):
                raise Unprocessable(
                    f"Mục «{spec.title}»: gửi nội dung mới hoặc yêu cầu lấy lại nội dung tự "
                    "động, một trong hai.",
                    code="invalid_part_edit",
                    details={"part": spec.key},
                )
            text = spec.text if edit.reset else _checked_text(spec, edit.text or "")
            edited = text != spec.text
        elif was is not None and was.edited:
            text, edited = was.text, True
        else:
            text, edited = spec.text, False
        parts.append(
            DraftPart(
                key=spec.key,
                edited=edited,
                text=text if edited else "",
                generated_digest=text_digest(spec.text),
            )
        )
    written = sum(len(p.text) for p in parts)
    if written > DRAFT_MAX:
        raise Unprocessable(
            f"Các mục viết tay của dự thảo dài {vn_number(written)} ký tự, vượt quá "
            f"{vn_number(DRAFT_MAX)} ký tự cho phép.",
            code="draft_too_long",
            details={"length": written, "max_length": DRAFT_MAX},
        )
    return DraftState(
        period_id=period_id,
        version=current + 1,
        saved_at=at,
        saved_by=by,
        saved_by_name=by_name,
        parts=tuple(parts),
        reports=generated.reports,
    )


# --- picking excerpts ---------------------------------------------------------------------


def field_label(form: FormDefinition, field: str) -> str | None:
    """What a highlight's field is called ("Mục 1. …", "Tồn tại, hạn chế …"); None when the
    form has no such section or single text field."""
    section = form.section(field)
    if section is not None:
        return f"Mục {section.number}. {section.title}"
    text_field = form.text_field(field)
    if text_field is not None and not text_field.repeated:
        return text_field.label
    return None


def checked_excerpt(
    form: FormDefinition, summary: Summary, unit_code: str, field: str, raw: str
) -> str:
    """The excerpt to pick, checked against the unit's current report; 422 otherwise."""
    label = field_label(form, field)
    if label is None:
        raise Unprocessable(
            f"Biểu mẫu của kỳ báo cáo không có nội dung «{field}» để trích.",
            code="unknown_field",
            details={"field": field},
        )
    unit = summary.completeness.unit(unit_code)
    if unit is None or unit.state == "missing":
        raise Unprocessable(
            f"Đơn vị «{unit_code}» chưa có báo cáo được tính trong kỳ này.",
            code="no_current_report",
            details={"unit_code": unit_code},
        )
    try:
        text = _squash(clean_text(raw))
    except TextRejected as exc:
        raise Unprocessable(
            f"Đoạn trích có ký tự không được phép ({exc.codepoint}).", code="invalid_text"
        ) from None
    if not text:
        raise Unprocessable("Đoạn trích không được để trống.", code="excerpt_required")
    if len(text) > EXCERPT_MAX:
        raise Unprocessable(
            f"Đoạn trích dài {vn_number(len(text))} ký tự, vượt quá "
            f"{vn_number(EXCERPT_MAX)} ký tự cho phép.",
            code="text_too_long",
        )
    if not excerpt_in(field_texts(summary, field).get(unit_code, ""), text):
        raise Unprocessable(
            f"Đoạn trích không có trong nội dung «{label}» của {unit.name}.",
            code="excerpt_not_found",
            details={"unit_code": unit_code, "field": field},
        )
    return text


def with_highlight(
    picked: HighlightSet | None,
    highlight: Highlight,
    *,
    period_id: str,
    by: str,
    at: datetime,
) -> HighlightSet:
    """The set with one more excerpt (the same excerpt of the same field is picked once)."""
    held = picked.highlights if picked is not None else ()
    same = next(
        (
            h
            for h in held
            if (h.unit_code, h.field, h.text)
            == (highlight.unit_code, highlight.field, highlight.text)
        ),
        None,
    )
    if same is not None and picked is not None:
        return picked
    if len(held) >= HIGHLIGHTS_MAX:
        raise Unprocessable(
            f"Đã chọn {HIGHLIGHTS_MAX} đoạn trích cho kỳ báo cáo này, không chọn thêm được; "
            "bỏ chọn bớt trước khi chọn đoạn khác.",
            code="too_many_highlights",
        )
    return HighlightSet(
        period_id=period_id,
        version=(picked.version if picked is not None else 0) + 1,
        highlights=(*held, highlight),
        changed_by=by,
        changed_at=at,
    )


def without_highlight(
    picked: HighlightSet | None, highlight_id: str, *, by: str, at: datetime
) -> HighlightSet:
    """The set without one excerpt; 404 when it is not picked."""
    held = picked.highlights if picked is not None else ()
    if picked is None or all(h.highlight_id != highlight_id for h in held):
        raise NotFound("Không tìm thấy đoạn trích đã chọn.", code="highlight_not_found")
    return HighlightSet(
        period_id=picked.period_id,
        version=picked.version + 1,
        highlights=tuple(h for h in held if h.highlight_id != highlight_id),
        changed_by=by,
        changed_at=at,
    )


def find_highlight(picked: HighlightSet | None, unit_code: str, field: str, text: str) -> Highlight:
    """The picked excerpt with this unit, field and text."""
    held = picked.highlights if picked is not None else ()
    return next(h for h in held if (h.unit_code, h.field, h.text) == (unit_code, field, text))


# --- small text helpers -------------------------------------------------------------------


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _lower_first(text: str) -> str:
    """Kết quả … → kết quả …; an abbreviation ("UBND …", "TTHC") keeps its capitals."""
    text = text.strip()
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]
