"""How good a decomposition is: coupling, cohesion, size, data ownership, agreement with a truth.

Every metric is computed once, here, from an `AtomGraph` and an assignment (atom -> service,
or `SHARED` for atoms proposed as a shared library); strategies, reports and `decomposer
check` all read the same numbers. The definitions, with their formulas, directions and
references, are in docs/metrics.md.

Conventions that hold for every metric:

- atoms missing from the assignment are shared; shared atoms belong to no service, so they
  take no part in the service metrics (no service is charged for calling a library);
- a table's owner is the service that writes it most (`table_owners`); code in the shared
  library never owns a table;
- a metric that has nothing to measure (a ratio over no calls, a mean over no services) is
  None rather than a made-up number.

Nothing here is quadratic in the number of atoms: everything walks the sparse edge list,
and the few matrices are services x services or clusters x clusters.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from decomposer.errors import InputError
from decomposer.model.atoms import CODE_KINDS, AtomGraph
from decomposer.model.graph import EdgeKind
from decomposer.truth import SHARED

#: How strongly each kind of edge ties two atoms together (weight per occurrence). Modularity
#: uses it here, and strategies cluster on the same weights, so a strategy optimises what
#: the metrics measure.
COUPLING_WEIGHTS: Mapping[EdgeKind, float] = MappingProxyType(
    {
        EdgeKind.CALLS: 1.0,
        EdgeKind.INSTANTIATES: 1.0,
        EdgeKind.INHERITS: 1.0,
        EdgeKind.REFERENCES: 0.5,
        EdgeKind.IMPORTS: 0.25,
        EdgeKind.CO_CHANGES: 0.5,
    }
)

#: Edges that make one service depend on another. Co-changes are left out: changing
#: together is a sign of coupling, not a dependency either side could call.
DEPENDENCY_KINDS: tuple[EdgeKind, ...] = tuple(k for k in CODE_KINDS if k != EdgeKind.CO_CHANGES)

#: Edges that invoke an atom: a call, or constructing a class (which runs its constructor
#: even when the class has no `__init__` of its own).
CALL_KINDS: tuple[EdgeKind, ...] = (EdgeKind.CALLS, EdgeKind.INSTANTIATES)

#: Non-extreme service sizes in atoms, both ends included (Mono2Micro's 5 and 20 classes).
NED_MIN_ATOMS = 5
NED_MAX_ATOMS = 20

#: CHM and CHD average over pairs of interface operations; a service with more operations
#: than this is measured on this many, evenly spaced in name order, so the cost stays linear.
COHESION_SAMPLE = 200

#: Which way is better for each overall and agreement metric: 1 higher, -1 lower. Counts
#: without a better direction (services, atoms, shared_atoms) are not listed.
DIRECTIONS: Mapping[str, int] = MappingProxyType(
    {
        "modularity": 1,
        "structural_modularity": 1,
        "icp": -1,
        "icp_runtime": -1,
        "ifn": -1,
        "ned": -1,
        "bcp": -1,
        "chm": 1,
        "chd": 1,
        "size_balance": -1,
        "service_cycles": -1,
        "shared_tables": -1,
        "shared_tables_accessed": -1,
        "cross_service_foreign_keys": -1,
        "cross_service_joins": -1,
        "sagas_needed": -1,
        "tsr": -1,
        "mojofm": 1,
        "ari": 1,
        "ami": 1,
        "nmi": 1,
    }
)

Value = float | int | None


@dataclass(frozen=True, slots=True)
class TableOwnership:
    """Who owns a table, who writes and reads it (service -> count), and why in one sentence."""

    owner: str | None
    writers: dict[str, int]
    readers: dict[str, int]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "writers": dict(sorted(self.writers.items())),
            "readers": dict(sorted(self.readers.items())),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Metrics:
    """The metrics of one decomposition: overall, per service, and the service cycles."""

    overall: dict[str, Value]
    services: dict[str, dict[str, Value]]
    #: the services of each service-level cycle (strongly connected, more than one service)
    cycles: tuple[tuple[str, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: keys sorted, floats rounded to 6 digits, cycles as lists."""
        return {
            "overall": _rounded(self.overall),
            "services": {name: _rounded(self.services[name]) for name in sorted(self.services)},
            "cycles": [list(cycle) for cycle in self.cycles],
        }


def _rounded(values: Mapping[str, Value]) -> dict[str, Value]:
    return {
        key: round(value, 6) if isinstance(value, float) else value
        for key, value in sorted(values.items())
    }


# -- assignment helpers ---------------------------------------------------------------------


def _groups(atoms: AtomGraph, assignment: Mapping[str, str]) -> dict[str, str]:
    """atom -> its service, or SHARED (also for atoms the assignment leaves out)."""
    return {atom: assignment.get(atom, SHARED) for atom in atoms.atoms}


def _members(group: Mapping[str, str]) -> dict[str, list[str]]:
    """service -> its atoms, sorted; shared atoms are in no service."""
    members: dict[str, list[str]] = defaultdict(list)
    for atom, service in group.items():
        if service != SHARED:
            members[service].append(atom)
    return {service: sorted(found) for service, found in sorted(members.items())}


@dataclass
class _Walk:
    """Everything one pass over the edges between service atoms finds.

    Edges touching a shared atom are skipped: the library is nobody's coupling.
    """

    #: service -> service -> dependency edges from the one to the other
    deps: dict[str, Counter[str]]
    #: service -> its atoms called or constructed from another service
    surface: dict[str, set[str]]
    internal: Counter[str]
    external: Counter[str]
    #: call and instantiate edges as atom index pairs (for SM and use-case reach)
    call_source: array[int]
    call_target: array[int]
    #: call occurrences: [all, crossing services], static and runtime
    static_calls: list[int]
    runtime_calls: list[int]
    #: Newman's Q: 2m, and per service the weight inside (counted twice) and its degree
    two_m: float
    intra: dict[str, float]
    degree: dict[str, float]

    @classmethod
    def over(cls, atoms: AtomGraph, group: Mapping[str, str], index: Mapping[str, int]) -> _Walk:
        names = _members(group)
        walk = cls(
            {name: Counter() for name in names},
            {name: set() for name in names},
            Counter(),
            Counter(),
            array("q"),
            array("q"),
            [0, 0],
            [0, 0],
            0.0,
            defaultdict(float),
            defaultdict(float),
        )
        dependency, call = frozenset(DEPENDENCY_KINDS), frozenset(CALL_KINDS)
        for edge in atoms.edges:
            source, target = group.get(edge.source, SHARED), group.get(edge.target, SHARED)
            if source == SHARED or target == SHARED:
                continue
            same = source == target
            kind = edge.kind
            # the same weight per edge as AtomGraph.coupling(COUPLING_WEIGHTS), undirected
            weight = COUPLING_WEIGHTS.get(kind, 0.0) * edge.count
            if weight:
                walk.two_m += 2 * weight
                walk.degree[source] += weight
                walk.degree[target] += weight
                if same:
                    walk.intra[source] += 2 * weight
            if kind in dependency:
                if same:
                    walk.internal[source] += 1
                else:
                    walk.deps[source][target] += 1
                    walk.external[source] += 1
                    walk.external[target] += 1
            if kind in call:
                walk.call_source.append(index[edge.source])
                walk.call_target.append(index[edge.target])
                if not same:
                    walk.surface[target].add(edge.target)
            if kind == EdgeKind.CALLS:
                walk.static_calls[0] += edge.static_count
                walk.runtime_calls[0] += edge.runtime_count
                if not same:
                    walk.static_calls[1] += edge.static_count
                    walk.runtime_calls[1] += edge.runtime_count
        return walk


def _index(atoms: AtomGraph) -> dict[str, int]:
    return {atom: i for i, atom in enumerate(atoms.atoms)}


# -- services and their dependencies --------------------------------------------------------


def service_dependencies(
    atoms: AtomGraph, assignment: Mapping[str, str]
) -> dict[str, dict[str, int]]:
    """service -> service it depends on -> number of atom edges from the one to the other.

    Counts code edges (calls, instantiates, inherits, references, imports; not co-changes)
    between atoms of two different services; every service is a key, even without
    dependencies. Shared atoms are nobody's dependency.
    """
    walk = _Walk.over(atoms, _groups(atoms, assignment), _index(atoms))
    return _dependencies(walk)


def _dependencies(walk: _Walk) -> dict[str, dict[str, int]]:
    return {service: dict(sorted(found.items())) for service, found in walk.deps.items()}


def api_surface(atoms: AtomGraph, assignment: Mapping[str, str]) -> dict[str, list[str]]:
    """service -> its atoms called or constructed from another service, sorted.

    Every service is a key; calls from shared atoms do not make an interface.
    """
    walk = _Walk.over(atoms, _groups(atoms, assignment), _index(atoms))
    return _surface(walk)


def _surface(walk: _Walk) -> dict[str, list[str]]:
    return {service: sorted(found) for service, found in walk.surface.items()}


# -- data ownership -------------------------------------------------------------------------


def table_owners(atoms: AtomGraph, assignment: Mapping[str, str]) -> dict[str, TableOwnership]:
    """table -> its owner and why: the service that writes it most, then reads it most.

    Ties go to the service whose name sorts first. Counts are occurrences (static plus
    runtime) over the service's atoms; shared atoms never own a table. A table no service
    touches has no owner.
    """
    group = _groups(atoms, assignment)
    writes: dict[str, Counter[str]] = defaultdict(Counter)
    reads: dict[str, Counter[str]] = defaultdict(Counter)
    shared_use: set[str] = set()
    for access in atoms.access:
        service = group.get(access.atom, SHARED)
        if service == SHARED:
            shared_use.add(access.table)
            continue
        counter = writes if access.kind == "writes" else reads
        # an access seen at all counts at least once, so its service is listed
        counter[access.table][service] += max(access.count, 1)
    owners = {}
    for table in sorted(set(atoms.tables) | set(writes) | set(reads)):
        writers, readers = dict(writes.get(table, {})), dict(reads.get(table, {}))
        owner, reason = _owner(writers, readers, table in shared_use)
        owners[table] = TableOwnership(
            owner, dict(sorted(writers.items())), dict(sorted(readers.items())), reason
        )
    return owners


def _owner(
    writers: dict[str, int], readers: dict[str, int], shared_use: bool
) -> tuple[str | None, str]:
    if writers:
        top, tied = _top(writers)
        if len(tied) == 1:
            return tied[0], "written " + _tally(writers)
        read_top, read_tied = _top({s: readers.get(s, 0) for s in tied})
        prefix = f"tie between {_names(tied)} at {_count(top, 'write')}: "
        if len(read_tied) == 1:
            return read_tied[0], prefix + f"{read_tied[0]} reads it most ({_times(read_top)})"
        return read_tied[0], prefix + "first by name"
    if readers:
        top, tied = _top(readers)
        if len(tied) == 1:
            return tied[0], f"only read, most by {tied[0]}: " + _tally(readers)
        return tied[
            0
        ], f"only read; tie between {_names(tied)} at {_count(top, 'read')}: first by name"
    if shared_use:
        return None, "only shared code reads or writes it"
    return None, "no code reads or writes it"


def _top(counts: Mapping[str, int]) -> tuple[int, list[str]]:
    top = max(counts.values())
    return top, sorted(name for name, count in counts.items() if count == top)


def _tally(counts: Mapping[str, int]) -> str:
    """'12 times by orders, 3 by billing': most first, then by name."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    first, *rest = ranked
    return ", ".join([f"{_times(first[1])} by {first[0]}", *(f"{n} by {s}" for s, n in rest)])


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# -- the metrics ----------------------------------------------------------------------------


def evaluate(atoms: AtomGraph, assignment: Mapping[str, str]) -> Metrics:
    """All metrics of a decomposition; see docs/metrics.md for each key.

    `assignment` maps an atom to its service, or to SHARED for the shared library; atoms it
    leaves out are shared.
    """
    group = _groups(atoms, assignment)
    members = _members(group)
    names = list(members)
    index = _index(atoms)
    walk = _Walk.over(atoms, group, index)
    owners = table_owners(atoms, assignment)
    owner_of = {table: found.owner for table, found in owners.items()}
    deps = _dependencies(walk)
    surface = _surface(walk)
    cycles = _cycles(deps)

    afferent: Counter[str] = Counter()
    for targets in deps.values():
        afferent.update(targets.keys())
    own_loc = _own_loc(atoms)
    owned = Counter(owner for owner in owner_of.values() if owner is not None)
    bcp = _bcp(atoms, group, index, walk, names)
    chm = _cohesion(surface, lambda atom: _terms(atom.rsplit(".", 1)[-1]))
    touched: dict[str, set[str]] = defaultdict(set)
    for access in atoms.access:
        touched[access.atom].add(access.table)
    chd = _cohesion(surface, lambda atom: touched.get(atom, set()))
    teams = service_authors(atoms, assignment)
    everyone = set().union(*atom_authors(atoms).values())

    services: dict[str, dict[str, Value]] = {}
    for name in names:
        ca, ce = afferent[name], len(deps[name])
        services[name] = {
            "atoms": len(members[name]),
            "loc": sum(own_loc[atom] for atom in members[name]),
            "tables_owned": owned[name],
            "afferent": ca,
            "efferent": ce,
            "instability": ce / (ca + ce) if ca + ce else 0.0,
            "interface": len(surface[name]),
            "internal_edges": walk.internal[name],
            "external_edges": walk.external[name],
            "bcp": bcp[name],
            "chm": chm[name],
            "chd": chd[name],
            # None for a service none of whose code has history (new, uncommitted code)
            "authors": len(teams[name]) if name in teams else None,
            "tsr": len(teams[name]) / len(everyone) if name in teams else None,
        }

    sizes = [len(found) for found in members.values()]
    runtime = walk.runtime_calls
    overall: dict[str, Value] = {
        "services": len(names),
        "atoms": len(atoms.atoms),
        "shared_atoms": sum(1 for service in group.values() if service == SHARED),
        "modularity": _modularity(walk),
        "structural_modularity": _structural_modularity(group, index, walk, members),
        "icp_runtime": runtime[1] / runtime[0] if runtime[0] else None,
        "ifn": _mean(len(found) for found in surface.values()),
        "ned": _ned(sizes),
        "bcp": _mean(value for value in bcp.values() if value is not None),
        "chm": _mean(value for value in chm.values() if value is not None),
        "chd": _mean(value for value in chd.values() if value is not None),
        "size_balance": _variation(sizes),
        "tsr": _mean(s["tsr"] for s in services.values() if s["tsr"] is not None),
        **_crossing(atoms, walk, cycles, owners).overall,
    }
    return Metrics(overall, services, cycles)


@dataclass(frozen=True)
class Crossing:
    """What crosses the services' boundaries, as `evaluate` measures it."""

    #: icp, service_cycles and the data metrics, under `evaluate`'s names
    overall: dict[str, Value]
    #: code edges (dependency kinds) between atoms of two different services
    cross_service_edges: int
    cycles: tuple[tuple[str, ...], ...]


def crossing(
    atoms: AtomGraph,
    assignment: Mapping[str, str],
    owners: Mapping[str, TableOwnership] | None = None,
    inside_calls: int = 0,
) -> Crossing:
    """The part of the metrics `decomposer check` compares with its baseline on every
    commit, without the rest of `evaluate`'s work. `owners`: `table_owners` of the same
    atoms and assignment, when the caller has them already. `inside_calls`: the static calls
    between atoms of one service that `atoms` leaves out (the check's atom graph of a static
    analysis keeps only the edges that cross services)."""
    walk = _Walk.over(atoms, _groups(atoms, assignment), _index(atoms))
    walk.static_calls[0] += inside_calls
    owners = table_owners(atoms, assignment) if owners is None else owners
    return _crossing(atoms, walk, _cycles(_dependencies(walk)), owners)


def _crossing(
    atoms: AtomGraph,
    walk: _Walk,
    cycles: tuple[tuple[str, ...], ...],
    owners: Mapping[str, TableOwnership],
) -> Crossing:
    owner_of = {table: found.owner for table, found in owners.items()}
    static = walk.static_calls
    return Crossing(
        {
            "icp": static[1] / static[0] if static[0] else None,
            "service_cycles": len(cycles),
            **_data_metrics(atoms, owners, owner_of),
        },
        sum(walk.external.values()) // 2,
        cycles,
    )


def atom_authors(atoms: AtomGraph) -> dict[str, dict[str, float]]:
    """atom -> author -> recency-weighted commits, from the `authors` the history analyzer puts
    on nodes; an atom without its own takes those of the nearest enclosing atom that has
    some (a method at the function level: its class), then its module's. Atoms of a graph
    without history are left out."""
    found: dict[str, dict[str, float]] = {}
    for atom in atoms.atoms:
        holder = atom
        authors = atoms.nodes[atom].attrs.get("authors")
        while not authors and "." in holder and holder != atoms.module_of(atom):
            holder = holder.rsplit(".", 1)[0]
            if holder in atoms.nodes:
                authors = atoms.nodes[holder].attrs.get("authors")
        module = atoms.nodes.get(atoms.module_of(atom))
        if not authors and module is not None:
            authors = module.attrs.get("authors")
        if authors:
            found[atom] = authors
    return found


def service_authors(
    atoms: AtomGraph, assignment: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """service -> author -> recency-weighted commits summed over the service's atoms, heaviest
    first; services whose atoms have no history are left out."""
    teams: dict[str, Counter[str]] = defaultdict(Counter)
    for atom, authors in atom_authors(atoms).items():
        service = assignment.get(atom, SHARED)
        if service != SHARED:
            teams[service].update(authors)
    return {
        service: dict(sorted(team.items(), key=lambda item: (-item[1], item[0])))
        for service, team in sorted(teams.items())
    }


def _mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return sum(found) / len(found) if found else None


def _variation(sizes: list[int]) -> float | None:
    """Coefficient of variation: population standard deviation / mean."""
    if not sizes:
        return None
    mean = sum(sizes) / len(sizes)
    return math.sqrt(sum((size - mean) ** 2 for size in sizes) / len(sizes)) / mean


def _own_loc(atoms: AtomGraph) -> dict[str, int]:
    """Lines of code of each atom without the atoms nested in it.

    A module's `loc` covers its whole file and a class's covers its methods, which may be
    atoms of their own (at the class level a module's classes are; at the function level a
    class's methods are too); counting both would count those lines twice.
    """
    own = {atom: atoms.nodes[atom].loc for atom in atoms.atoms}
    for atom in atoms.atoms:
        module = atoms.module_of(atom)
        if atom == module:
            continue
        parent = atom.rsplit(".", 1)[0]
        # the nearest enclosing atom in the same file: a class for a method, else the module
        while parent != module and parent not in own and "." in parent:
            parent = parent.rsplit(".", 1)[0]
        if parent in own:
            own[parent] -= atoms.nodes[atom].loc
    return {atom: max(loc, 0) for atom, loc in own.items()}


def _modularity(walk: _Walk) -> float | None:
    """Newman's Q of the services on the undirected weighted coupling of service atoms."""
    if not walk.two_m:
        return None
    two_m = walk.two_m
    return sum(walk.intra.get(s, 0.0) / two_m - (d / two_m) ** 2 for s, d in walk.degree.items())


def _structural_modularity(
    group: Mapping[str, str],
    index: Mapping[str, int],
    walk: _Walk,
    members: Mapping[str, list[str]],
) -> float | None:
    """SM of Jin et al.: mean cohesion mu_i / N_i^2 minus mean coupling over service pairs.

    mu_i counts the pairs of atoms of service i joined by a call (either way), sigma_ij the
    pairs joined across services i and j.
    """
    import numpy as np

    if not members:
        return None
    names = list(members)
    number = {name: i for i, name in enumerate(names)}
    service_of = np.full(len(index), -1, dtype=np.int64)
    for atom, i in index.items():
        if group[atom] != SHARED:
            service_of[i] = number[group[atom]]
    source = np.frombuffer(walk.call_source, dtype=np.int64)
    target = np.frombuffer(walk.call_target, dtype=np.int64)
    # each unordered pair of atoms once, whatever the direction or kind of its edges
    low, high = np.minimum(source, target), np.maximum(source, target)
    pairs = np.unique(low * len(index) + high)
    first, second = service_of[pairs // len(index)], service_of[pairs % len(index)]
    k = len(names)
    size = np.array([len(members[name]) for name in names], dtype=np.float64)
    same = first == second
    mu = np.bincount(first[same], minlength=k)
    cohesion = float(np.sum(mu / size**2)) / k
    if k == 1:
        return cohesion
    a, b = np.minimum(first[~same], second[~same]), np.maximum(first[~same], second[~same])
    # Jin sums sigma_ij / (2 N_i N_j) over ordered pairs i != j: each unordered pair twice
    coupling = float(np.sum(1.0 / (size[a] * size[b])))
    return cohesion - coupling / (k * (k - 1) / 2)


def _ned(sizes: list[int]) -> float | None:
    """1 - share of service atoms in services of a non-extreme size (Mono2Micro)."""
    total = sum(sizes)
    if not total:
        return None
    normal = sum(size for size in sizes if NED_MIN_ATOMS <= size <= NED_MAX_ATOMS)
    return 1 - normal / total


def _bcp(
    atoms: AtomGraph,
    group: Mapping[str, str],
    index: Mapping[str, int],
    walk: _Walk,
    names: list[str],
) -> dict[str, float | None]:
    """service -> ln(number of use cases reaching it); None when no use case reaches it.

    A use case (entry point) reaches its handler atoms and everything they call or construct,
    transitively, through service atoms (the walk does not pass through the shared library).
    The entropy of a uniform distribution over m use cases is ln m (Mono2Micro's BCP).
    """
    reached = _use_case_bits(atoms, group, index, walk)
    result: dict[str, float | None] = {}
    for name in names:
        count = reached.get(name, 0).bit_count()
        result[name] = math.log(count) if count else None
    return result


def _use_case_bits(
    atoms: AtomGraph, group: Mapping[str, str], index: Mapping[str, int], walk: _Walk
) -> dict[str, int]:
    """service -> bit set (an int, bit i = the i-th entry point) of the use cases reaching it.

    The call graph of service atoms is condensed into its strongly connected components,
    and entry bits flow along the condensed DAG in topological order: one OR per edge, so
    the cost is the number of edges times (entry points / 64) machine words.
    """
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    seeds: dict[int, int] = defaultdict(int)
    for bit, entry in enumerate(sorted(atoms.entries)):
        for handler in atoms.entries[entry]:
            if group.get(handler, SHARED) != SHARED:
                seeds[index[handler]] |= 1 << bit
    if not seeds:
        return {}
    n = len(index)
    source = np.frombuffer(walk.call_source, dtype=np.int64)
    target = np.frombuffer(walk.call_target, dtype=np.int64)
    matrix = csr_matrix((np.ones(len(source), dtype=np.int8), (source, target)), shape=(n, n))
    count, labels = connected_components(matrix, directed=True, connection="strong")
    component_bits = [0] * count
    for i, bits in seeds.items():
        component_bits[labels[i]] |= bits
    # the condensed DAG: each edge between two components once
    a, b = labels[source], labels[target]
    keep = a != b
    edges = np.unique(a[keep].astype(np.int64) * count + b[keep])
    heads, tails = (edges // count).tolist(), (edges % count).tolist()
    successors: dict[int, list[int]] = defaultdict(list)
    indegree = [0] * count
    for head, tail in zip(heads, tails, strict=True):
        successors[head].append(tail)
        indegree[tail] += 1
    # Kahn's algorithm: a component passes its bits on once all its callers have
    ready = [c for c in range(count) if not indegree[c]]
    while ready:
        component = ready.pop()
        bits = component_bits[component]
        for successor in successors.get(component, ()):
            component_bits[successor] |= bits
            indegree[successor] -= 1
            if not indegree[successor]:
                ready.append(successor)
    reached: dict[str, int] = defaultdict(int)
    for atom, i in index.items():
        bits = component_bits[labels[i]]
        if bits and group[atom] != SHARED:
            reached[group[atom]] |= bits
    return dict(reached)


def _terms(name: str) -> set[str]:
    """The words of an identifier: `place_order` and `PlaceOrder` -> {place, order}."""
    return {word.lower() for word in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", name)}


def _cohesion(
    surface: Mapping[str, list[str]], features: Callable[[str], Iterable[str]]
) -> dict[str, float | None]:
    """service -> mean Jaccard similarity of the features of its interface operations.

    Operations without features are left out; one operation is fully cohesive (1.0); a
    service without operations has no value. Large interfaces are sampled (COHESION_SAMPLE).
    """
    result: dict[str, float | None] = {}
    for service, operations in surface.items():
        found = [f for f in (frozenset(features(op)) for op in operations) if f]
        if len(found) > COHESION_SAMPLE:
            found = [found[i * len(found) // COHESION_SAMPLE] for i in range(COHESION_SAMPLE)]
        if not found:
            result[service] = None
        elif len(found) == 1:
            result[service] = 1.0
        else:
            total = 0.0
            for i, a in enumerate(found):
                for b in found[i + 1 :]:
                    total += len(a & b) / len(a | b)
            result[service] = total / (len(found) * (len(found) - 1) / 2)
    return result


def _cycles(deps: Mapping[str, Mapping[str, int]]) -> tuple[tuple[str, ...], ...]:
    """Services that depend on each other in a circle: strongly connected, more than one."""
    import networkx

    graph = networkx.DiGraph()
    graph.add_nodes_from(deps)
    graph.add_edges_from((a, b) for a, targets in deps.items() for b in targets)
    found = [tuple(sorted(c)) for c in networkx.strongly_connected_components(graph) if len(c) > 1]
    return tuple(sorted(found))


def _data_metrics(
    atoms: AtomGraph, owners: Mapping[str, TableOwnership], owner_of: Mapping[str, str | None]
) -> dict[str, Value]:
    def crosses(a: str, b: str) -> bool:
        first, second = owner_of.get(a), owner_of.get(b)
        return first is not None and second is not None and first != second

    joins = 0
    for atom in atoms.atoms:
        for pair in atoms.nodes[atom].attrs.get("sql_joins", ()):
            if len(pair) == 2 and crosses(pair[0], pair[1]):
                joins += 1
    sagas = 0
    for transaction in atoms.transactions:
        written = {owner_of.get(table) for table in transaction.tables} - {None}
        if len(written) > 1:
            sagas += 1
    return {
        "shared_tables": sum(1 for o in owners.values() if len(o.writers) > 1),
        "shared_tables_accessed": sum(
            1 for o in owners.values() if len(o.writers.keys() | o.readers.keys()) > 1
        ),
        "cross_service_foreign_keys": sum(1 for a, b in atoms.foreign_keys if crosses(a, b)),
        "cross_service_joins": joins,
        "sagas_needed": sagas,
    }


# -- agreement with a known decomposition ---------------------------------------------------


def agreement(
    atoms: AtomGraph, assignment: Mapping[str, str], truth: Mapping[str, str]
) -> dict[str, float]:
    """How close the proposal is to a known decomposition, over the atoms both cover.

    `truth` maps atoms to their intended group (a service or SHARED); the proposal's shared
    atoms (and those it leaves out) form one more cluster, as the truth's shared ones do.
    Returns MoJoFM (0..100, the proposal measured against the truth), the adjusted Rand
    index, adjusted and normalized mutual information.
    """
    from sklearn.metrics import (
        adjusted_mutual_info_score,
        adjusted_rand_score,
        normalized_mutual_info_score,
    )

    group = _groups(atoms, assignment)
    common = [atom for atom in atoms.atoms if atom in truth]
    if not common:
        raise InputError(
            "the known decomposition covers none of the graph's atoms",
            hint="check that the truth file describes this monolith",
        )
    proposed = {atom: group[atom] for atom in common}
    intended = {atom: truth[atom] for atom in common}
    labels_proposed = [proposed[atom] for atom in common]
    labels_intended = [intended[atom] for atom in common]
    return {
        "mojofm": mojofm(proposed, intended),
        "ari": float(adjusted_rand_score(labels_intended, labels_proposed)),
        "ami": float(adjusted_mutual_info_score(labels_intended, labels_proposed)),
        "nmi": float(normalized_mutual_info_score(labels_intended, labels_proposed)),
    }


def mno(a: Mapping[str, str], b: Mapping[str, str]) -> int:
    """The fewest Move and Join operations that turn partition `a` into `b` (one way).

    Wen & Tzerpos's exact algorithm: each cluster of `a` is tagged with a cluster of `b` it
    shares the most objects with; objects outside their cluster's tag are moved, and
    clusters with the same tag are joined. Choosing the tags by a maximum bipartite matching
    (clusters of `a` x their best clusters of `b`) leaves the most distinct tags, so the
    fewest joins: mno = moves + clusters of a - matching size. Both map the same objects.
    """
    import networkx
    from networkx.algorithms.bipartite import hopcroft_karp_matching

    overlap: dict[str, Counter[str]] = defaultdict(Counter)
    for obj, cluster in a.items():
        overlap[cluster][b[obj]] += 1
    graph = networkx.Graph()
    moves = 0
    for cluster, counts in overlap.items():
        best = max(counts.values())
        moves += sum(counts.values()) - best
        graph.add_node(("a", cluster))
        graph.add_edges_from(
            (("a", cluster), ("b", target)) for target, n in counts.items() if n == best
        )
    top = [node for node in graph if node[0] == "a"]
    matching = hopcroft_karp_matching(graph, top_nodes=top)
    matched = sum(1 for node in matching if node[0] == "a")
    return moves + len(overlap) - matched


def mojo(a: Mapping[str, str], b: Mapping[str, str]) -> int:
    """The MoJo distance: min(mno(a, b), mno(b, a))."""
    return min(mno(a, b), mno(b, a))


def mojofm(a: Mapping[str, str], b: Mapping[str, str]) -> float:
    """MoJoFM(a, b) = (1 - mno(a, b) / max over every partition x of mno(x, b)) x 100.

    `a` is the proposal, `b` the reference; 100 means `a` is `b`. The largest distance to
    `b` is n - g (Wen & Tzerpos 2004): with b's cluster sizes in ascending order, g counts
    the sizes that exceed the number of groups counted so far.
    """
    sizes = sorted(Counter(b.values()).values())
    groups = 0
    for size in sizes:
        if groups < size:
            groups += 1
    worst = len(b) - groups
    if worst == 0:
        return 100.0  # a single object: every partition of it is `b`
    return (1 - mno(a, b) / worst) * 100
