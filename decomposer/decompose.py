"""What every decomposition gets, whichever strategy made it: shared utilities, service
names, the user's constraints, an explanation of every placement, and the derived facts
(table owners, API surface, dependencies, metrics).

A strategy only clusters atoms (see plugins.Strategy); doing the rest once, here, keeps the
strategies small and their proposals comparable.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from itertools import chain, islice
from operator import itemgetter

from decomposer import metrics
from decomposer.errors import ConfigError, PluginError
from decomposer.findings import extraction_order, find
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import EdgeKind, Site
from decomposer.model.proposal import Constraints, Placement, Proposal, Reason
from decomposer.plugins import Strategy, StrategyInput, StrategyResult
from decomposer.terms import business_terms
from decomposer.truth import SHARED

#: An atom used from at least this share of the services (and at least MIN_SHARED_USERS of
#: them), that writes no table and maps none (a model), is proposed as a shared library
#: rather than forced into one service.
SHARED_USE = 0.5
MIN_SHARED_USERS = 3
#: How much an access to a service's table counts next to one weighted code edge.
TABLE_WEIGHTS = {"writes": 2.0, "reads": 1.0}
_TOP_REASONS = 4
#: How many of the people who changed a service's code most its proposal names (its team).
TEAM_SIZE = 5


def decompose(strategy: Strategy, request: StrategyInput) -> Proposal:
    """Run a strategy and turn its clusters into a complete, explained proposal."""
    atoms = request.atoms
    result = strategy.decompose(request)
    _check_result(strategy, result, atoms)
    clusters = dict(result.clusters)
    _propose_shared(clusters, atoms)
    names = _service_names(clusters, result.names, atoms)
    assignment = {atom: names.get(c, c) if c != SHARED else SHARED for atom, c in clusters.items()}
    constraint_reasons = honour(assignment, request.constraints, atoms)
    services: dict[str, list[str]] = defaultdict(list)
    for atom, service in sorted(assignment.items()):
        if service != SHARED:
            services[service].append(atom)
    strategy_reasons = {
        atom: [*constraint_reasons.get(atom, []), *result.reasons.get(atom, [])]
        for atom in atoms.atoms
    }
    proposal = Proposal(
        strategy=strategy.name,
        level=atoms.level,
        seed=request.seed,
        k_choice=result.k_choice,
        services=dict(sorted(services.items())),
        shared=sorted(a for a, s in assignment.items() if s == SHARED),
        constraints=request.constraints,
        options=request.options,
    )
    complete(proposal, atoms, strategy_reasons)
    return proposal


def complete(
    proposal: Proposal,
    atoms: AtomGraph,
    strategy_reasons: Mapping[str, list[Reason]] | None = None,
) -> Proposal:
    """Fill in what follows from the members: explanations, tables, API, metrics, findings
    and the extraction order."""
    assignment = proposal.assignment()
    owners = metrics.table_owners(atoms, assignment)
    proposal.placements = explain(atoms, assignment, owners, strategy_reasons or {})
    owned: dict[str, list[str]] = defaultdict(list)
    for table, ownership in sorted(owners.items()):
        if ownership.owner is not None:
            owned[ownership.owner].append(table)
    dependencies = metrics.service_dependencies(atoms, assignment)
    proposal.derived = {
        "owned_tables": dict(owned),
        "tables": {table: o.to_dict() for table, o in sorted(owners.items())},
        "api": metrics.api_surface(atoms, assignment),
        "dependencies": dependencies,
        "metrics": metrics.evaluate(atoms, assignment).to_dict(),
        "findings": [f.to_dict() for f in find(atoms, assignment, owners, dependencies)],
        "extraction_order": extraction_order(atoms, assignment, owners, dependencies),
        "teams": {
            service: [
                {"author": author, "weight": round(weight, 3)}
                for author, weight in list(team.items())[:TEAM_SIZE]
            ]
            for service, team in metrics.service_authors(atoms, assignment).items()
        },
    }
    return proposal


# -- shared utilities -----------------------------------------------------------------------


def _propose_shared(clusters: dict[str, str], atoms: AtomGraph) -> None:
    """Atoms used from most services, writing no table: a library, not a service's code."""
    services = {c for c in clusters.values() if c != SHARED}
    if len(services) < MIN_SHARED_USERS:
        return
    # code that writes data, and model classes (their table makes them an entity), belong
    # to a service; a library holds neither
    writers = {a.atom for a in atoms.access if a.kind == "writes"}
    writers |= {atom for atom, node in atoms.nodes.items() if "table" in node.attrs}
    users: dict[str, set[str]] = defaultdict(set)
    for edge in atoms.edges:
        source = clusters.get(edge.source)
        if source is not None and source != SHARED and edge.kind != EdgeKind.CO_CHANGES:
            users[edge.target].add(source)
    needed = max(MIN_SHARED_USERS, SHARED_USE * len(services))
    for atom, using in users.items():
        own = clusters.get(atom)
        if own != SHARED and atom not in writers and len(using - {own}) + 1 >= needed:
            clusters[atom] = SHARED


# -- names --------------------------------------------------------------------------------


def _service_names(
    clusters: Mapping[str, str], suggested: Mapping[str, str], atoms: AtomGraph
) -> dict[str, str]:
    """cluster label -> a unique service name: the strategy's, else the table the cluster
    writes most, else its members' most distinctive business term."""
    members: dict[str, list[str]] = defaultdict(list)
    for atom, cluster in clusters.items():
        if cluster != SHARED:
            members[cluster].append(atom)
    owners = metrics.table_owners(atoms, clusters)
    tables: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for table, ownership in owners.items():
        if ownership.owner is not None:
            written = ownership.writers.get(ownership.owner, 0)
            tables[ownership.owner].append((written, table))
    terms = {
        c: Counter(t for a in found for t in business_terms(a.rpartition(".")[2]))
        for c, found in members.items()
    }
    spread = Counter(t for counter in terms.values() for t in counter)  # clusters per term
    names: dict[str, str] = {}
    taken: set[str] = set()
    # biggest clusters choose first, so the main services get the plain names
    for cluster in sorted(members, key=lambda c: (-len(members[c]), c)):
        candidates = [suggested[cluster]] if suggested.get(cluster) else []
        candidates += [t for _, t in sorted(tables[cluster], key=lambda x: (-x[0], x[1]))]
        candidates += [
            t
            for t, _ in sorted(terms[cluster].items(), key=lambda x: (-x[1] / spread[x[0]], x[0]))
        ]
        name = next((c for c in candidates if c not in taken), f"service-{len(names) + 1}")
        name = _unique(name, taken)
        taken.add(name)
        names[cluster] = name
    return names


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken and name != SHARED:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


# -- constraints --------------------------------------------------------------------------


def honour(
    assignment: dict[str, str], constraints: Constraints, atoms: AtomGraph
) -> dict[str, list[Reason]]:
    """Move atoms so that pins, must-link and cannot-link hold; the reasons it gives them.

    Pins first (an atom or everything under a module/package id goes to the named service,
    created if new), then must-link (the second follows the first, unless only the second is
    pinned), then cannot-link (the unpinned one moves to the service it is next most tied to).
    """
    reasons: dict[str, list[Reason]] = defaultdict(list)
    pinned: dict[str, str] = {}
    for member, service in sorted(constraints.pins.items()):
        for atom in _atoms_under(member, atoms):
            pinned[atom] = service
            assignment[atom] = service
            reasons[atom].append(Reason("pin", f"pinned to {service} by the constraints", 1.0))
    for first, second in constraints.must_link:
        for a in _atoms_under(first, atoms):
            for b in _atoms_under(second, atoms):
                if a in pinned and b in pinned and pinned[a] != pinned[b]:
                    raise ConfigError(
                        f"must_link [{first}, {second}] contradicts the pins: "
                        f"{a} is pinned to {pinned[a]}, {b} to {pinned[b]}",
                        hint="remove the pin or the must_link pair",
                    )
                mover, anchor = (a, b) if a not in pinned and b in pinned else (b, a)
                assignment[mover] = assignment[anchor]
                text = f"must be with {anchor} (constraints)"
                reasons[mover].append(Reason("constraint", text, 1.0, (anchor,)))
    for first, second in constraints.cannot_link:
        for a in _atoms_under(first, atoms):
            for b in _atoms_under(second, atoms):
                if assignment.get(a) != assignment.get(b) or assignment.get(a) == SHARED:
                    continue
                if a in pinned and b in pinned:
                    raise ConfigError(
                        f"cannot_link [{first}, {second}] contradicts the pins: both are "
                        f"pinned to {pinned[a]}",
                        hint="remove one pin or the cannot_link pair",
                    )
                mover = a if b in pinned else b
                other = a if mover == b else b
                assignment[mover] = _next_best(mover, assignment, atoms, avoid=assignment[other])
                text = f"kept apart from {other} (constraints)"
                reasons[mover].append(Reason("constraint", text, 1.0, (other,)))
    return dict(reasons)


def _atoms_under(member: str, atoms: AtomGraph) -> list[str]:
    """The atoms a constraint's id names: itself, its atom, or all under a module/package."""
    if member in atoms.atom_of and atoms.atom_of[member] != member:
        return [atoms.atom_of[member]]  # inside an atom (a method at the class level)
    found = [a for a in atoms.atoms if a == member or a.startswith(member + ".")]
    if not found:
        raise ConfigError(
            f"constraint names '{member}', which is no module, class or function of the graph",
            hint="fix the id in the constraints (pins, must_link, cannot_link)",
        )
    return found


def _next_best(atom: str, assignment: Mapping[str, str], atoms: AtomGraph, avoid: str) -> str:
    scores = _evidence(atom, assignment, atoms, {})
    ranked = sorted(
        ((score, service) for service, (score, _) in scores.items() if service != avoid),
        key=lambda item: (-item[0], item[1]),
    )
    if ranked:
        return ranked[0][1]
    return _unique(f"{avoid}-split", set(assignment.values()))


# -- explanations -------------------------------------------------------------------------


def explain(
    atoms: AtomGraph,
    assignment: Mapping[str, str],
    owners: Mapping[str, metrics.TableOwnership],
    strategy_reasons: Mapping[str, list[Reason]],
) -> dict[str, Placement]:
    """Why each atom is where it is: its ties to each service, the strongest first."""
    table_owner = {t: o.owner for t, o in owners.items() if o.owner is not None}
    services = {s for s in assignment.values() if s != SHARED}
    users: dict[str, set[str]] = defaultdict(set)
    for edge in atoms.edges:
        source = assignment.get(edge.source, SHARED)
        if source != SHARED and edge.kind != EdgeKind.CO_CHANGES:  # changing is not using
            users[edge.target].add(source)
    placements = {}
    for atom in atoms.atoms:
        service = assignment.get(atom, SHARED)
        own = list(strategy_reasons.get(atom, []))
        if service == SHARED:
            share = len(users[atom]) / len(services) if services else 0.0
            text = f"used from {len(users[atom])} of {len(services)} services"
            reason = Reason("shared", text, share, tuple(sorted(users[atom])))
            placements[atom] = Placement(SHARED, share, (*own, reason))
            continue
        scores = _evidence(atom, assignment, atoms, table_owner)
        mine = scores.get(service, (0.0, []))[0]
        rival = max((s for other, (s, _) in scores.items() if other != service), default=0.0)
        total = sum(score for score, _ in scores.values()) or 1.0
        if mine + rival:
            confidence = mine / (mine + rival)
        else:  # no dependency at all: only the strategy's own reasons place it
            confidence = 0.5
        found = [
            Reason(r.kind, r.text, r.weight / total, r.evidence)
            for r in scores.get(service, (0.0, []))[1]
        ]
        found.sort(key=lambda r: (-r.weight, r.kind, r.text))
        if rival and rival >= mine:
            best = max((s for s in scores if s != service), key=lambda s: (scores[s][0], s))
            found.append(
                Reason(
                    "against",
                    f"more ties to {best} ({rival:.1f}) than to {service} ({mine:.1f})",
                    rival / total,
                )
            )
        placements[atom] = Placement(service, confidence, (*own, *found[:_TOP_REASONS]))
    return placements


def _evidence(
    atom: str,
    assignment: Mapping[str, str],
    atoms: AtomGraph,
    table_owner: Mapping[str, str],
) -> dict[str, tuple[float, list[Reason]]]:
    """service -> (weighted ties of `atom` to it, one reason per kind of tie)."""
    ties: dict[tuple[str, str], list[tuple[float, str, tuple[Site, ...]]]] = defaultdict(list)
    commits: dict[str, int] = {}  # co-changing atom -> commits changed together
    for edge in atoms.out_edges(atom):
        other = assignment.get(edge.target, SHARED)
        weight = metrics.COUPLING_WEIGHTS.get(edge.kind, 0.0) * edge.count
        if other != SHARED and weight:
            ties[(other, edge.kind.value)].append((weight, edge.target, edge.sites[:3]))
            if edge.kind == EdgeKind.CO_CHANGES:
                commits[edge.target] = edge.count
    for edge in atoms.in_edges(atom):
        other = assignment.get(edge.source, SHARED)
        weight = metrics.COUPLING_WEIGHTS.get(edge.kind, 0.0) * edge.count
        if other != SHARED and weight:
            if edge.kind == EdgeKind.CO_CHANGES:  # symmetric: the other end is no user
                ties[(other, edge.kind.value)].append((weight, edge.source, ()))
                commits[edge.source] = edge.count
            else:
                ties[(other, "used-by")].append((weight, edge.source, ()))
    for access in atoms.accesses_of(atom):
        owner = table_owner.get(access.table)
        if owner is not None:
            weight = TABLE_WEIGHTS[access.kind] * access.count
            ties[(owner, access.kind)].append((weight, access.table, access.sites[:3]))
    scores: dict[str, tuple[float, list[Reason]]] = {}
    for (service, kind), found in sorted(ties.items()):
        weight = sum(w for w, _, _ in found)
        names = sorted({name for _, name, _ in found})
        # the first five, found in C: an atom has thousands of ties, most without sites
        sites = tuple(map(str, islice(chain.from_iterable(map(itemgetter(2), found)), 5)))
        text = _describe(kind, names, service)
        if kind == EdgeKind.CO_CHANGES.value:
            text = _describe_co_changes(names, commits, service)
        score, reasons = scores.get(service, (0.0, []))
        reasons.append(Reason(kind, text, weight, (*names[:5], *sites)))
        scores[service] = (score + weight, reasons)
    return scores


def _describe(kind: str, names: list[str], service: str) -> str:
    shown = ", ".join(n.rpartition(".")[2] or n for n in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    what = {
        "calls": "calls",
        "instantiates": "creates",
        "inherits": "inherits from",
        "references": "refers to",
        "imports": "imports",
        "co_changes": "changes together with",
        "used-by": "is used by",
        "writes": "writes table",
        "reads": "reads table",
    }.get(kind, kind)
    tables = kind in ("writes", "reads")
    return f"{what} {shown}{more} ({'owned by' if tables else 'in'} {service})"


def _describe_co_changes(names: list[str], commits: Mapping[str, int], service: str) -> str:
    """'changed together with Cart in 14 commits, Order in 3 commits (in orders)'."""
    ranked = sorted(names, key=lambda n: (-commits.get(n, 0), n))
    shown = []
    for name in ranked[:3]:
        count = commits.get(name, 0)
        shown.append(f"{name.rpartition('.')[2] or name} in {count} commit{'s' * (count != 1)}")
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"changed together with {', '.join(shown)}{more} (in {service})"


def _check_result(strategy: Strategy, result: StrategyResult, atoms: AtomGraph) -> None:
    missing = [a for a in atoms.atoms if a not in result.clusters]
    extra = [a for a in result.clusters if a not in atoms.nodes]
    if missing or extra:
        problem = f"left out {missing[0]}" if missing else f"invented {extra[0]}"
        raise PluginError(
            f"strategy '{strategy.name}' gave a cluster to {len(result.clusters)} of "
            f"{len(atoms)} atoms ({problem})",
            hint="a strategy must return exactly one cluster per atom",
        )
