"""Reading docker-compose.yml and compose.env files the way Docker Compose does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / "compose.env.example"

_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


class MissingVariable(KeyError):
    """A `${VAR:?message}` whose variable is unset."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute ${VAR}, ${VAR:-default} and ${VAR:?error} the way Compose does."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator and operator.endswith("?") and not value:
            raise MissingVariable(f"{name} is required: {argument}")
        if operator and operator.endswith("-") and not value:
            return argument
        return value or ""

    return _VARIABLE.sub(substitute, text)


def _interpolate_values(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_values(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_values(value, env) for key, value in node.items()}
    return node


def load_compose(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as Compose sees it with `env`.

    Like Compose, the YAML is parsed first (anchors and merge keys resolved) and the
    variables are substituted in its string values afterwards, so '[2027]' stays a string.
    """
    data: dict[str, Any] = _interpolate_values(
        yaml.safe_load(path.read_text(encoding="utf-8")), env
    )
    return data


@dataclass(frozen=True)
class EnvLine:
    """One `KEY=value` line of a compose.env file, with its line number."""

    key: str
    value: str
    line: int


def read_env_file(path: Path) -> dict[str, EnvLine]:
    """The variables of a compose.env file (enclosing quotes removed), with their lines."""
    values: dict[str, EnvLine] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = EnvLine(key.strip(), value, number)
    return values


def env_values(lines: Mapping[str, EnvLine]) -> dict[str, str]:
    return {key: line.value for key, line in lines.items()}
