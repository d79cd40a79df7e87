"""Documents built from a period's consolidation: the official report and its workbook."""

from services.consolidation.documents.report import report_docx, report_spec
from services.consolidation.documents.workbook import report_sheets, report_xlsx

__all__ = ["report_docx", "report_sheets", "report_spec", "report_xlsx"]
