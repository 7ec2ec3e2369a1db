"""Building blocks of the resource and use-case strategies: label growth along the code's
edges, merging the most coupled clusters down to K, shared code (libraries, glue), placing
what has no evidence by containment, and the structural fallback.

Everything works on dict adjacencies (`{node: {other: weight}}`), so memory follows the edges.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping

from decomposer.metrics import COUPLING_WEIGHTS
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from decomposer.model.proposal import Reason
from decomposer.plugins import StrategyInput, StrategyResult
from decomposer.truth import SHARED
from strategies.common import (
    MAX_K,
    MIN_ATOMS_PER_SERVICE,
    MIN_K,
    Adjacency,
    attach_isolated,
    choose_k,
    coupling,
    fit_to_k,
    louvain,
)

#: Above this many clusters, merge_to_k first joins the smallest to its best partner.
GLOBAL_MERGE = 200

#: How much an atom follows the atoms that use it, next to the atoms it uses (1.0): code
#: belongs with what it calls ("code that calls it") more than with whoever calls it.
CALLED_BY_WEIGHT = 0.5


def directed_ties(
    atoms: AtomGraph, called_by: float = CALLED_BY_WEIGHT
) -> dict[str, dict[str, float]]:
    """node -> {neighbour: how strongly the node follows that neighbour's cluster}.

    An edge a -> b (a calls, creates, inherits, refers to or imports b) ties a to b with the
    edge's coupling weight and b to a with `called_by` times it.
    """
    ties: dict[str, dict[str, float]] = defaultdict(dict)
    for edge in atoms.edges:
        weight = COUPLING_WEIGHTS.get(edge.kind, 0.0) * edge.count
        if weight:
            a, b = edge.source, edge.target
            ties[a][b] = ties[a].get(b, 0.0) + weight
            ties[b][a] = ties[b].get(a, 0.0) + called_by * weight
    return dict(ties)


def grow(
    labels: dict[str, str], ties: Adjacency, allowed: Iterable[str] | None = None
) -> dict[str, str]:
    """Label propagation outwards from the labelled nodes, one ring at a time: every
    unlabelled node next to a labelled one takes the label it is most tied to (ties broken
    by the label, never by the node's own id, so renaming modules changes nothing); then
    the next ring. `labels` is extended in place and returned; only `allowed` nodes (all,
    when None) are labelled. Each edge is looked at twice at most: linear.
    """
    can = None if allowed is None else set(allowed)
    # typeshed types Counter values as int; float weights work (python/typeshed#3438)
    pulls: dict[str, Counter[str]] = defaultdict(Counter)

    def feel(decided: Mapping[str, str]) -> set[str]:
        ring = set()
        for node, label in decided.items():
            for other in ties.get(node, {}):
                if other in labels or (can is not None and other not in can):
                    continue
                weight = ties[other].get(node, 0.0) if other in ties else 0.0
                if weight > 0:
                    pulls[other][label] += weight  # type: ignore[assignment]
                    ring.add(other)
        return ring

    ring = feel(dict(labels))
    while ring:
        decided = {}
        for node in ring:
            row = pulls.pop(node)
            decided[node] = max(row, key=lambda c: (round(row[c], 9), c))
        labels.update(decided)
        ring = feel(decided)
    return labels


class Merger:
    """Clusters joined pairwise, with the coupling between them kept up to date (sparse:
    only pairs of clusters joined by some edge are stored)."""

    def __init__(self, clusters: Mapping[str, str], adjacency: Adjacency) -> None:
        self.of = dict(clusters)
        self.size: Counter[str] = Counter(self.of.values())
        # typeshed types Counter values as int; float weights work (python/typeshed#3438)
        self.volume: Counter[str] = Counter()
        self.between: dict[str, Counter[str]] = defaultdict(Counter)
        for a, row in adjacency.items():
            ca = self.of.get(a)
            if ca is None:
                continue
            for b, weight in row.items():
                cb = self.of.get(b)
                if cb is None:
                    continue
                self.volume[ca] += weight  # type: ignore[assignment]
                if cb != ca:
                    self.between[ca][cb] += weight  # type: ignore[assignment]
        self.total = sum(self.volume.values()) / 2 or 1.0
        self.alive = set(self.size)
        self._renamed: dict[str, str] = {}

    def modularity(self) -> float:
        """Newman's modularity of the current clusters."""
        two_m = 2 * self.total
        inside = sum(self.volume[c] - sum(self.between[c].values()) for c in self.alive)
        return inside / two_m - sum((self.volume[c] / two_m) ** 2 for c in self.alive)

    def find(self, label: str) -> str:
        root = label
        while root in self._renamed:
            root = self._renamed[root]
        while label != root:  # path compression keeps later look-ups short
            self._renamed[label], label = root, self._renamed[label]
        return root

    def gain(self, a: str, b: str) -> float:
        """Newman's modularity gain of joining a and b (CNM's greedy criterion)."""
        weight = self.between[a].get(b, 0.0)
        return weight / self.total - self.volume[a] * self.volume[b] / (2 * self.total**2)

    def join(self, a: str, b: str) -> str:
        """Join two clusters; the larger one keeps its label, which is returned."""
        keep, gone = (a, b) if (self.size[a], b) >= (self.size[b], a) else (b, a)
        self.alive.discard(gone)
        self.size[keep] += self.size.pop(gone)
        self.volume[keep] += self.volume.pop(gone, 0.0)  # type: ignore[assignment]
        for other, weight in self.between.pop(gone, Counter()).items():
            self.between[other].pop(gone, None)
            if other != keep:
                self.between[keep][other] += weight
                self.between[other][keep] += weight
        self.between[keep].pop(gone, None)
        self._renamed[gone] = keep
        return keep

    def result(self) -> dict[str, str]:
        return {node: self.find(c) for node, c in self.of.items()}


def merge_to_k(
    clusters: Mapping[str, str],
    adjacency: Adjacency,
    k: int,
    module_of: Callable[[str], str | None] | None = None,
) -> dict[str, str]:
    """`clusters` joined down to `k` clusters (see _merge)."""
    return _merge(clusters, adjacency, k, module_of)[0]


def merge_choosing_k(
    clusters: Mapping[str, str],
    adjacency: Adjacency,
    low: int,
    high: int,
    module_of: Callable[[str], str | None] | None = None,
) -> tuple[dict[str, str], int, float]:
    """Join clusters down to `low` and keep the number of clusters in [low, high] whose
    modularity is highest: (clusters, K, modularity). One pass finds K (each join changes
    modularity by exactly its gain), a second one stops there."""
    _, path = _merge(clusters, adjacency, low, module_of)
    candidates = [(q, -n, n) for n, q in path if low <= n <= high] or [
        (path[-1][1], 0, path[-1][0])
    ]
    q, _, k = max(candidates)
    return _merge(clusters, adjacency, k, module_of)[0], k, q


def _merge(
    clusters: Mapping[str, str],
    adjacency: Adjacency,
    k: int,
    module_of: Callable[[str], str | None] | None = None,
) -> tuple[dict[str, str], list[tuple[int, float]]]:
    """Join clusters, the pair of highest modularity gain first, until `k` remain.

    Modularity gain (the weight between two clusters beyond what their sizes predict)
    joins a small cluster to the one it talks to, and keeps two big ones apart unless they
    are really entangled. A cluster tied to no other carries no evidence, so it goes first:
    to the cluster most of its members' modules went to (`module_of`; a weak hint, used only
    here), else to the largest. A pair's gain changes only when one of the two changes, so
    a heap holding each cluster's best partner, looked at again when that partner changed,
    always yields the best pair.

    Returns the clusters and the path: (number of clusters, modularity) after each join.
    """
    merger = Merger(clusters, adjacency)
    path = [(len(merger.alive), merger.modularity())]

    def join(a: str, b: str) -> str:
        quality = path[-1][1] + merger.gain(a, b)
        keep = merger.join(a, b)
        path.append((len(merger.alive), quality))
        return keep

    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    modules_of: dict[str, set[str]] = defaultdict(set)
    if module_of is not None:
        for node, cluster in merger.of.items():
            module = module_of(node)
            if module is not None:
                by_module[module][cluster] += 1
                modules_of[cluster].add(module)
    loose = sorted(
        (c for c in merger.alive if not merger.between[c]), key=lambda c: (merger.size[c], c)
    )
    for cluster in loose:
        if len(merger.alive) <= k:
            break
        votes: Counter[str] = Counter()
        for module in modules_of[cluster]:
            for other, n in by_module[module].items():
                votes[merger.find(other)] += n
        others = [c for c in merger.alive if c != cluster]
        join(cluster, max(others, key=lambda c: (votes[c], merger.size[c], c)))
    # many small clusters: the smallest joins its best partner first, so that the global
    # search below looks at a few hundred clusters, not thousands (it costs clusters^2)
    sizes = [(merger.size[c], c) for c in merger.alive]
    heapq.heapify(sizes)
    while len(merger.alive) > max(k, GLOBAL_MERGE) and sizes:
        size, a = heapq.heappop(sizes)
        if a not in merger.alive or size != merger.size[a] or not merger.between[a]:
            continue
        m, volume, row = merger.total, merger.volume, merger.between[a]
        scale = volume[a] / (2 * m * m)
        _, b = max((round(w / m - volume[b] * scale, 12), b) for b, w in row.items())
        keep = join(a, b)
        heapq.heappush(sizes, (merger.size[keep], keep))
    # one heap entry per cluster: its best partner, as found when it was last looked at; an
    # entry whose partner changed since is stale, and the cluster is looked at again
    version: Counter[str] = Counter()
    heap: list[tuple[float, str, str, int, int]] = []

    def push(a: str) -> None:
        row = merger.between[a]
        if row:
            # merger.gain(a, b) for every b, inlined: this is the hot loop of the merging
            m, volume = merger.total, merger.volume
            scale = volume[a] / (2 * m * m)
            gain, b = max((round(w / m - volume[b] * scale, 12), b) for b, w in row.items())
            heapq.heappush(heap, (-gain, a, b, version[a], version[b]))

    for cluster in sorted(merger.alive):
        push(cluster)
    while len(merger.alive) > k and heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if a not in merger.alive or va != version[a]:
            continue
        if b not in merger.alive or vb != version[b]:
            push(a)
            continue
        keep = join(a, b)
        version[keep] += 1
        push(keep)
    return merger.result(), path


def k_range(atom_count: int) -> tuple[int, int]:
    """The range an automatic K is searched in (strategies.common's bounds)."""
    return MIN_K, max(MIN_K, min(MAX_K, atom_count // MIN_ATOMS_PER_SERVICE))


def containers(
    clusters: dict[str, str],
    atoms: AtomGraph,
    graph: DependencyGraph,
    majority: float,
    loose: Iterable[str] = (),
) -> dict[str, str]:
    """Place what has no evidence of its own by what contains it or what it contains, and
    return what moved: a `loose` class or function (tied to nothing) goes where its
    module's other atoms went; a module atom (the module's own top-level code) goes with
    its members; a package with no code of its own goes with what is inside it. Each goes
    to the cluster of more than `majority` of those atoms, else it is shared: a module whose
    members are spread over services is a shell of the layered monolith (models.py).

    Containment, never a name, decides: renaming modules changes nothing.
    """
    loose = set(loose)
    children: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges(EdgeKind.CONTAINS):
        children[edge.source].append(edge.target)
    inside: dict[str, list[str]] = defaultdict(list)
    for atom in atoms.atoms:
        if atoms.module_of(atom) != atom:
            inside[atoms.module_of(atom)].append(atom)

    def verdict(voters: Iterable[str]) -> str:
        votes = Counter(clusters.get(a, SHARED) for a in voters)
        if not votes:
            return SHARED
        top, n = max(votes.items(), key=lambda item: (item[1], item[0]))
        return top if n > majority * sum(votes.values()) else SHARED

    moved: dict[str, str] = {}
    for atom in sorted(loose):
        if atoms.nodes[atom].kind != NodeKind.MODULE:
            moved[atom] = verdict(a for a in inside[atoms.module_of(atom)] if a not in loose)
    clusters.update(moved)
    modules = [a for a in atoms.atoms if atoms.nodes[a].kind == NodeKind.MODULE]
    shells = {m: verdict(inside[m]) for m in modules if inside[m]}
    clusters.update(shells)
    moved.update(shells)
    packages = {}
    for package in modules:
        if inside[package]:
            continue
        below, todo = [], list(children[package])
        while todo:
            node = todo.pop()
            if node in atoms.nodes and node != package:
                below.append(node)
            todo.extend(children[node])
        packages[package] = verdict(below)
    clusters.update(packages)
    moved.update(packages)
    return moved


#: Edges along which code depends on data (imports say too little).
_USE_KINDS = (EdgeKind.CALLS, EdgeKind.INSTANTIATES, EdgeKind.REFERENCES, EdgeKind.INHERITS)


def data_free(atoms: AtomGraph, data: set[str]) -> set[str]:
    """Atoms from which no atom of `data` can be reached along calls, instantiations,
    references or inheritance (one backwards walk from the data atoms: linear)."""
    reach = set(data)
    frontier = list(data)
    while frontier:
        for edge in atoms.in_edges(frontier.pop()):
            if edge.kind in _USE_KINDS and edge.source not in reach:
                reach.add(edge.source)
                frontier.append(edge.source)
    return {a for a in atoms.atoms if a not in reach}


def libraries(
    atoms: AtomGraph, labels: Mapping[str, str], free: set[str], share: float
) -> dict[str, str]:
    """atom -> why it is a shared library: data-free code (`free`) used from at least
    `share` of the clusters (and at least 3) — a whole module of such code when the module
    as a whole is used that widely, else the single atom."""
    clusters = set(labels.values())
    needed = max(3, share * len(clusters))
    module_users: dict[str, set[str]] = defaultdict(set)
    atom_users: dict[str, set[str]] = defaultdict(set)
    members: dict[str, list[str]] = defaultdict(list)
    for atom in atoms.atoms:
        members[atoms.module_of(atom)].append(atom)
    for edge in atoms.edges:
        if edge.kind not in _USE_KINDS or edge.target not in free:
            continue
        user = labels.get(edge.source)
        if user is None:
            continue
        atom_users[edge.target].add(user)
        if atoms.module_of(edge.source) != atoms.module_of(edge.target):
            module_users[atoms.module_of(edge.target)].add(user)
    found: dict[str, str] = {}
    for module, inside in sorted(members.items()):
        if len(module_users[module]) >= needed and all(a in free for a in inside):
            text = (
                f"its module touches no data and is used from {len(module_users[module])} "
                f"of {len(clusters)} resources: a library"
            )
            found.update({a: text for a in inside})
    for atom, users in atom_users.items():
        if atom not in found and len(users) >= needed:
            found[atom] = f"touches no data, used from {len(users)} of {len(clusters)} resources"
    return found


def glue(
    atoms: AtomGraph,
    labels: Mapping[str, str],
    shared: Mapping[str, str],
    free: set[str],
    share: float,
) -> dict[str, str]:
    """atom -> why it is shared glue: data-free code that wires together code of at least
    `share` of the clusters (and at least 3), like an app factory registering every
    blueprint; then, repeatedly, data-free code tied to nothing but shared code (the
    settings only the app factory reads)."""
    clusters = set(labels.values())
    needed = max(3, share * len(clusters))
    around: dict[str, set[str]] = defaultdict(set)
    uses: dict[str, set[str]] = defaultdict(set)
    for edge in atoms.edges:
        if edge.kind in _USE_KINDS:
            around[edge.source].add(edge.target)
            around[edge.target].add(edge.source)
        uses[edge.source].add(edge.target)  # an import inside a factory wires too
    modules = set(atoms.modules.values())  # module atoms follow their members instead
    free = free - modules
    found: dict[str, str] = {}
    for atom in sorted(free):
        if atom in shared:
            continue
        wired = {labels[t] for t in uses[atom] if t in labels and t not in shared}
        if len(wired) >= needed:
            found[atom] = f"touches no data and wires together code of {len(wired)} resources"
    # then the closure, counting down each atom's neighbours that are not shared yet
    done = set(shared) | set(found)
    left = {a: len(around[a] - done) for a in free if a not in done and around[a]}
    todo = sorted(a for a, n in left.items() if n == 0)
    while todo:
        atom = todo.pop()
        found[atom] = "touches no data and is tied only to shared code"
        done.add(atom)
        for other in sorted(around[atom]):
            if other in left and other not in done:
                left[other] -= 1
                if left[other] == 0:
                    todo.append(other)
    return found


def structural_fallback(request: StrategyInput, note: str) -> StrategyResult:
    """When a strategy's own evidence is missing altogether: Louvain communities of the
    coupling graph (the structural baseline's answer), with `note` saying why."""
    atoms = request.atoms
    adjacency = coupling(atoms)
    connected = [node for node, row in adjacency.items() if row]
    found = louvain(adjacency, connected, request.seed, 1.0, set(atoms.modules.values()))
    base = {n: c for n, c in found.items() if n in atoms.nodes}
    base = attach_isolated(base, list(atoms.atoms), atoms.module_of)
    if request.k is not None:
        clusters = fit_to_k(base, adjacency, request.k, request.seed)
        k_choice = f"given: {request.k} services; {note}"
    else:
        clusters, k_choice = choose_k(
            lambda k: fit_to_k(base, adjacency, k, request.seed), adjacency, len(atoms)
        )
        k_choice += f"; {note}"
    reason = Reason("fallback", f"{note}: placed by its coupling", 0.0)
    return StrategyResult(
        {a: clusters[a] for a in atoms.atoms}, k_choice, {a: [reason] for a in atoms.atoms}
    )
