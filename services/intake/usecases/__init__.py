"""Intake use cases: send, amend, withdraw and review reports, attach signed scans, answer
difficulties, serve forms, and keep the registry projection. Each use case checks the
caller's permission, opens its own unit of work through `services.intake.store`, and writes a
change's rows, its events (outbox) and its audit line in one transaction."""

from services.intake.usecases.attachments import (
    StoredFile,
    add_attachment,
    attachment_file,
    list_attachments,
)
from services.intake.usecases.common import admit, listing_unit
from services.intake.usecases.difficulties import (
    answer_difficulty,
    list_difficulties,
    post_message,
    raise_difficulty,
    read_difficulty,
)
from services.intake.usecases.documents import DocumentFile, report_document
from services.intake.usecases.drafts import prefill_draft, read_draft, save_draft
from services.intake.usecases.projection import (
    on_period_changed,
    on_period_changed_v2,
    on_period_expected_units,
    on_unit_changed,
)
from services.intake.usecases.reading import (
    form_definition,
    leader_changes,
    list_reports,
    read_report,
    report_audit,
    report_versions,
    unit_form,
)
from services.intake.usecases.review import review_report, withdraw_report
from services.intake.usecases.submission import amend_report, submit_report

__all__ = [
    "DocumentFile",
    "StoredFile",
    "add_attachment",
    "admit",
    "amend_report",
    "answer_difficulty",
    "attachment_file",
    "form_definition",
    "leader_changes",
    "list_attachments",
    "list_difficulties",
    "list_reports",
    "listing_unit",
    "on_period_changed",
    "on_period_changed_v2",
    "on_period_expected_units",
    "on_unit_changed",
    "post_message",
    "prefill_draft",
    "raise_difficulty",
    "read_difficulty",
    "read_draft",
    "read_report",
    "report_audit",
    "report_document",
    "report_versions",
    "review_report",
    "save_draft",
    "submit_report",
    "unit_form",
    "withdraw_report",
]
