"""The use cases behind the commands. Each takes a request and its collaborators, returns an
outcome, and prints nothing: rendering is the CLI's job."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from decomposer import __version__, metrics
from decomposer.cache import Cache, DiskCache, NoCache, content_key
from decomposer.config import load_decompose_config, load_settings
from decomposer.decompose import complete
from decomposer.decompose import decompose as run_strategy
from decomposer.errors import ConfigError, DecomposerError, InputError
from decomposer.files import dumps, output_file, read_json, write_json, write_text
from decomposer.lifetime import outlive
from decomposer.model.atoms import DEFAULT_LEVEL, AtomGraph
from decomposer.model.graph import DependencyGraph, NodeKind
from decomposer.model.graph_json import SCHEMA as GRAPH_SCHEMA
from decomposer.model.graph_json import graph_from_dict, graph_to_dict
from decomposer.model.proposal import Constraints, parse_constraints, parse_proposal
from decomposer.plugins import (
    REPORTS,
    STRATEGIES,
    AnalysisContext,
    Analyzer,
    Progress,
    Registry,
    ReportInput,
    StrategyInput,
)
from decomposer.truth import load_truth

GRAPH_PATH = Path("graph.json")
PROPOSAL_PATH = Path("proposal.json")
DEFAULT_STRATEGY = "ddd_subdomain"
CACHE_DIR = Path(".decomposer/cache")
LAST_RUN = "last-run.json"
LAST_RUN_GRAPH = "last-run.graph.json"


@dataclass(frozen=True)
class AnalyzeRequest:
    root: Path
    out: Path = GRAPH_PATH
    #: Command-line values that override [tool.decomposer]; only the keys given.
    overrides: dict[str, Any] = field(default_factory=dict)
    use_cache: bool = True


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    summary: dict[str, Any]


class NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass


def analyze(
    request: AnalyzeRequest, *, registry: Registry, progress: Progress | None = None
) -> Outcome:
    """Run every installed analyzer over `request.root` and write graph.json."""
    analysis = run_analysis(prepare_analysis(request, registry=registry, progress=progress))
    write_text(request.out, analysis.text())
    summary = analysis.summary | {"output": str(request.out)}
    return Outcome(0, summary)


@dataclass
class Analysis:
    """One analysis of a tree: its summary, and its graph as an object (built by this run) or
    as the last run's graph.json text (reused), each made from the other only when asked."""

    summary: dict[str, Any]
    #: what the graph depends on: every analyzer's inputs, the settings, the versions
    key: str
    _graph: DependencyGraph | None = None
    _text: str | None = None

    @property
    def matches_key(self) -> bool:
        """False when files changed while they were read: the graph is not that of `key`."""
        figures = self.summary.get("analyzers", {}).values()
        return not any(f.get("changed_during_analysis") for f in figures)

    def graph(self) -> DependencyGraph:
        if self._graph is not None:
            return self._graph
        try:
            data = json.loads(self.text())
        except ValueError as exc:
            raise InputError(f"the last analysis's graph cannot be read: {exc}") from exc
        return _graph_from_document(data, where="the last analysis")

    def text(self) -> str:
        if self._text is None:
            assert self._graph is not None
            self._text = dumps(graph_to_dict(self._graph, {"decomposer": __version__}))
        return self._text


@dataclass(frozen=True)
class PreparedAnalysis:
    """A tree found and keyed (its files hashed), nothing parsed or built yet."""

    key: str
    context: AnalysisContext
    analyzers: list[Analyzer]
    started: float


def prepare_analysis(
    request: AnalyzeRequest, *, registry: Registry, progress: Progress | None = None
) -> PreparedAnalysis:
    started = time.perf_counter()
    root = request.root
    if not root.exists():
        raise InputError(f"{root} does not exist", hint="pass the folder of your project")
    if not root.is_dir():
        raise InputError(
            f"{root} is not a folder", hint="pass the folder that contains your packages"
        )
    root = root.resolve()
    settings = replace(load_settings(root), **request.overrides)
    cache = DiskCache(root / CACHE_DIR) if request.use_cache else NoCache()
    context = AnalysisContext(root, settings, cache, progress or NoProgress())
    analyzers = registry.analyzers()
    # Unchanged inputs give an unchanged graph: reuse the last run's instead of rebuilding it.
    key = content_key(
        __version__,
        f"graph schema {GRAPH_SCHEMA}",  # a graph kept in an older format is not reused
        repr(replace(settings, jobs=0)),  # the graph does not depend on the number of workers
        *(f"{a.name}\0{a.fingerprint(context)}" for a in analyzers),
    )
    return PreparedAnalysis(key, context, analyzers, started)


def run_analysis(prepared: PreparedAnalysis, *, keep: bool = True) -> Analysis:
    """Run every installed analyzer over the tree, or reuse the last run's graph when it is
    that of `prepared.key`; a new graph is kept in the cache for the next run unless `keep`
    is false (the check keeps its result instead: saving a large graph takes as long as
    checking it); the graph file (`request.out`) is not written."""
    cache, key = prepared.context.cache, prepared.key
    last = _last_run(cache, key)
    if last is not None:
        graph_text, summary = last
        analysis = Analysis(summary, key, _text=graph_text)
    else:
        graph = DependencyGraph()
        outlive(graph)
        figures = {a.name: a.analyze(prepared.context, graph) for a in prepared.analyzers}
        summary = summarize(graph) | {"analyzers": figures}
        analysis = Analysis(summary, key, _graph=graph)
        if keep and analysis.matches_key:
            # the record last: a run stopped half-way leaves no record vouching for a stale graph
            cache.put_text(LAST_RUN, "null")
            cache.put_text(LAST_RUN_GRAPH, analysis.text())
            cache.put_text(LAST_RUN, json.dumps({"key": key, "summary": summary}))
    analysis.summary = summary | {
        "reused_last_run": last is not None,
        "cache": {"hits": cache.hits, "misses": cache.misses},
        "seconds": round(time.perf_counter() - prepared.started, 3),
    }
    return analysis


def _last_run(cache: Cache, run_key: str) -> tuple[str, dict[str, Any]] | None:
    try:
        record = json.loads(cache.get_text(LAST_RUN) or "null")
        if record is None or record["key"] != run_key:
            return None
        graph_text = cache.get_text(LAST_RUN_GRAPH)
        return (graph_text, record["summary"]) if graph_text is not None else None
    except (ValueError, KeyError, TypeError):  # a damaged entry: analyse again
        return None


def summarize(graph: DependencyGraph) -> dict[str, Any]:
    nodes = graph.count_nodes()
    diagnostics = graph.diagnostics()
    by_code: dict[str, int] = {}
    for d in diagnostics:
        by_code[d.code] = by_code.get(d.code, 0) + 1
    return {
        "modules": nodes[NodeKind.MODULE],
        "classes": nodes[NodeKind.CLASS],
        "functions": nodes[NodeKind.FUNCTION],
        "lines_of_code": sum(n.loc for n in graph.nodes(NodeKind.MODULE)),
        "nodes": nodes,
        "edges": graph.count_edges(),
        "diagnostics": {
            "total": len(diagnostics),
            "by_code": dict(sorted(by_code.items())),
            "first": [
                {"file": d.file, "line": d.line, "code": d.code, "message": d.message}
                for d in diagnostics[:10]
            ],
        },
    }


# -- decompose, compare, evaluate, strategies -------------------------------------------------


@dataclass(frozen=True)
class DecomposeRequest:
    graph: Path
    strategy: str = DEFAULT_STRATEGY
    k: int | None = None  # None: the strategy chooses
    level: str = DEFAULT_LEVEL
    seed: int = 0
    out: Path = PROPOSAL_PATH
    #: A pyproject.toml with [tool.decomposer.strategies.*] and [tool.decomposer.constraints].
    config: Path | None = None
    #: A proposal.json whose "constraints" are honoured too.
    constraints_from: Path | None = None


def load_graph(path: Path) -> DependencyGraph:
    return _graph_from_document(read_json(path, what="graph"), where=f"graph {path}")


def _graph_from_document(data: Any, *, where: str) -> DependencyGraph:
    """The graph of a JSON document read for this purpose alone: its edges are taken off the
    document as they are converted, so a large graph is not held twice (a 362 MB graph.json
    of 1.1 M lines of code: 1.8 GB at peak instead of 2.5)."""
    if isinstance(data, dict) and isinstance(data.get("edges"), list):
        data["edges"] = _drained(data["edges"])
    return graph_from_dict(data, where=where)


def _drained(items: list[Any]) -> Iterator[Any]:
    """The items in order, each let go of once taken."""
    items.reverse()
    while items:
        yield items.pop()


def decompose(request: DecomposeRequest, *, registry: Registry) -> Outcome:
    """Cluster the graph's atoms into services with one strategy; write proposal.json."""
    started = time.perf_counter()
    prepared = _prepare(request)
    strategy = registry.strategy(request.strategy)
    proposal = run_strategy(strategy, prepared.input_for(request.strategy))
    data = proposal.to_dict()
    write_json(request.out, data)
    summary = proposal_summary(data) | {
        "output": str(request.out),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Outcome(0, summary)


@dataclass(frozen=True)
class _Prepared:
    """A graph's atoms with the options and constraints every strategy run is given."""

    request: DecomposeRequest
    graph: DependencyGraph
    atoms: AtomGraph
    options: dict[str, dict[str, Any]]
    constraints: Constraints

    def input_for(self, strategy: str) -> StrategyInput:
        r = self.request
        options = self.options.get(strategy, {})
        return StrategyInput(self.atoms, self.graph, r.k, r.seed, options, self.constraints)


def _prepare(request: DecomposeRequest) -> _Prepared:
    if request.k is not None and request.k < 1:
        raise ConfigError(f"--services must be 1 or more, got {request.k}")
    graph = load_graph(request.graph)
    atoms = AtomGraph.from_graph(graph, request.level)
    if not atoms.atoms:
        raise InputError(
            f"graph {request.graph} has no modules to decompose",
            hint="run decomposer analyze on the project first",
        )
    options, constraints = load_decompose_config(request.config)
    if request.constraints_from is not None:
        data = read_json(request.constraints_from, what="proposal")
        found = parse_constraints(
            data.get("constraints") if isinstance(data, dict) else None,
            where=str(request.constraints_from),
        )
        constraints = constraints.merged(found)
    return _Prepared(request, graph, atoms, options, constraints)


def proposal_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The terminal summary of a proposal, from its `to_dict()` (built once: on a large
    monolith it is the costliest part of writing the proposal)."""
    per_service = data["metrics"].get("services", {})
    return {
        "strategy": data["strategy"],
        "level": data["level"],
        "seed": data["seed"],
        "k_choice": data["k_choice"],
        "services": [
            {
                "name": name,
                "atoms": len(body["members"]),
                "loc": per_service.get(name, {}).get("loc", 0),
                "tables": body["tables"],
                "api": len(body["api"]),
            }
            for name, body in data["services"].items()
        ],
        "shared": len(data["shared"]["members"]),
        "metrics": data["metrics"].get("overall", {}),
        "findings": _count_findings(data["findings"]),
        "extraction_order": [step["service"] for step in data["extraction_order"]],
    }


def _count_findings(findings: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """kind -> severity -> how many."""
    counts: dict[str, dict[str, int]] = {}
    for finding in findings:
        by_severity = counts.setdefault(finding["kind"], {})
        by_severity[finding["severity"]] = by_severity.get(finding["severity"], 0) + 1
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class CompareRequest:
    base: DecomposeRequest  # graph, K, level, seed, config, constraints
    strategies: tuple[str, ...] = ()  # empty: every installed strategy
    truth: Path | None = None
    out_dir: Path | None = None  # where to write each strategy's proposal, when given


def compare(request: CompareRequest, *, registry: Registry) -> Outcome:
    """Every strategy on the same graph, measured side by side (and against a truth)."""
    started = time.perf_counter()
    prepared = _prepare(request.base)
    atoms = prepared.atoms
    names = request.strategies or tuple(registry.names(STRATEGIES))
    truth_map = None
    if request.truth is not None:
        truth = load_truth(request.truth)
        truth_map = {
            a: g for a in atoms.atoms if (g := truth.group_of(a, atoms.module_of(a))) is not None
        }
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            strategy = registry.strategy(name)
            proposal = run_strategy(strategy, prepared.input_for(name))
        except DecomposerError as err:  # one broken plugin must not hide the others
            failed[name] = err.message
            continue
        data = proposal.to_dict()
        if request.out_dir is not None:
            write_json(output_file(request.out_dir, f"{name}.json"), data)
        row = proposal_summary(data)
        if truth_map is not None:
            row["agreement"] = metrics.agreement(atoms, proposal.assignment(), truth_map)
        results[name] = row
    return Outcome(
        0,
        {
            "level": atoms.level,
            "strategies": results,
            "failed": failed,
            "best": _best(results),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


def _best(results: dict[str, Any]) -> dict[str, list[str]]:
    """metric -> the strategies with its best value (metrics.DIRECTIONS says which way)."""
    best: dict[str, list[str]] = {}
    columns: dict[str, dict[str, float]] = {}
    for name, row in results.items():
        values = {**row["metrics"], **row.get("agreement", {})}
        for metric, value in values.items():
            if isinstance(value, (int, float)) and metric in metrics.DIRECTIONS:
                columns.setdefault(metric, {})[name] = value
    for metric, values in columns.items():
        pick = max if metrics.DIRECTIONS[metric] > 0 else min
        target = pick(values.values())
        best[metric] = sorted(n for n, v in values.items() if v == target)
    return best


@dataclass(frozen=True)
class EvaluateRequest:
    graph: Path
    proposal: Path
    out: Path | None = None  # write the re-scored proposal here


def evaluate(request: EvaluateRequest) -> Outcome:
    """Re-score a (hand-edited) proposal against the graph."""
    started = time.perf_counter()
    graph = load_graph(request.graph)
    data = read_json(request.proposal, what="proposal")
    proposal, atoms = parse_proposal(data, graph, where=str(request.proposal))
    assert atoms is not None
    complete(proposal, atoms)
    result = proposal.to_dict()
    if request.out is not None:
        write_json(request.out, result)
    summary = proposal_summary(result) | {
        "output": str(request.out) if request.out else None,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Outcome(0, summary)


def list_strategies(registry: Registry) -> Outcome:
    """The installed strategies, each with its one-line summary (or why it cannot load)."""
    found = []
    for name in registry.names(STRATEGIES):
        spec = registry.spec(STRATEGIES, name)
        entry: dict[str, Any] = {"name": name, "distribution": spec.distribution if spec else ""}
        try:
            entry["summary"] = registry.load(STRATEGIES, name).summary
        except DecomposerError as err:
            entry["error"] = err.message
        found.append(entry)
    return Outcome(0, {"strategies": found})


# -- report, run --------------------------------------------------------------------------

REPORT_FORMATS = ("html", "svg", "md", "json")
RUN_DIR = Path("decomposer-report")


@dataclass(frozen=True)
class ReportRequest:
    graph: Path
    proposals: tuple[Path, ...]
    out_dir: Path = Path("report")
    formats: tuple[str, ...] = REPORT_FORMATS
    title: str = ""


def report(request: ReportRequest, *, registry: Registry) -> Outcome:
    """Render proposals (re-scored against the graph) as HTML, SVG, markdown and JSON."""
    started = time.perf_counter()
    if not request.proposals:
        raise InputError("no proposal given", hint="pass one or more proposal.json files")
    graph = load_graph(request.graph)
    proposals = []
    for path in request.proposals:
        proposal, atoms = parse_proposal(read_json(path, what="proposal"), graph, where=str(path))
        assert atoms is not None
        proposals.append(complete(proposal, atoms).to_dict())
    title = request.title or request.graph.resolve().parent.name
    files = render_reports(graph, proposals, request.out_dir, request.formats, title, registry)
    return Outcome(0, _report_summary(files, started))


def render_reports(
    graph: DependencyGraph,
    proposals: list[dict[str, Any]],
    out_dir: Path,
    formats: tuple[str, ...],
    title: str,
    registry: Registry,
) -> list[Path]:
    unknown = [f for f in formats if f not in registry.names(REPORTS)]
    if unknown:
        raise ConfigError(
            f"unknown report format '{unknown[0]}'",
            hint=f"use some of: {', '.join(registry.names(REPORTS))}",
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from exc
    request = ReportInput(graph, tuple(proposals), out_dir, title, shutil.which("dot"))
    files: list[Path] = []
    for name in formats:
        files.extend(registry.report(name).render(request))
    return files


def _report_summary(files: list[Path], started: float) -> dict[str, Any]:
    html = [str(f) for f in files if f.suffix == ".html"]
    return {
        "files": [str(f) for f in files],
        "report": html[0] if html else (str(files[0]) if files else None),
        "seconds": round(time.perf_counter() - started, 3),
    }


@dataclass(frozen=True)
class RunRequest:
    root: Path
    out_dir: Path = RUN_DIR
    #: One strategy; None: every installed strategy, the default one featured.
    strategy: str | None = None
    k: int | None = None
    level: str = DEFAULT_LEVEL
    seed: int = 0
    use_cache: bool = True
    formats: tuple[str, ...] = REPORT_FORMATS


def run(request: RunRequest, *, registry: Registry, progress: Progress | None = None) -> Outcome:
    """analyze -> decompose (one strategy, or all compared) -> report, with good defaults."""
    started = time.perf_counter()
    out = request.out_dir
    graph_path = out / "graph.json"
    analysis = analyze(
        AnalyzeRequest(request.root, graph_path, use_cache=request.use_cache),
        registry=registry,
        progress=progress,
    ).summary
    config = request.root / "pyproject.toml"
    base = DecomposeRequest(
        graph_path,
        request.strategy or DEFAULT_STRATEGY,
        request.k,
        request.level,
        request.seed,
        out / PROPOSAL_PATH,
        config if config.is_file() else None,
    )
    prepared = _prepare(base)
    names = [request.strategy] if request.strategy else registry.names(STRATEGIES)
    names = sorted(names, key=lambda n: (n != base.strategy, n))  # the featured one first
    proposals, failed = [], {}
    for name in names:
        try:
            proposal = run_strategy(registry.strategy(name), prepared.input_for(name)).to_dict()
        except DecomposerError as err:
            if name == base.strategy:
                raise
            failed[name] = err.message
            continue
        write_json(output_file(out / "proposals", f"{name}.json"), proposal)
        proposals.append(proposal)
    title = request.root.resolve().name
    files = render_reports(prepared.graph, proposals, out, request.formats, title, registry)
    featured = proposals[0]
    return Outcome(
        0,
        _report_summary(files, started)
        | {
            "analysis": {
                k: analysis[k] for k in ("modules", "classes", "functions", "lines_of_code")
            },
            "strategy": featured["strategy"],
            "services": sorted(featured["services"]),
            "compared": [p["strategy"] for p in proposals],
            "failed": failed,
            "out_dir": str(out),
        },
    )
