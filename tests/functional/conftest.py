"""Fixtures of the functional tests."""

import json

import pytest
from typer.testing import CliRunner

from decomposer.cli import app
from decomposer.model.graph import DependencyGraph
from decomposer.model.graph_json import graph_from_dict

SAMPLES = ("shop", "clinic", "travel")


@pytest.fixture(scope="session")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DependencyGraph]:
    """Each sample monolith's graph, built once per run through the real CLI; without the
    history, which would be decomposer's own (the samples live in its repository)."""
    out = tmp_path_factory.mktemp("graphs")
    graphs = {}
    for sample in SAMPLES:
        path = out / f"{sample}.json"
        result = CliRunner().invoke(
            app,
            [
                "analyze",
                f"sample_monoliths/{sample}",
                "-o",
                str(path),
                "--no-cache",
                "--no-history",
            ],
        )
        assert result.exit_code == 0, result.output
        graphs[sample] = graph_from_dict(json.loads(path.read_text()))
    return graphs
