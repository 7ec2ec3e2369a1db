"""A module's resolved part is reused only while nothing it was resolved from has changed:
after any edit, a build that reuses the kept parts gives the graph of a build from scratch."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from analyzers.static import read_sql_files
from analyzers.static.build import build_graph
from analyzers.static.collect import collect_file
from analyzers.static.discovery import DEFAULT_EXCLUDES, discover, find_source_roots
from analyzers.static.runner import file_keys
from decomposer.cache import DiskCache
from decomposer.model.graph import DependencyGraph
from decomposer.model.graph_json import graph_to_dict
from tests.conftest import SAMPLES, write_tree


class Builds:
    """Graphs of one tree as it is edited: each file's facts collected once per content."""

    def __init__(self, root: Path, cache: DiskCache) -> None:
        self.root = root
        self.cache = cache
        self.facts: dict[str, dict[str, Any]] = {}

    def build(self, *, reuse: bool) -> tuple[dict[str, Any], int]:
        """The graph (as graph.json has it) and how many modules were resolved."""
        roots = find_source_roots(self.root)
        found = discover(self.root, roots, DEFAULT_EXCLUDES)
        keyed = file_keys(found.files)
        facts = {}
        for source, key in keyed:
            assert key is not None
            if key not in self.facts:
                data = source.path.read_bytes()
                self.facts[key] = collect_file(data, source.module, source.is_package)
            facts[source.rel] = self.facts[key]
        graph = DependencyGraph()
        for diagnostic in found.diagnostics:
            graph.add_diagnostic(diagnostic)
        sql = read_sql_files(file_keys(found.sql), graph)
        keys = {source.rel: key for source, key in keyed}
        parts = (self.cache, keys) if reuse else None
        resolved = build_graph(graph, facts, found.excluded, sql, parts=parts)
        return graph_to_dict(graph), resolved


def assert_reuse_gives_the_graph_from_scratch(builds: Builds, what: str) -> int:
    warm, resolved = builds.build(reuse=True)
    cold, _ = builds.build(reuse=False)
    assert warm == cold, what
    return resolved


# -- edits of the kind a commit makes, chosen at random -----------------------------------------

_TOP_DEF = re.compile(r"^(?:async def|def|class) (\w+)", re.MULTILINE)
_FROM_IMPORT = re.compile(r"^from ([\w.]+) import (\w+)$", re.MULTILINE)


def random_edit(root: Path, rng: random.Random) -> str:
    files = sorted(p for p in root.rglob("*.py") if "tests" not in p.parts)
    path = rng.choice(files)
    text = path.read_text()
    names = _TOP_DEF.findall(text)
    imports = _FROM_IMPORT.findall(text)
    modules = [_module(root, p) for p in files]
    kind = rng.choice(
        ["rename", "delete", "add call", "shift lines", "star import", "empty __all__", "alias"]
    )
    rel = path.relative_to(root)
    if kind == "rename" and names:
        name = rng.choice(names)
        text = re.sub(rf"\b{name}\b", f"{name}_renamed", text)
    elif kind == "delete" and names:
        name = rng.choice(names)
        block = rf"^(?:async def|def|class) {name}\b.*?(?=^\S|\Z)"
        text = re.sub(block, "", text, count=1, flags=re.MULTILINE | re.DOTALL)
    elif kind == "add call" and imports:
        module, name = rng.choice(imports)
        text += f"\n\ndef added_{rng.randrange(10**6)}():\n    return {name}().save()\n"
    elif kind == "shift lines":
        text = "# moved down\n\n" + text
    elif kind == "star import":
        text += f"\nfrom {rng.choice(modules)} import *\n"
    elif kind == "empty __all__":
        text += "\n__all__ = []\n"
    elif kind == "alias" and imports:
        module, name = rng.choice(imports)
        text += f"\nfrom {module} import {name} as Alias\n\n\ndef uses_alias():\n    Alias()\n"
    else:
        return random_edit(root, rng)
    path.write_text(text)
    return f"{kind} in {rel}"


def _module(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("sample", ["shop", "travel", "clinic"])
def test_after_random_edits_reused_parts_give_the_graph_built_from_scratch(
    sample: str, tmp_path: Path
) -> None:
    root = tmp_path / sample
    shutil.copytree(SAMPLES / sample / sample, root / sample)
    builds = Builds(root, DiskCache(tmp_path / "cache"))
    _, modules = builds.build(reuse=True)  # keeps every part
    rng = random.Random(sample)  # the same edits on every run
    resolved = []
    for _ in range(10):
        what = random_edit(root, rng)
        resolved.append(assert_reuse_gives_the_graph_from_scratch(builds, what))
    assert min(resolved) < modules  # some parts were reused, not every module resolved again


# -- edits whose effect reaches modules that did not change ---------------------------------------

TREE = {
    "app/__init__.py": "",
    "app/widgets.py": """\
        class Widget:
            def run(self):
                return 1


        class Gadget:
            def run(self):
                return 2


        def make() -> Widget:
            return Widget()
        """,
    "app/uses_return.py": """\
        from app.widgets import make


        def go():
            make().run()
        """,
    "app/base.py": """\
        class Base:
            def helper(self):
                return 1
        """,
    "app/child.py": """\
        from app.base import Base


        class Child(Base):
            pass
        """,
    "app/uses_base.py": """\
        from app.child import Child


        def go():
            Child().helper()
        """,
    "app/origin.py": "def thing():\n    return 1\n",
    "app/relay.py": "from app.origin import *\n",
    "app/uses_relay.py": """\
        from app.relay import thing as alias


        def go():
            alias()
        """,
    "app/lonely.py": "def alone():\n    return 1\n",
}

#: (file, old, new, the module whose edges change although its file did not)
REACHING = [
    ("app/widgets.py", "def make() -> Widget:", "def make() -> Gadget:", "app.uses_return"),
    ("app/base.py", "def helper(self):", "def renamed(self):", "app.uses_base"),
    ("app/origin.py", "def thing():", "__all__ = []\n\n\ndef thing():", "app.uses_relay"),
    ("app/origin.py", "__all__ = []", "__all__ = ['thing']", "app.uses_relay"),
]


@pytest.mark.parametrize("file, old, new, reached", REACHING)
def test_an_edit_resolves_again_the_modules_that_read_what_changed(
    tmp_path: Path, file: str, old: str, new: str, reached: str
) -> None:
    root = write_tree(tmp_path / "project", TREE)
    if "['thing']" in new:  # the second edit of origin.py starts from the first
        path = root / file
        path.write_text(path.read_text().replace("def thing():", "__all__ = []\n\n\ndef thing():"))
    builds = Builds(root, DiskCache(tmp_path / "cache"))
    before, _ = builds.build(reuse=True)
    path = root / file
    path.write_text(path.read_text().replace(old, new))
    resolved = assert_reuse_gives_the_graph_from_scratch(builds, f"{file}: {new}")
    after, _ = builds.build(reuse=True)
    assert _edges_from(after, reached) != _edges_from(before, reached)
    assert resolved < len(TREE)  # app.lonely and others were reused


def _edges_from(graph: dict[str, Any], module: str) -> list[Any]:
    return [e for e in graph["edges"] if e["source"].startswith(module + ".")]


#: The relation that gives `customer.orders` is declared in a module views.py never reads.
DJANGO = {
    "shop/__init__.py": "",
    "shop/customers.py": """\
        from django.db import models


        class Customer(models.Model):
            name = models.CharField(max_length=50)
        """,
    "shop/orders.py": """\
        from django.db import models

        from shop.customers import Customer


        class Order(models.Model):
            customer = models.ForeignKey(Customer, related_name="orders", on_delete=models.CASCADE)
        """,
    "shop/views.py": """\
        from shop.customers import Customer


        def place(customer: Customer):
            customer.orders.create()
        """,
    "shop/other.py": "def unrelated():\n    return 1\n",
}


def test_an_edit_to_the_models_resolves_every_module_again(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", DJANGO)
    builds = Builds(root, DiskCache(tmp_path / "cache"))
    before, modules = builds.build(reuse=True)
    models = root / "shop" / "orders.py"
    models.write_text(models.read_text().replace('related_name="orders"', 'related_name="sales"'))
    resolved = assert_reuse_gives_the_graph_from_scratch(builds, "related_name")
    assert resolved == modules, "the models and tables are what every part shares"
    after, _ = builds.build(reuse=True)
    assert _edges_from(after, "shop.views") != _edges_from(before, "shop.views")


def test_a_part_that_read_facts_not_kept_is_not_kept_either(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", TREE)
    cache = DiskCache(tmp_path / "cache")
    found = discover(root, find_source_roots(root), DEFAULT_EXCLUDES)
    keyed = file_keys(found.files)
    facts = {s.rel: collect_file(s.path.read_bytes(), s.module, s.is_package) for s, _ in keyed}
    # widgets.py as if it changed while it was read: its facts are not those of any key
    keys = {s.rel: None if s.rel.endswith("widgets.py") else key for s, key in keyed}
    resolved = build_graph(DependencyGraph(), facts, found.excluded, parts=(cache, keys))
    again = build_graph(DependencyGraph(), facts, found.excluded, parts=(cache, keys))
    assert again < resolved == len(TREE)
    # widgets.py itself, and uses_return.py that reads it, are resolved again every time
    assert again == 2


def test_only_the_modules_resolved_again_have_what_their_code_does_decoded(
    tmp_path: Path,
) -> None:
    root = write_tree(tmp_path / "project", TREE)
    cache = DiskCache(tmp_path / "cache")
    found = discover(root, find_source_roots(root), DEFAULT_EXCLUDES)
    keyed = file_keys(found.files)
    keys = {s.rel: key for s, key in keyed}

    def collected() -> dict[str, dict[str, Any]]:
        return {s.rel: collect_file(s.path.read_bytes(), s.module, s.is_package) for s, _ in keyed}

    first = collected()
    build_graph(DependencyGraph(), first, found.excluded, parts=(cache, keys), entry_points=False)
    assert not any("body" in facts for facts in first.values())  # every module resolved
    # app/widgets.py as if it had changed: it and uses_return.py, which read it, are resolved
    keys["app/widgets.py"] = "0" * 64
    again = collected()
    resolved = build_graph(
        DependencyGraph(), again, found.excluded, parts=(cache, keys), entry_points=False
    )
    decoded = {rel for rel, facts in again.items() if "body" not in facts}
    assert decoded == {"app/widgets.py", "app/uses_return.py"}
    assert resolved == 2


# -- the check's atom graph, made from the parts alone ------------------------------------------


@pytest.mark.parametrize("sample", ["shop", "travel", "clinic"])
def test_the_checks_atom_graph_from_the_parts_checks_as_the_whole_graph_does(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analyzers.static import StaticAnalyzer
    from decomposer.check import RESULT, CheckRequest, check
    from decomposer.plugins import default_registry

    root = tmp_path / sample
    shutil.copytree(SAMPLES / sample, root, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (root / "expected_decomposition.json").rename(root / "boundaries.json")
    (root / "pyproject.toml").write_text(
        '[tool.decomposer]\njobs = 1\n\n[tool.decomposer.check]\nproposal = "boundaries.json"\n'
    )

    def checked(*, whole_graph: bool, **flags: bool) -> dict[str, Any]:
        with monkeypatch.context() as patch:
            if whole_graph:  # as when another analyzer adds to the graph
                patch.delattr(StaticAnalyzer, "crossings")
            # not the last check's result (an edit may touch only files left out, migrations)
            DiskCache(root / ".decomposer" / "cache").put_text(RESULT, "null")
            request = CheckRequest(root, cwd=root, use_cache=not whole_graph, **flags)
            summary = check(request, registry=default_registry()).summary
        assert not summary["reused_last_check"]
        return summary

    compared = ("violations", "suppressed", "improvements", "counts", "metrics", "services")
    recorded = checked(whole_graph=False, update_baseline=True)  # keeps every module's share
    modules = recorded["analysis"]["modules_resolved"]
    rng = random.Random(sample)  # the same edits on every run
    resolved, violations = [], 0
    for step in range(8):
        # a new call across services half-way, beside the random edits
        what = coupling_edit(root) if step == 4 else random_edit(root, rng)
        shares = checked(whole_graph=False)
        whole = checked(whole_graph=True)
        assert {k: shares[k] for k in compared} == {k: whole[k] for k in compared}, what
        resolved.append(shares["analysis"]["modules_resolved"])
        violations += len(shares["violations"])
    assert min(resolved) < modules  # some shares were reused, not every module resolved again
    # what was compared: code that crosses services, and edits the baseline did not have
    assert shares["metrics"]["cross_service_edges"]["current"] > 0 and violations > 0


def coupling_edit(root: Path) -> str:
    """A function added to the module of the first service's first member, and to that
    service, calling the first member of the last service."""
    boundaries = json.loads((root / "boundaries.json").read_text())
    services = boundaries["services"]
    first, last = min(services), max(services)
    source, target = services[first]["members"][0], services[last]["members"][0]
    parts = source.split(".")
    module = next(
        ".".join(parts[:i]) for i in range(len(parts), 0, -1) if _file(root, parts[:i]) is not None
    )
    path = _file(root, module.split("."))
    assert path is not None
    target_module, _, name = target.rpartition(".")
    code = f"\n\ndef added_coupling():\n    from {target_module} import {name}\n\n    return {name}()\n"
    path.write_text(path.read_text() + code)
    services[first]["members"].append(f"{module}.added_coupling")
    (root / "boundaries.json").write_text(json.dumps(boundaries))
    return f"a call of {target} ({last}) added to {module} ({first})"


def _file(root: Path, parts: list[str]) -> Path | None:
    return next(root.rglob("/".join(parts) + ".py"), None)
