"""Data for an official administrative document (Nghị định 30/2020/NĐ-CP layout).

Glossary: công văn — an official letter (no kind title, subject written as "V/v ...");
nơi nhận — distribution list; TM. (thay mặt) — signing on behalf of a collective body;
KT. (ký thay) — a deputy signing for the head; Lưu — the archive entry ("Lưu: VT, NV").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Issuer:
    """The issuing body as printed in the top-left corner, and the suffix of its number."""

    parent_authority: str
    name: str
    number_suffix: str
    # For "ỦY BAN NHÂN DÂN / THỊ XÃ HỒNG LĨNH" both lines are the body's own name, so both
    # are bold; a department under a parent ("UBND THỊ XÃ ..." / "PHÒNG NỘI VỤ") sets False.
    parent_authority_bold: bool = True


@dataclass(frozen=True, slots=True)
class Signature:
    """The signature block: authority lines (e.g. "TM. ỦY BAN NHÂN DÂN"), title, signer."""

    authority_lines: tuple[str, ...]
    title: str
    signer_name: str

    @classmethod
    def thay_mat(cls, body: str, title: str, signer_name: str) -> Signature:
        """Sign on behalf of a collective body: "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH"."""
        return cls((f"TM. {body}",), title, signer_name)

    @classmethod
    def ky_thay(
        cls, head_title: str, title: str, signer_name: str, body: str | None = None
    ) -> Signature:
        """A deputy signs for the head: "KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH" (optionally under TM.)."""
        lines = (f"TM. {body}",) if body else ()
        return cls((*lines, f"KT. {head_title}"), title, signer_name)


@dataclass(frozen=True, slots=True)
class Heading:
    """A section heading; the caller writes its numbering ("I.", "1.", "a)") into the text."""

    text: str
    level: int = 1


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A body paragraph: justified with a first-line indent (or centred, for the title
    lines of an appendix)."""

    text: str
    bold: bool = False
    italic: bool = False
    centred: bool = False


@dataclass(frozen=True, slots=True)
class Bullet:
    """A list item written the Vietnamese administrative way: "- text" (or "+ text")."""

    text: str
    marker: str = "-"


@dataclass(frozen=True, slots=True)
class Table:
    """A bordered table; widths in millimetres (default: the text width shared equally)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths_mm: Sequence[float] | None = None
    totals_row: Sequence[Cell] | None = None

    def __post_init__(self) -> None:
        n = len(self.columns)
        if n == 0:
            raise ValueError("a table needs at least one column")
        if self.widths_mm is not None and len(self.widths_mm) != n:
            raise ValueError(f"widths_mm has {len(self.widths_mm)} values for {n} columns")
        for i, row in enumerate(self.rows):
            if len(row) != n:
                raise ValueError(f"row {i} has {len(row)} cells for {n} columns")
        if self.totals_row is not None and len(self.totals_row) != n:
            raise ValueError(f"totals_row has {len(self.totals_row)} cells for {n} columns")


Block = Heading | Paragraph | Bullet | Table


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """Everything printed on the document; an empty kind_title makes it a công văn."""

    issuer: Issuer
    place: str
    issued_on: date
    kind_title: str
    subject: str
    signature: Signature
    body: Sequence[Block] = ()
    recipients_to: Sequence[str] = ()
    recipients: Sequence[str] = ()
    archive: str = "VT, NV"
    # A phụ lục: printed after the signature, from a new page.
    appendix: Sequence[Block] = ()

    @property
    def is_cong_van(self) -> bool:
        """A công văn has no kind title; its subject goes under the number as "V/v ..."."""
        return not self.kind_title.strip()
