import shutil
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from services.reminders.domain import (
    DEFAULT_TEMPLATE_DIR,
    TEMPLATE_FAMILIES,
    Audience,
    MessageContext,
    PlannedReminder,
    ReminderTemplateError,
    TemplateRenderer,
    dedupe_key,
)
from shared.formatting import data_window_phrase

from .clock import h1_2023, vn

PORTAL = "https://baocao.honglinh.example/ky/2023-H1"
UNIT_NAME = "UBND phường Bắc Hồng"


def planned(rule_id: str, at: datetime) -> PlannedReminder:
    audience: Audience = "escalation" if rule_id == "escalation" else "unit"
    return PlannedReminder(
        rule_id=rule_id,
        scheduled_at=at,
        dedupe_key=dedupe_key("2023-H1", "26500", rule_id),
        audience=audience,
        period_id="2023-H1",
        unit_code="26500",
    )


def context(as_of: datetime, reason: str | None = None) -> MessageContext:
    return MessageContext(
        period=h1_2023(),
        unit_code="26500",
        unit_name=UNIT_NAME,
        portal_url=PORTAL,
        as_of=as_of,
        returned_reason=reason,
    )


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


@pytest.mark.parametrize(
    ("rule_id", "as_of", "expected_in_body"),
    [
        ("opened", vn(2023, 5, 1, 9), "Số liệu từ ngày 15/12/2022 đến ngày 14/06/2023"),
        ("before_3d", vn(2023, 6, 6, 8), "còn 3 ngày (ngày cuối cùng gửi đúng hạn: 09/06/2023)"),
        ("due_day", vn(2023, 6, 9, 8), "Hôm nay là ngày cuối cùng gửi báo cáo đúng hạn"),
        ("overdue_2", vn(2023, 6, 15, 8), "đã quá hạn 6 ngày"),
        ("escalation", vn(2023, 6, 13, 8), "UBND phường Bắc Hồng (mã 26500)"),
        ("returned:ev-1", vn(2023, 6, 7, 10), "Lý do: Thiếu số liệu mục II.3"),
    ],
)
def test_every_family_renders_vietnamese_with_dd_mm_yyyy_deadline_and_link(
    renderer: TemplateRenderer, rule_id: str, as_of: datetime, expected_in_body: str
) -> None:
    message = renderer.render(planned(rule_id, as_of), context(as_of, "Thiếu số liệu mục II.3"))

    assert expected_in_body in message.body
    assert "trước ngày 10/06/2023" in message.subject + message.body
    assert PORTAL in message.body
    assert "Báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2023" in message.subject
    assert "\n" not in message.subject
    assert is_nfc(message.subject) and is_nfc(message.body)
    assert "None" not in message.body


@pytest.mark.parametrize("rule_id", ["opened", "before_3d", "manual:dot-1"])
def test_the_window_reads_as_everywhere_else_and_says_the_late_days_are_estimates(
    renderer: TemplateRenderer, rule_id: str
) -> None:
    # 2023-H1: figures up to 14/06/2023 in a report due before 10/06/2023.
    message = renderer.render(planned(rule_id, vn(2023, 6, 6, 8)), context(vn(2023, 6, 6, 8)))

    assert (
        "Số liệu từ ngày 15/12/2022 đến ngày 14/06/2023, trong đó số liệu từ ngày 10/06/2023 "
        "đến hết kỳ là số liệu ước thực hiện."
    ) in message.body
    assert data_window_phrase(date(2022, 12, 15), date(2023, 6, 14), vn(2023, 6, 10)) in (
        message.body.replace("Số liệu từ", "số liệu từ", 1)
    )
    assert "trước ngày 10/06/2023" in message.body


def test_a_window_that_ends_before_the_deadline_has_no_estimate_and_none_says_nothing(
    renderer: TemplateRenderer,
) -> None:
    closed_early = replace(
        context(vn(2023, 6, 6, 8)),
        period=replace(h1_2023(), data_window_end=date(2023, 6, 9)),
    )
    ad_hoc = replace(
        context(vn(2023, 6, 6, 8)),
        period=replace(h1_2023(), data_window_start=None, data_window_end=None),
    )

    early = renderer.render(planned("before_3d", vn(2023, 6, 6, 8)), closed_early).body
    none = renderer.render(planned("opened", vn(2023, 6, 6, 8)), ad_hoc).body

    assert "Số liệu từ ngày 15/12/2022 đến ngày 09/06/2023.\n" in early
    assert "ước thực hiện" not in early
    assert "Số liệu" not in none and "None" not in none
    assert "Hạn gửi báo cáo: trước ngày 10/06/2023" in none


def test_before_subject_counts_days_left(renderer: TemplateRenderer) -> None:
    message = renderer.render(planned("before_7d", vn(2023, 6, 2, 8)), context(vn(2023, 6, 2, 8)))

    assert "còn 7 ngày" in message.subject


def test_due_day_caught_up_after_the_deadline_says_overdue_not_today(
    renderer: TemplateRenderer,
) -> None:
    message = renderer.render(planned("due_day", vn(2023, 6, 9, 8)), context(vn(2023, 6, 10, 9)))

    assert "quá hạn 1 ngày" in message.subject
    assert "Hôm nay là ngày cuối cùng" not in message.body


def test_a_period_opened_after_its_deadline_says_it_is_already_overdue(
    renderer: TemplateRenderer,
) -> None:
    opened_late = vn(2023, 6, 20, 9)
    message = renderer.render(planned("opened", opened_late), context(opened_late))

    assert message.subject.startswith("Mở kỳ báo cáo (đã quá hạn 11 ngày)")
    assert "khẩn trương" in message.body
    assert "gửi báo cáo đúng thời hạn" not in message.body


def test_deadline_with_a_time_of_day_is_shown_with_that_time(renderer: TemplateRenderer) -> None:
    ctx = replace(context(vn(2023, 6, 6, 8)), period=h1_2023(due_at=vn(2023, 6, 10, 17)))

    message = renderer.render(planned("before_3d", vn(2023, 6, 6, 8)), ctx)

    assert "trước 17:00 ngày 10/06/2023" in message.body
    assert "ngày cuối cùng gửi đúng hạn: 10/06/2023" in message.body


def test_decomposed_input_comes_out_nfc(renderer: TemplateRenderer) -> None:
    decomposed_name = unicodedata.normalize("NFD", "UBND xã Thuận Lộc")
    ctx = replace(context(vn(2023, 5, 1, 9)), unit_name=decomposed_name)

    message = renderer.render(planned("opened", vn(2023, 5, 1, 9)), ctx)

    assert "Kính gửi: UBND xã Thuận Lộc" in message.body
    assert is_nfc(message.body)


def test_title_with_a_line_break_gives_a_one_line_subject(renderer: TemplateRenderer) -> None:
    ctx = replace(
        context(vn(2023, 5, 1, 9)), period=replace(h1_2023(), title="Báo cáo\r\nBcc: x@y")
    )

    message = renderer.render(planned("opened", vn(2023, 5, 1, 9)), ctx)

    assert "\n" not in message.subject and "\r" not in message.subject


def test_default_templates_exist_for_every_family_and_are_nfc_utf8() -> None:
    for family in TEMPLATE_FAMILIES:
        for part in ("subject", "body"):
            text = (DEFAULT_TEMPLATE_DIR / f"{family}.{part}.j2").read_text(encoding="utf-8")
            assert is_nfc(text), f"{family}.{part}.j2 is not NFC"


def _copy_defaults(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATE_DIR, target, ignore=shutil.ignore_patterns("*.py"))
    return target


def test_strict_undefined_catches_a_missing_variable(tmp_path: Path) -> None:
    custom = _copy_defaults(tmp_path)
    (custom / "overdue.body.j2").write_text("Quá hạn {{ so_ngay_qua_han }} ngày", encoding="utf-8")
    renderer = TemplateRenderer(custom)

    with pytest.raises(ReminderTemplateError) as caught:
        renderer.render(planned("overdue_1", vn(2023, 6, 13, 8)), context(vn(2023, 6, 13, 8)))

    assert caught.value.code == "template_variable_missing"
    assert "so_ngay_qua_han" in caught.value.message


def test_returned_reminder_without_a_reason_is_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(ReminderTemplateError) as caught:
        renderer.render(planned("returned:ev-1", vn(2023, 6, 7, 10)), context(vn(2023, 6, 7, 10)))

    assert caught.value.code == "template_variable_missing"


def test_custom_template_directory_replaces_the_defaults(tmp_path: Path) -> None:
    custom = _copy_defaults(tmp_path)
    (custom / "opened.subject.j2").write_text("Kỳ mới: {{ period_title }}", encoding="utf-8")

    message = TemplateRenderer(custom).render(
        planned("opened", vn(2023, 5, 1, 9)), context(vn(2023, 5, 1, 9))
    )

    assert message.subject == "Kỳ mới: Báo cáo công tác Dân vận chính quyền 6 tháng đầu năm 2023"


def test_incomplete_template_directory_is_refused_at_start(tmp_path: Path) -> None:
    custom = _copy_defaults(tmp_path)
    (custom / "escalation.body.j2").unlink()

    with pytest.raises(ReminderTemplateError) as caught:
        TemplateRenderer(custom)

    assert caught.value.code == "template_missing"


def test_template_syntax_error_is_refused_at_start(tmp_path: Path) -> None:
    custom = _copy_defaults(tmp_path)
    (custom / "before.body.j2").write_text("{% if days_left %}còn", encoding="utf-8")

    with pytest.raises(ReminderTemplateError) as caught:
        TemplateRenderer(custom)

    assert caught.value.code == "template_syntax"
