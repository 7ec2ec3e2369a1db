"""A known intended decomposition (a truth file); see docs/truth-format.md.

Which group an atom belongs to: the service (or `shared`) whose member is the longest dotted
prefix of the atom's id; a top-level package (`shop`) covers only its own `__init__`, so
listing it does not quietly claim the whole monolith.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from decomposer.errors import InputError
from decomposer.files import read_json

SHARED = "shared"


@dataclass(frozen=True)
class Truth:
    monolith: str
    #: member id -> group (a service name, or "shared")
    members: Mapping[str, str]
    #: table -> owning service
    tables: Mapping[str, str]
    services: tuple[str, ...]

    def group_of(self, atom: str, module: str) -> str | None:
        """The group of `atom`, an id that lives in the module `module`."""
        parts = atom.split(".")
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i])
            group = self.members.get(prefix)
            if group is not None:
                # a top-level package covers its own __init__, not the whole monolith
                if i == 1 and module != prefix:
                    return None
                return group
        return None


def load_truth(path: Path) -> Truth:
    return parse_truth(read_json(path, what="truth file"), where=str(path))


def parse_truth(data: Any, *, where: str) -> Truth:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise InputError(f"truth file {where} is not a JSON object")
    if data.get("schema") != 1:
        problems.append(f"'schema' should be 1, got {data.get('schema')!r}")
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        problems.append("'services' should be an object of service name -> members, tables")
        services = {}
    members: dict[str, str] = {}
    tables: dict[str, str] = {}
    groups = [(name, body) for name, body in services.items()]
    groups.append((SHARED, data.get("shared", {"members": []})))
    for name, body in groups:
        if not isinstance(body, dict) or not isinstance(body.get("members", []), list):
            problems.append(f"'{name}' should be an object with a list of 'members'")
            continue
        for member in body.get("members", []):
            if member in members:
                problems.append(f"'{member}' is listed in both '{members[member]}' and '{name}'")
            members[member] = name
        for table in body.get("tables", []):
            if name == SHARED:
                problems.append(f"'shared' cannot own table '{table}'; give it to a service")
            elif table in tables:
                problems.append(f"table '{table}' is owned by both '{tables[table]}' and '{name}'")
            tables[table] = name
    if problems:
        raise InputError(
            f"truth file {where} has {len(problems)} problem(s): {problems[0]}",
            details=problems[1:],
            hint="see docs/truth-format.md",
        )
    return Truth(str(data.get("monolith", "")), members, tables, tuple(sorted(services)))
