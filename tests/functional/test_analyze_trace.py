"""`decomposer analyze --trace` end to end: trace files and span exports merged through the
real CLI, bad files refused with one sentence, and a real `decomposer trace` of a sample's
tests merged into its graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.runtime.trace_file import new_trace
from decomposer.model.graph import EdgeKind
from decomposer.model.graph_json import graph_from_dict

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "traces"

#: The code the fixtures' spans name: path -> source.
PROJECT = json.loads((FIXTURES / "project.json").read_text())


def trace_file(root: Path, path: Path, **changes: object) -> Path:
    segment = {
        "use_case": "custom:pay",
        "kind": "custom",
        "runs": 1,
        "calls": [["shop/payments/api.py", "pay", "shop/payments/api.py", "charge", 1]],
        "functions": [["shop/payments/api.py", "pay", 1]],
        "sql": [],
        "transactions": [],
    }
    data = (
        new_trace(
            "sys.monitoring",
            [segment],
            python="3.12.1",
            command=["python", "job.py"],
            exit_code=0,
            source_roots=[str(root)],
        )
        | changes
    )
    path.write_text(json.dumps(data))
    return path


def graph(path: Path):
    return graph_from_dict(json.loads(path.read_text()))


def test_a_trace_and_an_export_are_merged_and_summarised(tree, cli, tmp_path: Path) -> None:
    root = tree(PROJECT)
    mine = trace_file(root, tmp_path / "trace.json")
    out = tmp_path / "graph.json"
    result = cli(
        "analyze",
        root,
        "-o",
        out,
        "--trace",
        mine,
        "--trace",
        FIXTURES / "zipkin.json",
        "--no-history",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["analyzers"]["runtime"]
    assert figures["traces"] == 2 and figures["segments"] == 2
    assert figures["edges_added"] == 1 and figures["rows_unmatched"] == 0
    found = graph(out)
    edge = found.edge("shop.payments.api.pay", "shop.payments.api.charge", EdgeKind.CALLS)
    assert edge.runtime_count == 2  # once in each file
    assert {n.id for n in found.nodes() if n.id.startswith("entry:usecase:")} == {
        "entry:usecase:custom:pay",
        "entry:usecase:http:POST /payments",
    }
    text = cli("analyze", root, "-o", out, "--trace", mine, "--no-history")
    assert "Traces: 1 read, 1 use case" in text.output, text.output


def test_traces_from_pyproject_are_relative_to_the_project(tree, cli, tmp_path: Path) -> None:
    root = tree({**PROJECT, "pyproject.toml": '[tool.decomposer]\ntraces = ["runs/t.json"]\n'})
    (root / "runs").mkdir()
    trace_file(root, root / "runs" / "t.json")
    out = tmp_path / "graph.json"
    result = cli("analyze", root, "-o", out, "--no-history")
    assert result.exit_code == 0, result.output
    entry = graph(out).node("entry:usecase:custom:pay")
    assert entry.attrs["traces"] == ["runs/t.json"]  # as the project names it, not absolute


def test_a_changed_trace_is_merged_again(tree, cli, tmp_path: Path) -> None:
    root = tree(PROJECT)
    path = trace_file(root, tmp_path / "trace.json")
    out = tmp_path / "graph.json"
    args = ("analyze", root, "-o", out, "--trace", path, "--no-history", "--format", "json")
    assert json.loads(cli(*args).output)["reused_last_run"] is False
    assert json.loads(cli(*args).output)["reused_last_run"] is True
    trace_file(root, path, segments=[])
    summary = json.loads(cli(*args).output)
    assert summary["reused_last_run"] is False
    assert summary["analyzers"]["runtime"]["segments"] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"format": "decomposer-trace", "version": 1, "segm', "is not valid JSON"),
        (None, "has format version 2; this decomposer reads version 1"),
        ('{"spans": []}', "is not a trace file: it holds none of a decomposer trace"),
        ("[1, 2]", "OTLP JSON, Jaeger JSON or Zipkin v2 JSON"),
        ('{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}', "looks like OTLP JSON"),
    ],
)
def test_a_bad_trace_file_is_exit_2_with_one_sentence_naming_it(
    tree, cli, tmp_path: Path, content: str | None, expected: str
) -> None:
    root = tree(PROJECT)
    path = tmp_path / "bad-trace.json"
    if content is None:
        trace_file(root, path, version=2)
    else:
        path.write_text(content)
    result = cli("analyze", root, "-o", tmp_path / "g.json", "--trace", path, "--no-history")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    error = next(line for line in result.output.splitlines() if line.startswith("error:"))
    assert "bad-trace.json" in error and expected in error, result.output


def test_a_missing_trace_file_is_exit_2(tree, cli, tmp_path: Path) -> None:
    result = cli("analyze", tree(PROJECT), "--trace", tmp_path / "gone.json", "--no-history")
    assert result.exit_code == 2
    assert "gone.json does not exist" in result.output


def run(*args: str) -> None:
    """A decomposer command in its own process, as a user runs it."""
    command = Path(sys.executable).parent / "decomposer"
    done = subprocess.run(
        [str(command), *args], check=False, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tracing_the_shop_tests_shows_use_cases_and_calls_static_analysis_misses(
    tmp_path: Path,
) -> None:
    """A real run: `decomposer trace` over the shop sample's payment tests, then
    `decomposer analyze --trace`."""
    shop = REPO / "sample_monoliths" / "shop"
    trace = tmp_path / "trace.json"
    tests = shop / "tests" / "test_shop_payments.py"
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]
    run("trace", "-o", str(trace), "--source", str(shop), "--", *pytest_command)
    static_out, traced_out = tmp_path / "static.json", tmp_path / "traced.json"
    run("analyze", str(shop), "-o", str(static_out), "--no-history", "--no-cache")
    run(
        "analyze",
        str(shop),
        "-o",
        str(traced_out),
        "--no-history",
        "--no-cache",
        "--trace",
        str(trace),
    )
    static, merged = graph(static_out), graph(traced_out)
    tests = [
        n
        for n in merged.nodes()
        if n.id.startswith("entry:usecase:test:") and "test_shop_payments.py::" in n.id
    ]
    assert len(tests) == 8, [n.id for n in tests]
    assert all(list(merged.out_edges(n.id, EdgeKind.HANDLES)) for n in tests)
    # the payment gateway is loaded from a dotted path in the settings: only the run shows
    # which class's charge() take_payment calls
    pair = (
        "shop.services.billing.take_payment",
        "shop.integrations.gateways.FakeCardGateway.charge",
    )
    assert static.edge(*pair, EdgeKind.CALLS) is None
    edge = merged.edge(*pair, EdgeKind.CALLS)
    assert edge is not None and edge.runtime_count > 0 and edge.static_count == 0
    # a use case that places an order writes the orders and payments tables
    writes = {
        e.target for e in merged.out_edges("entry:usecase:http:POST /orders", EdgeKind.WRITES)
    }
    assert {"table:orders", "table:payments"} <= writes
