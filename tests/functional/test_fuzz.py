"""Generated Python programs (hypothesmith) through the static analyzer and the graph JSON.

The property: collecting a generated file never raises, its facts survive the cache's JSON
unchanged, and the graph built from them (with a second file importing the first) is valid
and writes the same bytes after a round trip through graph.json.

In CI the run is small, derandomized and without the example database, so it is the same
every time. A longer search:

    DECOMPOSER_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/functional/test_fuzz.py -q

takes that many examples per test with fresh random seeds each run; hypothesis prints any
failing program, which then belongs in `test_edge_programs` below once fixed.
"""

import json
import os

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.static.build import build_graph
from analyzers.static.collect import collect_file
from decomposer.files import dumps
from decomposer.model.graph import DependencyGraph
from decomposer.model.graph_json import graph_from_dict, graph_to_dict

LONG_RUN = os.environ.get("DECOMPOSER_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(LONG_RUN) if LONG_RUN else 40,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# The second file of the tree: it reaches the generated one in every way imports can.
IMPORTER = b"import fuzz.gen\nfrom fuzz.gen import *\nfrom fuzz import gen as g\n\ng.x()\n"


def check_program(source: str) -> None:
    data = source.encode("utf-8", "surrogatepass")
    facts = {
        "fuzz/__init__.py": collect_file(b"", "fuzz", True),
        "fuzz/gen.py": collect_file(data, "fuzz.gen", False),
        "fuzz/user.py": collect_file(IMPORTER, "fuzz.user", False),
    }
    assert json.loads(json.dumps(facts)) == facts  # what the cache stores and gives back
    assert not [d for d in facts["fuzz/gen.py"]["diagnostics"] if d[0] == "analyzer-error"]
    graph = DependencyGraph()
    build_graph(graph, facts, excluded=())
    nodes = {n.id for n in graph.nodes()}
    assert {"fuzz", "fuzz.gen", "fuzz.user"} <= nodes
    assert all(e.source in nodes and e.target in nodes for e in graph.edges())
    text = dumps(graph_to_dict(graph))
    again = dumps(graph_to_dict(graph_from_dict(json.loads(text))))
    assert again == text


@FUZZ
@given(hypothesmith.from_grammar())
def test_programs_from_the_grammar(source: str) -> None:
    check_program(source)


@FUZZ
@given(
    st.one_of(
        hypothesmith.from_node(),
        hypothesmith.from_node(cst.ClassDef),
        hypothesmith.from_node(cst.FunctionDef),
    )
)
def test_programs_from_libcst_nodes(source: str) -> None:
    check_program(source)


@pytest.mark.parametrize(
    "source",
    [
        # programs at the edges; a minimal failing program from a longer run joins them
        "",
        "\ufeffx = 1\n",
        "(pars): bool = True\n",  # valid Python that libcst rejects: a diagnostic
        "print 'two'\n",
        "from . import *\nfrom .. import x as y\n",
        "class A(A):\n    def f(self): return self.f()\n",
        "__all__ = [1, *x]\nglobal g\ng = {}\n",
    ],
)
def test_edge_programs(source: str) -> None:
    check_program(source)
