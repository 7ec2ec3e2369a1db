"""
Checks of ``expected_decomposition.json`` against the code and the database.

The truth file must name only things that exist, list nothing twice, cover
every module, top-level class and module-level function (longest dotted prefix
rule, migrations excluded), and give every table of the ``core`` app to
exactly one service, the one that also owns the model mapped to it.
"""

import ast
import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

SAMPLE_ROOT = Path(__file__).resolve().parents[1]
TRUTH = json.loads((SAMPLE_ROOT / "expected_decomposition.json").read_text(encoding="utf-8"))
SOURCE_ROOTS = ["clinic", "core"]


def _all_members():
    """``(member, owner)`` for every member, owner being a service name or ``"shared"``."""
    for name, service in TRUTH["services"].items():
        for member in service["members"]:
            yield member, name
    for member in TRUTH["shared"]["members"]:
        yield member, "shared"


MEMBERS = list(_all_members())
OWNER = dict(MEMBERS)


def owner_of(atom):
    """The owner of ``atom`` under the longest-dotted-prefix rule, or None."""
    best = None
    for member in OWNER:
        if atom == member or atom.startswith(member + "."):
            if best is None or len(member) > len(best):
                best = member
    return OWNER[best] if best is not None else None


def _module_name(path):
    parts = list(path.relative_to(SAMPLE_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files():
    files = [SAMPLE_ROOT / "manage.py"]
    for root in SOURCE_ROOTS:
        files.extend(
            path for path in sorted((SAMPLE_ROOT / root).rglob("*.py")) if "migrations" not in path.parts
        )
    return files


def _atoms():
    """Every module, top-level class and module-level function id of the sample."""
    atoms = []
    for path in _source_files():
        module = _module_name(path)
        atoms.append(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                atoms.append(f"{module}.{node.name}")
    return atoms


def _resolve(dotted):
    """Import the longest importable module prefix of ``dotted`` and getattr the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        module_file = Path(getattr(obj, "__file__", "") or "")
        assert SAMPLE_ROOT in module_file.parents, f"{dotted}: imported {obj!r} from outside the sample"
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


def test_schema_and_shape():
    assert TRUTH["schema"] == 1
    assert TRUTH["monolith"] == "clinic"
    assert set(TRUTH["services"]) == {"patients", "scheduling", "pharmacy", "lab", "billing", "notifications"}
    for name, service in TRUTH["services"].items():
        assert service["description"], name
        assert service["members"], name
        assert isinstance(service["tables"], list), name
    assert "tables" not in TRUTH["shared"]


def test_no_member_listed_twice():
    seen = {}
    for member, owner in MEMBERS:
        assert member not in seen, f"{member} is listed under {seen[member]} and {owner}"
        seen[member] = owner


@pytest.mark.parametrize("member", [member for member, _ in MEMBERS])
def test_member_exists(member):
    assert _resolve(member) is not None


def test_every_atom_is_covered():
    atoms = _atoms()
    assert len(atoms) > 300
    uncovered = [atom for atom in atoms if owner_of(atom) is None]
    assert uncovered == []


def _longest_member(atom):
    matches = [m for m in OWNER if atom == m or atom.startswith(m + ".")]
    return max(matches, key=len) if matches else None


def test_no_atom_falls_through_to_a_top_level_package():
    """
    ``core`` and ``clinic`` must be members (their ``__init__`` modules are atoms),
    which makes them prefixes of everything. Coverage only means something if no
    other atom is decided by those two entries alone.
    """
    fall_through = [
        atom
        for atom in _atoms()
        if _longest_member(atom) in SOURCE_ROOTS and atom not in SOURCE_ROOTS
    ]
    assert fall_through == []


def test_mixed_modules_assign_every_class_and_function_explicitly():
    """
    A module listed in ``shared`` only as a container of several services' code
    (models, services, views, ...) must not swallow a forgotten function: each
    of its classes and functions is listed itself, in a service or in shared.
    """
    containers = {
        member
        for member, owner in MEMBERS
        if owner == "shared" and any(m.startswith(member + ".") and o != "shared" for m, o in MEMBERS)
    }
    assert {"core.models", "core.services", "core.views", "core.api"} <= containers
    swallowed = [atom for atom in _atoms() if _longest_member(atom) in containers and atom not in containers]
    assert swallowed == []


def test_every_member_is_an_atom_or_a_package():
    """Members name modules, classes and functions the static analyser will see."""
    atoms = set(_atoms())
    stray = [member for member, _ in MEMBERS if member not in atoms and member != "core.migrations"]
    assert stray == []


def _core_tables():
    """``{table: model}`` for every concrete model of the core app, auto M2M tables included."""
    tables = {}
    for model in apps.get_app_config("core").get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        tables[model._meta.db_table] = model
    return tables


def test_tables_are_the_real_tables_each_owned_once():
    listed = [table for service in TRUTH["services"].values() for table in service["tables"]]
    assert len(listed) == len(set(listed)), "a table is owned by two services"
    real = _core_tables()
    assert set(listed) == set(real)
    with connection.cursor():
        in_database = set(connection.introspection.table_names())
    assert set(listed) <= in_database
    assert set(listed) <= set(connection.introspection.django_table_names(include_views=False))


def test_table_owner_is_the_owner_of_its_model():
    table_owner = {table: name for name, service in TRUTH["services"].items() for table in service["tables"]}
    for table, model in _core_tables().items():
        if model._meta.auto_created:
            # an implicit M2M table belongs with the model that declares the field
            model = model._meta.auto_created
        assert owner_of(f"core.models.{model.__name__}") == table_owner[table], table


def test_the_known_tangles_are_really_there():
    """The README's tangles are properties of the code, not just prose."""
    services_src = (SAMPLE_ROOT / "core" / "services.py").read_text(encoding="utf-8")
    inventory_src = (SAMPLE_ROOT / "core" / "inventory.py").read_text(encoding="utf-8")
    reports_src = (SAMPLE_ROOT / "core" / "reports.py").read_text(encoding="utf-8")
    signals_src = (SAMPLE_ROOT / "core" / "signals.py").read_text(encoding="utf-8")
    # pharmacy_stock written by dispensing (god module) and by restocking (inventory)
    assert "StockItem.objects.filter(pk=batch.pk).update(" in services_src
    assert "StockItem.objects.filter(pk=item.pk).update(" in inventory_src
    # the booking saga and the raw SQL report
    assert "with transaction.atomic():" in services_src
    assert "connection.cursor()" in reports_src and "core_laborder" in reports_src
    # invoices written from scheduling, lab (signal) and pharmacy code
    assert 'apps.get_model("core", "Invoice")' in signals_src
