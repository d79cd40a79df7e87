"""Find and load the packaged form definitions (YAML under ``shared/forms/definitions``)."""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from importlib.resources.abc import Traversable

import yaml

from shared.errors import NotFound
from shared.forms.model import FormDefinition

# Checked before touching the package so an id or version can never name another file.
_FORM_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"[0-9]{4}\.[0-9]+")


class FormNotFound(NotFound):
    """No form with this id and version is packaged."""

    code = "form_not_found"
    message = "Không tìm thấy biểu mẫu báo cáo."

    def __init__(self, form_id: str, version: str) -> None:
        super().__init__(f"Không tìm thấy biểu mẫu báo cáo {form_id} phiên bản {version}.")
        self.form_id = form_id
        self.version = version


def _definitions() -> Traversable:
    return files("shared.forms") / "definitions"


@functools.lru_cache(maxsize=32)
def load_form(form_id: str, version: str) -> FormDefinition:
    """The form definition with this id and version; raises FormNotFound."""
    if not _FORM_ID.fullmatch(form_id) or not _VERSION.fullmatch(version):
        raise FormNotFound(form_id, version)
    resource = _definitions() / form_id / f"{version}.yaml"
    if not resource.is_file():
        raise FormNotFound(form_id, version)
    form = FormDefinition.model_validate(yaml.safe_load(resource.read_text(encoding="utf-8")))
    if (form.form_id, form.version) != (form_id, version):
        # A misplaced file would otherwise answer for another form's version.
        raise ValueError(f"{form_id}/{version}.yaml declares {form.form_id} {form.version}")
    return form


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def available_forms() -> list[tuple[str, str]]:
    """Every packaged (form_id, version), sorted by id then version."""
    found = [
        (folder.name, entry.name.removesuffix(".yaml"))
        for folder in _definitions().iterdir()
        if folder.is_dir() and _FORM_ID.fullmatch(folder.name)
        for entry in folder.iterdir()
        if entry.is_file()
        and entry.name.endswith(".yaml")
        and _VERSION.fullmatch(entry.name.removesuffix(".yaml"))
    ]
    return sorted(found, key=lambda pair: (pair[0], _version_key(pair[1])))
