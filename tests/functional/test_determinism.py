"""The same input gives the same bytes: graph.json, every strategy's proposal.json and every
report (html, svg and dot, md, json), from two fresh processes that differ in PYTHONHASHSEED
(which changes the order of every set and of every dict built from one) and in `--jobs`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from decomposer.plugins import STRATEGIES, default_registry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_monoliths"


def decomposer(*args: object, hash_seed: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "-q", *map(str, args)],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONHASHSEED": str(hash_seed)},
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def outputs(root: Path, out: Path, *, hash_seed: int, jobs: int) -> dict[str, bytes]:
    """Every file `analyze` and `run` write for `root`, by path below `out`."""
    decomposer(
        "analyze",
        root,
        "-o",
        out / "analyze.json",
        "--jobs",
        jobs,
        "--no-cache",
        hash_seed=hash_seed,
    )
    decomposer("run", root, "-o", out / "run", "--no-cache", hash_seed=hash_seed)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.fixture(params=["travel", "synthetic"])
def monolith(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy outside any git repository, so that both runs read the same (no) history."""
    root = tmp_path / request.param
    if request.param == "synthetic":
        subprocess.run(
            [sys.executable, "-m", "sample_monoliths.synthetic", str(root)]
            + ["--services", "4", "--modules", "40", "--seed", "3"],
            capture_output=True,
            check=True,
        )
    else:
        shutil.copytree(SAMPLES / request.param, root)
    return root


def test_two_runs_give_the_same_bytes(monolith: Path, tmp_path: Path) -> None:
    first = outputs(monolith, tmp_path / "first", hash_seed=1, jobs=1)
    second = outputs(monolith, tmp_path / "second", hash_seed=2, jobs=2)
    strategies = default_registry().names(STRATEGIES)
    assert {f"run/proposals/{name}.json" for name in strategies} <= set(first)
    expected = {"analyze.json", "run/graph.json", "run/report.html", "run/report.md"}
    expected |= {"run/report.json", "run/services.dot"}
    expected |= {"run/services.svg"} if shutil.which("dot") else set()
    assert expected <= set(first), sorted(first)
    assert sorted(first) == sorted(second)
    differ = sorted(name for name in first if first[name] != second[name])
    assert differ == []
    assert first["analyze.json"] == first["run/graph.json"]
