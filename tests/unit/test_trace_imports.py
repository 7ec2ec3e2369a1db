"""OpenTelemetry (OTLP JSON), Jaeger and Zipkin exports read as decomposer traces, and merged
into the graph of the code they traced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzers.runtime.analyzer import Merge, load_trace
from analyzers.runtime.imports import Span, detect, segments, use_case
from decomposer.errors import InputError
from decomposer.model.graph import EdgeKind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "traces"

#: The code the fixtures' spans name (tests/fixtures/traces/project.json: path -> source).
SHOP = json.loads((FIXTURES / "project.json").read_text())


def by_use_case(path: Path) -> dict[str, dict]:
    trace = load_trace(path)
    return {s["use_case"]: s for s in trace["segments"]}


def test_otlp_root_spans_are_http_use_cases_with_code_and_sql() -> None:
    trace = load_trace(FIXTURES / "otlp.json")
    assert trace["tracer"] == "otlp" and trace["format"] == "decomposer-trace"
    (segment,) = trace["segments"]
    assert segment["use_case"] == "http:POST /orders" and segment["kind"] == "http"
    assert segment["runs"] == 2  # two traces of the same route
    assert segment["calls"] == [
        [
            "/srv/app/shop/orders/views.py",
            "shop.orders.views.place_order",
            "",
            "shop.orders.service.OrderService.place",
            1,
        ]
    ]
    assert ["", "shop.orders.views.place_order", 1] in segment["functions"]
    # db.statement and the newer db.query.text, in the order they ran; BEGIN and COMMIT
    # make them one committed transaction
    assert [(r["writes"], r["reads"], r["transaction"]) for r in segment["sql"]] == [
        (["orders"], [], 1),
        (["order_lines"], [], 1),
        ([], ["products"], 1),
    ]
    assert segment["transactions"] == [
        {"id": 1, "outcome": "commit", "reads": ["products"], "writes": ["order_lines", "orders"]}
    ]


def test_jaeger_uses_the_older_http_attributes_and_span_names() -> None:
    found = by_use_case(FIXTURES / "jaeger.json")
    assert sorted(found) == ["http:GET /orders/<int:id>", "span:run/shop.tasks.send_invoice"]
    show = found["http:GET /orders/<int:id>"]
    assert show["calls"] == [
        [
            "shop/orders/views.py",
            "shop.orders.views.show_order",
            "",
            "shop.orders.service.OrderService.get",
            1,
        ]
    ]
    (select,) = show["sql"]
    assert select["reads"] == ["order_lines", "orders"] and select["transaction"] is None
    task = found["span:run/shop.tasks.send_invoice"]
    assert task["kind"] == "span"
    assert task["sql"][0]["writes"] == ["invoices"]
    assert task["functions"] == [["", "shop.tasks.send_invoice", 1]]


def test_zipkin_spans_nest_by_parent_id() -> None:
    found = by_use_case(FIXTURES / "zipkin.json")
    pay = found["http:POST /payments"]
    assert pay["calls"] == [["", "shop.payments.api.pay", "", "shop.payments.api.charge", 1]]
    # START TRANSACTION ... COMMIT around both writes
    assert pay["transactions"] == [
        {"id": 1, "outcome": "commit", "reads": [], "writes": ["orders", "payments"]}
    ]


@pytest.mark.parametrize("name", ["otlp", "jaeger", "zipkin"])
def test_each_import_merges_into_the_graph_of_the_traced_code(
    name: str, graph_of, tmp_path: Path
) -> None:
    graph = graph_of(SHOP)
    merge = Merge(graph, tmp_path / "project")
    merge.add(load_trace(FIXTURES / f"{name}.json"), f"{name}.json")
    figures = merge.figures()
    assert figures["rows_unmatched"] == 0, figures["unmatched_first"]
    entries = {n.id for n in graph.nodes() if n.id.startswith("entry:usecase:")}
    expected = {
        "otlp": {"entry:usecase:http:POST /orders"},
        "jaeger": {
            "entry:usecase:http:GET /orders/<int:id>",
            "entry:usecase:span:run/shop.tasks.send_invoice",
        },
        "zipkin": {"entry:usecase:http:POST /payments"},
    }[name]
    assert entries == expected
    for entry in entries:
        assert list(graph.out_edges(entry, EdgeKind.HANDLES)), entry
    if name == "zipkin":  # pay -> charge goes through globals(): only the trace shows it
        edge = graph.edge("shop.payments.api.pay", "shop.payments.api.charge", EdgeKind.CALLS)
        assert edge is not None and (edge.static_count, edge.runtime_count) == (0, 1)
        assert figures["edges_added"] == 1
        record = graph.node("shop.payments.api.pay").attrs["transactions"][0]
        assert record["tables"] == ["orders", "payments"] and record["kind"] == "trace"
    else:  # views -> service is a call static analysis knows
        assert figures["edges_confirmed"] == 1 and figures["edges_added"] == 0


def span(name: str, attrs: dict, parent: str = "", span_id: str = "1") -> Span:
    return Span("t", span_id, parent, name, 0, attrs)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"http.request.method": "get", "http.route": "/items/{id}"}, ("http", "GET /items/{id}")),
        ({"http.method": "DELETE", "http.route": "/x"}, ("http", "DELETE /x")),
        ({"http.method": "GET", "http.target": "/x?y=1"}, ("span", "root")),  # no route pattern
        ({}, ("span", "root")),
    ],
)
def test_a_root_span_names_its_use_case(attrs: dict, expected: tuple[str, str]) -> None:
    assert use_case(span("root", attrs)) == expected


def test_a_span_whose_parent_was_not_kept_is_a_root() -> None:
    spans = [
        span("orphan", {"code.namespace": "m", "code.function": "f"}, parent="gone", span_id="2")
    ]
    (found,) = segments(spans)
    assert found["use_case"] == "span:orphan" and found["functions"] == [["", "m.f", 1]]


def test_a_rolled_back_or_unfinished_transaction_keeps_its_outcome() -> None:
    root = span("job", {}, span_id="r")
    db = [
        ("BEGIN", 1),
        ("INSERT INTO a VALUES (1)", 2),
        ("ROLLBACK", 3),
        ("BEGIN", 4),
        ("UPDATE b SET x = 1", 5),
    ]
    spans = [root] + [
        Span("t", f"s{i}", "r", "db", start, {"db.statement": text})
        for i, (text, start) in enumerate(db)
    ]
    (found,) = segments(spans)
    assert [(t["outcome"], t["writes"]) for t in found["transactions"]] == [
        ("rollback", ["a"]),
        ("open", ["b"]),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"resourceSpans": "no"},
        {"data": [{"no spans": []}]},
        [{"traceId": "1"}],  # no span id
        [],
        {"something": "else"},
        "text",
    ],
)
def test_detect_refuses_what_is_no_known_format(data: object) -> None:
    assert detect(data) is None


def test_a_malformed_span_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "spans.json"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}))
    with pytest.raises(InputError, match=r"spans\.json looks like OTLP JSON"):
        load_trace(path)
