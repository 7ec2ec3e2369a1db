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
from itertools import islice
from typing import Any

from decomposer.metrics import CALL_KINDS, TableOwnership
from decomposer.model.atoms import AtomGraph
from decomposer.truth import SHARED

SEVERITIES = ("high", "medium", "low", "info")
#: Event-triggered entry point kinds (not on a request path).
EVENT_KINDS = ("task", "signal")
#: Tables a saga step lists; beyond, `tables_total` counts them (a use case whose calls
#: reach most of a large schema would otherwise list it whole in every step).
STEP_TABLES = 10
#: Runs of writes a saga keeps in order; beyond, its steps are one per service (a
#: transaction whose writes alternate between services a hundred times is no 100-step saga).
SAGA_STEPS = 12


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
    """The proposal seen through the atoms: services of atoms and tables, and what each atom
    reaches through calls, summarised once for all atoms (see `closure`)."""

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
        self.tables = sorted(atoms.tables)
        self.services = sorted({s for s in self.service.values() if s != SHARED})
        self.transactions = list(atoms.transactions)
        self.table_bit = {t: 1 << i for i, t in enumerate(self.tables)}
        self.service_bit = {s: 1 << i for i, s in enumerate(self.services)}
        self._dag: tuple[Any, list[int]] | None = None
        self._closure: dict[str, _Reach] | None = None
        self._closures: dict[tuple[str, ...], _Reach] = {}
        self._reaching: dict[str, int] | None = None
        self._owner_writers: dict[str, list[str]] = {}
        self._owned: dict[str, int] | None = None  # service -> the tables it owns, as bits

    def reaching(self) -> dict[str, int]:
        """table writer -> the transactions whose atom reaches it through calls, itself
        included (bit i = the i-th transaction)."""
        if self._reaching is None:
            self._reaching = self._transactions_reaching()
        return self._reaching

    def _transactions_reaching(self) -> dict[str, int]:
        """table writer -> the transactions reaching it (bit i = the i-th): the bits flow
        once along the condensed call graph, callers first, instead of one walk per
        transaction. Parts holding no writer drop their bits once passed on."""
        dag, order = self._condensation()
        part_of = dag.graph["mapping"]
        writers = {atom for found in self.writers.values() for atom in found}
        kept = {part_of[atom] for atom in writers}
        bits: dict[int, int] = defaultdict(int)
        for i, tx in enumerate(self.transactions):
            bits[part_of[tx.atom]] |= 1 << i
        for part in order:
            found = bits.get(part, 0) if part in kept else bits.pop(part, 0)
            if found:
                for child in dag.successors(part):
                    bits[child] |= found
        return {atom: bits.get(part_of[atom], 0) for atom in writers}

    def _condensation(self) -> tuple[Any, list[int]]:
        """The call graph with its strongly connected parts collapsed, and the parts in
        topological order (callers first); built once for reach in both directions."""
        if self._dag is None:
            import networkx as nx

            graph = nx.DiGraph()
            graph.add_nodes_from(self.atoms.atoms)
            graph.add_edges_from((e.source, e.target) for es in self.calls.values() for e in es)
            dag = nx.condensation(graph)
            self._dag = (dag, list(nx.topological_sort(dag)))
        return self._dag

    def crossing(self, a: str, b: str) -> bool:
        sa, sb = self.service[a], self.service[b]
        return SHARED not in (sa, sb) and sa != sb

    def closure(self, handlers: tuple[str, ...]) -> _Reach:
        """What the handlers reach through calls, transitively: one pass over the call graph
        for all atoms (strongly connected parts collapsed, summaries as bit sets), so each
        entry point costs a lookup, not a walk. Shared between callers: read it, never change
        it."""
        if self._closure is None:
            self._closure = self._summarise()
        if len(handlers) == 1:
            return self._closure[handlers[0]]
        found = self._closures.get(handlers)
        if found is None:
            found = _Reach()
            for handler in handlers:
                found.absorb(self._closure[handler])
            self._closures[handlers] = found
        return found

    def _summarise(self) -> dict[str, _Reach]:
        dag, order = self._condensation()
        part_of = dag.graph["mapping"]
        table_bit, service_bit = self.table_bit, self.service_bit
        tx_bit: dict[str, int] = defaultdict(int)
        for i, tx in enumerate(self.transactions):
            tx_bit[tx.atom] |= 1 << i
        pair_index: dict[tuple[str, str], int] = {}
        summaries: dict[int, _Reach] = {}
        for part in reversed(order):
            members = dag.nodes[part]["members"]
            reach = _Reach()
            inside = {self.service[m] for m in members} - {SHARED}
            depth = 1 if len(inside) > 1 else 0  # a cycle across services: one crossing
            absorbed: set[int] = set()  # taking in a part twice changes nothing
            for atom in sorted(members):  # a set: sorted, so the sites kept never vary
                service = self.service[atom]
                reach.services |= service_bit.get(service, 0)
                reach.tables |= sum(table_bit[t] for t in self._writes(atom))
                reach.transactions |= tx_bit.get(atom, 0)
                reach.stateful |= bool(self.atoms.nodes[atom].attrs.get("state"))
                for edge in self.calls.get(atom, ()):
                    cross = self.crossing(atom, edge.target)
                    if cross:
                        pair = (service, self.service[edge.target])
                        index = pair_index.setdefault(pair, len(pair_index))
                        reach.pairs |= 1 << index
                        if edge.runtime_count:  # static-only graphs keep no empty counts
                            reach.volume[pair] = reach.volume.get(pair, 0) + edge.runtime_count
                        reach.sites.setdefault(pair, edge.sites[:1])
                    child = part_of[edge.target]
                    if child != part:
                        below = summaries[child]
                        depth = max(depth, below.depth + (1 if cross else 0))
                        if child not in absorbed:
                            absorbed.add(child)
                            reach.absorb(below)
            reach.depth = max(reach.depth, depth)
            summaries[part] = reach
        self.pairs = {index: pair for pair, index in pair_index.items()}
        return {atom: summaries[part] for atom, part in part_of.items()}

    def _writes(self, atom: str) -> set[str]:
        return {a.table for a in self.atoms.accesses_of(atom) if a.kind == "writes"}

    def owner_writers(self, table: str) -> list[str]:
        """The atoms of the table's owner that write it, sorted (kept: sagas ask often)."""
        found = self._owner_writers.get(table)
        if found is None:
            owner = self.owner.get(table)
            writers = self.writers.get(table, ())
            found = sorted(a for a in writers if self.service[a] == owner)
            self._owner_writers[table] = found
        return found

    def owners_of(self, tables: int) -> frozenset[str]:
        """The services owning any of the tables (a bit set, see `closure`)."""
        if self._owned is None:
            self._owned = defaultdict(int)
            for table, owner in self.owner.items():
                self._owned[owner] |= self.table_bit[table]
        return frozenset(s for s, bits in self._owned.items() if tables & bits)

    def decode_tables(self, bits: int) -> list[str]:
        return [t for t, bit in self.table_bit.items() if bits & bit]

    def decode_services(self, bits: int) -> list[str]:
        return [s for s, bit in self.service_bit.items() if bits & bit]

    def sites(self, accesses: Iterable[Any], limit: int = 5) -> tuple[str, ...]:
        return tuple(sorted({str(s) for a in accesses for s in a.sites}))[:limit]


@dataclass
class _Reach:
    """What an atom reaches through calls: tables written, services, crossing service pairs
    (bit sets), the most service boundaries one path crosses, state, transactions."""

    tables: int = 0
    services: int = 0
    pairs: int = 0
    transactions: int = 0
    depth: int = 0
    stateful: bool = False
    volume: dict[tuple[str, str], int] = field(default_factory=dict)
    sites: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)

    def absorb(self, other: _Reach) -> None:
        """Add what `other` reaches, in place; a pair's first site is kept."""
        self.tables |= other.tables
        self.services |= other.services
        self.pairs |= other.pairs
        self.transactions |= other.transactions
        self.depth = max(self.depth, other.depth)
        self.stateful = self.stateful or other.stateful
        for pair, count in other.volume.items():
            self.volume[pair] = max(self.volume.get(pair, 0), count)
        for pair, sites in other.sites.items():
            self.sites.setdefault(pair, sites)


# -- database per service ---------------------------------------------------------------


def _shared_tables(c: _Context) -> list[Finding]:
    found = []
    writes_of: dict[str, list[Any]] = defaultdict(list)
    for access in c.atoms.access:
        if access.kind == "writes":
            writes_of[access.table].append(access)
    for table, ownership in sorted(c.owners.items()):
        if len(ownership.writers) < 2:
            continue
        others = sorted(s for s in ownership.writers if s != ownership.owner)
        writes = writes_of[table]
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
    covered: dict[int, frozenset[str]] = {}  # transaction index -> its services
    for index, tx in enumerate(c.transactions):
        tables = [table for _, table in tx.steps] or sorted(tx.tables)
        steps = _steps(c, tables, index)
        services = frozenset(s["service"] for s in steps)
        if len(services) < 2:
            continue
        covered[index] = services
        node = c.atoms.nodes[tx.atom]
        found.append(
            _saga(
                f"saga:{tx.atom}:{tx.line}",
                "high",
                f"the transaction in {tx.atom} (line {tx.line}) writes tables of "
                f"{len(services)} services",
                steps,
                c.service[tx.atom],
                (f"{node.file}:{tx.line}",),
                {"source": "transaction", "transaction": tx.kind},
            )
        )
    # transactions already sagas, by their services: a use case running one of them over
    # at least its own services needs no saga of its own
    by_services: dict[frozenset[str], int] = defaultdict(int)
    for index, services in covered.items():
        by_services[services] |= 1 << index
    covering: dict[frozenset[str], int] = {}
    # use cases writing the same tables, started from the same service, are one saga: a
    # monolith's many entry points into one workflow would otherwise repeat it in each
    groups: dict[tuple[int, str], list[str]] = {}
    for entry, handlers in c.atoms.declared_entries():
        reach = c.closure(handlers)
        services = c.owners_of(reach.tables)
        if services not in covering:
            covering[services] = 0
            for seen, bits in by_services.items():
                if seen >= services:
                    covering[services] |= bits
        if len(services) < 2 or reach.transactions & covering[services]:
            continue
        groups.setdefault((reach.tables, c.service.get(handlers[0], SHARED)), []).append(entry)
    for (tables_bits, starter), entries in groups.items():
        # grouped by owner: the order of the calls is not known at this level
        tables = sorted(c.decode_tables(tables_bits), key=lambda t: (c.owner.get(t, ""), t))
        steps = _steps(c, tables)
        named = entries[0].removeprefix("entry:")
        more = len(entries) - 1
        who = f"use cases {named} and {more} more write" if more else f"use case {named} writes"
        services = frozenset(step["service"] for step in steps)
        found.append(
            _saga(
                f"saga:{entries[0]}",
                "medium",
                f"{who} tables of {len(services)} services in separate transactions",
                steps,
                starter,
                tuple(entries),
                {"source": "use case", "use_cases": len(entries)},
            )
        )
    return found


def _steps(c: _Context, tables: list[str], transaction: int | None = None) -> list[dict[str, Any]]:
    """Tables in order, grouped into one step per run of the same owning service (per service
    when the runs are more than SAGA_STEPS), each with the code of that service that writes
    them (that the transaction reaches, when given)."""
    runs: list[dict[str, Any]] = []
    for table in tables:
        service = c.owner.get(table)
        if service is None:
            continue
        if runs and runs[-1]["service"] == service:
            runs[-1]["tables"].append(table)
        else:
            runs.append({"service": service, "tables": [table]})
    steps = runs
    if len(runs) > max(SAGA_STEPS, len({run["service"] for run in runs})):
        by_service: dict[str, dict[str, Any]] = {}
        for run in runs:
            service = run["service"]
            step = by_service.setdefault(service, {"service": service, "tables": [], "runs": 0})
            step["tables"] += run["tables"]
            step["runs"] += 1
        steps = list(by_service.values())
    reaching = c.reaching() if transaction is not None else {}
    bit = 1 << transaction if transaction is not None else 0
    for step in steps:
        if len(step["tables"]) > STEP_TABLES:  # code reaching most of a big schema
            step["tables_total"] = len(step["tables"])
            step["tables"] = step["tables"][:STEP_TABLES]
        writers: set[str] = set()
        for table in step["tables"]:
            # each table's first ten: the union's first ten are among them
            found: Iterable[str] = c.owner_writers(table)
            if transaction is not None:
                found = (a for a in found if reaching.get(a, 0) & bit)
            writers.update(islice(found, 10))
        step["code"] = sorted(writers)[:10]
        more = step.get("tables_total", 0) - len(step["tables"])
        step["compensation"] = (
            f"undo {step['service']}'s changes to {', '.join(step['tables'])}"
            + (f" and {more} more tables" if more > 0 else "")
            + " (delete the rows it created, restore the values it changed)"
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
    runs = sum(step.get("runs", 0) for step in steps)
    if runs:
        advice += (
            f" Its writes alternate between the services ({runs} runs): the steps group them "
            "per service, so reorder the writes first, each service's together."
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
    # entry points of one kind making the same calls across services are one finding: a
    # monolith's many routes into one module would otherwise repeat it for each
    groups: dict[tuple[bool, int, int, int], list[tuple[str, _Reach]]] = {}
    for entry, handlers in c.atoms.declared_entries():
        reach = c.closure(handlers)
        if reach.pairs:
            request = entry.startswith("entry:http:")
            key = (request, reach.pairs, reach.services, max(reach.depth, 1))
            groups.setdefault(key, []).append((entry, reach))
    found = []
    for (request, pair_bits, service_bits, depth), members in groups.items():
        entries = [entry for entry, _ in members]
        pairs = sorted(c.pairs[i] for i in range(pair_bits.bit_length()) if pair_bits >> i & 1)
        services = c.decode_services(service_bits)
        volume = sum(reach.volume.get(pair, 0) for _, reach in members for pair in pairs)
        first = members[0][1]  # every member makes these calls: the first one's sites show them
        sites = sorted({str(s) for pair in pairs for s in first.sites.get(pair, ())})
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
        named = entries[0].removeprefix("entry:")
        more = len(entries) - 1
        who = f"{named} and {more} more call" if more else f"{named} calls"
        found.append(
            Finding(
                f"sync-call-chain:{entries[0]}",
                "sync-call-chain",
                severity if request else "low",
                f"{who} across {depth} service {'boundaries' if depth > 1 else 'boundary'} "
                f"({len(services)} services)",
                tuple(services),
                (*entries, *sites[:5]),
                advice,
                {
                    "depth": depth,
                    "fan_out": len(services) - 1,
                    "calls": [f"{a} -> {b}" for a, b in pairs],
                    "runtime_calls": volume,
                    "request_path": request,
                    "entry_points": len(entries),
                },
            )
        )
    return found


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
    cut: list[tuple[str, str, int]] = []
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
    for entry, handlers in c.atoms.declared_entries():
        kind = entry.split(":", 2)[1] if entry.count(":") >= 2 else ""
        if kind not in EVENT_KINDS:
            continue
        reach = c.closure(handlers)
        services = c.decode_services(reach.services)
        if len(services) != 1 or reach.stateful:
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
                {},
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
