"""Placement steps the business-capability and DDD-subdomain strategies share, once some
atoms have evidence of their own for a cluster (their data, or their vocabulary):

- `data_of`: which tables an atom writes, reads or uses through a model class;
- `settle`: atoms with weak or no evidence follow the atoms they call (when they reach data
  through them), then those that call them, then their module; utilities that reach no
  data and serve several clusters, and glue that calls into many clusters without a
  favourite, become "shared"; a module's own top-level code goes where its members went;
- `strongest`, `normalised`, `merge_to_k`, `communities_to_k`: the small weighted graphs
  (entities, terms) the strategies cluster, and their fitting to K.

Everything walks the sparse edge list: no step is quadratic in the number of atoms.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from decomposer.model.proposal import Reason
from decomposer.truth import SHARED

#: How strongly an atom follows a neighbour it calls (weight per edge occurrence). Imports
#: are left out: a module-level import says where code lives, not what it does.
FOLLOW_WEIGHTS = {
    EdgeKind.CALLS: 1.0,
    EdgeKind.INSTANTIATES: 1.0,
    EdgeKind.INHERITS: 1.0,
    EdgeKind.REFERENCES: 0.5,
    EdgeKind.CO_CHANGES: 0.5,
}
#: An atom follows its callers at this fraction of the pull of its callees.
CALLED_BY = 0.5
#: The pull of the module an atom lives in, shared out among the clusters of its other
#: atoms, next to one call (a weak tie-breaker only).
MODULE_PULL = 0.5
#: Code that calls into 3 services or more, none with this share of its calls, is glue.
GLUE_SHARE = 0.4


@dataclass
class DataUse:
    """What one atom does with the data: table -> count, per kind."""

    writes: Counter[str] = field(default_factory=Counter)
    reads: Counter[str] = field(default_factory=Counter)
    #: tables of model classes the atom calls, creates or refers to
    uses: Counter[str] = field(default_factory=Counter)
    #: the table this atom maps (a model class)
    model: str | None = None

    def tables(self) -> set[str]:
        found = set(self.writes) | set(self.reads) | set(self.uses)
        return found | ({self.model} if self.model else set())


def model_tables(atoms: AtomGraph, graph: DependencyGraph) -> dict[str, str]:
    """Model class atom -> the table it maps (only atoms that are the class itself)."""
    found: dict[str, str] = {}
    for node in graph.nodes(NodeKind.CLASS):
        table = node.attrs.get("table")
        if isinstance(table, str) and atoms.atom_of.get(node.id) == node.id:
            found[node.id] = table
    return found


def data_of(atoms: AtomGraph, graph: DependencyGraph) -> dict[str, DataUse]:
    """atom -> its data use, for the atoms that have any."""
    found: dict[str, DataUse] = defaultdict(DataUse)
    for access in atoms.access:
        use = found[access.atom]
        (use.writes if access.kind == "writes" else use.reads)[access.table] += access.count
    models = model_tables(atoms, graph)
    for atom, table in models.items():
        found[atom].model = table
    for edge in atoms.edges:
        target_table = models.get(edge.target)
        if target_table is not None and edge.kind != EdgeKind.IMPORTS:
            found[edge.source].uses[target_table] += edge.count
    return dict(found)


@dataclass
class Links:
    """The code neighbourhood, by direction: callees and callers with their pull."""

    callees: dict[str, list[tuple[str, float]]]
    callers: dict[str, list[tuple[str, float]]]
    members: dict[str, list[str]]  # module -> its atoms (not the module atom)

    @classmethod
    def of(cls, atoms: AtomGraph) -> Links:
        callees: dict[str, list[tuple[str, float]]] = defaultdict(list)
        callers: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for edge in atoms.edges:
            weight = FOLLOW_WEIGHTS.get(edge.kind, 0.0) * edge.count
            if weight:
                callees[edge.source].append((edge.target, weight))
                callers[edge.target].append((edge.source, weight))
        members: dict[str, list[str]] = defaultdict(list)
        for atom in atoms.atoms:
            module = atoms.module_of(atom)
            if module != atom:
                members[module].append(atom)
        return cls(dict(callees), dict(callers), dict(members))


def reaches_data(atoms: AtomGraph, data: Iterable[str]) -> set[str]:
    """Atoms that use data themselves or call (at any depth) code that does."""
    callers: dict[str, list[str]] = defaultdict(list)
    for edge in atoms.edges:
        if edge.kind in FOLLOW_WEIGHTS and edge.kind != EdgeKind.CO_CHANGES:
            callers[edge.target].append(edge.source)
    found = set(data)
    stack = list(found)
    while stack:
        for caller in callers.get(stack.pop(), ()):
            if caller not in found:
                found.add(caller)
                stack.append(caller)
    return found


@dataclass
class Settled:
    clusters: dict[str, str]
    reasons: dict[str, list[Reason]]


def settle(
    atoms: AtomGraph,
    graph: DependencyGraph,
    fixed: Mapping[str, str],
    prior: Mapping[str, Mapping[str, float]],
    reach: set[str],
    *,
    rounds: int = 8,
) -> Settled:
    """Every atom's cluster, from the atoms whose own evidence decided theirs (`fixed`).

    The others vote, a few rounds in sorted order (deterministic): their own weak evidence
    (`prior`: cluster -> weight), the clusters of the atoms they call when they reach data
    through them, of the atoms that call them (at CALLED_BY), and of their module's atoms
    (MODULE_PULL, a tie-breaker). Atoms follow only the callees that reach data, and atoms
    that reach no data only their callers: the cluster of code without data is borrowed,
    and borrowing it back would let early guesses feed themselves.
    """
    links = Links.of(atoms)
    clusters = dict(fixed)
    pinned = set(fixed)
    shared: set[str] = set()
    free = [a for a in atoms.atoms if a not in pinned and not _is_module(atoms, a)]
    # vote, find the shared atoms, and vote again from scratch without them, so that glue
    # labelled early (a command dispatcher) does not drag what it calls along
    for attempt in range(4):
        clusters = {**fixed, **{a: SHARED for a in shared}}
        _vote(clusters, free, atoms, links, prior, reach, pinned | shared, rounds)
        found = _shared(clusters, atoms, links, reach, pinned) if attempt < 3 else shared
        if found <= shared:
            break
        shared |= found
    for atom in free:
        if atom not in clusters:
            clusters[atom] = _module_choice(atom, clusters, atoms, links)
    votes = _modules_follow_members(clusters, atoms, graph, links)
    reasons = _reasons(clusters, pinned, shared, atoms, links, votes)
    return Settled({a: clusters.get(a, SHARED) for a in atoms.atoms}, reasons)


def _is_module(atoms: AtomGraph, atom: str) -> bool:
    return atoms.nodes[atom].kind == NodeKind.MODULE and atoms.level != "module"


def _vote(
    clusters: dict[str, str],
    free: list[str],
    atoms: AtomGraph,
    links: Links,
    prior: Mapping[str, Mapping[str, float]],
    reach: set[str],
    frozen: set[str],
    rounds: int,
) -> None:
    for _ in range(rounds):
        changed = False
        for atom in free:
            if atom in frozen:
                continue
            votes = _votes(atom, clusters, atoms, links, prior, reach)
            if votes:
                best = max(votes, key=lambda c: (votes[c], c))
                if clusters.get(atom) != best:
                    clusters[atom] = best
                    changed = True
        if not changed:
            break


def _votes(
    atom: str,
    clusters: Mapping[str, str],
    atoms: AtomGraph,
    links: Links,
    prior: Mapping[str, Mapping[str, float]],
    reach: set[str],
) -> dict[str, float]:
    votes: dict[str, float] = defaultdict(float)
    for label, weight in prior.get(atom, {}).items():
        votes[label] += weight
    if atom in reach:
        for other, weight in links.callees.get(atom, ()):
            cluster = clusters.get(other)
            # only callees on the way to the data: the others borrow their cluster; code
            # that reaches data only through glue (a main() calling the dispatcher) is glue
            if cluster is not None and other in reach:
                votes[cluster] += weight
    for other, weight in links.callers.get(atom, ()):
        cluster = clusters.get(other)
        # a helper of the shared library is shared too; code that reaches data is not
        if cluster is not None and (cluster != SHARED or atom not in reach):
            votes[cluster] += CALLED_BY * weight
    if votes or atom in reach:
        module: Counter[str] = Counter()
        for other in links.members.get(atoms.module_of(atom), ()):
            cluster = clusters.get(other)
            if other != atom and cluster is not None and cluster != SHARED:
                module[cluster] += 1
        total = sum(module.values())
        for cluster, count in module.items():
            votes[cluster] += MODULE_PULL * count / total
    return votes


def _shared(
    clusters: Mapping[str, str],
    atoms: AtomGraph,
    links: Links,
    reach: set[str],
    keep: set[str],
    *,
    min_clusters: int = 2,
    module_clusters: int = 3,
    spread: int = 3,
) -> set[str]:
    """Shared utilities:

    - atoms that reach no data and are called from `min_clusters` clusters or more;
    - every data-less atom of a module whose data-less atoms serve `module_clusters`
      clusters or more, none with a majority (a utility module);
    - glue: atoms without evidence of their own that call into `spread` clusters or more,
      none with GLUE_SHARE of the pull (app factories, seeders, command dispatchers).
    """
    found: set[str] = set()
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for atom in atoms.atoms:
        if atom in keep or _is_module(atoms, atom):
            continue
        if atom in reach:
            # typeshed types Counter values as int; float weights work (python/typeshed#3438)
            pull: Counter[str] = Counter()
            for other, weight in links.callees.get(atom, ()):
                cluster = clusters.get(other)
                if cluster is not None and cluster != SHARED and other in reach:
                    pull[cluster] += weight  # type: ignore[assignment]
            total = sum(pull.values())
            if len(pull) >= spread and max(pull.values()) < GLUE_SHARE * total:
                found.add(atom)
            continue
        using: Counter[str] = Counter()
        for other, weight in links.callers.get(atom, ()):
            cluster = clusters.get(other)
            if cluster is not None and cluster != SHARED:
                using[cluster] += weight  # type: ignore[assignment]
        if len(using) >= min_clusters:
            found.add(atom)
        by_module[atoms.module_of(atom)].update(using)
    for module, using in by_module.items():
        total = sum(using.values())
        if len(using) >= module_clusters and max(using.values()) < 0.5 * total:
            found.update(
                a for a in links.members.get(module, ()) if a not in reach and a not in keep
            )
    return found


def _module_choice(atom: str, clusters: Mapping[str, str], atoms: AtomGraph, links: Links) -> str:
    """An atom nothing placed: where most of its module went, when most of it went to one
    service; else shared (settings, glue that nothing calls)."""
    votes = Counter(
        clusters[o] for o in links.members.get(atoms.module_of(atom), ()) if o in clusters
    )
    if votes:
        best = max(votes, key=lambda c: (votes[c], c))
        if best != SHARED and votes[best] * 2 > sum(votes.values()):
            return best
    return SHARED


def _modules_follow_members(
    clusters: dict[str, str], atoms: AtomGraph, graph: DependencyGraph, links: Links
) -> dict[str, Counter[str]]:
    """Module atoms take the cluster of more than half of their members (and submodules),
    else "shared": a module's imports and constants serve whoever its members serve."""
    modules = [a for a in atoms.atoms if _is_module(atoms, a)]
    children: dict[str, list[str]] = defaultdict(list)
    for module in modules:
        parent = graph.parent(module)
        if parent is not None and parent in atoms.nodes:
            children[parent].append(module)
    votes: dict[str, Counter[str]] = {}
    # deepest first, so a package sees where its modules went
    for module in sorted(modules, key=lambda m: (-m.count("."), m)):
        counter = Counter(clusters[a] for a in links.members.get(module, ()) if a in clusters)
        counter.update(clusters[m] for m in children.get(module, ()) if m in clusters)
        votes[module] = counter
        best = max(counter, key=lambda c: (counter[c], c != SHARED, c), default=SHARED)
        enough = counter[best] * 2 > sum(counter.values())
        clusters[module] = best if counter and enough else SHARED
    return votes


def _reasons(
    clusters: Mapping[str, str],
    pinned: set[str],
    shared: set[str],
    atoms: AtomGraph,
    links: Links,
    votes: Mapping[str, Counter[str]],
) -> dict[str, list[Reason]]:
    found: dict[str, list[Reason]] = {}
    for atom in atoms.atoms:
        cluster = clusters.get(atom, SHARED)
        if atom in pinned:
            continue
        if atom in votes:
            counter = votes[atom]
            total = sum(counter.values())
            if not total:
                text = "module with no members: shared glue"
            elif cluster == SHARED and counter[SHARED] * 2 <= total:
                text = (
                    f"module: its {total} members went to {len(counter)} places, none with "
                    "more than half: its own code is shared"
                )
            else:
                text = f"module: {counter[cluster]} of its {total} members went to {cluster}"
            found[atom] = [Reason("module", text, counter[cluster] / total if total else 1.0)]
        elif atom in shared:
            found[atom] = [Reason("shared", _shared_text(atom, clusters, links), 1.0)]
        elif cluster != SHARED:
            # typeshed types Counter values as int; float weights work (python/typeshed#3438)
            pull: Counter[str] = Counter()
            for other, weight in links.callees.get(atom, ()):
                if clusters.get(other) == cluster:
                    pull[other] += weight  # type: ignore[assignment]
            for other, weight in links.callers.get(atom, ()):
                if clusters.get(other) == cluster:
                    pull[other] += CALLED_BY * weight  # type: ignore[assignment]
            if pull:
                top = [o for o, _ in pull.most_common(3)]
                shown = ", ".join(o.rpartition(".")[2] for o in top)
                text = f"no decisive evidence of its own; follows {shown} ({cluster})"
                found[atom] = [Reason("follows", text, 0.5, tuple(top))]
            else:
                text = f"no ties of its own; most of its module went to {cluster}"
                found[atom] = [Reason("module", text, 0.3)]
        else:
            text = "no evidence and no ties to any service: glue or settings"
            found[atom] = [Reason("shared", text, 1.0)]
    return found


def _shared_text(atom: str, clusters: Mapping[str, str], links: Links) -> str:
    users = {clusters.get(o) for o, _ in links.callers.get(atom, ())} - {None, SHARED}
    used = {clusters.get(o) for o, _ in links.callees.get(atom, ())} - {None, SHARED}
    if len(users) >= 2:
        return f"reaches no data and is used from {len(users)} services: a shared utility"
    if len(used) >= 3:
        return f"calls into {len(used)} services with no favourite: glue"
    return "part of a utility module that serves many services"


# -- small weighted graphs (entities, terms) ------------------------------------------------


def normalised(relations: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """w(a, b) / sqrt(strength(a) x strength(b)): a hub entity every other one points to
    (customers, patients) stops pulling the whole model into its context."""
    strength = {a: sum(row.values()) for a, row in relations.items()}
    return {
        a: {b: w / math.sqrt(strength[a] * strength[b]) for b, w in row.items() if w > 0}
        for a, row in relations.items()
    }


def merge_to_k(
    clusters: Mapping[str, str], adjacency: Mapping[str, Mapping[str, float]], k: int
) -> dict[str, str]:
    """Greedy modularity merging (Clauset, Newman, Moore) of the given clusters down to k:
    each step merges the two joined clusters whose union raises modularity most (or lowers
    it least); clusters joined to nothing go last, the smallest into the smallest."""
    result = dict(clusters)
    members: dict[str, set[str]] = defaultdict(set)
    for node, cluster in result.items():
        members[cluster].add(node)
    between: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    volume: dict[str, float] = defaultdict(float)
    total = 0.0
    for a, row in adjacency.items():
        for b, weight in row.items():
            ca, cb = result.get(a), result.get(b)
            if ca is None or cb is None:
                continue
            volume[ca] += weight
            total += weight
            if ca != cb:
                between[ca][cb] += weight
    while len(members) > k:
        pairs = [(a, b) for a in sorted(between) for b in sorted(between[a]) if a < b]
        if pairs and total:

            def gain(pair: tuple[str, str]) -> float:
                a, b = pair
                return between[a][b] / total - volume[a] * volume[b] / total**2

            keep, gone = max(pairs, key=lambda p: (gain(p), p))
        else:
            gone, keep = sorted(members, key=lambda c: (len(members[c]), c))[:2]
        for node in members.pop(gone):
            result[node] = keep
            members[keep].add(node)
        volume[keep] += volume.pop(gone, 0.0)
        for other, weight in between.pop(gone, {}).items():
            between[other].pop(gone, None)
            if other != keep:
                between[keep][other] += weight
                between[other][keep] += weight
        between[keep].pop(keep, None)
    return result


def strongest(
    matrix: sparse.csr_matrix, names: list[str], keep: int
) -> dict[str, dict[str, float]]:
    """The symmetric dict-of-dicts graph of a square sparse matrix, each row cut to its
    `keep` strongest entries (the diagonal left out): linear in the rows, whatever the
    density of the product it came from."""
    graph: dict[str, dict[str, float]] = defaultdict(dict)
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        cols, values = matrix.indices[start:end], matrix.data[start:end]
        for j in np.argsort(-values, kind="stable")[:keep]:
            if values[j] > 0 and cols[j] != i:
                a, b, weight = names[i], names[cols[j]], float(values[j])
                graph[a][b] = weight
                graph[b][a] = weight
    return dict(graph)


def communities_to_k(
    graph: Mapping[str, Mapping[str, float]],
    nodes: list[str],
    k: int,
    seed: int,
    resolution: float,
) -> dict[str, str]:
    """Louvain communities of a small graph (entities, terms) fitted to k: the resolution
    rises (x1.5) until there are k communities or more, then the pair whose merge gains the
    most modularity is merged until k remain (`merge_to_k`); a graph that never falls into
    k parts is split by `strategies.common.fit_to_k`."""
    from strategies.common import fit_to_k, louvain

    found = louvain(graph, nodes, seed, resolution)
    while len(set(found.values())) < k and resolution < 64:
        resolution *= 1.5
        found = louvain(graph, nodes, seed, resolution)
    if len(set(found.values())) > k:
        return merge_to_k(found, graph, k)
    return fit_to_k(found, graph, k, seed)
