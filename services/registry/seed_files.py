"""Reading the registry's YAML files: the seed of units and reorganisations (pure parsing)."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from services.registry.unit_rules import Closure, Merger, UnitDraft
from shared.contracts.registry import Contacts, Leader


@dataclass(frozen=True)
class SeedUnit:
    """One unit of a seed file."""

    code: str
    name: str
    kind: str
    order: int
    tags: tuple[str, ...]
    must_report: bool
    valid_from: date


def _packaged(name: str) -> str:
    return importlib.resources.files("services.registry.seed").joinpath(name).read_text("utf-8")


def load_seed(path: Path | None) -> list[SeedUnit]:
    """Parse a seed file (the packaged Hồng Lĩnh data when no path is given)."""
    text = _packaged("hong_linh.yaml") if path is None else path.read_text("utf-8")
    raw = yaml.safe_load(text)
    default_from = date.fromisoformat(str(raw.get("defaults", {}).get("valid_from", "2019-01-01")))
    return [
        SeedUnit(
            code=str(item["code"]),
            name=str(item["name"]),
            kind=str(item["kind"]),
            order=int(item.get("order", 0)),
            tags=tuple(item.get("tags", ())),
            must_report=bool(item.get("must_report", True)),
            valid_from=date.fromisoformat(str(item.get("valid_from", default_from))),
        )
        for item in raw["units"]
    ]


@dataclass(frozen=True)
class ReorganisationFile:
    """A reorganisation described in YAML (see seed/hong_linh_2025.yaml)."""

    effective_from: date
    mergers: tuple[Merger, ...]
    note: str
    closures: tuple[Closure, ...] = ()


def load_reorganisation(name: str) -> ReorganisationFile:
    """Read a reorganisation file: a path, or the name of a file packaged under seed/."""
    path = Path(name)
    text = path.read_text("utf-8") if path.exists() else _packaged(name)
    raw = yaml.safe_load(text)["reorganisation"]
    effective_from = date.fromisoformat(str(raw["effective_from"]))
    return ReorganisationFile(
        effective_from=effective_from,
        mergers=tuple(merger_from_dict(item, effective_from) for item in raw["successors"]),
        note=str(raw.get("note", "")),
        closures=tuple(closure_from_dict(item) for item in raw.get("closures") or ()),
    )


def closure_from_dict(item: dict[str, Any]) -> Closure:
    """A unit closed without a merger, from the API body or a YAML file."""
    return Closure(
        code=str(item["code"]),
        successor_codes=tuple(str(code) for code in item.get("successor_codes") or ()),
    )


def merger_from_dict(item: dict[str, Any], effective_from: date) -> Merger:
    """One successor and its predecessors, from the API body or a YAML file."""
    leader = item.get("leader")
    return Merger(
        successor=UnitDraft(
            code=str(item["code"]),
            name=str(item["name"]),
            kind=str(item["kind"]),
            valid_from=effective_from,
            tags=tuple(str(t) for t in item.get("tags", ()) or ()),
            parent_code=item.get("parent_code"),
            display_order=int(item.get("display_order", item.get("order", 0))),
            must_report=bool(item.get("must_report", True)),
            leader=Leader.model_validate(leader) if leader else None,
            contacts=Contacts.model_validate(item.get("contacts") or {}),
        ),
        predecessors=tuple(str(code) for code in item.get("predecessors", ())),
    )
