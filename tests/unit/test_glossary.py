"""One Vietnamese term per concept (docs/GLOSSARY.md) in everything a user reads.

Scanned: the portal's templates, the e-mail templates, the form definitions, the user
guide, and every Vietnamese string literal of services/ and shared/ (messages, labels,
the document builders; docstrings are not shown to users and are skipped). A string is
Vietnamese when it has a letter only Vietnamese uses. Each forbidden variant of the
glossary is a pattern here, with the term to use instead in the failure message.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GLOSSARY = REPO / "docs" / "GLOSSARY.md"
GUIDE = REPO / "docs" / "HUONG-DAN-SU-DUNG.md"

# Letters of Vietnamese that no other common language uses (ASCII code never has them).
_VIETNAMESE = re.compile("[ăâđêôơưĂÂĐÊÔƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")
_LETTER = "a-zA-Zàáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ"


@dataclass(frozen=True)
class Variant:
    """A wording not to use, and the glossary's term for the concept."""

    pattern: str
    use: str

    @property
    def regex(self) -> re.Pattern[str]:
        # Whole words only: "nộp" is not part of another word, "hạn" of "quá hạn" is.
        return re.compile(rf"(?<![{_LETTER}]){self.pattern}(?![{_LETTER}])", re.IGNORECASE)


CODE_IN_PARENTHESES = r"(?-i:\((?:narrative|indicators|sections|[a-z]+_[a-z0-9_]+)\))"
OLD_TONE_MARK = r"[^\s\W\d_qQ]*(?<![qQ])(?:o[áàảãạ]|o[éèẻẽẹ]|u[ýỳỷỹỵ])"

FORBIDDEN: tuple[Variant, ...] = (
    Variant("nộp", "gửi (gửi báo cáo, hạn gửi, gửi muộn, gửi lần đầu)"),
    Variant("trễ hạn", "gửi muộn (a report) or quá hạn (time past the deadline)"),
    Variant("(?:gửi|báo cáo) chậm", "gửi muộn"),
    Variant("hạn chót", "hạn gửi"),
    Variant("được tiếp nhận|đã tiếp nhận", "chấp nhận (Phòng Nội vụ's decision) or nhận"),
    Variant("trả lại để chỉnh sửa|bổ sung, chỉnh sửa|yêu cầu chỉnh sửa", "trả lại để bổ sung"),
    Variant("bị trả lại, cần bổ sung", "Trả lại, chờ bổ sung (the state)"),
    Variant("gửi trả(?! lời)", "trả lại để bổ sung"),
    Variant("lần gửi thứ", "phiên bản"),
    Variant("bản cập nhật", "phiên bản mới"),
    Variant("thu hồi báo cáo|hủy báo cáo", "rút báo cáo"),
    Variant("thắc mắc", "vướng mắc"),
    Variant("nhắc nhở|thúc giục|giục", "đôn đốc"),
    Variant("đợt báo cáo|kỳ hạn", "kỳ báo cáo"),
    Variant("bất thường|ngoài kỳ", "đột xuất"),
    Variant("đóng kỳ|đóng sổ", "khóa sổ"),
    Variant("phản biện", "ý kiến phê bình, góp ý (plan II.7)"),
    Variant("thực thi công vụ", "thi hành công vụ (plan II.7)"),
    Variant("Idempotency-Key", "a message a clerk reads never names a header"),
    # Field codes and body keys in parentheses ("(narrative)", "(ho_so_tthc_qua_han)").
    Variant(CODE_IN_PARENTHESES, "the field's label"),
    # The new-style tone mark (hóa, thủy, khóa), as in the rest of the system.
    Variant(OLD_TONE_MARK, "the tone on the main vowel: hóa, hòa, khóa, thủy, tùy"),
)


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal or f-string (its placeholders as "…")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = [
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "…"
            for v in node.values
        ]
        return "".join(parts)
    return None


def python_strings(path: Path) -> Iterator[tuple[int, str]]:
    """Vietnamese string literals of a module with their line, docstrings left out."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = _docstrings(tree)
    inside_fstring = {
        id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
    }
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside_fstring:
            continue
        text = _literal_text(node)
        if text and _VIETNAMESE.search(text):
            yield getattr(node, "lineno", 0), text


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line, comments left out (form definitions: one label per line)."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.lstrip().startswith("#"):
            yield number, line


def paragraphs(path: Path) -> Iterator[tuple[int, str]]:
    """Each paragraph on one line with its first line's number, so that a phrase broken
    across two lines of a page or of the guide is still one phrase."""
    start, lines = 0, []
    for number, line in enumerate([*path.read_text("utf-8").splitlines(), ""], start=1):
        if line.strip():
            start = start or number
            lines.append(line.strip())
        elif lines:
            yield start, " ".join(lines)
            start, lines = 0, []


def sources() -> Iterator[tuple[Path, Iterator[tuple[int, str]]]]:
    for pattern in ("services/portal/templates/*.html", "services/reminders/templates/*.j2"):
        for path in sorted(REPO.glob(pattern)):
            yield path, paragraphs(path)
    for path in sorted(REPO.glob("shared/forms/definitions/*/*.yaml")):
        yield path, text_lines(path)
    yield GUIDE, paragraphs(GUIDE)
    for folder in ("services", "shared"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, python_strings(path)


# A released form version is never edited (test_form_2023_2.py); what it says is kept.
RELEASED_FORMS = {"shared/forms/definitions/dvcq-dinh-ky/2023.1.yaml"}


def findings() -> list[str]:
    found: list[str] = []
    for path, lines in sources():
        relative = path.relative_to(REPO).as_posix()
        for number, text in lines:
            if relative in RELEASED_FORMS:
                continue
            for variant in FORBIDDEN:
                for match in variant.regex.finditer(text):
                    found.append(f"{relative}:{number}: «{match[0]}» → {variant.use}: {text!r}")
    return found


def test_what_users_read_uses_one_term_per_concept() -> None:
    found = findings()
    assert found == [], "\n".join(found)


def test_what_users_read_is_nfc() -> None:
    bad = [
        f"{path.relative_to(REPO)}:{number}"
        for path, lines in sources()
        for number, text in lines
        if not unicodedata.is_normalized("NFC", text)
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("text", "variant"),
    [
        ("Hạn nộp trước ngày 10/06/2023", "nộp"),
        ("Báo cáo đã được tiếp nhận (phiên bản 2)", "được tiếp nhận|đã tiếp nhận"),
        ("(lần gửi thứ 2)", "lần gửi thứ"),
        ("Báo cáo được trả lại để chỉnh sửa", FORBIDDEN[5].pattern),
        ("Bị trả lại, cần bổ sung", "bị trả lại, cần bổ sung"),
        ("Kết quả thực hiện (narrative) chưa được nhập", CODE_IN_PARENTHESES),
        ("Số hồ sơ (ho_so_tthc_qua_han)", CODE_IN_PARENTHESES),
        ("Mã Idempotency-Key này đã được dùng", "Idempotency-Key"),
        ("Phòng Văn hoá - Thông tin", OLD_TONE_MARK),
        ("Khoá sổ kỳ báo cáo", OLD_TONE_MARK),
        ("tuỳ đơn vị", OLD_TONE_MARK),
    ],
)
def test_each_forbidden_variant_is_caught(text: str, variant: str) -> None:
    (rule,) = [v for v in FORBIDDEN if v.pattern == variant]
    assert rule.regex.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "Số hồ sơ thủ tục hành chính tiếp nhận",  # receiving files is "tiếp nhận"
        "quá hạn 3 ngày",
        "hoàn thành, toán, hoạt động, khuyến khích",  # tone on the last vowel is right here
        "quý I năm 2026, quỹ",
        "Gửi muộn",
        "Gửi trả lời",
        "Vui lòng ghi lý do trả lại để đơn vị biết cần bổ sung gì.",
        "Chưa cấu hình cổng gửi tin nhắn (DANVAN_REMINDERS_WEBHOOK_GATEWAY_URL)",
        "Giá trị Nhân dân đóng góp (triệu đồng)",
    ],
)
def test_the_terms_to_use_pass(text: str) -> None:
    assert [v.pattern for v in FORBIDDEN if v.regex.search(text)] == []


def test_the_glossary_names_every_forbidden_variant_it_enforces() -> None:
    glossary = GLOSSARY.read_text("utf-8")
    for word in (
        "nộp",
        "Hạn gửi",
        "gửi muộn",
        "quá hạn",
        "trễ hạn",
        "chấp nhận",
        "tiếp nhận",
        "Trả lại, chờ bổ sung",
        "trả lại để chỉnh sửa",
        "phiên bản",
        "lần gửi thứ",
        "vướng mắc",
        "đôn đốc",
        "kỳ báo cáo",
        "đột xuất",
        "khóa sổ",
    ):
        assert word in glossary, word
