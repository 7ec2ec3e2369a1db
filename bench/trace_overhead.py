"""Benchmark: what `decomposer trace` costs on the sample monoliths' test suites.

    .venv/bin/python bench/trace_overhead.py                  # shop, clinic, travel; 3.11, 3.12
    .venv/bin/python bench/trace_overhead.py --samples shop --repeat 1

Each suite runs as `PYTHON -m pytest -q sample_monoliths/<name>/tests` (without the cache
and hypothesis plugins), plain and under `decomposer trace -o <tmp> --source sample_monoliths/<name> -- …` (the whole
command: start-up, tracing, merging, writing), on Python 3.11 (.venv) and 3.12 (.venv312).
The table gives the best wall time of `--repeat` runs each (runs alternate plain and traced,
so a change of machine load hits both alike), their ratio against the goals (at most 1.5x on
3.12, 3x on 3.11), the ratio of the least CPU time (user + system, every process of the
command: steadier than wall time on a busy machine), the use cases recorded, and the load
average when the benchmark ended.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHONS = {"3.11": REPO / ".venv" / "bin" / "python", "3.12": REPO / ".venv312" / "bin" / "python"}
GOALS = {"3.11": 3.0, "3.12": 1.5}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system) of the command and all its processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def measure(sample: str, version: str, repeat: int, out: Path) -> dict[str, Any]:
    python = str(PYTHONS[version])
    plugins_off = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    suite = [python, "-m", "pytest", "-q", *plugins_off, f"sample_monoliths/{sample}/tests"]
    traced = [sys.executable, "-m", "decomposer", "trace", "-o", str(out)]
    traced += ["--source", f"sample_monoliths/{sample}", "--", *suite]
    plain_runs, traced_runs = [], []
    for _ in range(repeat):
        plain_runs.append(timed(suite))
        traced_runs.append(timed(traced))
    segments = json.loads(out.read_text())["segments"]
    plain, with_trace = min(plain_runs), min(traced_runs)
    return {
        "sample": sample,
        "python": version,
        "plain": plain[0],
        "traced": with_trace[0],
        "ratio": with_trace[0] / plain[0],
        "cpu_ratio": min(t[1] for t in traced_runs) / min(t[1] for t in plain_runs),
        "goal": GOALS[version],
        "use_cases": len(segments),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", nargs="+", default=["shop", "clinic", "travel"])
    parser.add_argument("--pythons", nargs="+", default=list(PYTHONS), choices=list(PYTHONS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for version in args.pythons:
        if not PYTHONS[version].exists():
            sys.exit(f"{PYTHONS[version]} is missing: run ./dev install")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sample in args.samples:
            for version in args.pythons:
                rows.append(measure(sample, version, args.repeat, Path(tmp) / "trace.json"))
                print(f"  {sample} on {version}: {rows[-1]['ratio']:.2f}x", file=sys.stderr)
    print(
        f"best of {args.repeat}; load average at the end: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores\n"
    )
    print(
        "| sample | Python | plain (s) | traced (s) | ratio | goal | met | CPU ratio | use cases |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for row in rows:
        met = "yes" if row["ratio"] <= row["goal"] else "no"
        print(
            f"| {row['sample']} | {row['python']} | {row['plain']:.2f} | {row['traced']:.2f} "
            f"| {row['ratio']:.2f}x | {row['goal']}x | {met} | {row['cpu_ratio']:.2f}x "
            f"| {row['use_cases']} |"
        )


if __name__ == "__main__":
    main()
