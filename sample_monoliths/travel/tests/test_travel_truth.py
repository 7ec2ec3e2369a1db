"""The truth file (expected_decomposition.json) must match the code and the schema."""

import ast
import importlib
import json
import sqlite3
from pathlib import Path

import pytest

from travel.db import connect, init_db

SAMPLE_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = SAMPLE_ROOT / "travel"
TRUTH = json.loads((SAMPLE_ROOT / "expected_decomposition.json").read_text(encoding="utf-8"))


def _members():
    """(owner, member id) for every listed member, shared included."""
    pairs = [(name, m) for name, svc in TRUTH["services"].items() for m in svc["members"]]
    pairs += [("shared", m) for m in TRUTH["shared"]["members"]]
    return pairs


def _module_id(path):
    parts = list(path.relative_to(SAMPLE_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _atoms():
    """Every module, top-level class and module-level function of the package.

    Returns ``{id: is_package}``.
    """
    atoms = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = _module_id(path)
        atoms[module] = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                atoms[f"{module}.{node.name}"] = False
    return atoms


def _resolve(dotted):
    """Import the longest module prefix of ``dotted`` and getattr the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def _owner(atom, members):
    """Longest dotted prefix among ``members`` (dict id -> owner)."""
    parts = atom.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in members:
            return prefix, members[prefix]
    return None, None


def test_schema_version_and_names():
    assert TRUTH["schema"] == 1
    assert TRUTH["monolith"] == "travel"
    assert set(TRUTH["services"]) == {"flights", "hotels", "bookings", "pricing", "payments",
                                      "loyalty", "notifications"}
    for name, service in TRUTH["services"].items():
        assert service["description"].strip(), name
        assert service["members"], name
        assert service["tables"], name
    assert TRUTH["shared"]["description"].strip()


def test_no_member_listed_twice():
    ids = [m for _, m in _members()]
    duplicates = sorted({m for m in ids if ids.count(m) > 1})
    assert duplicates == []


@pytest.mark.parametrize("owner, member", _members(), ids=lambda v: str(v))
def test_member_exists(owner, member):
    try:
        _resolve(member)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{owner} lists {member!r}, which does not exist: {exc}")


def test_members_name_code_the_ast_sees():
    """Members are modules, top-level classes or module-level functions, nothing finer."""
    atoms = _atoms()
    assert sorted(m for _, m in _members() if m not in atoms) == []


def test_every_atom_is_covered():
    """Every atom falls under a member; a package member covers only the package itself,
    so nothing slips through to the catch-all ``travel`` / ``travel.services`` entries."""
    members = {m: owner for owner, m in _members()}
    atoms = _atoms()
    uncovered = []
    for atom in atoms:
        prefix, _ = _owner(atom, members)
        if prefix is None or (atoms.get(prefix) and prefix != atom):
            uncovered.append(atom)
    assert uncovered == []


def test_tables_match_the_schema_and_have_one_owner(tmp_path):
    conn = connect(str(tmp_path / "schema.db"))
    try:
        init_db(conn)
        real = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    finally:
        conn.close()
    owned = [t for svc in TRUTH["services"].values() for t in svc["tables"]]
    assert sorted(t for t in set(owned) if owned.count(t) > 1) == []
    assert set(owned) == real
    assert len(real) == 24


def test_every_service_owns_code_that_touches_its_tables():
    """Sanity check of the truth itself: a table's owner has members whose source
    mentions the table name (so ownership is not arbitrary)."""
    members = {m: owner for owner, m in _members()}
    sources = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        module = _module_id(path)
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                sources[f"{module}.{node.name}"] = ast.get_source_segment(text, node)
    for name, service in TRUTH["services"].items():
        code = " ".join(text for atom, text in sources.items()
                        if _owner(atom, members)[1] == name)
        for table in service["tables"]:
            assert table in code, f"no {name} code mentions table {table}"


def test_schema_file_is_plain_sql():
    """The schema is applied with executescript and must parse on its own."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript((PACKAGE_DIR / "schema.sql").read_text(encoding="utf-8"))
    finally:
        conn.close()
