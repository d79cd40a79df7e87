"""Intake use cases: submit, amend, withdraw and review reports, answer difficulties, and keep
the registry projection. Each change writes its rows, its events (outbox) and its audit line
in one transaction."""

from services.intake.handlers.attachments import add_attachment, attachment_file, list_attachments
from services.intake.handlers.common import listing_unit
from services.intake.handlers.difficulties import answer_difficulty, list_difficulties
from services.intake.handlers.projection import on_period_changed, on_unit_changed
from services.intake.handlers.reading import (
    list_reports,
    read_report,
    report_audit,
    report_versions,
    unit_form,
)
from services.intake.handlers.review import review_report, withdraw_report
from services.intake.handlers.submission import amend_report, submit_report

__all__ = [
    "add_attachment",
    "amend_report",
    "answer_difficulty",
    "attachment_file",
    "list_attachments",
    "list_difficulties",
    "list_reports",
    "listing_unit",
    "on_period_changed",
    "on_unit_changed",
    "read_report",
    "report_audit",
    "report_versions",
    "review_report",
    "submit_report",
    "unit_form",
    "withdraw_report",
]
