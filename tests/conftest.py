"""Fixtures shared by the unit and functional tests."""

from __future__ import annotations

import signal
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzers.static import read_sql_files
from analyzers.static.build import build_graph
from analyzers.static.collect import collect_file
from analyzers.static.discovery import DEFAULT_EXCLUDES, discover, find_source_roots
from analyzers.static.runner import file_keys
from decomposer.cli import app
from decomposer.model.graph import DependencyGraph

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_monoliths"


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_delivered() -> None:
    """A shell starts a background job (`cmd &`) with SIGINT ignored, and every process the
    tests start would inherit that: the Ctrl-C tests need it delivered, as in a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write files (dedented when text) under root; return root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    def make(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "project", files)

    return make


@pytest.fixture
def graph_of(tmp_path: Path) -> Callable[[dict[str, str | bytes]], DependencyGraph]:
    """The static analyzer's graph of a small tree, collected in this process (no pool)."""

    def build(files: dict[str, str | bytes]) -> DependencyGraph:
        root = write_tree(tmp_path / "project", files)
        found = discover(root, find_source_roots(root), DEFAULT_EXCLUDES)
        facts = {
            s.rel: collect_file(s.path.read_bytes(), s.module, s.is_package) for s in found.files
        }
        graph = DependencyGraph()
        for diagnostic in found.diagnostics:
            graph.add_diagnostic(diagnostic)
        sql = read_sql_files(file_keys(found.sql), graph)
        build_graph(graph, facts, found.excluded, sql)
        return graph

    return build


@pytest.fixture
def cli() -> Callable[..., object]:
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke
