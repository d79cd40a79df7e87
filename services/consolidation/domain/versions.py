"""Reports read in their period's form, whatever version of the form they were written on.

A report carries the form version it was validated against. Usually it is the period's,
but a period compared with the same period a year earlier (2024-H1 on 2023.2 against
2023-H1 on 2023.1), or a period whose form was replaced after some units had reported,
mixes versions. The figures and narratives that mean the same in both versions are read
through the explicit crosswalk of ``shared.forms.crosswalk``, so they add up; what the
report's version never asked is absent, which consolidation counts as neither reported nor
applicable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.consolidation.domain.records import ReportRecord
from shared.forms import FormDefinition, load_form
from shared.forms.crosswalk import crosswalk, translate_content

FormLookup = Callable[[str, str], FormDefinition]


@dataclass(frozen=True)
class ReadReport:
    """A report's content in the shape of the period's form, and which of the form's
    indicators its own version asked for (None: all of them, it is the same version)."""

    content: dict[str, Any]
    asked: frozenset[str] | None = None

    def was_asked(self, code: str) -> bool:
        """Whether the report's own version of the form asked for this indicator."""
        return self.asked is None or code in self.asked


def content_in_form(
    report: ReportRecord,
    form: FormDefinition,
    period_form: tuple[str, str],
    form_of: FormLookup = load_form,
) -> ReadReport:
    """The report's current content in the shape of `form` (its own content when it was
    written on that version); a report that does not say its version was written on its
    period's form. Raises NoCrosswalk for versions nobody mapped."""
    submission = report.submission
    if submission is None:
        return ReadReport({}, frozenset())
    content = submission.content
    written_on = (
        submission.form_id or period_form[0],
        submission.form_version or period_form[1],
    )
    if written_on == (form.form_id, form.version) or form.kind != "periodic":
        return ReadReport(content)
    source = form_of(*written_on)
    return ReadReport(
        translate_content(content, source, form),
        frozenset(crosswalk(source, form).indicators),
    )
