"""What a proposed cut costs and which microservice patterns it needs: findings, computed the
same way for every proposal (docs/findings.md has a page per kind).

    shared-table               a table written by more than one service
    cross-service-foreign-key  a foreign key between tables of two services
    cross-service-join         SQL that joins tables of several services
    saga                       a transaction (or a use case) that writes several services' tables
    cqrs                       a read path over several services' tables
    sync-call-chain            a request whose calls would hop across services
    service-cycle              services that depend on each other in a circle
    stateful                   in-process state inside a service
    serverless-candidate       an event-triggered, self-contained, stateless entry point

Each finding has a stable id (kind and subject), a severity, the services involved, evidence
(`file:line` sites, tables, entry points) and advice in plain words. The extraction order
(strangler fig) is computed alongside.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from decomposer.metrics import CALL_KINDS, TableOwnership
from decomposer.model.atoms import AtomGraph
from decomposer.truth import SHARED

SEVERITIES = ("high", "medium", "low", "info")
#: How deep a use case's calls are followed (atoms), for sagas, chains and serverless.
MAX_DEPTH = 25
#: Event-triggered entry point kinds (not on a request path).
EVENT_KINDS = ("task", "signal")


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str
    severity: str
    title: str
    services: tuple[str, ...]
    evidence: tuple[str, ...]
    advice: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "services": list(self.services),
            "evidence": list(self.evidence),
            "advice": self.advice,
            "details": self.details,
        }


def find(
    atoms: AtomGraph,
    assignment: Mapping[str, str],
    owners: Mapping[str, TableOwnership],
    dependencies: Mapping[str, Mapping[str, int]],
) -> list[Finding]:
    """Every finding of one proposal, most severe first, then by id."""
    context = _Context(atoms, assignment, owners)
    found = [
        *_shared_tables(context),
        *_cross_service_keys(context),
        *_cross_service_joins(context),
        *_sagas(context),
        *_cqrs(context),
        *_sync_chains(context),
        *_cycles(dependencies),
        *_stateful(context),
        *_serverless(context),
    ]
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), f.kind, f.id))


class _Context:
    """The proposal seen through the atoms: services of atoms and tables, and reachability."""

    def __init__(
        self,
        atoms: AtomGraph,
        assignment: Mapping[str, str],
        owners: Mapping[str, TableOwnership],
    ) -> None:
        self.atoms = atoms
        self.service = {a: assignment.get(a, SHARED) for a in atoms.atoms}
        self.owners = owners
        self.owner = {t: o.owner for t, o in owners.items() if o.owner is not None}
        self.writers = atoms.writers()
        self.calls: dict[str, list[Any]] = defaultdict(list)
        for edge in atoms.edges:
            if edge.kind in CALL_KINDS:
                self.calls[edge.source].append(edge)
        self._reach: dict[str, dict[str, int]] = {}

    def reach(self, start: str) -> dict[str, int]:
        """Atoms reachable from `start` through calls, with their depth (bounded)."""
        if start not in self._reach:
            depth = {start: 0}
            frontier = [start]
            while frontier:
                following = []
                for atom in frontier:
                    if depth[atom] >= MAX_DEPTH:
                        continue
                    for edge in self.calls.get(atom, ()):
                        if edge.target not in depth:
                            depth[edge.target] = depth[atom] + 1
                            following.append(edge.target)
                frontier = sorted(following)
            self._reach[start] = depth
        return self._reach[start]

    def sites(self, accesses: Iterable[Any], limit: int = 5) -> tuple[str, ...]:
        return tuple(sorted({str(s) for a in accesses for s in a.sites}))[:limit]


# -- database per service ---------------------------------------------------------------


def _shared_tables(c: _Context) -> list[Finding]:
    found = []
    for table, ownership in sorted(c.owners.items()):
        if len(ownership.writers) < 2:
            continue
        others = sorted(s for s in ownership.writers if s != ownership.owner)
        writes = [a for a in c.atoms.access if a.table == table and a.kind == "writes"]
        found.append(
            Finding(
                f"shared-table:{table}",
                "shared-table",
                "high" if len(ownership.writers) > 2 else "medium",
                f"table {table} is written by {len(ownership.writers)} services",
                tuple(sorted(ownership.writers)),
                (table, *c.sites(writes)),
                f"Give {table} to {ownership.owner} alone ({ownership.reason}); "
                f"{', '.join(others)} should change it through {ownership.owner}'s API or by "
                "publishing events it consumes.",
                {"owner": ownership.owner, "writers": dict(sorted(ownership.writers.items()))},
            )
        )
    return found


def _cross_service_keys(c: _Context) -> list[Finding]:
    found = []
    for source, target in sorted(set(c.atoms.foreign_keys)):
        a, b = c.owner.get(source), c.owner.get(target)
        if a is None or b is None or a == b:
            continue
        found.append(
            Finding(
                f"cross-service-foreign-key:{source}->{target}",
                "cross-service-foreign-key",
                "low",
                f"{source} ({a}) has a foreign key to {target} ({b})",
                (a, b),
                (source, target),
                f"Keep the {target} id in {source} without the database constraint; {a} asks "
                f"{b}'s API for what it needs, or keeps a read-only copy fed by {b}'s events.",
            )
        )
    return found


def _cross_service_joins(c: _Context) -> list[Finding]:
    found = []
    for atom in c.atoms.atoms:
        for pair in c.atoms.nodes[atom].attrs.get("sql_joins", ()):
            services = sorted({c.owner[t] for t in pair if t in c.owner})
            if len(services) < 2:
                continue
            a, b = pair
            found.append(
                Finding(
                    f"cross-service-join:{atom}:{a}+{b}",
                    "cross-service-join",
                    "medium",
                    f"SQL in {atom} joins {a} and {b}, owned by {' and '.join(services)}",
                    tuple(services),
                    (a, b, *(f"{c.atoms.nodes[atom].file}:{c.atoms.nodes[atom].line}",)),
                    "Split the query: read each service's part through its API and combine "
                    "them (API composition), or keep a read model fed by both services' "
                    "events (CQRS).",
                )
            )
    return found


# -- sagas ----------------------------------------------------------------------------------


def _sagas(c: _Context) -> list[Finding]:
    found = []
    covered: set[tuple[str, frozenset[str]]] = set()
    for tx in c.atoms.transactions:
        steps = _steps(c, [table for _, table in tx.steps] or sorted(tx.tables), tx.atom)
        if len({s["service"] for s in steps}) < 2:
            continue
        covered.add((tx.atom, frozenset(s["service"] for s in steps)))
        node = c.atoms.nodes[tx.atom]
        found.append(
            _saga(
                f"saga:{tx.atom}:{tx.line}",
                "high",
                f"the transaction in {tx.atom} (line {tx.line}) writes tables of "
                f"{len({s['service'] for s in steps})} services",
                steps,
                c.service[tx.atom],
                (f"{node.file}:{tx.line}",),
                {"source": "transaction", "transaction": tx.kind},
            )
        )
    for entry, handlers in sorted(c.atoms.entries.items()):
        depth: dict[str, int] = {}
        for handler in handlers:
            for atom, d in c.reach(handler).items():
                depth[atom] = min(d, depth.get(atom, d))
        first: dict[str, int] = {}  # table -> depth of its nearest writer: the order of steps
        for atom, d in depth.items():
            for access in c.atoms.accesses_of(atom):
                if access.kind == "writes":
                    first[access.table] = min(d, first.get(access.table, d))
        tables = sorted(first, key=lambda t: (first[t], t))
        steps = _steps(c, tables, None, set(depth))
        services = frozenset(s["service"] for s in steps)
        if len(services) < 2 or any(atom in depth and seen >= services for atom, seen in covered):
            continue  # a transaction it runs already is a saga over these services
        found.append(
            _saga(
                f"saga:{entry}",
                "medium",
                f"use case {entry.removeprefix('entry:')} writes tables of {len(services)} "
                "services in separate transactions",
                steps,
                c.service.get(handlers[0], SHARED),
                (entry,),
                {"source": "use case"},
            )
        )
    return found


def _steps(
    c: _Context, tables: list[str], start: str | None, reached: set[str] | None = None
) -> list[dict[str, Any]]:
    """Tables in order, grouped into one step per run of the same owning service."""
    if reached is None:
        reached = set(c.reach(start)) if start else set()
    steps: list[dict[str, Any]] = []
    for table in tables:
        service = c.owner.get(table)
        if service is None:
            continue
        if steps and steps[-1]["service"] == service:
            steps[-1]["tables"].append(table)
        else:
            steps.append({"service": service, "tables": [table]})
    for step in steps:
        writers = {a for t in step["tables"] for a in c.writers.get(t, ()) if a in reached}
        step["code"] = sorted(writers)
        step["compensation"] = (
            f"undo {step['service']}'s changes to {', '.join(step['tables'])} "
            "(delete the rows it created, restore the values it changed)"
        )
    return steps


def _saga(
    finding_id: str,
    severity: str,
    title: str,
    steps: list[dict[str, Any]],
    starter: str,
    evidence: tuple[str, ...],
    details: dict[str, Any],
) -> Finding:
    services = tuple(dict.fromkeys(s["service"] for s in steps))
    participants = len(services)
    coordinator = starter if starter not in (SHARED, *services) else None
    if participants >= 3 or coordinator is not None:
        coordination = "orchestration"
        why = (
            f"{participants} participants: one orchestrator"
            + (f" ({coordinator}, which starts it and owns no step)" if coordinator else "")
            + " keeps the order and the compensations in one place"
        )
    else:
        coordination = "choreography"
        why = "two participants: each reacts to the other's event, no coordinator needed"
    steps[-1]["compensation"] = "none: the last step either succeeds or the saga compensates"
    advice = (
        f"Replace the single transaction by a saga over {', '.join(services)} "
        f"({coordination}: {why}). Each step but the last must update its tables and publish "
        "its event atomically: use a transactional outbox (or event sourcing)."
    )
    return Finding(
        finding_id,
        "saga",
        severity,
        title,
        services,
        evidence,
        advice,
        {**details, "steps": steps, "coordination": coordination, "why": why, "outbox": True},
    )


# -- CQRS -----------------------------------------------------------------------------------


def _cqrs(c: _Context) -> list[Finding]:
    found = []
    for atom in c.atoms.atoms:
        accesses = c.atoms.accesses_of(atom)
        if not accesses or any(a.kind == "writes" for a in accesses):
            continue
        read = sorted({a.table for a in accesses})
        services = sorted({c.owner[t] for t in read if t in c.owner})
        if len(services) < 2:
            continue
        found.append(
            Finding(
                f"cqrs:{atom}",
                "cqrs",
                "medium",
                f"{atom} reads tables of {len(services)} services",
                tuple(services),
                (*read, *c.sites(accesses)),
                f"Serve this read from a read model ({', '.join(read)}) that "
                f"{c.service[atom]} keeps up to date from the events of "
                f"{', '.join(s for s in services if s != c.service[atom]) or services[0]}.",
                {"tables": read},
            )
        )
    return found


# -- synchronous coupling -------------------------------------------------------------------


def _sync_chains(c: _Context) -> list[Finding]:
    found = []
    for entry, handlers in sorted(c.atoms.entries.items()):
        kind = entry.split(":", 2)[1] if entry.count(":") >= 2 else ""
        hops, crossings = _hops(c, handlers)
        if not crossings:
            continue
        depth = max(hops.values())
        services = sorted({c.service[a] for a in hops} - {SHARED})
        volume = sum(edge.runtime_count for edge in crossings)
        calls = sorted({f"{c.service[e.source]} -> {c.service[e.target]}" for e in crossings})
        request = kind == "http"
        severity = "high" if depth >= 3 else "medium" if depth == 2 else "low"
        if request:
            advice = (
                "On this request path every call across services needs a timeout and a circuit "
                "breaker (with a fallback); where the caller does not use the answer, publish "
                "an event instead."
            )
        else:
            advice = (
                "Nothing waits for this entry point: call the other services asynchronously "
                "(messages or events) rather than synchronously."
            )
        sites = tuple(sorted({str(s) for e in crossings for s in e.sites[:1]}))[:5]
        found.append(
            Finding(
                f"sync-call-chain:{entry}",
                "sync-call-chain",
                severity if request else "low",
                f"{entry.removeprefix('entry:')} calls across {depth} service "
                f"{'boundaries' if depth > 1 else 'boundary'} ({len(services)} services)",
                tuple(services),
                (entry, *sites),
                advice,
                {
                    "depth": depth,
                    "fan_out": len(services) - 1,
                    "calls": calls,
                    "runtime_calls": volume,
                    "request_path": request,
                },
            )
        )
    return found


def _hops(c: _Context, handlers: tuple[str, ...]) -> tuple[dict[str, int], list[Any]]:
    """Fewest service changes to reach each atom from the handlers; the crossing edges."""
    hops = {h: 0 for h in handlers}
    frontier = sorted(handlers)
    crossings = []
    steps = 0
    while frontier and steps < MAX_DEPTH:
        steps += 1
        following = []
        for atom in frontier:
            for edge in c.calls.get(atom, ()):
                source, target = c.service[atom], c.service[edge.target]
                cross = SHARED not in (source, target) and source != target
                if cross:
                    crossings.append(edge)
                cost = hops[atom] + (1 if cross else 0)
                if edge.target not in hops or cost < hops[edge.target]:
                    hops[edge.target] = cost
                    following.append(edge.target)
        frontier = sorted(set(following))
    return hops, crossings


# -- cycles -------------------------------------------------------------------------------


def _cycles(dependencies: Mapping[str, Mapping[str, int]]) -> list[Finding]:
    """One finding per strongly connected group of services, with the few dependencies
    (the lightest first) whose removal makes the group acyclic."""
    import networkx as nx

    graph = nx.DiGraph()
    for source, targets in dependencies.items():
        for target, weight in targets.items():
            if source != target:
                graph.add_edge(source, target, weight=weight)
    found = []
    for group in sorted(sorted(g) for g in nx.strongly_connected_components(graph) if len(g) > 1):
        cut = _feedback_edges(graph.subgraph(group))
        found.append(
            Finding(
                f"service-cycle:{'+'.join(group)}",
                "service-cycle",
                "high",
                f"{len(group)} services depend on each other in a circle: {', '.join(group)}",
                tuple(group),
                tuple(f"{a} -> {b} ({w} edges)" for a, b, w in cut),
                "Break the circle at the lightest dependencies listed: move that code to the "
                "service it calls, invert it (the other side publishes events), or call "
                "through an API the callee owns.",
                {"cut": [[a, b, w] for a, b, w in cut]},
            )
        )
    return found


def _feedback_edges(graph: Any) -> list[tuple[str, str, int]]:
    """Edges to remove to make a small digraph acyclic: repeatedly the lightest edge on a
    remaining cycle (services are few, so this stays cheap)."""
    import networkx as nx

    work = nx.DiGraph(graph)
    cut = []
    while True:
        try:
            cycle = nx.find_cycle(work)
        except nx.NetworkXNoCycle:
            return sorted(cut, key=lambda e: (e[2], e[0], e[1]))
        a, b = min(((u, v) for u, v in cycle), key=lambda e: (work.edges[e]["weight"], e))
        cut.append((a, b, work.edges[a, b]["weight"]))
        work.remove_edge(a, b)


# -- state and serverless -------------------------------------------------------------------


def _stateful(c: _Context) -> list[Finding]:
    found = []
    for atom in c.atoms.atoms:
        service = c.service[atom]
        for state in c.atoms.nodes[atom].attrs.get("state", ()):
            kind = state["kind"]
            found.append(
                Finding(
                    f"stateful:{state['name']}:{kind}",
                    "stateful",
                    "medium" if kind in ("module-state", "global", "class-state") else "low",
                    f"{state['name']} ({kind.replace('-', ' ')}) lives in the process of "
                    f"{service if service != SHARED else 'a shared library'}",
                    (service,) if service != SHARED else (),
                    (f"{c.atoms.nodes[atom].file}:{state['line']}",),
                    _STATE_ADVICE[kind],
                    {"atom": atom, "state": kind},
                )
            )
    return found


_STATE_ADVICE = {
    "module-state": "Each replica of the service would hold its own copy: move this data to "
    "a store the replicas share (database, cache server) or make it immutable.",
    "global": "A global assigned at run time differs between replicas: keep it in shared "
    "storage, or build it once at start-up from configuration.",
    "class-state": "A class attribute set at run time is per process: replicas disagree. "
    "Keep it in shared storage or make it configuration.",
    "cache": "An in-process cache is fine for derived data, but replicas see different "
    "contents: bound its age, or use a shared cache for data that must agree.",
}


def _serverless(c: _Context) -> list[Finding]:
    found = []
    for entry, handlers in sorted(c.atoms.entries.items()):
        kind = entry.split(":", 2)[1] if entry.count(":") >= 2 else ""
        if kind not in EVENT_KINDS:
            continue
        reached = set()
        for handler in handlers:
            reached |= set(c.reach(handler))
        services = {c.service[a] for a in reached} - {SHARED}
        stateful = any(c.atoms.nodes[a].attrs.get("state") for a in reached)
        if len(services) != 1 or stateful:
            continue
        (service,) = services
        found.append(
            Finding(
                f"serverless-candidate:{entry}",
                "serverless-candidate",
                "info",
                f"{entry.removeprefix('entry:')} is triggered by an event, stays in {service} "
                "and keeps no state in process",
                (service,),
                (entry,),
                "It could run as a function (serverless) triggered by its event, scaled to zero "
                "between events, instead of living in a long-running service.",
                {"atoms": len(reached)},
            )
        )
    return found


# -- extraction order -----------------------------------------------------------------------


def extraction_order(
    atoms: AtomGraph,
    assignment: Mapping[str, str],
    owners: Mapping[str, TableOwnership],
    dependencies: Mapping[str, Mapping[str, int]],
) -> list[dict[str, Any]]:
    """Strangler fig: take out first the service least tied to what remains, each step
    listing what must be cut (calls both ways, shared tables, foreign keys)."""
    remaining = {s for s in dependencies if s != SHARED}
    owner = {t: o.owner for t, o in owners.items() if o.owner is not None}
    shared_with: dict[str, set[str]] = defaultdict(set)
    for table, ownership in owners.items():
        for service in set(ownership.writers) | set(ownership.readers):
            if service != ownership.owner and ownership.owner is not None:
                shared_with[service].add(table)
                shared_with[ownership.owner].add(table)
    order = []
    while remaining:

        def cost(service: str) -> tuple[int, int, str]:
            edges = sum(n for t, n in dependencies.get(service, {}).items() if t in remaining)
            edges += sum(
                dependencies.get(other, {}).get(service, 0) for other in remaining - {service}
            )
            tables = len(shared_with[service])
            size = sum(1 for s in assignment.values() if s == service)
            return (edges + 5 * tables, size, service)

        chosen = min(remaining, key=cost)
        remaining.discard(chosen)
        others = remaining
        order.append(
            {
                "service": chosen,
                "calls_out": {
                    t: n for t, n in sorted(dependencies.get(chosen, {}).items()) if t in others
                },
                "calls_in": {
                    o: dependencies.get(o, {}).get(chosen, 0)
                    for o in sorted(others)
                    if dependencies.get(o, {}).get(chosen, 0)
                },
                "shared_tables": sorted(shared_with[chosen]),
                "foreign_keys": sorted(
                    f"{a}->{b}"
                    for a, b in set(atoms.foreign_keys)
                    if chosen in (owner.get(a), owner.get(b))
                    and {owner.get(a), owner.get(b)} & others
                ),
                "cost": cost(chosen)[0],
            }
        )
    return order
