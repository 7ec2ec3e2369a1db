"""The use-case strategy (Mono2Micro's idea): code that serves the same use cases belongs
together. Every entry point (HTTP route, task, signal, command, traced test) reaches a set
of atoms through the call graph; atoms are clustered by the use cases that reach them.
When the graph holds traced use cases (`entry:usecase:*` nodes, from runtime traces), they
are the use cases, and each reaches exactly the atoms it ran.
docs/strategy-use_case.md describes it step by step.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import TRACED_ENTRY_PREFIX, DependencyGraph, EdgeKind
from decomposer.model.proposal import Reason
from decomposer.plugins import StrategyInput, StrategyResult
from decomposer.truth import SHARED
from strategies._resource_common import (
    containers,
    k_range,
    merge_choosing_k,
    merge_to_k,
    structural_fallback,
)
from strategies.common import coupling, fit_to_k, louvain, number_options

DEFAULTS: dict[str, Any] = {
    # how many calls deep a use case reaches from its handlers (the handler is depth 0)
    "depth": 3,
    # an atom reached by at least this share of the use cases (and by at least 3) is a
    # shared utility, unless it writes a table
    "shared_share": 0.25,
    # each atom is tied to at most this many use cases, its strongest
    "max_use_cases": 20,
    # the code's own ties (calls, tables) next to the use cases' ties, as a share of their
    # total weight
    "code_weight": 2.0,
    # Louvain's resolution on the atom-use-case graph
    "resolution": 1.0,
    # a module atom goes with its members when this share of them agrees, else it is shared
    "module_majority": 0.5,
}

#: Edges a use case travels along: invoking code (a call, or constructing a class).
WALK_KINDS = (EdgeKind.CALLS, EdgeKind.INSTANTIATES)
#: Kinds of entry node that are use cases; "test" entries are traced tests (runtime data).
USE_CASE_KINDS = ("http", "task", "signal", "cli", "test")
#: Ids of use cases a runtime trace recorded (analyzers/runtime): they ran what they handle.
#: Traced segments that are no use case: code that ran outside any (imports, set-up).
NOT_USE_CASES = ("process",)


class UseCaseStrategy:
    name: ClassVar[str] = "use_case"
    summary: ClassVar[str] = (
        "atoms clustered by the use cases (entry points, traced tests) that reach them"
    )

    def decompose(self, request: StrategyInput) -> StrategyResult:
        options = number_options(self.name, request.options, DEFAULTS)
        atoms = request.atoms
        cases = use_cases(atoms, request.graph)
        if not cases:
            note = "no entry points (routes, tasks, signals, commands) found: structural fallback"
            return structural_fallback(request, note)
        traced = any(e.runtime_count > 0 for e in atoms.edges if e.kind in WALK_KINDS)
        segments = any(case.startswith(TRACED_ENTRY_PREFIX) for case in cases)
        depth = int(options["depth"])
        reach = reached(atoms, cases, depth, traced)
        shared = _shared(atoms, reach, len(cases), float(options["shared_share"]))
        if shared and not segments:  # walk again without passing through the utilities
            reach = reached(atoms, cases, depth, traced, stop=set(shared))
        for atom in shared:
            reach.pop(atom, None)
        use = _bipartite(reach, cases, int(options["max_use_cases"]))
        graph = _combined(use, coupling(atoms), shared, options)
        nodes = sorted(n for n, row in graph.items() if row)
        modules = set(atoms.modules.values())
        resolution = float(options["resolution"])
        found = louvain(graph, nodes, request.seed, resolution, modules)
        communities = len({c for n, c in found.items() if n in atoms.nodes})
        # an atom with no edge at all is in no community: nothing ties it to any service
        loose = [a for a in atoms.atoms if a not in shared and a not in found]
        if request.k is not None:
            if communities >= request.k:
                fitted = merge_to_k(found, graph, request.k, atoms.modules.get)
            else:
                fitted = fit_to_k(found, graph, request.k, request.seed)
            k_choice = f"given: {request.k} services ({communities} communities)"
        else:
            fitted, k_choice = _choose(found, graph, request, communities)
        clusters = {a: fitted.get(a, SHARED) for a in atoms.atoms}
        majority = float(options["module_majority"])
        containers(clusters, atoms, request.graph, majority, loose)
        if segments:
            mode = "traced segments"
        else:
            mode = "traced" if traced else f"static, {depth} calls deep"
        k_choice += f"; {len(cases)} use cases ({mode})"
        reasons = _reasons(atoms, clusters, reach, shared, len(cases), fitted)
        return StrategyResult(clusters, k_choice, reasons)


def use_cases(atoms: AtomGraph, graph: DependencyGraph) -> dict[str, tuple[str, ...]]:
    """entry id -> its handler atoms, for the entries that are use cases: the traced
    segments when the graph has some (their handlers are every atom they ran; requests,
    tasks and named use cases before tests), else the entry points static analysis found."""
    found = {}
    traced = {}
    requests = {}  # traced segments other than tests: requests, tasks, named use cases
    for entry, handlers in sorted(atoms.entries.items()):
        kind = graph.node(entry).attrs.get("kind") if entry in graph else None
        if not handlers:
            continue
        if entry.startswith(TRACED_ENTRY_PREFIX):
            if kind not in NOT_USE_CASES:
                traced[entry] = handlers
            if kind not in (*NOT_USE_CASES, "test"):
                requests[entry] = handlers
        elif kind in USE_CASE_KINDS:
            found[entry] = handlers
    # A test's own segment holds little but its fixtures once its requests are segments of
    # their own, so tests are the use cases only when the run had nothing finer.
    return requests or traced or found


def reached(
    atoms: AtomGraph,
    cases: dict[str, tuple[str, ...]],
    depth: int,
    traced: bool,
    stop: set[str] | None = None,
) -> dict[str, dict[str, int]]:
    """atom -> {use case: the fewest calls from the use case's handlers to it}.

    A breadth-first walk per use case along calls and instantiations, at most `depth` edges
    deep; with runtime data (`traced`) only along edges that were seen running. Atoms in
    `stop` are reached but not walked through. A traced segment (`entry:usecase:*`) reaches
    the atoms it ran, no more: its walk starts at those of them no other of them called and
    stays inside them, with no depth limit. Memory: one entry per (atom, use case that
    reaches it), the sparse atom x use-case matrix.
    """
    stop = stop or set()
    out: dict[str, list[str]] = defaultdict(list)
    for edge in atoms.edges:
        if edge.kind in WALK_KINDS and (edge.runtime_count > 0 or not traced):
            out[edge.source].append(edge.target)
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for case, handlers in cases.items():
        if case.startswith(TRACED_ENTRY_PREFIX):
            seen = _ran(handlers, out)
        else:
            seen = {h: 0 for h in handlers}
            frontier = sorted(handlers)
            for level in range(1, depth + 1):
                following = []
                for atom in frontier:
                    if atom in stop:
                        continue
                    for target in out.get(atom, ()):
                        if target not in seen:
                            seen[target] = level
                            following.append(target)
                frontier = following
        for atom, level in seen.items():
            found[atom][case] = level
    return dict(found)


def _ran(members: tuple[str, ...], out: Mapping[str, list[str]]) -> dict[str, int]:
    """atom -> calls from where a traced segment entered the code, for the atoms it ran: a
    walk along traced calls among them from those none of them called. An atom the walk
    misses (called only inside a cycle) counts as one call deep."""
    inside = set(members)
    called = {t for a in members for t in out.get(a, ()) if t in inside and t != a}
    levels = {a: 0 for a in members if a not in called}
    frontier = sorted(levels)
    while frontier:
        following = []
        for atom in frontier:
            for target in out.get(atom, ()):
                if target in inside and target not in levels:
                    levels[target] = levels[atom] + 1
                    following.append(target)
        frontier = following
    return {a: levels.get(a, 1) for a in members}


def _shared(
    atoms: AtomGraph, reach: dict[str, dict[str, int]], cases: int, share: float
) -> dict[str, int]:
    """Atoms reached by most use cases (and writing no table): atom -> use cases."""
    writers = {a.atom for a in atoms.access if a.kind == "writes"}
    needed = max(3, share * cases)
    return {
        atom: len(by) for atom, by in reach.items() if len(by) >= needed and atom not in writers
    }


def _bipartite(
    reach: dict[str, dict[str, int]], cases: dict[str, tuple[str, ...]], keep: int
) -> dict[str, dict[str, float]]:
    """The atom - use case graph: an atom is tied to each use case that reaches it, more
    strongly the closer it is to the handler and the fewer atoms the use case reaches (a
    use case that reaches everything says little about any one atom). Each atom keeps its
    `keep` strongest use cases: the rest add edges, not evidence."""
    size: Counter[str] = Counter()
    for by in reach.values():
        size.update(by.keys())
    graph: dict[str, dict[str, float]] = defaultdict(dict)
    for atom, by in reach.items():
        weights = sorted(
            ((1.0 / (1 + level) / math.log2(1 + size[case]), case) for case, level in by.items()),
            key=lambda item: (-item[0], item[1]),
        )
        for weight, case in weights[:keep]:
            graph[atom]["uc:" + case] = weight
            graph["uc:" + case][atom] = weight
    return dict(graph)


def _combined(
    use: dict[str, dict[str, float]],
    code: dict[str, dict[str, float]],
    shared: Mapping[str, int],
    options: Mapping[str, Any],
) -> dict[str, dict[str, float]]:
    """The use-case graph plus the code's own ties (calls, tables: common.coupling), scaled
    to `code_weight` times the use-case graph's total weight: atoms no use case reaches
    are placed by their code ties, and the code breaks ties between use cases."""
    combined: dict[str, dict[str, float]] = {a: dict(row) for a, row in use.items()}
    kept = {
        a: {b: w for b, w in row.items() if b not in shared}
        for a, row in code.items()
        if a not in shared
    }
    use_total = sum(w for row in use.values() for w in row.values())
    code_total = sum(w for row in kept.values() for w in row.values())
    scale = (
        float(options["code_weight"]) * use_total / code_total if use_total and code_total else 1.0
    )
    for a, row in kept.items():
        target = combined.setdefault(a, {})
        for b, weight in row.items():
            target[b] = target.get(b, 0.0) + scale * weight
    return combined


def _choose(
    labelled: dict[str, str],
    adjacency: dict[str, dict[str, float]],
    request: StrategyInput,
    communities: int,
) -> tuple[dict[str, str], str]:
    """The K of highest modularity (on the use-case graph) while merging the communities."""
    low, high = k_range(len(request.atoms))
    found, k, score = merge_choosing_k(labelled, adjacency, low, high, request.atoms.modules.get)
    return found, (
        f"chosen: {k} services, the highest modularity ({score:.3f}) while merging "
        f"{communities} communities down to {low}"
    )


def _reasons(
    atoms: AtomGraph,
    clusters: dict[str, str],
    reach: dict[str, dict[str, int]],
    shared: dict[str, int],
    cases: int,
    fitted: dict[str, str],
) -> dict[str, list[Reason]]:
    """Name the use cases that reach each atom, those of its own cluster first."""
    found: dict[str, list[Reason]] = {}
    service_of = {n.removeprefix("uc:"): c for n, c in fitted.items() if n.startswith("uc:")}
    for atom in atoms.atoms:
        if atom in shared:
            text = f"reached by {shared[atom]} of {cases} use cases: a shared utility"
            found[atom] = [Reason("use-case", text, shared[atom] / cases)]
            continue
        by = reach.get(atom, {})
        if not by:
            text = "reached by no use case: placed by its code ties"
            found[atom] = [Reason("use-case", text, 0.0)]
            continue
        own = clusters.get(atom)
        ranked = sorted(by, key=lambda c: (service_of.get(c) != own, by[c], c))
        mine = [c for c in ranked if service_of.get(c) == own]
        names = [_short(c) for c in ranked[:4]]
        more = f" and {len(by) - 4} more" if len(by) > 4 else ""
        text = (
            f"reached by {len(by)} use case{'s' if len(by) > 1 else ''}, "
            f"{len(mine)} of them in this service: "
            f"{', '.join(names)}{more}"
        )
        found[atom] = [Reason("use-case", text, len(mine) / len(by), tuple(mine[:5]))]
    return found


def _short(entry: str) -> str:
    return entry.removeprefix("entry:")
