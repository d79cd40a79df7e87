"""docs/SECURITY.md's role × permission table is `ROLE_PERMISSIONS` (shared/auth.py)."""

from __future__ import annotations

from pathlib import Path

from shared.auth import ROLE_PERMISSIONS, Permission

DOC = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
BEGIN = "<!-- BEGIN role table: tests/unit/test_security_doc.py -->"
END = "<!-- END role table -->"


def rendered() -> str:
    """The table as the document must hold it, from the code."""
    roles = list(ROLE_PERMISSIONS)
    lines = [
        "| permission | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for permission in Permission:
        cells = ["✓" if permission in ROLE_PERMISSIONS[role] else "" for role in roles]
        lines.append(f"| `{permission.value}` | " + " | ".join(cells) + " |")
    return "\n".join(line.replace("|  |", "| |").replace("|  |", "| |") for line in lines)


def test_the_role_table_in_security_md_is_role_permissions() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert documented == rendered(), f"docs/SECURITY.md should hold:\n{rendered()}"


def test_the_document_names_every_role_and_permission() -> None:
    text = DOC.read_text(encoding="utf-8")
    for role in ROLE_PERMISSIONS:
        assert f"`{role}`" in text, role
    for permission in Permission:
        assert f"`{permission.value}`" in text, permission
