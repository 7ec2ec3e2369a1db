"""The intended decomposition (expected_decomposition.json) is complete and consistent."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from shop.db import get_engine
from shop.models import Base

SAMPLE_ROOT = Path(__file__).resolve().parents[1]
TRUTH_FILE = SAMPLE_ROOT / "expected_decomposition.json"
PACKAGE_DIR = SAMPLE_ROOT / "shop"


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads(TRUTH_FILE.read_text(encoding="utf-8"))


def _owners(truth: dict[str, Any]) -> dict[str, str]:
    """member id -> service name (or "shared")."""
    owners = {}
    for name, service in truth["services"].items():
        for member in service["members"]:
            owners[member] = name
    for member in truth["shared"]["members"]:
        owners[member] = "shared"
    return owners


def _all_members(truth: dict[str, Any]) -> list[str]:
    members = [m for service in truth["services"].values() for m in service["members"]]
    return members + list(truth["shared"]["members"])


def _owner_of(atom: str, owners: dict[str, str]) -> str | None:
    """The owner whose member is the longest dotted prefix of ``atom``."""
    parts = atom.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in owners:
            return owners[prefix]
    return None


def _resolve(dotted: str) -> Any:
    """Import the longest importable module prefix of ``dotted``, then getattr the rest."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        module_name = ".".join(parts[:end])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and not module_name.startswith(exc.name):
                raise  # a real missing dependency, not "this is not a module"
            continue
        for attribute in parts[end:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


def _atoms() -> list[str]:
    """Every module, top-level class and module-level function of the shop package."""
    atoms = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(SAMPLE_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        atoms.append(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                atoms.append(f"{module}.{node.name}")
    return atoms


def test_schema_version_and_shape(truth):
    assert truth["schema"] == 1
    assert truth["monolith"] == "shop"
    assert set(truth) == {"schema", "monolith", "services", "shared"}
    assert len(truth["services"]) >= 8
    for name, service in truth["services"].items():
        assert service["description"].strip(), name
        assert service["members"], name
        assert service["tables"], name
    assert truth["shared"]["description"].strip()


def test_every_member_exists(truth):
    missing = []
    for member in _all_members(truth):
        try:
            _resolve(member)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{member}: {exc}")
    assert missing == []


def test_no_member_is_listed_twice(truth):
    members = _all_members(truth)
    duplicates = sorted({m for m in members if members.count(m) > 1})
    assert duplicates == []


def test_every_module_class_and_function_is_covered(truth):
    owners = _owners(truth)
    atoms = _atoms()
    assert len(atoms) > 300
    uncovered = [atom for atom in atoms if _owner_of(atom, owners) is None]
    assert uncovered == []


def test_nothing_falls_through_to_the_root_package(truth):
    """``shop`` must be listed (it is a module) but would cover everything by prefix;
    every other atom has to be placed by a more specific member."""
    owners = _owners(truth)
    assert owners.get("shop") == "shared"
    del owners["shop"]
    fallthrough = [atom for atom in _atoms() if atom != "shop" and _owner_of(atom, owners) is None]
    assert fallthrough == []


def test_tables_match_the_metadata_and_the_database(truth, app):
    owned = [table for service in truth["services"].values() for table in service["tables"]]
    assert len(owned) == len(set(owned)), "a table is owned twice"
    assert set(owned) == set(Base.metadata.tables)
    assert set(owned) == set(inspect(get_engine(app)).get_table_names())


def test_models_belong_to_the_service_owning_their_table(truth):
    owners = _owners(truth)
    table_owner = {table: name for name, service in truth["services"].items() for table in service["tables"]}
    mismatches = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        atom = f"{cls.__module__}.{cls.__qualname__}"
        table = mapper.local_table.name
        if _owner_of(atom, owners) != table_owner[table]:
            mismatches.append(f"{atom} ({_owner_of(atom, owners)}) maps {table} ({table_owner[table]})")
    assert mismatches == []
