"""The user guide (docs/HUONG-DAN-SU-DUNG.md) names only buttons the portal has.

A button or link the guide tells the reader to press is written "bấm **…**" or "nút **…**"
(several: "bấm **A** hoặc **B**", "các nút **A** (…), **B** (…)"). Each must be the visible
text of a button, link or toggle of a portal template, or a label the templates put on one
(the resubmit labels, the form's "Gửi báo cáo").
"""

from __future__ import annotations

import re
from pathlib import Path

from services.portal.wording import RESUBMIT_LABELS

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "HUONG-DAN-SU-DUNG.md"
TEMPLATES = REPO / "services" / "portal" / "templates"

_LABEL = r"(?:\*\*([^*]+)\*\*|«([^«»]+)»)"
_AFTER = r"(?:\s*\([^()]*\))?"  # "(chưa gửi)" after a label in a list of buttons
_PRESS = re.compile(
    r"(?:[Bb]ấm|[Nn]út)(?: nút)?(?: gửi ngay dưới ô đó:)? "
    + _LABEL
    + _AFTER
    + r"((?:(?:,| hoặc|, hoặc)\s+"
    + _LABEL
    + _AFTER
    + r")*)"
)
_CLICKABLE = re.compile(r"<(button|a|summary)\b[^>]*>(.*?)</\1>", re.DOTALL)
_SET = re.compile(r"\{%-?\s*set\b(.*?)-?%\}", re.DOTALL)


def _flat(text: str) -> str:
    return " ".join(text.split())


def guide_buttons() -> set[str]:
    """Every label the guide tells the reader to press."""
    text = " ".join(line.strip() for line in GUIDE.read_text("utf-8").splitlines())
    found: set[str] = set()
    for match in _PRESS.finditer(text):
        found.add(_flat(match[1] or match[2]))
        found.update(_flat(a or b) for a, b in re.findall(_LABEL, match[3]))
    return found


def portal_buttons() -> set[str]:
    """Visible texts of the portal's buttons, links and toggles."""
    found = {_flat(label) for label in RESUBMIT_LABELS.values()}
    for path in TEMPLATES.glob("*.html"):
        source = path.read_text("utf-8")
        for _, inner in _CLICKABLE.findall(source):
            # The literal pieces between tags and Jinja blocks: "{% if … %}Xem và xét
            # duyệt{% else %}Xem{% endif %}" offers both labels.
            for piece in re.split(r"<[^>]+>|\{%.*?%\}|\{\{.*?\}\}", inner, flags=re.DOTALL):
                if _flat(piece):
                    found.add(_flat(piece))
        for statement in _SET.findall(source):
            literals = re.findall(r'"([^"]*)"', statement)
            found.update(_flat(literal) for literal in literals if literal.strip())
    return found


def test_every_button_the_guide_names_exists_in_the_portal() -> None:
    named, existing = guide_buttons(), portal_buttons()
    assert {"Gửi báo cáo", "Sửa, gửi bản mới", "Đôn đốc ngay", "Đổi hạn gửi"} <= named
    assert sorted(named - existing) == []


def test_the_scan_sees_the_portals_buttons_and_catches_one_that_does_not_exist() -> None:
    existing = portal_buttons()
    assert {"Gửi báo cáo", "Chấp nhận báo cáo", "Gửi vướng mắc", "Đăng xuất"} <= existing
    assert "Gửi bản cập nhật" not in existing  # the label an earlier guide invented
