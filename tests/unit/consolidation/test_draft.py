"""The town report's draft: composed from the figures and the picked excerpts, edited by hand
without losing the edits when the figures change, saved over the version read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.consolidation.domain import Summary, summarise
from services.consolidation.domain.draft import (
    COMPLETENESS,
    DIFFICULTIES,
    OPENING,
    PART_MAX,
    GeneratedDraft,
    PartEdit,
    PlanCitation,
    ReportFrame,
    checked_excerpt,
    compose,
    figure_lines,
    report_frame,
    saved_after,
    section_part,
    view,
    with_highlight,
    without_highlight,
)
from services.consolidation.domain.events import InMemoryProjection
from shared.contracts.consolidation import DraftState, Highlight, HighlightSet
from shared.contracts.intake import ReportSubmitted, ReportVersion
from shared.contracts.registry import ExpectedUnit, PeriodChanged, PeriodState, RequestBasis
from shared.errors import Conflict, NotFound, Unprocessable
from shared.forms import load_form
from tests.unit.consolidation.factory import (
    BEFORE_DUE,
    DUE_2023_H1,
    FIGURES,
    FORM,
    UNITS,
    difficulty,
    period_event,
    submitted,
    three_reports,
)

ISSUER = "Ủy ban nhân dân thị xã Hồng Lĩnh"
PLAN = PlanCitation()
SAVED_AT = datetime(2023, 6, 12, 3, 0, tzinfo=UTC)
# Twenty expected units: the factory's five, ten more wards and five more departments.
TWENTY: tuple[ExpectedUnit, ...] = (
    *UNITS,
    *(
        ExpectedUnit(
            code=f"W{i:02d}", name=f"UBND phường {i:02d}", kind="ward", display_order=40 + i
        )
        for i in range(10)
    ),
    *(
        ExpectedUnit(
            code=f"D{i:02d}", name=f"Phòng {i:02d}", kind="department", display_order=60 + i
        )
        for i in range(5)
    ),
)


def fold(events: list[Any]) -> InMemoryProjection:
    p = InMemoryProjection()
    for e in events:
        p.apply(e)
    return p


def summary_of(
    events: list[Any], period_id: str = "2023-H1", earlier: str | None = None
) -> Summary:
    p = fold(events)
    form = load_form(*FORM)
    before = None
    if earlier is not None:
        before = summarise(p.periods[earlier], form, p.period_reports(earlier))
    return summarise(
        p.periods[period_id],
        form,
        p.period_reports(period_id),
        p.period_difficulties(period_id),
        earlier=before,
    )


def frame_of(summary: Summary) -> ReportFrame:
    return report_frame(summary.period, PLAN, ISSUER)


def draft_of(summary: Summary, highlights: HighlightSet | None = None) -> GeneratedDraft:
    return compose(summary, load_form(*FORM), frame_of(summary), highlights)


def text(draft: GeneratedDraft, key: str) -> str:
    part = draft.part(key)
    assert part is not None, key
    return part.text


def three_of_twenty() -> list[Any]:
    return [period_event(units=TWENTY), *three_reports()[1:]]


def test_section_1_states_the_exact_total_out_of_the_units_it_applies_to() -> None:
    draft = draft_of(summary_of(three_of_twenty()))
    section_1 = text(draft, section_part("1"))
    assert section_1.splitlines()[0] == "3/20 đơn vị báo cáo kết quả thực hiện nội dung này."
    # 3 + 5 + 2 documents, reported by the three units out of the twenty it applies to.
    expected = "- Số văn bản chỉ đạo, kế hoạch về công tác dân vận đã ban hành: 10 (3/20 đơn vị"
    assert expected in section_1
    assert "- Số hội nghị, buổi quán triệt, tuyên truyền: 0 (1/20 đơn vị báo cáo)." in section_1
    # A figure nobody reported is not written as 0; the appendix table says "Chưa có số liệu".
    assert "Số lượt người tham gia" not in section_1


def test_a_figure_limited_by_kind_counts_only_the_units_it_applies_to() -> None:
    summary = summary_of(three_of_twenty())
    # Nhân dân đóng góp: wards and the commune only (2 + 10 wards and 1 commune = 13).
    line = next(x for x in figure_lines(summary) if x.indicator.code == "nhan_dan_dong_gop")
    assert (line.value, line.share) == ("12,8", "2/13")
    section = text(draft_of(summary), section_part(line.indicator.section))
    assert "- Giá trị Nhân dân đóng góp (triệu đồng): 12,8 (2/13 đơn vị báo cáo)." in section


def test_a_value_a_unit_was_never_asked_for_is_not_added() -> None:
    # A department's report carrying a ward-only figure (as an older client could send it).
    content = {
        "sections": {
            "7": {"narrative": "Không phát sinh", "indicators": {"nhan_dan_dong_gop": 1000}},
            "1": {"narrative": "x", "indicators": {"van_ban_ban_hanh": 1}},
        }
    }
    stray = ReportSubmitted.new(
        ReportVersion(
            report_id="r-2023-H1-PNV",
            period_id="2023-H1",
            unit_code="PNV",
            version=1,
            status="submitted",
            form_id=FORM[0],
            form_version=FORM[1],
            first_submitted_at=BEFORE_DUE,
            submitted_at=BEFORE_DUE,
            on_time=True,
            content=content,
            content_sha256="x",
        ),
        producer="test",
    )
    summary = summary_of([period_event(units=TWENTY), stray])
    amount = summary.indicators["nhan_dan_dong_gop"]
    assert (amount.overall.total, amount.overall.reported, amount.values) == (None, 0, {})


def test_the_change_against_the_same_period_a_year_earlier_is_written_out() -> None:
    events = [
        *three_of_twenty(),
        period_event("2022-H1"),
        submitted("18115", {"van_ban_ban_hanh": 4}, period_id="2022-H1"),
        submitted("18118", {"van_ban_ban_hanh": 2, "hoi_nghi_quan_triet": 0}, period_id="2022-H1"),
    ]
    section_1 = text(draft_of(summary_of(events, earlier="2022-H1")), section_part("1"))
    assert "ban hành: 10 (3/20 đơn vị báo cáo; trong đó phường: 8; phòng, ban: 2), tăng 4 " in (
        section_1
    )
    assert "so với cùng kỳ." in section_1
    assert (
        "- Số hội nghị, buổi quán triệt, tuyên truyền: 0 (1/20 đơn vị báo cáo), bằng cùng kỳ."
        in (section_1)
    )


def test_completeness_is_one_sentence_naming_who_has_not_reported() -> None:
    sentence = text(draft_of(summary_of(three_of_twenty())), COMPLETENESS)
    assert sentence.startswith("3/20 đơn vị đã gửi báo cáo (2 đúng hạn, 1 gửi muộn); 17 đơn vị ")
    assert "chưa gửi: UBND xã Thuận Lộc, Trung tâm Văn hóa - Truyền thông, UBND phường 00" in (
        sentence
    )
    assert "\n" not in sentence


def test_a_period_without_any_report_gets_a_draft_that_says_so() -> None:
    draft = draft_of(summary_of([period_event(units=TWENTY)]))
    assert text(draft, COMPLETENESS) == "Chưa có đơn vị nào gửi báo cáo (0/20 đơn vị phải báo cáo)."
    for key in (section_part("1"), "ton_tai_han_che", "phuong_huong"):
        assert text(draft, key).startswith("Chưa có đơn vị nào gửi báo cáo"), key
    assert text(draft, DIFFICULTIES) == "Các đơn vị không nêu khó khăn, vướng mắc cần hướng dẫn."


def test_the_draft_follows_the_form_and_the_plan_order() -> None:
    draft = draft_of(summary_of(three_reports()))
    form = load_form(*FORM)
    keys = [p.key for p in draft.parts]
    assert keys == [
        OPENING,
        *(section_part(s.key) for s in form.sections),
        COMPLETENESS,
        "ton_tai_han_che",
        DIFFICULTIES,
        "phuong_huong",
        "de_xuat_kien_nghi",
    ]
    headings = list(dict.fromkeys(p.heading for p in draft.parts if p.heading))
    assert headings == [
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ",
        "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
        "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "V. ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    # Form 2023.2 has twelve task areas; a period on it gets twelve.
    newer = load_form(FORM[0], "2023.2")
    p = fold([period_event("2023-Y", form_version="2023.2")])
    s = summarise(p.periods["2023-Y"], newer, [])
    parts = compose(s, newer, frame_of(s)).parts
    assert sum(1 for part in parts if part.key.startswith("muc_")) == len(newer.sections) == 12


def test_the_opening_cites_the_plan_and_the_data_window_with_estimates() -> None:
    draft = draft_of(summary_of(three_reports()))
    opening = text(draft, OPENING)
    assert opening.startswith(
        "Thực hiện Kế hoạch số …/KH-UBND ngày … tháng 02 năm 2023 của UBND thị xã; trên cơ sở "
    )
    assert "Ủy ban nhân dân thị xã Hồng Lĩnh báo cáo kết quả thực hiện công tác dân vận chính " in (
        opening
    )
    # The window ends 14/06, after the last on-time day (09/06): the rest are estimates.
    assert (
        "(Số liệu từ ngày 15/12/2022 đến ngày 14/06/2023, trong đó số liệu từ ngày 10/06/2023 "
        "đến hết kỳ là số liệu ước thực hiện.)"
    ) in opening
    assert PLAN.unfilled
    filled = PlanCitation("Kế hoạch số 35/KH-UBND ngày 15/02/2023 của UBND thị xã")
    assert not filled.unfilled


def test_difficulties_are_summarised_without_the_questions_and_answers() -> None:
    events = [
        *three_reports(),
        difficulty("d1", "PNV", "Thiếu biên chế.", answer="Sẽ bổ sung trong quý III."),
        difficulty("d2", "18115", "Chưa có hướng dẫn về quy chế."),
    ]
    draft = draft_of(summary_of(events))
    assert text(draft, DIFFICULTIES) == (
        "2 đơn vị nêu 2 khó khăn, vướng mắc cần hướng dẫn; đã hướng dẫn, giải đáp 1, đang xem "
        "xét 1."
    )
    everything = "\n".join(p.text for p in draft.parts)
    for secret in ("Sẽ bổ sung trong quý III.", "Chưa có hướng dẫn về quy chế.", "Trả lời"):
        assert secret not in everything


def picked(*items: tuple[str, str, str]) -> HighlightSet:
    return HighlightSet(
        period_id="2023-H1",
        version=len(items),
        highlights=tuple(
            Highlight(
                highlight_id=f"h{n}",
                unit_code=unit,
                field=field,
                text=excerpt,
                marked_by="pnv",
                marked_at=SAVED_AT + timedelta(minutes=n),
            )
            for n, (unit, field, excerpt) in enumerate(items)
        ),
        changed_by="pnv",
        changed_at=SAVED_AT,
    )


def test_picked_excerpts_are_the_notable_points_of_their_part() -> None:
    events = [
        *three_of_twenty(),
        submitted(
            "18118",
            FIGURES["18118"],
            version=2,
            narratives={"1": "Nam Hồng tổ chức hội nghị.\nMô hình «Dân vận khéo» ở tổ dân phố 3."},
            ton_tai="Còn hạn chế về nhân lực; thiếu kinh phí.",
        ),
    ]
    summary = summary_of(events)
    highlights = picked(
        ("18118", "1", "Mô hình «Dân vận khéo»  ở tổ dân phố 3."),
        ("18118", "ton_tai_han_che", "thiếu kinh phí"),
        ("18115", "1", "a sentence Bắc Hồng never wrote"),
    )
    draft = draft_of(summary, highlights)
    section_1 = text(draft, section_part("1")).splitlines()
    assert section_1[-2:] == [
        "Một số kết quả nổi bật:",
        "- UBND phường Nam Hồng: Mô hình «Dân vận khéo» ở tổ dân phố 3.",
    ]
    ton_tai = text(draft, "ton_tai_han_che")
    assert ton_tai.splitlines()[0] == "3/20 đơn vị nêu tồn tại, hạn chế (chi tiết tại Phụ lục)."
    assert "- UBND phường Nam Hồng: thiếu kinh phí" in ton_tai


def test_an_excerpt_is_checked_against_the_units_current_report() -> None:
    summary = summary_of(three_of_twenty())
    form = load_form(*FORM)
    assert checked_excerpt(form, summary, "18115", "1", "  ban hành 3\nvăn bản ") == (
        "ban hành 3 văn bản"
    )
    refusals = {
        ("18115", "1", "ban hành 30 văn bản"): "excerpt_not_found",
        ("18130", "1", "x"): "no_current_report",
        ("18115", "99", "x"): "unknown_field",
        ("18115", "vuong_mac", "x"): "unknown_field",
        ("18115", "1", "ban\x07 hành"): "invalid_text",
        ("18115", "1", "   "): "excerpt_required",
    }
    for (unit, field, excerpt), code in refusals.items():
        with pytest.raises(Unprocessable) as refused:
            checked_excerpt(form, summary, unit, field, excerpt)
        assert refused.value.code == code, (unit, field, excerpt)
    message = "Đoạn trích không có trong nội dung «Mục 1. Quán triệt"
    with pytest.raises(Unprocessable, match=message):
        checked_excerpt(form, summary, "18115", "1", "ban hành 30 văn bản")


def test_marking_the_same_excerpt_twice_keeps_one_and_unmarking_an_unknown_one_is_404() -> None:
    one = Highlight(
        highlight_id="a",
        unit_code="18115",
        field="1",
        text="x",
        marked_by="pnv",
        marked_at=SAVED_AT,
    )
    first = with_highlight(None, one, period_id="2023-H1", by="pnv", at=SAVED_AT)
    again = with_highlight(
        first,
        one.model_copy(update={"highlight_id": "b"}),
        period_id="2023-H1",
        by="pnv",
        at=SAVED_AT,
    )
    assert again is first and first.version == 1
    gone = without_highlight(first, "a", by="pnv", at=SAVED_AT)
    assert (gone.version, gone.highlights) == (2, ())
    with pytest.raises(NotFound):
        without_highlight(gone, "a", by="pnv", at=SAVED_AT)


# --- saving and reading back --------------------------------------------------------------


def save(
    generated: GeneratedDraft,
    saved: DraftState | None,
    edits: dict[str, PartEdit],
    *,
    version: int | None = None,
    by: str = "pnv",
) -> DraftState:
    return saved_after(
        generated,
        saved,
        period_id="2023-H1",
        version_read=(saved.version if saved else 0) if version is None else version,
        edits=edits,
        by=by,
        by_name="Nguyễn Thị Nội Vụ",
        at=SAVED_AT,
    )


def test_an_edited_part_stays_while_the_generated_parts_follow_a_new_report() -> None:
    events = three_of_twenty()
    before = summary_of(events)
    generated = draft_of(before)
    hand = "Toàn thị xã đã ban hành 10 văn bản chỉ đạo; nhiều đơn vị làm tốt."
    saved = save(generated, None, {section_part("1"): PartEdit(text=hand)})
    assert saved.version == 1
    read = view(generated, saved, before.completeness)
    assert read.text(section_part("1")) == hand
    assert read.changes is not None and read.changes.notice.endswith("không có thay đổi.")

    # Thuận Lộc reports after the save.
    after = summary_of([*events, submitted("18130", {"van_ban_ban_hanh": 4})])
    later = view(draft_of(after), saved, after.completeness)
    assert later.text(section_part("1")) == hand
    part = next(p for p in later.parts if p.key == section_part("1"))
    assert (part.edited, part.changed) == (True, True)
    assert later.text(COMPLETENESS).startswith("4/20 đơn vị đã gửi báo cáo")
    changes = later.changes
    assert changes is not None
    assert [u.code for u in changes.added] == ["18130"]
    assert COMPLETENESS in changes.parts and section_part("1") in changes.outdated_edits
    assert "có thêm báo cáo của 1 đơn vị (UBND xã Thuận Lộc)" in changes.notice
    assert "Nguyễn Thị Nội Vụ" in changes.notice
    assert "đề nghị xem lại: 1. Quán triệt" in changes.notice


def test_a_save_over_a_newer_version_is_refused_naming_who_saved() -> None:
    generated = draft_of(summary_of(three_reports()))
    first = save(generated, None, {section_part("1"): PartEdit(text="A")})
    with pytest.raises(Conflict) as refused:
        save(generated, first, {section_part("1"): PartEdit(text="B")}, version=0, by="other")
    assert refused.value.code == "draft_version_conflict"
    assert refused.value.status == 409
    assert "Nguyễn Thị Nội Vụ" in refused.value.message and "phiên bản 1" in refused.value.message
    assert refused.value.details["saved_by"] == "pnv"


def test_a_part_sent_as_generated_or_reset_follows_the_reports_again() -> None:
    generated = draft_of(summary_of(three_reports()))
    first = save(
        generated, None, {section_part("1"): PartEdit(text="A"), "phuong_huong": PartEdit(text="B")}
    )
    unchanged = text(generated, section_part("2"))
    second = save(
        generated,
        first,
        {section_part("1"): PartEdit(reset=True), section_part("2"): PartEdit(text=unchanged)},
    )
    parts = {p.key: p for p in second.parts}
    assert not parts[section_part("1")].edited and not parts[section_part("2")].edited
    assert parts["phuong_huong"].edited and parts["phuong_huong"].text == "B"  # kept, not sent
    assert parts[section_part("2")].text == ""  # a part that follows the reports carries no text
    assert second.version == 2


@pytest.mark.parametrize(
    ("edits", "code"),
    [
        ({"muc_99": PartEdit(text="x")}, "unknown_draft_part"),
        ({"muc_1": PartEdit(text="Có ký tự \x07 lạ")}, "invalid_text"),
        ({"muc_1": PartEdit(text="x" * (PART_MAX + 1))}, "text_too_long"),
        ({"muc_1": PartEdit(text="x", reset=True)}, "invalid_part_edit"),
        ({"muc_1": PartEdit()}, "invalid_part_edit"),
    ],
)
def test_unusable_edits_are_refused_in_vietnamese(edits: dict[str, PartEdit], code: str) -> None:
    generated = draft_of(summary_of(three_reports()))
    with pytest.raises(Unprocessable) as refused:
        save(generated, None, edits)
    assert refused.value.code == code
    assert refused.value.status == 422
    assert any(word in refused.value.message for word in ("Mục", "mục"))


# --- ad-hoc requests ----------------------------------------------------------------------


def ad_hoc(title: str, basis: RequestBasis | None) -> Summary:
    period = PeriodChanged.new(
        PeriodState(
            period_id="2024-DX1",
            kind="ad_hoc",
            year=2024,
            title=title,
            form_id="dvcq-dot-xuat",
            form_version="2023.1",
            due_at=DUE_2023_H1,
            status="open",
            basis=basis,
            expected_units=UNITS[:2],
            version=1,
        ),
        producer="test",
    )
    p = fold([period])
    return summarise(p.periods["2024-DX1"], load_form("dvcq-dot-xuat", "2023.1"), [])


def test_an_ad_hoc_report_follows_the_document_that_asked_for_it() -> None:
    basis = RequestBasis(
        document_type="Công văn",
        number="125/SNV-XDCQ",
        issued_on=date(2024, 3, 2),
        issuer="Sở Nội vụ",
        subject="về việc báo cáo kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg",
    )
    summary = ad_hoc("Báo cáo 01 năm Chỉ thị 33", basis)
    frame = report_frame(summary.period, PLAN, ISSUER)
    assert frame.subject == "Kết quả 01 năm thực hiện Chỉ thị số 33/CT-TTg"
    assert frame.basis == (
        "Công văn số 125/SNV-XDCQ ngày 02/03/2024 của Sở Nội vụ về việc báo cáo kết quả 01 năm "
        "thực hiện Chỉ thị số 33/CT-TTg"
    )
    draft = compose(summary, load_form("dvcq-dot-xuat", "2023.1"), frame)
    assert text(draft, OPENING).startswith(f"Thực hiện {frame.basis}, {ISSUER} báo cáo như sau:")
    assert "Kế hoạch" not in text(draft, OPENING)
    assert [p.key for p in draft.parts] == [OPENING, "noi_dung", COMPLETENESS, DIFFICULTIES]


def test_without_a_basis_an_ad_hoc_report_is_titled_by_its_request() -> None:
    summary = ad_hoc("Báo cáo kết quả 01 năm thực hiện Chỉ thị 33/CT-TTg", None)
    frame = report_frame(summary.period, PLAN, ISSUER)
    assert frame.subject == "Kết quả 01 năm thực hiện Chỉ thị 33/CT-TTg"
    assert frame.basis == ""
    opening = text(compose(summary, load_form("dvcq-dot-xuat", "2023.1"), frame), OPENING)
    assert opening.startswith(
        "Thực hiện yêu cầu báo cáo kết quả 01 năm thực hiện Chỉ thị 33/CT-TTg; trên cơ sở "
    )
    assert "dân vận chính quyền Báo cáo" not in frame.subject + opening
    # An abbreviation keeps its capitals inside the sentence.
    other = report_frame(
        ad_hoc("UBND tỉnh yêu cầu báo cáo tiếp công dân", None).period, PLAN, ISSUER
    )
    assert other.subject_in_prose == "UBND tỉnh yêu cầu báo cáo tiếp công dân"


def test_a_client_may_send_every_part_back_with_the_digest_it_was_shown() -> None:
    events = three_of_twenty()
    shown = view(draft_of(summary_of(events)), None, summary_of(events).completeness)
    # Thuận Lộc reports while the reviewer edits only section 2; the form posts every part.
    after = summary_of([*events, submitted("18130", {"van_ban_ban_hanh": 4})])
    generated = draft_of(after)
    posted = {
        p.key: PartEdit(text="Mục 2 viết tay." if p.key == "muc_2" else p.text, base=p.digest)
        for p in shown.parts
    }
    saved = save(generated, None, posted)
    parts = {p.key: p for p in saved.parts}
    assert [k for k, p in parts.items() if p.edited] == ["muc_2"]
    # Section 1 was shown with the old figures and left alone: it follows the new ones.
    read = view(generated, saved, after.completeness)
    assert "14 (4/20 đơn vị báo cáo" in read.text(section_part("1"))
    # Without the digest, the old figures sent back would have become an edit.
    stale = save(generated, None, {section_part("1"): PartEdit(text=shown.text(section_part("1")))})
    assert next(p for p in stale.parts if p.key == section_part("1")).edited


def test_a_saved_draft_carries_only_hand_written_text_within_a_bound() -> None:
    generated = draft_of(summary_of(three_reports()))
    saved = save(generated, None, {"muc_1": PartEdit(text="Viết tay.")})
    assert sum(len(p.text) for p in saved.parts) == len("Viết tay.")
    assert len(saved.model_dump_json()) < 10_000
    many = {p.key: PartEdit(text="x" * 29_000) for p in generated.parts[:6]}
    with pytest.raises(Unprocessable) as refused:
        save(generated, None, many)
    assert refused.value.code == "draft_too_long"
    assert "vượt quá 150.000 ký tự" in refused.value.message


def test_a_period_takes_at_most_sixty_excerpts() -> None:
    held = None
    for n in range(60):
        h = Highlight(
            highlight_id=f"h{n}",
            unit_code="18115",
            field="1",
            text=f"đoạn {n}",
            marked_by="pnv",
            marked_at=SAVED_AT,
        )
        held = with_highlight(held, h, period_id="2023-H1", by="pnv", at=SAVED_AT)
    extra = Highlight(
        highlight_id="x",
        unit_code="18115",
        field="1",
        text="thêm",
        marked_by="pnv",
        marked_at=SAVED_AT,
    )
    with pytest.raises(Unprocessable) as refused:
        with_highlight(held, extra, period_id="2023-H1", by="pnv", at=SAVED_AT)
    assert refused.value.code == "too_many_highlights"
