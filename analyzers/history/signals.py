"""What the history says about the code in the graph: which units change together, and who
changes them. Fed one commit at a time (newest first), so memory grows with the number of
units and authors, never with the number of commits.

Two granularities, each counted on its own:

- files: every module whose file a commit changed. Pairs of modules give `co_changes` edges
  tagged `files`; they are exact (a file changed or not) and serve every level.
- hunks: the top-level definition (class or function) each changed line range falls in,
  matched against the definition's lines in today's file, and the module itself for lines
  outside every definition (imports, constants). Pairs with at least one definition give
  `co_changes` edges tagged `hunks`, for the class and function levels. Old line numbers
  are matched against today's definitions, so this is an approximation that is best for
  recent history (docs/history.md).

A pair becomes an edge when it changed together in at least MIN_SHARED_COMMITS commits and
its degree of coupling, shared / mean(commits of each), is at least MIN_DEGREE: units that
change in every commit (a settings file, a registry) do not get tied to everything.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations

from analyzers.history.git import Commit
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, NodeKind

#: A commit touching more Python files than this (under the analysed folder) is a sweep:
#: formatting, a mass rename, vendoring. It ties nothing together and makes no one an author.
MAX_FILES_PER_COMMIT = 30
#: A commit whose hunks fall in more units than this adds no hunk-level pairs (its files
#: still count): it creates or reshapes whole modules rather than changing a few things.
MAX_UNITS_PER_COMMIT = 60
#: A pair of units must have changed together at least this often ...
MIN_SHARED_COMMITS = 3
#: ... and shared / mean(commits of each) must reach this (code-maat's "degree", 30 %).
MIN_DEGREE = 0.3
#: Recency weighting of authorship: a commit counts 0.5 ** (age / half-life), the age taken
#: from the newest commit read, so the same history always gives the same weights.
HALF_LIFE_DAYS = 365.0

#: Authors whose commits are left out (matched, case-insensitively, against the name and the
#: email after .mailmap). `bots` in [tool.decomposer] adds patterns.
DEFAULT_BOTS = (
    "*[bot]",
    "*[bot]@*",
    "*-bot",
    "*-bot@*",
    "bot@*",
    "dependabot*",
    "renovate*",
    "greenkeeper*",
    "github-actions*",
    "pre-commit-ci*",
    "weblate*",
)

FILES = "files"
HUNKS = "hunks"


@dataclass(frozen=True)
class Definition:
    first: int
    last: int
    unit: int


@dataclass
class Units:
    """The units history can be charged to: modules (by file) and their top-level
    definitions (by line range), numbered."""

    ids: list[str] = field(default_factory=list)
    by_file: dict[str, int] = field(default_factory=dict)
    #: module unit -> its top-level definitions in line order
    definitions: dict[int, list[Definition]] = field(default_factory=dict)
    starts: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, graph: DependencyGraph) -> Units:
        units = cls()
        number: dict[str, int] = {}
        for node in sorted(graph.nodes(NodeKind.MODULE), key=lambda n: n.id):
            if node.file and node.file not in units.by_file:
                number[node.id] = units.by_file[node.file] = units._add(node.id)
        for module_id, module in number.items():
            found = []
            for child in graph.children(module_id):
                node = graph.node(child)
                if node.kind in (NodeKind.CLASS, NodeKind.FUNCTION) and node.line is not None:
                    last = node.end_line if node.end_line is not None else node.line
                    found.append(Definition(node.line, last, units._add(child)))
            found.sort(key=lambda d: d.first)
            units.definitions[module] = found
            units.starts[module] = [d.first for d in found]
        return units

    def _add(self, node_id: str) -> int:
        self.ids.append(node_id)
        return len(self.ids) - 1

    def is_module(self, unit: int) -> bool:
        return unit in self.definitions

    def hit(self, module: int, first: int, last: int, into: set[int]) -> None:
        """Add the units lines first..last of the module's file fall in."""
        definitions = self.definitions[module]
        end = bisect_right(self.starts[module], last)
        # definitions do not overlap, so those reaching `first` are the last ones before `end`
        begin = end
        while begin > 0 and definitions[begin - 1].last >= first:
            begin -= 1
        position = first
        for definition in definitions[begin:end]:
            if definition.first > position:
                into.add(module)  # lines between definitions: the module's own code
            into.add(definition.unit)
            position = definition.last + 1
        if position <= last:
            into.add(module)


@dataclass
class Figures:
    commits: int = 0
    used: int = 0
    merges: int = 0
    bots: int = 0
    sweeps: int = 0
    renames: int = 0
    first_time: int = 0
    last_time: int = 0


class History:
    """Counts co-changes and authorship, commit by commit, newest first."""

    def __init__(
        self,
        units: Units,
        *,
        max_files: int = MAX_FILES_PER_COMMIT,
        bots: Sequence[str] = (),
        half_life_days: float = HALF_LIFE_DAYS,
    ) -> None:
        self.units = units
        self.max_files = max_files
        self._bot = bot_matcher([*DEFAULT_BOTS, *bots])
        self._half_life = half_life_days * 86400.0
        self.figures = Figures()
        #: old path -> the path it has today (renames seen so far, newest first)
        self._renamed: dict[str, str] = {}
        n = len(units.ids)
        self._n = n
        self._support: dict[str, defaultdict[int, int]] = {
            FILES: defaultdict(int),
            HUNKS: defaultdict(int),
        }
        self._pairs: dict[str, defaultdict[int, int]] = {
            FILES: defaultdict(int),
            HUNKS: defaultdict(int),
        }
        self._authors: dict[str, int] = {}
        self._authorship: defaultdict[int, defaultdict[int, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self._commits_of: defaultdict[int, int] = defaultdict(int)
        self._newest: int | None = None

    def add(self, commit: Commit) -> None:
        figures = self.figures
        figures.commits += 1
        if self._newest is None:
            self._newest = figures.first_time = figures.last_time = commit.time
        figures.first_time = min(figures.first_time, commit.time)
        figures.last_time = max(figures.last_time, commit.time)
        # renames are followed whatever else happens to the commit: a mass rename is a sweep,
        # but the files it moved keep their older history
        modules: set[int] = set()
        hunks: list[tuple[int, list[tuple[int, int]]]] = []
        for change in commit.files:
            today = self._renamed.get(change.path, change.path)
            if change.old_path is not None and change.old_path != change.path:
                self._renamed[change.old_path] = today
                figures.renames += 1
            module = self.units.by_file.get(today)
            if module is not None and not change.deleted:
                modules.add(module)
                if change.hunks:
                    hunks.append((module, change.hunks))
        if commit.parents > 1:
            # the commits a merge brings in are read one by one; its own diff (a conflict
            # resolution) is not shown by git log -p, and its author merged, not wrote
            figures.merges += 1
            return
        if self._bot(commit.author) or self._bot(commit.email):
            figures.bots += 1
            return
        if len(commit.files) > self.max_files:
            figures.sweeps += 1
            return
        figures.used += 1
        changed: set[int] = set()
        for module, ranges in hunks:
            for first, last in ranges:
                self.units.hit(module, first, last, changed)
        self._count(FILES, modules)
        if len(changed) <= MAX_UNITS_PER_COMMIT:
            self._count(HUNKS, changed)
        author = self._authors.setdefault(commit.author, len(self._authors))
        weight = 0.5 ** (max(0, self._newest - commit.time) / self._half_life)
        for unit in modules | changed:
            self._authorship[unit][author] += weight
            self._commits_of[unit] += 1

    def _count(self, level: str, changed: set[int]) -> None:
        support, pairs, n = self._support[level], self._pairs[level], self._n
        ordered = sorted(changed)
        for unit in ordered:
            support[unit] += 1
        is_module = self.units.is_module
        for a, b in combinations(ordered, 2):
            if level == HUNKS and is_module(a) and is_module(b):
                continue  # module pairs are counted from whole files
            pairs[a * n + b] += 1

    # -- results --------------------------------------------------------------------------

    def edges(self) -> list[Edge]:
        """`co_changes` edges of the pairs that pass both thresholds, `static_count` = the
        commits they changed together in, tagged with the granularity they were seen at."""
        found = []
        ids, n = self.units.ids, self._n
        for level in (FILES, HUNKS):
            support = self._support[level]
            for key, shared in self._pairs[level].items():
                if shared < MIN_SHARED_COMMITS:
                    continue
                a, b = divmod(key, n)
                if shared / ((support[a] + support[b]) / 2) < MIN_DEGREE:
                    continue
                source, target = sorted((ids[a], ids[b]))  # undirected: stored once
                found.append(
                    Edge(source, target, EdgeKind.CO_CHANGES, shared, tags=frozenset({level}))
                )
        return sorted(found, key=lambda e: (e.source, e.target))

    def authorship(self) -> dict[str, dict[str, float]]:
        """unit id -> author -> recency-weighted commits, heaviest first (then by name)."""
        names = sorted(self._authors, key=self._authors.__getitem__)
        result = {}
        for unit, weights in self._authorship.items():
            ranked = sorted(weights.items(), key=lambda item: (-item[1], names[item[0]]))
            result[self.units.ids[unit]] = {
                names[author]: max(round(weight, 3), 0.001) for author, weight in ranked
            }
        return result

    def commits_of(self) -> dict[str, int]:
        """unit id -> how many commits (merges, bots and sweeps left out) changed it."""
        return {self.units.ids[unit]: count for unit, count in self._commits_of.items()}

    def authors(self) -> list[str]:
        return sorted(self._authors)


def bot_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A test for a name or email matching any of the patterns, whole and ignoring case:
    `*` is any text, `?` one character, everything else itself (`[bot]` is literal)."""
    expressions = [
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p.lower())
        for p in patterns
    ]
    if not expressions:
        return lambda text: False
    compiled = re.compile("|".join(f"(?:{e})" for e in expressions))
    known: dict[str, bool] = {}

    def is_bot(text: str) -> bool:
        if text not in known:
            known[text] = compiled.fullmatch(text.lower()) is not None
        return known[text]

    return is_bot


def apply(graph: DependencyGraph, history: History) -> int:
    """Add the edges and the authorship attributes to the graph; the number of edges."""
    edges = history.edges()
    for edge in edges:
        graph.add_edge(edge)
    commits = history.commits_of()
    for unit, authors in history.authorship().items():
        node = graph.node(unit)
        attrs = {**node.attrs, "authors": authors, "commits": commits[unit]}
        graph.replace_node(replace(node, attrs=attrs))
    return len(edges)
