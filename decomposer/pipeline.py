"""The use cases behind the commands. Each takes a request and its collaborators, returns an
outcome, and prints nothing: rendering is the CLI's job."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from decomposer import __version__
from decomposer.cache import Cache, DiskCache, NoCache, content_key
from decomposer.config import load_settings
from decomposer.errors import InputError
from decomposer.files import dumps, write_text
from decomposer.model.graph import DependencyGraph, NodeKind
from decomposer.model.graph_json import graph_to_dict
from decomposer.plugins import AnalysisContext, Progress, Registry

GRAPH_PATH = Path("graph.json")
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
    run_key = content_key(
        __version__,
        repr(replace(settings, jobs=0)),  # the graph does not depend on the number of workers
        *(f"{a.name}\0{a.fingerprint(context)}" for a in analyzers),
    )
    last = _last_run(cache, run_key)
    if last is not None:
        graph_text, summary = last
    else:
        graph = DependencyGraph()
        figures = {a.name: a.analyze(context, graph) for a in analyzers}
        graph_text = dumps(graph_to_dict(graph, {"decomposer": __version__}))
        summary = summarize(graph) | {"analyzers": figures}
        cache.put_text(LAST_RUN, json.dumps({"key": run_key, "summary": summary}))
        cache.put_text(LAST_RUN_GRAPH, graph_text)
    write_text(request.out, graph_text)
    summary = summary | {
        "output": str(request.out),
        "reused_last_run": last is not None,
        "cache": {"hits": cache.hits, "misses": cache.misses},
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Outcome(0, summary)


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
