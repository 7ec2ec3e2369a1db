"""The history analyzer's parts without git: the log parser, hunks to definitions, bots, and
what the core makes of history (team size reduction, teams, analyzer order)."""

from __future__ import annotations

import pytest

from analyzers.history.git import read_commits
from analyzers.history.signals import Definition, Units, bot_matcher
from decomposer.config import parse_settings
from decomposer.errors import ConfigError
from decomposer.metrics import atom_authors, evaluate, service_authors
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind
from decomposer.plugins import ANALYZERS, default_registry

H = "\x1e{sha}\x1f{parents}\x1f{time}\x1f{name}\x1f{email}\n"

LOG = (
    H.format(sha="c2", parents="p1", time=200, name="Alice", email="a@x")
    + "\n"
    + "diff --git a/shop/a.py b/shop/a.py\n"
    + "index 1..2 100644\n"
    + "--- a/shop/a.py\n"
    + "+++ b/shop/a.py\n"
    + "@@ -3,2 +3,2 @@ def f():\n"
    + "--- a/shop/b.py\n"  # a removed line that reads like a file header
    + "-diff --git a/x b/x\n"
    + "+\x1enot a commit\n"
    + "++++ b/shop/c.py\n"
    + "\\ No newline at end of file\n"
    + "@@ -10 +10 @@\n"
    + "-x\n"
    + "+y\n"
    + "@@ -20,2 +19,0 @@\n"
    + "-gone\n"
    + "-gone too\n"
    + "diff --git a/old name.py b/new name.py\n"
    + "similarity index 90%\n"
    + "rename from old name.py\n"
    + "rename to new name.py\n"
    + "--- a/old name.py\n"
    + "+++ b/new name.py\n"
    + "@@ -1 +1,3 @@\n"
    + "-a\n"
    + "+a\n"
    + "+b\n"
    + "+c\n"
    + 'diff --git "a/tab\\there.py" "b/tab\\there.py"\n'
    + "deleted file mode 100644\n"
    + '--- "a/tab\\there.py"\n'
    + "+++ /dev/null\n"
    + "@@ -1 +0,0 @@\n"
    + "-x\n"
    + 'diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"\n'
    + "new file mode 100644\n"
    + "--- /dev/null\n"
    + '+++ "b/caf\\303\\251.py"\n'
    + "@@ -0,0 +1 @@\n"
    + "+x\n"
    + H.format(sha="m1", parents="p1 p2", time=150, name="Merger", email="m@x")
    + "\n"
    + H.format(sha="c1", parents="", time=100, name="Bob", email="b@x")
    + "\n"
    + "diff --git a/bin.py b/bin.py\n"
    + "new file mode 100644\n"
    + "Binary files /dev/null and b/bin.py differ\n"
)


def test_the_log_parser_reads_hunks_renames_deletions_and_quoted_paths() -> None:
    # bytes, as git writes them: split at newlines only (str.splitlines splits at \x1e too)
    lines = LOG.encode().splitlines(keepends=True)
    first, merge, last = read_commits(lines)
    assert (first.sha, first.parents, first.time, first.author) == ("c2", 1, 200, "Alice")
    a, renamed, deleted, new = first.files
    assert a.path == "shop/a.py" and a.old_path is None
    # 2 removed + 2 added lines skipped by count, the "\" line not counted; a pure deletion
    # is the line after which lines went
    assert a.hunks == [(3, 4), (10, 10), (19, 19)]
    assert (renamed.old_path, renamed.path, renamed.hunks) == (
        "old name.py",
        "new name.py",
        [(1, 3)],
    )
    assert (deleted.path, deleted.deleted) == ("tab\there.py", True)
    assert new.path == "café.py" and new.hunks == [(1, 1)]
    assert (merge.parents, merge.files) == (2, [])
    assert (last.parents, [f.path for f in last.files], last.files[0].hunks) == (0, ["bin.py"], [])


def test_hunks_fall_in_definitions_or_the_module() -> None:
    units = Units(ids=["m", "m.A", "m.B"])
    units.definitions[0] = [Definition(1, 3, 1), Definition(6, 8, 2)]
    units.starts[0] = [1, 6]

    def hit(first: int, last: int) -> set[str]:
        found: set[int] = set()
        units.hit(0, first, last, found)
        return {units.ids[u] for u in found}

    assert hit(2, 2) == {"m.A"}
    assert hit(4, 5) == {"m"}  # between the definitions: module-level code
    assert hit(3, 6) == {"m.A", "m", "m.B"}
    assert hit(6, 8) == {"m.B"}
    assert hit(9, 12) == {"m"}
    assert hit(1, 8) == {"m.A", "m", "m.B"}


def test_bot_patterns_are_literal_but_for_star_and_question_mark() -> None:
    is_bot = bot_matcher(["*[bot]", "*[bot]@*", "ci-?@*"])
    assert is_bot("dependabot[bot]")
    assert is_bot("49699333+dependabot[bot]@users.noreply.github.com")
    assert is_bot("CI-1@example.com")  # case is ignored
    assert not is_bot("bob@example.com")  # "[bot]" is no character class
    assert not is_bot("ci-12@example.com")
    assert not bot_matcher([])("anyone")


def test_history_runs_after_the_static_analyzer() -> None:
    registry = default_registry()
    assert {"static", "history"} <= set(registry.names(ANALYZERS))
    names = [a.name for a in registry.analyzers()]
    assert names.index("static") < names.index("history")  # though "history" sorts first


def _atoms(level: str) -> AtomGraph:
    def code(node_id: str, kind: NodeKind, authors: dict[str, float] | None = None) -> Node:
        return Node(node_id, kind, "m.py", 1, 9, 1, {"authors": authors} if authors else {})

    nodes = [
        code("m", NodeKind.MODULE, {"Mo": 1.0}),
        code("m.C", NodeKind.CLASS, {"Cy": 2.0, "Al": 0.5}),
        code("m.C.f", NodeKind.FUNCTION),
        code("m.g", NodeKind.FUNCTION),
        code("n", NodeKind.MODULE, {"Al": 3.0}),
        code("n.h", NodeKind.FUNCTION, {"Bo": 1.0}),
        code("o", NodeKind.MODULE),  # not committed yet: no history
    ]
    contains = [("m", "m.C"), ("m.C", "m.C.f"), ("m", "m.g"), ("n", "n.h")]
    graph = DependencyGraph.build(nodes, [Edge(a, b, EdgeKind.CONTAINS) for a, b in contains])
    return AtomGraph.from_graph(graph, level)


def test_atoms_without_authors_take_those_of_what_encloses_them() -> None:
    found = atom_authors(_atoms("function"))
    assert found["m.C.f"] == {"Cy": 2.0, "Al": 0.5}  # its class
    assert found["m.g"] == {"Mo": 1.0}  # its module
    assert found["n.h"] == {"Bo": 1.0}


def test_team_size_reduction_per_service_and_overall() -> None:
    atoms = _atoms("class")  # atoms m, m.C, m.g, n, n.h, o
    assignment = {"m": "x", "m.C": "x", "m.g": "x", "n.h": "y", "o": "z"}  # n is shared
    metrics = evaluate(atoms, assignment)
    # the monolith's authors: Mo, Cy, Al, Bo (the shared atom n's Al counts too)
    # x: Mo (m and m.g), Cy, Al = 3 of 4; y: Bo = 1 of 4
    assert metrics.services["x"]["authors"] == 3
    assert metrics.services["x"]["tsr"] == pytest.approx(0.75)
    assert metrics.services["y"]["tsr"] == pytest.approx(0.25)
    # z's code has no history: no team to measure, and no part of the mean
    assert metrics.services["z"]["authors"] is None and metrics.services["z"]["tsr"] is None
    assert metrics.overall["tsr"] == pytest.approx(0.5)
    # x's people, the heaviest first: Cy 2, Mo 1 + 1 (m and m.g), Al 0.5
    assert list(service_authors(atoms, assignment)["x"].items()) == [
        ("Cy", 2.0),
        ("Mo", 2.0),
        ("Al", 0.5),
    ]


def test_no_history_no_team_size_reduction() -> None:
    graph = DependencyGraph.build([Node("m", NodeKind.MODULE, "m.py", 1, 2, 1)])
    metrics = evaluate(AtomGraph.from_graph(graph, "module"), {"m": "x"})
    assert metrics.services["x"]["tsr"] is None and metrics.services["x"]["authors"] is None
    assert metrics.overall["tsr"] is None


def test_history_settings_are_read_and_checked() -> None:
    table = {"history": False, "since": "2 years ago", "max_commits": 500, "bots": ["ci-*"]}
    settings = parse_settings(table, where="[tool.decomposer]")
    assert (settings.history, settings.since, settings.max_commits) == (False, "2 years ago", 500)
    assert settings.bots == ("ci-*",) and settings.max_files_per_commit == 30
    bad = {"history": "no", "max_commits": -1, "max_files_per_commit": 1, "bots": [1]}
    with pytest.raises(ConfigError) as info:
        parse_settings(bad, where="[tool.decomposer]")
    problems = [info.value.message, *info.value.details]
    assert len(problems) == 4
    assert "'history' should be bool, got 'no'" in problems[0]
    assert "'max_files_per_commit' should be 2 or more, got 1" in problems
