"""A proposed decomposition (`proposal.json`), the constraints a user puts on one, and the
explanation of every placement. See docs/proposal-format.md.

The file is meant to be edited by hand: people move members between services, add services,
rename them, then run `decomposer evaluate`. Only `services.*.members` and `shared.members`
are read back as the decomposition; everything else (tables, API, dependencies, metrics,
explanations) is recomputed from the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from decomposer.errors import InputError
from decomposer.model.atoms import LEVELS, AtomGraph
from decomposer.model.graph import DependencyGraph
from decomposer.truth import SHARED

SCHEMA = 1


@dataclass(frozen=True)
class Reason:
    """One piece of evidence for a placement, for people to read and weigh."""

    kind: str  # calls, called-by, writes, reads, use-case, terms, pin, constraint, …
    text: str  # "writes table orders (12 times)"
    weight: float  # its share of the atom's evidence, 0..1
    evidence: tuple[str, ...] = ()  # file:line sites, tables, entry points, terms

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "weight": round(self.weight, 3),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Placement:
    service: str  # a service name, or SHARED
    confidence: float  # 0..1: how clearly the evidence favours this service over the next
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "confidence": round(self.confidence, 3),
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(frozen=True)
class Constraints:
    """What the user decided already; every strategy's result is made to honour it."""

    pins: Mapping[str, str] = field(default_factory=dict)  # atom or prefix -> service
    must_link: tuple[tuple[str, str], ...] = ()
    cannot_link: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pins or self.must_link or self.cannot_link)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pins": dict(sorted(self.pins.items())),
            "must_link": [list(pair) for pair in self.must_link],
            "cannot_link": [list(pair) for pair in self.cannot_link],
        }

    def merged(self, other: Constraints) -> Constraints:
        return Constraints(
            {**self.pins, **other.pins},
            tuple(dict.fromkeys(self.must_link + other.must_link)),
            tuple(dict.fromkeys(self.cannot_link + other.cannot_link)),
        )


def parse_constraints(data: Any, *, where: str) -> Constraints:
    """Constraints from a config table or a proposal's "constraints"; problems all at once."""
    if data is None:
        return Constraints()
    problems = []
    if not isinstance(data, dict):
        raise InputError(f"constraints in {where} should be a table / object")
    pins = data.get("pins", {})
    if not isinstance(pins, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in pins.items()
    ):
        problems.append("'pins' should map atom ids to service names")
        pins = {}
    pairs: dict[str, tuple[tuple[str, str], ...]] = {}
    for key in ("must_link", "cannot_link"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(a, str) for a in p)
            for p in value
        ):
            problems.append(f"'{key}' should be a list of [atom, atom] pairs")
            value = []
        pairs[key] = tuple((a, b) for a, b in value)
    unknown = sorted(set(data) - {"pins", "must_link", "cannot_link"})
    if unknown:
        problems.append(f"unknown keys {', '.join(unknown)} (known: pins, must_link, cannot_link)")
    if problems:
        raise InputError(
            f"constraints in {where}: {problems[0]}",
            details=problems[1:],
            hint="see docs/proposal-format.md",
        )
    return Constraints(dict(pins), pairs["must_link"], pairs["cannot_link"])


@dataclass
class Proposal:
    strategy: str
    level: str
    seed: int
    k_choice: str  # how the number of services was chosen
    #: service -> its member atoms (sorted); the services in name order
    services: dict[str, list[str]]
    shared: list[str]
    constraints: Constraints = field(default_factory=Constraints)
    options: dict[str, Any] = field(default_factory=dict)
    placements: dict[str, Placement] = field(default_factory=dict)
    #: Filled in by the core from the graph: tables, api, dependencies, metrics, findings.
    derived: dict[str, Any] = field(default_factory=dict)

    def assignment(self) -> dict[str, str]:
        """atom -> service name or SHARED."""
        found = {atom: SHARED for atom in self.shared}
        for name, members in self.services.items():
            found.update(dict.fromkeys(members, name))
        return found

    def to_dict(self) -> dict[str, Any]:
        derived = self.derived
        services = {}
        for name, members in sorted(self.services.items()):
            services[name] = {
                "members": sorted(members),
                "tables": derived.get("owned_tables", {}).get(name, []),
                "api": derived.get("api", {}).get(name, []),
                "depends_on": derived.get("dependencies", {}).get(name, {}),
                "team": derived.get("teams", {}).get(name, []),
            }
        return {
            "schema": SCHEMA,
            "strategy": self.strategy,
            "level": self.level,
            "seed": self.seed,
            "k_choice": self.k_choice,
            "options": self.options,
            "constraints": self.constraints.to_dict(),
            "services": services,
            "shared": {"members": sorted(self.shared)},
            "tables": derived.get("tables", {}),
            "metrics": derived.get("metrics", {}),
            "findings": derived.get("findings", []),
            "extraction_order": derived.get("extraction_order", []),
            "explanations": {
                atom: placement.to_dict() for atom, placement in sorted(self.placements.items())
            },
        }


def parse_proposal(
    data: Any, graph: DependencyGraph | None, *, where: str
) -> tuple[Proposal, AtomGraph | None]:
    """A proposal read back (hand-edited, perhaps), checked against the graph's atoms at the
    proposal's level (and the atoms, for what comes next).

    A member may be an atom or any id above atoms (a module, a package below the top level):
    it brings every atom under it that no longer member claims. Every problem is reported at once.
    """
    if not isinstance(data, dict):
        raise InputError(f"proposal {where} is not a JSON object", hint=_HINT)
    problems: list[str] = []
    if data.get("schema") != SCHEMA:
        problems.append(f"'schema' should be {SCHEMA}, got {data.get('schema')!r}")
    level = data.get("level", "class")
    if level not in LEVELS:
        problems.append(f"'level' should be one of {', '.join(LEVELS)}, got {level!r}")
    atoms = AtomGraph.from_graph(graph, level) if graph is not None and level in LEVELS else None
    services_data = data.get("services")
    if not isinstance(services_data, dict) or not services_data:
        problems.append("'services' should be an object: service name -> {\"members\": [...]}")
        services_data = {}
    if SHARED in services_data:
        problems.append(f"'{SHARED}' is reserved for shared utilities; rename that service")
    groups: list[tuple[str, Any]] = [(n, b) for n, b in services_data.items() if n != SHARED]
    groups.append((SHARED, data.get("shared", {"members": []})))
    claimed: dict[str, str] = {}
    for name, body in groups:
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            problems.append(f"'{name}' should have a list of 'members' (atom ids)")
            continue
        for member in members:
            if member in claimed:
                problems.append(f"'{member}' is in both '{claimed[member]}' and '{name}'")
            else:
                claimed[member] = name
    if atoms is not None:
        known = set(atoms.atom_of)
        unknown = sorted(m for m in claimed if m not in known and not _is_prefix(m, atoms))
        for member in unknown[:20]:
            problems.append(f"'{member}' is not a module, class or function of the graph")
        for member in sorted(m for m in claimed if atoms.atom_of.get(m, m) != m)[:20]:
            problems.append(
                f"'{member}' is inside the {level}-level atom '{atoms.atom_of[member]}': "
                "list the atom (or decompose with a finer --level)"
            )
    if problems:
        raise InputError(
            f"proposal {where} has {len(problems)} problem(s): {problems[0]}",
            details=problems[1:],
            hint=_HINT,
        )
    constraints = parse_constraints(data.get("constraints"), where=where)
    services: dict[str, list[str]] = {name: [] for name, _ in groups if name != SHARED}
    shared: list[str] = []
    if atoms is None:
        for member, name in claimed.items():
            (shared if name == SHARED else services[name]).append(member)
    else:
        unplaced: list[str] = []
        for atom in atoms.atoms:
            group = _group_of(atom, claimed)
            if group is None:
                unplaced.append(atom)
            else:
                (shared if group == SHARED else services[group]).append(atom)
        if unplaced:
            raise InputError(
                f"proposal {where} leaves {len(unplaced)} atom(s) in no service and not "
                f"shared: {', '.join(unplaced[:5])}{' …' if len(unplaced) > 5 else ''}",
                details=unplaced[5:50],
                hint="add each to a service's members or to shared.members",
            )
    proposal = Proposal(
        strategy=str(data.get("strategy", "hand-edited")),
        level=level,
        seed=int(data.get("seed", 0)) if isinstance(data.get("seed", 0), int) else 0,
        k_choice=str(data.get("k_choice", "")),
        services={name: sorted(members) for name, members in sorted(services.items())},
        shared=sorted(shared),
        constraints=constraints,
        options=data.get("options", {}) if isinstance(data.get("options"), dict) else {},
    )
    return proposal, atoms


_HINT = "see docs/proposal-format.md; decomposer decompose writes a valid one to start from"


def _group_of(atom: str, claimed: Mapping[str, str]) -> str | None:
    """The group of the longest member that is the atom or a dotted prefix of it; a
    top-level package covers only its own `__init__` (listing `shop` must not quietly claim
    every atom no other member names), as in truth files."""
    parts = atom.split(".")
    for i in range(len(parts), 1, -1):
        group = claimed.get(".".join(parts[:i]))
        if group is not None:
            return group
    return claimed.get(atom)


def _is_prefix(member: str, atoms: AtomGraph) -> bool:
    prefix = member + "."
    return any(atom.startswith(prefix) for atom in atoms.atoms)
