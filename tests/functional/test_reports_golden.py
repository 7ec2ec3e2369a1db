"""report.md and report.json of a fixed small input, compared byte for byte with tests/golden/.

The input is a hand-made graph of a small bookshop and two hand-written proposals, so no
analyzer or strategy change moves the goldens: only the core's completion of a proposal
(tables, API, findings, metrics) and the reports themselves do.

When a change to the output is intended, regenerate the goldens and review their diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/functional/test_reports_golden.py
    git diff tests/golden/

A failing comparison writes what the code produced to tests/actual/ (git-ignored), so
`diff tests/golden/report.md tests/actual/report.md` shows the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden"
ACTUAL = TESTS / "actual"


def check_golden(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    expected = path.read_bytes() if path.exists() else None
    if actual != expected:
        ACTUAL.mkdir(exist_ok=True)
        (ACTUAL / name).write_bytes(actual)
        pytest.fail(
            f"{name} differs from tests/golden/{name}; the new output is in tests/actual/{name}"
            f" (diff them). If the change is intended: UPDATE_GOLDEN=1 and run again.",
            pytrace=False,
        )


# -- the input: a bookshop of five modules, four tables and three entry points ---------------


def _node(node_id: str, kind: str, line: int = 1, loc: int = 0, **attrs: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "kind": kind}
    if kind in ("module", "class", "function"):
        module = node_id if kind == "module" else node_id.rsplit(".", 1)[0]
        node |= {"file": module.replace(".", "/") + ".py", "line": line, "loc": loc}
        node["end_line"] = line + max(loc - 1, 0)
    if attrs:
        node["attrs"] = attrs
    return node


def _edge(source: str, kind: str, target: str, count: int = 1) -> dict[str, Any]:
    return {"source": source, "kind": kind, "target": target, "static_count": count}


def bookshop_graph() -> dict[str, Any]:
    modules = {
        "books": 2,
        "books.orders": 60,
        "books.billing": 40,
        "books.catalog": 45,
        "books.web": 30,
        "books.util": 8,
    }
    code: list[tuple[str, str, int, int, dict[str, Any]]] = [
        # (id, kind, line, loc, attrs)
        ("books.orders.Order", "class", 5, 10, {"bases": []}),
        (
            "books.orders.place_order",
            "function",
            20,
            18,
            {
                "transactions": [
                    {
                        "kind": "commit",
                        "line": 22,
                        "tables": ["orders", "payments", "stock"],
                        "steps": [[23, "stock"], [25, "orders"], [27, "payments"]],
                    }
                ]
            },
        ),
        ("books.orders.cancel_order", "function", 40, 12, {}),
        ("books.billing.Payment", "class", 3, 8, {"bases": []}),
        ("books.billing.charge", "function", 15, 10, {}),
        ("books.billing.refund", "function", 28, 9, {}),
        ("books.catalog.Book", "class", 4, 9, {"bases": []}),
        ("books.catalog.reserve", "function", 16, 8, {}),
        ("books.catalog.list_books", "function", 26, 7, {}),
        ("books.catalog.add_book", "function", 35, 6, {}),
        ("books.web.checkout", "function", 8, 6, {"decorators": ["flask.Flask.post"]}),
        ("books.web.catalogue", "function", 16, 4, {"decorators": ["flask.Flask.get"]}),
        ("books.web.sales_report", "function", 22, 8, {"decorators": ["flask.Flask.get"]}),
        ("books.util.money", "function", 2, 4, {}),
    ]
    tables = {
        "orders": ["books.orders.Order"],
        "payments": ["books.billing.Payment"],
        "books": ["books.catalog.Book"],
        "stock": [],
    }
    entries = {
        "entry:http:POST /checkout": "books.web.checkout",
        "entry:http:GET /books": "books.web.catalogue",
        "entry:http:GET /report": "books.web.sales_report",
    }
    nodes = [
        _node(m, "module", loc=loc, **({"package": True} if m == "books" else {}))
        for m, loc in modules.items()
    ]
    nodes += [_node(i, kind, line, loc, **attrs) for i, kind, line, loc, attrs in code]
    nodes += [_node(f"table:{t}", "table", models=models) for t, models in tables.items()]
    for entry, handler in entries.items():
        nodes.append(
            {"id": entry, "kind": "entry", "file": "books/web.py", "line": 1}
            | {"attrs": {"framework": "flask", "handler": handler, "kind": "http"}}
        )
    edges = [_edge("books", "contains", m) for m in modules if m != "books"]
    edges += [_edge(i.rsplit(".", 1)[0], "contains", i) for i, *_ in code]
    edges += [_edge(entry, "handles", handler) for entry, handler in entries.items()]
    calls = [
        ("books.web.checkout", "books.orders.place_order", 1),
        ("books.web.catalogue", "books.catalog.list_books", 1),
        ("books.orders.place_order", "books.catalog.reserve", 2),
        ("books.orders.place_order", "books.billing.charge", 1),
        ("books.orders.place_order", "books.util.money", 3),
        ("books.orders.cancel_order", "books.billing.refund", 1),
        ("books.billing.charge", "books.util.money", 2),
        ("books.billing.refund", "books.orders.cancel_order", 1),  # a cycle with orders
        ("books.catalog.list_books", "books.util.money", 1),
    ]
    edges += [_edge(s, "calls", t, n) for s, t, n in calls]
    edges += [
        _edge("books.orders.place_order", "instantiates", "books.orders.Order", 1),
        _edge("books.billing.charge", "instantiates", "books.billing.Payment", 1),
        _edge("books.catalog.add_book", "instantiates", "books.catalog.Book", 1),
        _edge("books.web", "imports", "books.orders", 1),
        _edge("books.web", "imports", "books.catalog", 1),
    ]
    data = [
        ("books.orders.place_order", "writes", "orders", 2),
        ("books.orders.cancel_order", "writes", "orders", 1),
        ("books.orders.cancel_order", "writes", "stock", 1),  # a second writer of stock
        ("books.billing.charge", "writes", "payments", 1),
        ("books.billing.charge", "reads", "orders", 1),
        ("books.billing.refund", "writes", "payments", 1),
        ("books.catalog.reserve", "writes", "stock", 2),
        ("books.catalog.add_book", "writes", "books", 1),
        ("books.catalog.list_books", "reads", "books", 1),
        ("books.catalog.list_books", "reads", "stock", 1),
        ("books.web.sales_report", "reads", "orders", 1),
        ("books.web.sales_report", "reads", "payments", 1),
        ("books.web.sales_report", "reads", "books", 1),
    ]
    edges += [_edge(s, kind, f"table:{t}", n) for s, kind, t, n in data]
    edges += [
        _edge("table:payments", "foreign_key", "table:orders"),
        _edge("table:stock", "foreign_key", "table:books"),
    ]
    return {"schema": 2, "meta": {}, "nodes": nodes, "edges": edges, "diagnostics": []}


PROPOSALS = {
    "by_domain": {
        "orders": ["books.orders", "books.web.checkout"],
        "billing": ["books.billing"],
        "catalog": ["books.catalog", "books.web.catalogue"],
        "reporting": ["books.web.sales_report"],
    },
    "by_layer": {
        "web": ["books.web"],
        "core": ["books.orders", "books.billing", "books.catalog"],
    },
}


SHARED_PACKAGES = ("books.util", "books.web")


def write_input(folder: Path) -> tuple[Path, list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    graph = folder / "graph.json"
    graph.write_text(json.dumps(bookshop_graph(), indent=1), encoding="utf-8")
    proposals = []
    for strategy, services in PROPOSALS.items():
        path = folder / f"{strategy}.json"
        named = {m for members in services.values() for m in members}
        body = {
            "schema": 1,
            "strategy": strategy,
            "level": "class",
            "k_choice": "written by hand",
            "services": {name: {"members": members} for name, members in services.items()},
            # the packages no service names (a top-level package covers only itself)
            "shared": {"members": ["books", *(m for m in SHARED_PACKAGES if m not in named)]},
        }
        path.write_text(json.dumps(body), encoding="utf-8")
        proposals.append(path)
    return graph, proposals


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from decomposer.cli import app

    folder = tmp_path_factory.mktemp("bookshop")
    graph, proposals = write_input(folder / "input")
    out = folder / "report"
    args = ["report", str(graph), *map(str, proposals), "-o", str(out), "--format", "md,json"]
    result = CliRunner().invoke(app, [*args, "--title", "bookshop"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name", ["report.md", "report.json"])
def test_report_matches_its_golden_file(rendered: Path, name: str) -> None:
    check_golden(name, (rendered / name).read_bytes())


def test_the_golden_input_exercises_every_section(rendered: Path) -> None:
    """Guards the input: the golden report shows a saga, a cycle, the comparison …"""
    report = json.loads((rendered / "report.json").read_text())
    kinds = {f["kind"] for f in report["proposals"][0]["findings"]}
    assert {"saga", "shared-table", "cross-service-foreign-key", "cqrs", "service-cycle"} <= kinds
    md = (rendered / "report.md").read_text()
    for heading in ("## Service map", "## Database ownership", "## Strategy comparison"):
        assert heading in md
    assert "```mermaid" in md and "-->|" in md and "[(" in md
