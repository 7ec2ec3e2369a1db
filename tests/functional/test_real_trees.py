"""A small real tree nobody here wrote: the running interpreter's `json`, `email` and
`asyncio` packages, analysed by the real CLI (bench/real_trees.py does whole trees)."""

import json
import shutil
import sysconfig
from pathlib import Path

from decomposer.model.graph import EdgeKind, NodeKind
from decomposer.model.graph_json import graph_from_dict

PACKAGES = ("json", "email", "asyncio")


def test_stdlib_packages_are_analysed_without_a_crash(cli, tmp_path) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path / "stdlib"  # a copy: the cache must not go into the Python installation
    for package in PACKAGES:
        shutil.copytree(stdlib / package, root / package, ignore=shutil.ignore_patterns("*.pyc"))
    (root / "pyproject.toml").write_text("[tool.decomposer]\nuse_default_excludes = false\n")
    out = tmp_path / "graph.json"

    result = cli("analyze", root, "-o", out, "--no-history", "--format", "json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    assert summary["analyzers"]["static"]["files"] == len(files)
    assert set(summary["diagnostics"]["by_code"]) <= {"unresolved-import"}
    graph = graph_from_dict(json.loads(out.read_text()))
    modules = {n.file: n.id for n in graph.nodes() if n.kind == NodeKind.MODULE}
    assert sorted(modules) == files  # every file is a module node
    for package in PACKAGES:
        assert modules[f"{package}/__init__.py"] == package
    made = {(e.source, e.target) for e in graph.edges(EdgeKind.INSTANTIATES)}
    assert ("json.dumps", "json.encoder.JSONEncoder") in made
    assert ("email.message_from_string", "email.parser.Parser") in made
    assert ("asyncio.runners.run", "asyncio.runners.Runner") in made
