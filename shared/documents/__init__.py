"""Official documents: .docx in the Nghị định 30/2020/NĐ-CP layout and simple .xlsx tables."""

from shared.documents.docx_builder import build_docx
from shared.documents.formatting import clean_text
from shared.documents.model import (
    Block,
    Bullet,
    Cell,
    DocumentSpec,
    Heading,
    Issuer,
    Paragraph,
    Signature,
    Table,
)
from shared.documents.xlsx_builder import Sheet, XlsxCell, build_xlsx, sanitize_sheet_title

__all__ = [
    "Block",
    "Bullet",
    "Cell",
    "DocumentSpec",
    "Heading",
    "Issuer",
    "Paragraph",
    "Sheet",
    "Signature",
    "Table",
    "XlsxCell",
    "build_docx",
    "build_xlsx",
    "clean_text",
    "sanitize_sheet_title",
]
