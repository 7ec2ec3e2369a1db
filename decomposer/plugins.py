"""Plugins: what an analyzer, a strategy and a report must look like, and the registry
that finds them through entry points.

Built-in plugins are registered in pyproject.toml exactly as a third-party one would be, so
the core never imports them by name. Discovery reads only metadata; a plugin is imported
when it is first used, so a broken plugin cannot break commands that do not need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from decomposer.errors import PluginError

if TYPE_CHECKING:
    from decomposer.cache import Cache
    from decomposer.config import AnalyzeSettings
    from decomposer.model.atoms import AtomGraph
    from decomposer.model.graph import DependencyGraph
    from decomposer.model.proposal import Constraints, Reason

ANALYZERS = "decomposer.analyzers"
STRATEGIES = "decomposer.strategies"
REPORTS = "decomposer.reports"


class Progress(Protocol):
    """Where an analyzer reports how far it got (a progress bar, or nothing in tests)."""

    def start(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


@dataclass(frozen=True)
class AnalysisContext:
    """What an analyzer is given: the tree, its settings, a cache and a progress sink."""

    #: The analysed project's root; file paths in the graph are relative to it.
    root: Path
    settings: AnalyzeSettings
    cache: Cache
    progress: Progress


@runtime_checkable
class Analyzer(Protocol):
    """Adds what it finds in a source tree to a DependencyGraph.

    `name` equals the entry-point name; `summary` is one line for humans. `fingerprint`
    digests everything the analyzer's contribution depends on (file contents, options): equal
    fingerprints promise an equal contribution, so an unchanged tree is not analysed again.
    `analyze` may add nodes, edges and diagnostics, must not raise for bad source files (they
    become diagnostics), and returns a few figures for the run's summary (JSON types).
    """

    name: ClassVar[str]
    summary: ClassVar[str]

    def fingerprint(self, context: AnalysisContext) -> str: ...

    def analyze(self, context: AnalysisContext, graph: DependencyGraph) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StrategyInput:
    """What a strategy is given."""

    atoms: AtomGraph
    graph: DependencyGraph  # for what atoms leave out: entry attributes, table attributes
    #: The number of services wanted; None: the strategy chooses, and says how.
    k: int | None
    seed: int
    #: `[tool.decomposer.strategies.<name>]` from the config, as written.
    options: dict[str, Any]
    #: Honoured by the core after the strategy runs; a strategy may use them earlier too.
    constraints: Constraints


@dataclass
class StrategyResult:
    """A strategy's answer: a cluster per atom, and what it can say about why."""

    #: atom -> cluster label (any string), or "shared" for a shared utility. Every atom.
    clusters: dict[str, str]
    #: How the number of services was chosen, one sentence ("given: --services 6").
    k_choice: str
    #: Reasons only this strategy knows ("TF-IDF similarity 0.61 to capability billing").
    reasons: dict[str, list[Reason]] = field(default_factory=dict)
    #: cluster label -> a service name, when the strategy has a good one.
    names: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Strategy(Protocol):
    """Clusters the atoms of a graph into services.

    `name` equals the entry-point name; `summary` is one line for `decomposer strategies`.
    `decompose` must be deterministic for a given seed, return a cluster for every atom, and
    never need memory quadratic in the number of atoms. The core then honours constraints,
    proposes shared utilities, names the services, explains every placement and measures.
    """

    name: ClassVar[str]
    summary: ClassVar[str]

    def decompose(self, request: StrategyInput) -> StrategyResult: ...


@dataclass(frozen=True)
class ReportInput:
    """What a report is given: the graph and one or more completed proposals."""

    graph: DependencyGraph
    #: Each proposal as in proposal.json (docs/proposal-format.md), derived sections filled;
    #: several when strategies are compared (the first is the one to feature).
    proposals: tuple[dict[str, Any], ...]
    #: Folder to write into (it exists); write through decomposer.files (whole or nothing).
    out_dir: Path
    title: str
    #: The graphviz `dot` binary, or None when it is not installed.
    dot: str | None


@runtime_checkable
class Report(Protocol):
    """Renders proposals into files (`name` is the --format value: html, svg, md, json).

    `render` writes its files into `request.out_dir` and returns their paths. Everything
    that comes from the analysed code (names, paths, SQL, routes) must be escaped for the
    output's language.
    """

    name: ClassVar[str]
    summary: ClassVar[str]

    def render(self, request: ReportInput) -> list[Path]: ...


_SHAPES: dict[str, type] = {ANALYZERS: Analyzer, STRATEGIES: Strategy, REPORTS: Report}


@dataclass(frozen=True, order=True)
class PluginSpec:
    """A plugin found in metadata, not yet imported."""

    group: str
    name: str
    value: str  # "analyzers.static:StaticAnalyzer"
    distribution: str


def discover(groups: Iterable[str] = (ANALYZERS, STRATEGIES, REPORTS)) -> list[PluginSpec]:
    specs = []
    for group in groups:
        for ep in entry_points(group=group):
            dist = ep.dist.name if ep.dist is not None else "?"
            specs.append(PluginSpec(group, ep.name, ep.value, dist))
    return sorted(specs)


class Registry:
    def __init__(self, specs: Iterable[PluginSpec]) -> None:
        self._specs: dict[tuple[str, str], PluginSpec] = {}
        for spec in specs:
            other = self._specs.get((spec.group, spec.name))
            if other is not None and other.value != spec.value:
                raise PluginError(
                    f"two {spec.group} plugins are named '{spec.name}': {other.value} "
                    f"(from {other.distribution}) and {spec.value} (from {spec.distribution})",
                    hint="uninstall one of the two distributions",
                )
            self._specs[(spec.group, spec.name)] = spec

    def names(self, group: str) -> list[str]:
        return sorted(name for g, name in self._specs if g == group)

    def spec(self, group: str, name: str) -> PluginSpec | None:
        return self._specs.get((group, name))

    def load(self, group: str, name: str) -> Any:
        """The plugin's class, imported and checked against its protocol."""
        spec = self._specs.get((group, name))
        if spec is None:
            known = ", ".join(self.names(group)) or "none"
            raise PluginError(f"no {group} plugin named '{name}'", hint=f"available: {known}")
        try:
            obj = EntryPoint(spec.name, spec.value, spec.group).load()
        except Exception as exc:  # a broken third-party plugin, not our bug
            raise PluginError(
                f"plugin '{name}' from {spec.distribution} failed to import: {exc}",
                hint=f"fix or uninstall {spec.distribution}",
            ) from exc
        shape = _SHAPES.get(group)
        if shape is not None and not (isinstance(obj, type) and _has_members(obj, shape)):
            raise PluginError(
                f"plugin '{name}' ({spec.value}) does not follow the {shape.__name__} protocol",
                hint=f"it needs {', '.join(_members(shape))}; see docs/plugins.md",
            )
        if getattr(obj, "name", name) != name:
            raise PluginError(
                f"plugin registered as '{name}' calls itself '{obj.name}' ({spec.value})",
                hint="make the entry-point name and the class's `name` the same",
            )
        return obj

    def analyzers(self) -> list[Analyzer]:
        """Every analyzer, in name order, except that one naming others in its optional
        `runs_after` (a tuple of names) runs after those of them that are installed: it
        attaches facts to nodes they add. A cycle falls back to name order."""
        loaded = {name: self.load(ANALYZERS, name) for name in self.names(ANALYZERS)}
        order: list[str] = []
        waiting = list(loaded)
        while waiting:
            ready = [
                name
                for name in waiting
                if all(
                    other in order or other not in loaded or other == name
                    for other in getattr(loaded[name], "runs_after", ())
                )
            ]
            order.append(ready[0] if ready else waiting[0])
            waiting.remove(order[-1])
        return [loaded[name]() for name in order]

    def strategy(self, name: str) -> Strategy:
        return self.load(STRATEGIES, name)()  # type: ignore[no-any-return]

    def report(self, name: str) -> Report:
        return self.load(REPORTS, name)()  # type: ignore[no-any-return]


def default_registry() -> Registry:
    return Registry(discover())


def _members(shape: type) -> list[str]:
    return sorted(getattr(shape, "__protocol_attrs__", None) or _annotated(shape))


def _annotated(shape: type) -> set[str]:
    names = set(getattr(shape, "__annotations__", {}))
    names |= {k for k, v in vars(shape).items() if callable(v) and not k.startswith("_")}
    return names


def _has_members(obj: type, shape: type) -> bool:
    return all(hasattr(obj, member) for member in _members(shape))
