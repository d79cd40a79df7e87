"""Cut a form down to what one unit must fill in, by unit kind and tags."""

from __future__ import annotations

from collections.abc import Set

from shared.forms.model import UNIT_KINDS, FormDefinition


class UnknownUnitKind(ValueError):
    """The unit kind is none of the kinds the forms know."""

    def __init__(self, unit_kind: str) -> None:
        super().__init__(f"unknown unit kind {unit_kind!r}; expected one of {UNIT_KINDS}")
        self.unit_kind = unit_kind


def check_unit_kind(unit_kind: str) -> None:
    """Raise UnknownUnitKind unless the kind is one the forms know."""
    if unit_kind not in UNIT_KINDS:
        raise UnknownUnitKind(unit_kind)


# Cut forms by (the form object, kind, tags): a form is frozen and each cut is a pure
# function of the three, asked for on every submission and amendment (docs/BENCHMARKS.md,
# "04/12/2026: intake, second pass"). The entry keeps the form itself, so that an id is never
# taken for another form's; a full cache is emptied (forms are few: `load_form` keeps 32).
_CUTS: dict[tuple[int, str, frozenset[str]], tuple[FormDefinition, FormDefinition]] = {}
_MAX_CUTS = 512


def form_for_unit(form: FormDefinition, unit_kind: str, unit_tags: Set[str]) -> FormDefinition:
    """The form without the sections and indicators that do not apply to this unit, its
    leader check worded for the unit's kind."""
    key = (id(form), unit_kind, frozenset(unit_tags))
    found = _CUTS.get(key)
    if found is not None and found[0] is form:
        return found[1]
    cut = _cut(form, unit_kind, unit_tags)
    if len(_CUTS) >= _MAX_CUTS:
        _CUTS.clear()
    _CUTS[key] = (form, cut)
    return cut


def _cut(form: FormDefinition, unit_kind: str, unit_tags: Set[str]) -> FormDefinition:
    check_unit_kind(unit_kind)
    sections = tuple(
        section.model_copy(
            update={
                "indicators": tuple(
                    ind
                    for ind in section.indicators
                    if ind.applies_to.includes(unit_kind, unit_tags)
                ),
                # The leader check reads in the plan's words for this kind of unit.
                "leader_check": section.leader_check
                and section.leader_check.model_copy(
                    update={"label": section.leader_check.label_for(unit_kind), "wording": ()}
                ),
            }
        )
        for section in form.sections
        if section.applies_to.includes(unit_kind, unit_tags)
    )
    kept = {ind.code for section in sections for ind in section.indicators}
    # A rule that reads a removed indicator could never run for this unit.
    rules = tuple(rule for rule in form.rules if all(code in kept for code in rule.inputs))
    return form.model_copy(update={"sections": sections, "rules": rules})
