"""The runtime analyzer: merges trace files (docs/trace-format.md, or OpenTelemetry, Jaeger and
Zipkin exports) into the graph the static analyzer built (docs/runtime-analysis.md).

It runs after the static analyzer (`runs_after`) and charges every trace row to the module,
class or function node it names: runtime counts on call edges (new edges for calls static
analysis missed), one `entry:usecase:<use case>` node per segment with `handles` edges to
the functions it ran and `reads` / `writes` edges to the tables its SQL touched, and the
tables written in one committed transaction as a `transactions` record of the code that
ran it. Rows naming code the graph does not have (tests, excluded files, code generated at
run time) are counted, never an error.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict, deque
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from analyzers.runtime.imports import ACCEPTED, convert, detect
from analyzers.runtime.trace_file import read_trace
from analyzers.static.tables import table_id
from decomposer.cache import content_key
from decomposer.errors import ConfigError, InputError
from decomposer.files import read_json
from decomposer.model.graph import (
    TRACED_ENTRY_PREFIX,
    DependencyGraph,
    Edge,
    EdgeKind,
    Node,
    NodeKind,
)
from decomposer.plugins import AnalysisContext

#: Bump when what the analyzer adds for the same traces changes.
RUNTIME_VERSION = "runtime-1"
#: The `kind` of transaction records this analyzer adds to code nodes.
TRANSACTION_KIND = "trace"
#: How many files that matched no code the summary names.
_FIRST_UNMATCHED = 5


class RuntimeAnalyzer:
    name: ClassVar[str] = "runtime"
    summary: ClassVar[str] = (
        "call counts, use cases and tables from trace files (decomposer trace, OTLP, Jaeger, "
        "Zipkin)"
    )
    #: It charges trace rows to the nodes the static analyzer adds.
    runs_after: ClassVar[tuple[str, ...]] = ("static",)

    def fingerprint(self, context: AnalysisContext) -> str:
        parts = [RUNTIME_VERSION]
        for path in trace_paths(context):
            parts += [str(path), _digest(path)]
        return content_key(*parts)

    def analyze(self, context: AnalysisContext, graph: DependencyGraph) -> dict[str, Any]:
        paths = trace_paths(context)
        if not paths:
            return {"traces": 0}
        merge = Merge(graph, context.root)
        for path in paths:
            merge.add(load_trace(path), _shown(path, context.root))
        return merge.figures()


def trace_paths(context: AnalysisContext) -> list[Path]:
    """The trace files to merge: `--trace` gives absolute paths, `traces` in
    [tool.decomposer] paths relative to the project root."""
    paths = [context.root / p for p in context.settings.traces]
    for path in paths:
        if path.is_dir():
            raise ConfigError(
                f"trace file {path} is a folder",
                hint="name the trace file itself (`decomposer trace` writes trace.json)",
            )
        if not path.is_file():
            raise ConfigError(
                f"trace file {path} does not exist",
                hint="check --trace, or `traces` in [tool.decomposer] (relative to the project)",
            )
    return paths


def load_trace(path: Path) -> dict[str, Any]:
    """A trace in decomposer's structure: a trace.json as read by `read_trace`, or an
    OTLP / Jaeger / Zipkin export converted; anything else is an InputError naming the file."""
    data = read_json(path, what="trace file")
    if isinstance(data, dict) and "format" in data:
        return read_trace(path)
    kind = detect(data)
    if kind is None:
        raise InputError(
            f"{path} is not a trace file: it holds none of {ACCEPTED}",
            hint="pass a file written by `decomposer trace`, or a JSON export of spans",
        )
    return convert(data, kind, path)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _shown(path: Path, root: Path) -> str:
    """The trace's path as the graph records it: relative to the project when inside it, so
    the same tree and traces give the same graph on every machine."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# -- trace rows to graph nodes ----------------------------------------------------------------


class CodeIndex:
    """Finds the graph node a trace row names: its file, then its qualname in that module."""

    def __init__(self, graph: DependencyGraph, root: Path) -> None:
        self.graph = graph
        self.root = root
        self.by_file: dict[str, str] = {}
        #: a module's path below its source root (`shop/orders.py`), from its id
        self.by_module_path: dict[str, str] = {}
        for node in graph.nodes(NodeKind.MODULE):
            if node.file:
                self.by_file.setdefault(node.file, node.id)
            path = "/".join(node.id.split("."))
            path += "/__init__.py" if node.attrs.get("package") else ".py"
            self.by_module_path.setdefault(path, node.id)
        self._modules: dict[tuple[str, tuple[str, ...]], str | None] = {}

    def module(self, file: str, roots: tuple[str, ...]) -> str | None:
        key = (file, roots)
        if key not in self._modules:
            self._modules[key] = self._locate(file, roots)
        return self._modules[key]

    def _locate(self, file: str, roots: tuple[str, ...]) -> str | None:
        """Trace files are relative to the source root that held them. When a root and the
        analysed folder are nested (the usual case: traced and analysed on one machine), the
        file's place below the analysed folder decides; otherwise (a trace from elsewhere)
        the longest tail of the path that is a module's path below a source root."""
        if not file:
            return None
        related = False
        candidates = [Path(file)] if PurePosixPath(file).is_absolute() else []
        for root in roots:
            base = Path(os.path.normpath(root))
            if _relative(base, self.root) is not None or _relative(self.root, base) is not None:
                related = True
            candidates.append(base / file)
        for candidate in candidates:
            inside = _relative(Path(os.path.normpath(candidate)), self.root)
            if inside is not None:
                related = True
                if inside in self.by_file:
                    return self.by_file[inside]
        if related:
            return None
        if file in self.by_file:
            return self.by_file[file]
        parts = PurePosixPath(file).parts
        for start in range(len(parts)):
            tail = "/".join(parts[start:])
            if tail in self.by_module_path:
                return self.by_module_path[tail]
        return None

    def node(self, file: str, qualname: str, roots: tuple[str, ...]) -> str | None:
        """The node a (file, qualname) row names, or None for code the graph lacks. An
        import's row may name its code by a dotted qualname and no file."""
        module = self.module(file, roots) if file else None
        if module is not None:
            if qualname.startswith(module + "."):
                qualname = qualname[len(module) + 1 :]
            return self.inside(module, qualname)
        if file:
            return None
        parts = qualname.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in self.graph and self.graph.node(prefix).kind == NodeKind.MODULE:
                return self.inside(prefix, ".".join(parts[end:]) or "<module>")
        return None

    def inside(self, module: str, qualname: str) -> str | None:
        """`Class.method` in `module`. After `<locals>`, a nested function the graph has gets
        the row, anything else (lambdas, comprehensions, nested classes) is charged to the
        enclosing function; `<module>` is the module."""
        node = module
        nested = False
        for part in qualname.split("."):
            if part == "<locals>":
                nested = True
                continue
            if part.startswith("<"):  # <module>, <lambda>, <listcomp>, <genexpr> ...
                break
            candidate = f"{node}.{part}"
            if candidate in self.graph:
                node = candidate
            elif nested:
                break
            else:
                return None
        return node


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


# -- merging ----------------------------------------------------------------------------------


class Merge:
    """Adds traces to a graph one after the other and counts what they added."""

    def __init__(self, graph: DependencyGraph, root: Path) -> None:
        self.graph = graph
        self.index = CodeIndex(graph, root)
        self.traces = 0
        self.incomplete: list[str] = []
        self.added: set[tuple[str, str]] = set()
        self.confirmed: set[tuple[str, str]] = set()
        self.unmatched = 0
        self.unmatched_files: Counter[str] = Counter()
        self.tables_added: set[str] = set()
        self.use_cases: set[str] = set()
        self.transactions = 0

    def add(self, trace: dict[str, Any], shown: str) -> None:
        self.traces += 1
        if not trace.get("complete", True):
            self.incomplete.append(shown)
        roots = tuple(str(r) for r in trace.get("source_roots", ()))
        for segment in trace["segments"]:
            self._segment(segment, roots, shown)

    def _segment(self, segment: dict[str, Any], roots: tuple[str, ...], shown: str) -> None:
        entry = self._entry(segment, shown)
        ran: Counter[str] = Counter()
        calls: dict[str, set[str]] = defaultdict(set)
        for file, qualname, count in segment["functions"]:
            node = self.index.node(file, qualname, roots)
            if node is None:
                self._unmatched(file or qualname)
            elif self.graph.node(node).kind == NodeKind.FUNCTION:
                ran[node] += count
        for caller_file, caller, callee_file, callee, count in segment["calls"]:
            source = self.index.node(caller_file, caller, roots)
            target = self.index.node(callee_file, callee, roots)
            if source is None or target is None:
                self._unmatched(caller_file or caller if source is None else callee_file or callee)
                continue
            if self.graph.node(target).kind in (NodeKind.MODULE, NodeKind.CLASS):
                continue  # a module or class body running: an import, not a call
            if source == target and caller != callee:
                continue  # a lambda or comprehension charged to the function it is in
            self._call(source, target, count)
            calls[source].add(target)
        for node, count in sorted(ran.items()):
            self.graph.add_edge(Edge(entry, node, EdgeKind.HANDLES, runtime_count=count))
        self._tables(entry, segment)
        self._transactions(entry, segment, ran, calls)

    def _unmatched(self, name: str) -> None:
        self.unmatched += 1
        self.unmatched_files[name] += 1

    def _entry(self, segment: dict[str, Any], shown: str) -> str:
        use_case = segment["use_case"]
        entry = TRACED_ENTRY_PREFIX + use_case
        attrs = {
            "kind": segment["kind"],
            "label": use_case.split(":", 1)[1] if ":" in use_case else use_case,
            "runs": segment["runs"],
            "traces": [shown],
        }
        if entry in self.graph:
            old = self.graph.node(entry).attrs
            attrs["runs"] += old.get("runs", 0)
            attrs["traces"] = sorted({*old.get("traces", ()), shown})
            attrs = {**old, **attrs}
        self.graph.replace_node(Node(entry, NodeKind.ENTRY, attrs=attrs))
        self.use_cases.add(entry)
        return entry

    def _call(self, source: str, target: str, count: int) -> None:
        old = self.graph.edge(source, target, EdgeKind.CALLS)
        if old is None:
            self.added.add((source, target))
        elif old.static_count:
            self.confirmed.add((source, target))
        self.graph.add_edge(Edge(source, target, EdgeKind.CALLS, runtime_count=count))

    def _table(self, name: str) -> str:
        table = table_id(name)
        if table not in self.graph:  # a table only the running code showed
            self.graph.add_node(Node(table, NodeKind.TABLE, attrs={"runtime": True}))
            self.tables_added.add(table)
        return table

    def _tables(self, entry: str, segment: dict[str, Any]) -> None:
        for row in segment["sql"]:
            for kind, names in ((EdgeKind.READS, row["reads"]), (EdgeKind.WRITES, row["writes"])):
                for name in names:
                    edge = Edge(entry, self._table(name), kind, runtime_count=row["count"])
                    self.graph.add_edge(edge)

    def _transactions(
        self,
        entry: str,
        segment: dict[str, Any],
        ran: Counter[str],
        calls: dict[str, set[str]],
    ) -> None:
        """Each committed transaction that wrote tables becomes a transaction record (the
        shape the static analysis gives) of the code that ran it; the entry keeps the list
        too."""
        order: dict[int, list[str]] = defaultdict(list)  # transaction -> tables, first write first
        for row in segment["sql"]:
            for name in row["writes"]:
                if row["transaction"] is not None and name not in order[row["transaction"]]:
                    order[row["transaction"]].append(name)
        kept = []
        for transaction in segment["transactions"]:
            if transaction["outcome"] != "commit" or not transaction["writes"]:
                continue
            written = order.get(transaction["id"], [])
            tables = written + sorted(set(transaction["writes"]) - set(written))
            owner = charged_to(self.graph, tables, ran, calls)
            kept.append({"tables": sorted(tables), "code": owner})
            if owner is not None:
                self._record(owner, tables)
        if kept:
            node = self.graph.node(entry)
            known = node.attrs.get("transactions", [])
            merged = known + [t for t in kept if t not in known]
            self.graph.replace_node(replace(node, attrs={**node.attrs, "transactions": merged}))

    def _record(self, owner: str, tables: list[str]) -> None:
        node = self.graph.node(owner)
        line = node.line or 1
        records = [dict(r) for r in node.attrs.get("transactions", ())]
        for record in records:
            if set(tables) <= set(record["tables"]):  # the same transaction, seen before
                if record["kind"] == TRANSACTION_KIND:
                    record["use_cases"] += 1
                break
        else:
            records.append(
                {
                    "kind": TRANSACTION_KIND,
                    "line": line,
                    "tables": sorted(tables),
                    "steps": [[line, table] for table in tables],
                    "use_cases": 1,
                }
            )
            self.transactions += 1
        self.graph.replace_node(replace(node, attrs={**node.attrs, "transactions": records}))

    def figures(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "traces": self.traces,
            "segments": len(self.use_cases),
            "edges_added": len(self.added),
            "edges_confirmed": len(self.confirmed),
            "tables_added": len(self.tables_added),
            "transactions": self.transactions,
            "rows_unmatched": self.unmatched,
            "unmatched_first": [
                name for name, _ in self.unmatched_files.most_common(_FIRST_UNMATCHED)
            ],
        }
        if self.incomplete:
            found["incomplete"] = self.incomplete
        return found


def charged_to(
    graph: DependencyGraph, tables: list[str], ran: Counter[str], calls: dict[str, set[str]]
) -> str | None:
    """The code a traced transaction belongs to: the deepest function of the run from which
    code that writes each of its tables (by the static analysis) was called, else the run's
    widest root (the function the use case entered first and that called most). None when
    the run touched no code in the graph."""
    if not ran:
        return None
    callers: dict[str, set[str]] = defaultdict(set)
    for source, targets in calls.items():
        for target in targets:
            callers[target].add(source)
    common: set[str] | None = None
    for table in tables:
        if table_id(table) not in graph:
            continue
        writers = {e.source for e in graph.in_edges(table_id(table), EdgeKind.WRITES)}
        writers &= ran.keys()
        if not writers:
            continue  # raw SQL static analysis did not place: says nothing about where
        above = _closure(writers, callers)
        common = above if common is None else common & above
    if common:
        below = {node: _closure({node}, calls) for node in common}
        deepest = [n for n in sorted(common) if not (below[n] & common) - {n}]
        return (deepest or sorted(common))[0]
    called = {t for targets in calls.values() for t in targets}
    roots = [n for n in ran if n not in called] or list(ran)
    return max(sorted(roots), key=lambda n: len(_closure({n}, calls)))


def _closure(start: set[str], step: dict[str, set[str]]) -> set[str]:
    """`start` and everything reachable from it along `step`."""
    seen = set(start)
    queue = deque(start)
    while queue:
        for following in step.get(queue.popleft(), ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen
