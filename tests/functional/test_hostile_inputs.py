"""Hostile and broken inputs, each a real file: damaged cache entries are discarded and rebuilt;
a damaged graph, proposal or config is exit 2 with one sentence naming the file (never a
traceback: the `cli` fixture lets any exception through); names from the analysed code or a
proposal never lead a file out of the chosen folder; symlinks out of the analysed tree are not
followed and symlink loops end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from decomposer import pipeline
from decomposer.cache import DiskCache
from decomposer.errors import InputError
from decomposer.model.graph_json import graph_to_dict
from decomposer.plugins import STRATEGIES, PluginSpec, Registry, default_registry
from strategies.structural import StructuralStrategy

#: Enough modules that the process pool (not only the isolated worker) parses them.
TREE = {
    "shop/__init__.py": "",
    "shop/models.py": "class Order:\n    def total(self):\n        return 1\n",
    **{
        f"shop/m{i}.py": f"from shop.models import Order\n\n\ndef f{i}():\n    return Order().total()\n"
        for i in range(20)
    },
}


def one_line(output: str) -> str:
    return " ".join(output.split())


def assert_one_error_naming(result: Any, path: Path) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("error:") == 1, result.output
    assert str(path) in one_line(result.output), result.output
    assert "Traceback" not in result.output


# -- cache entries ------------------------------------------------------------------------------


def _truncate(entry: Path) -> None:
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])


def _plausible_but_changed(entry: Path) -> None:
    """Still valid JSON of the right shape, the old digest kept: only the digest tells."""
    envelope = json.loads(entry.read_text())
    envelope["value"]["loc"] = envelope["value"].get("loc", 0) + 7
    entry.write_text(json.dumps(envelope))


def _wrong_type(entry: Path) -> None:
    entry.write_text("[1, 2, 3]")


def _bare_value(entry: Path) -> None:
    """The value without its envelope: right JSON, wrong kind of entry."""
    entry.write_text(json.dumps(json.loads(entry.read_text())["value"]))


@pytest.mark.parametrize("damage", [_truncate, _plausible_but_changed, _wrong_type, _bare_value])
def test_damaged_cache_entries_are_discarded_and_rebuilt(
    tree, cli, tmp_path, damage: Callable[[Path], None]
) -> None:
    root = tree(TREE)
    out = tmp_path / "graph.json"
    assert cli("analyze", root, "-o", out, "--no-history").exit_code == 0
    expected = out.read_bytes()
    cache = root / ".decomposer" / "cache"
    entries = [p for p in cache.rglob("*.json") if p.parent != cache]
    assert len(entries) == 2 * len(TREE)  # each file's facts, each module's resolved part
    for entry in entries + [cache / pipeline.LAST_RUN_GRAPH]:
        damage(entry)
    result = cli("analyze", root, "-o", out, "--no-history", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["reused_last_run"] is False
    assert summary["cache"] == {"hits": 0, "misses": len(TREE)}  # the facts are counted
    assert summary["analyzers"]["static"]["modules_resolved"] == len(TREE)
    assert out.read_bytes() == expected
    rebuilt = DiskCache(cache)
    assert all(rebuilt.get(entry.stem) is not None for entry in entries)
    assert rebuilt.get_text(pipeline.LAST_RUN_GRAPH) == expected.decode()


def test_a_cut_short_last_graph_is_not_reused(tree, cli, tmp_path) -> None:
    root = tree(TREE)
    out = tmp_path / "graph.json"
    assert cli("analyze", root, "-o", out, "--no-history").exit_code == 0
    expected = out.read_bytes()
    _truncate(root / ".decomposer" / "cache" / pipeline.LAST_RUN_GRAPH)
    summary = json.loads(
        cli("analyze", root, "-o", out, "--no-history", "--format", "json").output
    )
    assert summary["reused_last_run"] is False
    assert summary["cache"]["hits"] == len(TREE)  # the per-file entries are still good
    assert out.read_bytes() == expected


# -- graph.json and proposal.json ---------------------------------------------------------------


@pytest.fixture(scope="module")
def travel(analysed, tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """The travel sample's graph file and a structural proposal of it (6 services)."""
    folder = tmp_path_factory.mktemp("travel")
    graph = folder / "graph.json"
    graph.write_text(json.dumps(graph_to_dict(analysed["travel"], {})))
    request = pipeline.DecomposeRequest(graph, "structural", 6, out=folder / "proposal.json")
    pipeline.decompose(request, registry=default_registry())
    return graph, json.loads((folder / "proposal.json").read_text())


GRAPH_DAMAGE = {
    "truncated": lambda text: text[: len(text) // 2],
    "binary": lambda text: "\x00\x7f garbage \x01",
    "a list": lambda text: "[1, 2]",
    "nodes not a list": lambda text: json.dumps({"schema": 2, "nodes": 5, "edges": []}),
    "an unknown node kind": lambda text: text.replace('"kind": "class"', '"kind": "planet"', 1),
    "an edge without a target": lambda text: text.replace('"target": ', '"to": ', 1),
    "another schema": lambda text: text.replace('"schema": 2', '"schema": 99', 1),
}


@pytest.mark.parametrize("damage", GRAPH_DAMAGE.values(), ids=GRAPH_DAMAGE.keys())
def test_a_damaged_graph_is_exit_2_naming_it(cli, travel, tmp_path, damage) -> None:
    graph, proposal = travel
    bad = tmp_path / "damaged-graph.json"
    bad.write_text(damage(graph.read_text()))
    good_proposal = tmp_path / "proposal.json"
    good_proposal.write_text(json.dumps(proposal))
    out = tmp_path / "out"
    for args in (
        ("decompose", bad, "-s", "structural", "-o", out / "p.json"),
        ("compare", bad, "--strategies", "structural"),
        ("evaluate", bad, good_proposal),
        ("report", bad, good_proposal, "-o", out),
    ):
        assert_one_error_naming(cli(*args), bad)
    assert not out.exists()


def _a_service_named_shared(proposal: dict[str, Any]) -> str:
    first = min(proposal["services"])
    proposal["services"]["shared"] = proposal["services"].pop(first)
    return json.dumps(proposal)


PROPOSAL_DAMAGE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "truncated": lambda p: json.dumps(p)[:500],
    "a list": lambda p: "[]",
    "members not a list": lambda p: json.dumps(
        {**p, "services": {name: {"members": 3} for name in p["services"]}}
    ),
    "a service named shared": _a_service_named_shared,
    "an unknown member": lambda p: json.dumps(
        {**p, "shared": {"members": ["no.such.module.Thing"]}}
    ),
    "constraints of the wrong type": lambda p: json.dumps({**p, "constraints": {"pins": [1]}}),
}


@pytest.mark.parametrize("damage", PROPOSAL_DAMAGE.values(), ids=PROPOSAL_DAMAGE.keys())
def test_a_damaged_proposal_is_exit_2_naming_it(cli, travel, tmp_path, damage) -> None:
    graph, proposal = travel
    bad = tmp_path / "damaged-proposal.json"
    bad.write_text(damage(json.loads(json.dumps(proposal))))
    out = tmp_path / "out"
    for args in (
        ("evaluate", graph, bad),
        ("report", graph, bad, "-o", out),
    ):
        assert_one_error_naming(cli(*args), bad)
    assert not out.exists()


# -- configuration ------------------------------------------------------------------------------

CONFIG_DAMAGE = {
    "bad TOML": b"[tool.decomposer\njobs = 2\n",
    "not UTF-8": b"\xff\xfe[tool.decomposer]\n",
    "tool not a table": b"tool = 1\n",
    "decomposer not a table": b"[tool]\ndecomposer = 3\n",
    "a wrong type": b'[tool.decomposer]\njobs = "two"\n',
    "a list of the wrong items": b"[tool.decomposer]\nexclude = [1, 2]\n",
    "strategies not tables": b"[tool.decomposer]\nstrategies = 5\n",
    "constraints not a table": b"[tool.decomposer]\nconstraints = 1\n",
}


@pytest.mark.parametrize("text", CONFIG_DAMAGE.values(), ids=CONFIG_DAMAGE.keys())
def test_a_damaged_config_is_exit_2_naming_it(tree, cli, travel, tmp_path, text) -> None:
    root = tree(TREE)
    config = root / "pyproject.toml"
    config.write_bytes(text)
    graph, _ = travel
    analyzed = cli("analyze", root, "-o", tmp_path / "g.json", "--no-history")
    decomposed = cli("decompose", graph, "--config", config, "-o", tmp_path / "p.json")
    checked = [r for r in (analyzed, decomposed) if r.exit_code != 0]
    assert checked, "at least one command reads this part of the file"
    for result in checked:
        assert_one_error_naming(result, config)
    assert (tmp_path / "p.json").exists() == (decomposed.exit_code == 0)


# -- output paths -------------------------------------------------------------------------------

ESCAPING_NAMES = ("../../escaped", "/tmp/absolute-escape", "..", "a/b", "C:\\x", ".")


def test_service_names_never_lead_a_report_out_of_its_folder(cli, travel, tmp_path) -> None:
    graph, proposal = travel
    edited = json.loads(json.dumps(proposal))
    names = sorted(edited["services"])
    for old, new in zip(names, ESCAPING_NAMES, strict=False):
        edited["services"][new] = edited["services"].pop(old)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    out = tmp_path / "deep" / "report"
    before = set(tmp_path.rglob("*"))
    result = cli("report", graph, path, "-o", out)
    assert result.exit_code == 0, result.output
    written = set(tmp_path.rglob("*")) - before
    assert all(p in (out, out.parent) or out in p.parents for p in written), sorted(written)
    diagrams = sorted(p.name for p in out.glob("service-*.dot"))
    assert len(diagrams) == len(names) == len(ESCAPING_NAMES), diagrams  # none overwritten
    report = json.loads((out / "report.json").read_text())
    assert set(report["proposals"][0]["services"]) == set(ESCAPING_NAMES)


class EscapingStrategy(StructuralStrategy):
    """A (third-party) strategy whose name is a path out of the output folder."""

    name: ClassVar[str] = "../escaped"


def test_a_strategy_name_never_leads_a_proposal_out_of_its_folder(travel, tmp_path) -> None:
    graph, _ = travel
    spec = PluginSpec(STRATEGIES, "../escaped", f"{__name__}:EscapingStrategy", "acme")
    out = tmp_path / "proposals"
    base = pipeline.DecomposeRequest(graph, "", 3)
    request = pipeline.CompareRequest(base, ("../escaped",), None, out)
    with pytest.raises(InputError, match="cannot be the name of a file"):
        pipeline.compare(request, registry=Registry([spec]))
    assert not (tmp_path / "escaped.json").exists()
    assert not list(tmp_path.rglob("*.json"))


# -- symlinks -----------------------------------------------------------------------------------


def test_symlinks_out_of_the_tree_are_not_followed(tree, cli, tmp_path) -> None:
    root = tree({"pkg/__init__.py": "", "pkg/a.py": "def a():\n    return 1\n"})
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "__init__.py").write_text("def leaked_package(): pass\n")
    (outside / "module.py").write_text("def leaked_module(): pass\n")
    os.symlink(outside / "secret", root / "pkg" / "secret")  # absolute, to a folder
    os.symlink(Path("..", "..", "outside", "module.py"), root / "pkg" / "module.py")  # relative
    os.symlink(Path("a.py"), root / "pkg" / "alias.py")  # inside the tree: followed
    out = tmp_path / "graph.json"
    result = cli("analyze", root, "-o", out, "--no-history")
    assert result.exit_code == 0, result.output
    graph = json.loads(out.read_text())
    ids = {n["id"] for n in graph["nodes"]}
    assert "pkg.alias.a" in ids and "pkg.a.a" in ids
    assert not any("leaked" in i or i.startswith(("pkg.secret", "pkg.module")) for i in ids)
    diagnostics = {(d["file"], d["code"]) for d in graph["diagnostics"]}
    assert diagnostics == {
        ("pkg/secret", "symlink-outside"),
        ("pkg/module.py", "symlink-outside"),
    }


def test_a_src_folder_linked_out_of_the_tree_is_not_walked(tree, cli, tmp_path) -> None:
    root = tree({"README": "a src layout whose src lives elsewhere\n"})
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "lib").mkdir(parents=True)
    (elsewhere / "lib" / "__init__.py").write_text("def leaked(): pass\n")
    os.symlink(elsewhere, root / "src")
    out = tmp_path / "graph.json"
    assert cli("analyze", root, "-o", out, "--no-history").exit_code == 0
    graph = json.loads(out.read_text())
    assert graph["nodes"] == []
    assert [(d["file"], d["code"]) for d in graph["diagnostics"]] == [("src", "symlink-outside")]


def test_symlink_loops_end(tree, tmp_path) -> None:
    root = tree({"a/__init__.py": "", "a/x.py": "X = 1\n", "b/__init__.py": ""})
    os.symlink(Path("..", "b"), root / "a" / "to_b")  # a -> b -> a -> ...
    os.symlink(Path("..", "a"), root / "b" / "to_a")
    os.symlink("self.py", root / "a" / "self.py")  # a file linked to itself
    os.symlink("ping.py", root / "a" / "pong.py")  # two files linked to each other
    os.symlink("pong.py", root / "a" / "ping.py")
    out = tmp_path / "graph.json"
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "analyze", str(root), "-o", str(out), "--no-history"],
        capture_output=True,
        text=True,
        timeout=300,  # a loop followed for ever would hang here, not pass
        check=False,
    )
    assert done.returncode == 0, done.stderr
    graph = json.loads(out.read_text())
    modules = sorted(n["id"] for n in graph["nodes"] if n["kind"] == "module")
    assert "a.x" in modules and not any("self" in m or "ping" in m for m in modules)
    assert {d["code"] for d in graph["diagnostics"]} == {"symlink-loop"}
