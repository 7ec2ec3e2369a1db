"""Distributed traces turned into decomposer's trace structure (docs/trace-format.md): the
OpenTelemetry export format (OTLP JSON, `resourceSpans`), Jaeger's JSON (`data[].spans` with
`references`) and Zipkin v2 JSON (a list of spans).

Each root span is one run of a use case: `http:<METHOD> <route>` when it carries the HTTP
semantic conventions (`http.request.method` or the older `http.method`, and `http.route`),
else `span:<root span name>`. Spans with `code.function` (and `code.namespace`,
`code.filepath`) become function rows, and a code span under another code span a call row.
Spans with a SQL statement (`db.statement` or `db.query.text`) become SQL rows, read with
the static analysis's SQL reader; `BEGIN` / `COMMIT` / `ROLLBACK` spans, in start order,
give the transactions.

Code rows from an import may have an empty file and a dotted qualname
(`shop.orders.OrderService.place`): OpenTelemetry names code by namespace, not by file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzers.runtime.trace_file import new_trace
from analyzers.static.sql import summarize
from decomposer.errors import InputError

#: The formats `detect` knows, as the `tracer` of the converted trace.
FORMATS = ("otlp", "jaeger", "zipkin")
ACCEPTED = "a decomposer trace (decomposer trace), OTLP JSON, Jaeger JSON or Zipkin v2 JSON"


@dataclass
class Span:
    """One span, whatever format it came from."""

    trace: str
    id: str
    parent: str
    name: str
    start: int
    attrs: dict[str, Any]
    children: list[Span] = field(default_factory=list)


def detect(data: Any) -> str | None:
    """The format of a parsed JSON document, or None when it is none of FORMATS."""
    if isinstance(data, dict) and isinstance(data.get("resourceSpans"), list):
        return "otlp"
    traces = data.get("data") if isinstance(data, dict) else None
    if isinstance(traces, list) and all(
        isinstance(t, dict) and isinstance(t.get("spans"), list) for t in traces
    ):
        return "jaeger"
    if (
        isinstance(data, list)
        and data
        and all(isinstance(s, dict) and "traceId" in s and "id" in s for s in data)
    ):
        return "zipkin"
    return None


def convert(data: Any, kind: str, path: Path) -> dict[str, Any]:
    """The trace structure of a document `detect` said is `kind`; a malformed span is an
    InputError naming the file."""
    readers: dict[str, Callable[[Any], list[Span]]] = {
        "otlp": _otlp_spans,
        "jaeger": _jaeger_spans,
        "zipkin": _zipkin_spans,
    }
    try:
        spans = readers[kind](data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"has no {exc.args[0]!r}" if isinstance(exc, KeyError) else f"is malformed ({exc})"
        raise InputError(
            f"{path} looks like {kind.upper()} JSON but one of its spans {what}",
            hint="export the traces again; the file may have been edited or cut short",
        ) from exc
    return new_trace(kind, segments(spans))


# -- the three formats ----------------------------------------------------------------------


def _otlp_value(value: dict[str, Any]) -> Any:
    """An OTLP AnyValue (`{"stringValue": "x"}`, `{"intValue": "3"}`, ...) as a plain value."""
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])  # int64 is a string in OTLP JSON
    if "arrayValue" in value:
        return [_otlp_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _otlp_spans(data: dict[str, Any]) -> list[Span]:
    spans = []
    for resource in data["resourceSpans"]:
        # `instrumentationLibrarySpans`: the name before OTLP 0.15
        scopes = resource.get("scopeSpans") or resource.get("instrumentationLibrarySpans") or []
        for scope in scopes:
            for span in scope.get("spans", []):
                attrs = {
                    a["key"]: _otlp_value(a.get("value", {})) for a in span.get("attributes", [])
                }
                spans.append(
                    Span(
                        str(span["traceId"]),
                        str(span["spanId"]),
                        str(span.get("parentSpanId") or ""),
                        str(span.get("name", "")),
                        int(span.get("startTimeUnixNano", 0)),
                        attrs,
                    )
                )
    return spans


def _jaeger_spans(data: dict[str, Any]) -> list[Span]:
    spans = []
    for trace in data["data"]:
        for span in trace["spans"]:
            parent = ""
            for reference in span.get("references") or []:
                if reference.get("refType") == "CHILD_OF":
                    parent = str(reference["spanID"])
                    break
            else:  # a FOLLOWS_FROM span (a queued job) still runs inside its trace
                refs = span.get("references") or []
                parent = str(refs[0]["spanID"]) if refs else ""
            attrs = {t["key"]: t.get("value") for t in span.get("tags") or []}
            spans.append(
                Span(
                    str(span["traceID"]),
                    str(span["spanID"]),
                    parent,
                    str(span.get("operationName", "")),
                    int(span.get("startTime", 0)),
                    attrs,
                )
            )
    return spans


def _zipkin_spans(data: list[dict[str, Any]]) -> list[Span]:
    return [
        Span(
            str(span["traceId"]),
            str(span["id"]),
            str(span.get("parentId") or ""),
            str(span.get("name", "")),
            int(span.get("timestamp", 0)),
            dict(span.get("tags") or {}),
        )
        for span in data
    ]


# -- spans to segments ----------------------------------------------------------------------


@dataclass
class _Segment:
    kind: str
    label: str
    runs: int = 0
    calls: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    functions: Counter[tuple[str, str]] = field(default_factory=Counter)
    sql: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    #: statement -> (tables read, tables written)
    tables: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    #: (outcome, reads, writes) -> the transaction's id in this segment
    transactions: dict[tuple[str, tuple[str, ...], tuple[str, ...]], int] = field(
        default_factory=dict
    )


def segments(spans: list[Span]) -> list[dict[str, Any]]:
    """One segment per use case (root span name or HTTP route), runs merged."""
    by_id = {(s.trace, s.id): s for s in spans}
    roots = []
    for span in spans:
        parent = by_id.get((span.trace, span.parent)) if span.parent else None
        if parent is None:  # a root, or the top of what was kept of a partial trace
            roots.append(span)
        else:
            parent.children.append(span)
    found: dict[str, _Segment] = {}
    for root in sorted(roots, key=lambda s: (s.start, s.trace, s.id)):
        kind, label = use_case(root)
        segment = found.setdefault(f"{kind}:{label}", _Segment(kind, label))
        segment.runs += 1
        db: list[Span] = []
        _walk(root, None, segment, db)
        _read_sql(db, segment)
    return [_segment_dict(name, found[name]) for name in sorted(found)]


def use_case(root: Span) -> tuple[str, str]:
    method = root.attrs.get("http.request.method") or root.attrs.get("http.method")
    route = root.attrs.get("http.route")
    if method and route:
        return "http", f"{str(method).upper()} {route}"
    return "span", root.name


def _code(span: Span) -> tuple[str, str] | None:
    """(file, qualname) of a code span: the file when given, else "" and a dotted name."""
    attrs = span.attrs
    function = attrs.get("code.function") or attrs.get("code.function.name")
    if not function:
        return None
    namespace = attrs.get("code.namespace")
    name = f"{namespace}.{function}" if namespace else str(function)
    file = attrs.get("code.filepath") or attrs.get("code.file.path") or ""
    return str(file).replace("\\", "/"), name


def _statement(span: Span) -> str | None:
    text = span.attrs.get("db.statement") or span.attrs.get("db.query.text")
    return str(text) if text else None


def _walk(span: Span, caller: tuple[str, str] | None, segment: _Segment, db: list[Span]) -> None:
    """Rows of `span` and its subtree, `caller` being the nearest code span above it; the
    run's DB spans are gathered in `db`."""
    code = _code(span)
    if code is not None:
        segment.functions[code] += 1
        if caller is not None:
            segment.calls[(*caller, *code)] += 1
        caller = code
    if _statement(span) is not None:
        db.append(span)
    for child in span.children:
        _walk(child, caller, segment, db)


def _read_sql(db: list[Span], segment: _Segment) -> None:
    """SQL rows and transactions of one run, its DB spans in start order: a `BEGIN` opens a
    transaction, `COMMIT` or `ROLLBACK` ends it; statements outside one have none."""
    reads: set[str] = set()
    writes: set[str] = set()
    rows: list[tuple[str, dict[str, Any]]] = []  # statements of the open transaction
    open_ = False

    def close(outcome: str) -> None:
        nonlocal open_
        key = (outcome, tuple(sorted(reads)), tuple(sorted(writes)))
        number = segment.transactions.setdefault(key, len(segment.transactions) + 1)
        for text, _ in rows:
            segment.sql[(text, number)] += 1
        rows.clear()
        reads.clear()
        writes.clear()
        open_ = False

    for span in sorted(db, key=lambda s: (s.start, s.id)):
        text = _statement(span) or ""
        summary = summarize(text)
        control = summary.get("tx", [])
        if "begin" in control and not open_:
            open_ = True
            continue
        if open_ and ("commit" in control or "rollback" in control):
            close("commit" if "commit" in control else "rollback")
            continue
        if control:  # savepoints stay inside their transaction
            continue
        segment.tables[text] = (summary.get("r", []), summary.get("w", []))
        if open_:
            rows.append((text, summary))
            reads.update(summary.get("r", []))
            writes.update(summary.get("w", []))
        else:
            segment.sql[(text, None)] += 1
    if open_:
        close("open")


def _segment_dict(name: str, segment: _Segment) -> dict[str, Any]:
    return {
        "use_case": name,
        "kind": segment.kind,
        "runs": segment.runs,
        "calls": [[*key, n] for key, n in sorted(segment.calls.items())],
        "functions": [[*key, n] for key, n in sorted(segment.functions.items())],
        "sql": [
            {
                "statement": text,
                "count": n,
                "reads": list(segment.tables[text][0]),
                "writes": list(segment.tables[text][1]),
                "transaction": number,
            }
            for (text, number), n in segment.sql.items()  # in the order they first ran
        ],
        "transactions": [
            {"id": number, "outcome": outcome, "reads": list(reads), "writes": list(writes)}
            for (outcome, reads, writes), number in sorted(
                segment.transactions.items(), key=lambda item: item[1]
            )
        ],
    }
