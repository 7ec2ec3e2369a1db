"""Benchmark: generate a 1M-line synthetic monolith and report size, time and memory.

    .venv/bin/python bench/generate_synthetic.py                      # 1,000,000 lines, 12 services
    .venv/bin/python bench/generate_synthetic.py --lines 250000 --layouts mixed,by-layer
    .venv/bin/python bench/generate_synthetic.py --keep /tmp/synth-1m   # keep the tree for later

Each run is a fresh ``python -m sample_monoliths.synthetic`` process (the real command line),
so "seconds" is wall time including interpreter start-up, "CPU s" its user + system time
and "peak RSS" its maximum resident set (both from ``wait4``). Files and lines are counted
on disk afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_speed import print_table

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_once(out: Path, lines: int, services: int, seed: int, layout: str) -> dict[str, object]:
    command = [
        sys.executable,
        "-m",
        "sample_monoliths.synthetic",
        str(out),
        "--lines",
        str(lines),
        "--services",
        str(services),
        "--seed",
        str(seed),
        "--layout",
        layout,
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"generator failed ({proc.returncode}): {stderr.strip()}")
    files = n_lines = size = modules = 0
    for path in out.rglob("*.py"):
        data = path.read_bytes()
        files += 1
        modules += path.name != "__init__.py"
        n_lines += data.count(b"\n")
        size += len(data)
    return {
        "layout": layout,
        "services": services,
        "modules": modules,
        "files": files,
        "lines": n_lines,
        "MB": size / 1e6,
        "seconds": seconds,
        "CPU s": usage.ru_utime + usage.ru_stime,
        "peak RSS MB": usage.ru_maxrss / 1024,  # ru_maxrss is in KiB on Linux
        "summary": stdout.strip(),
    }


COLUMNS = ["layout", "services", "modules", "files", "lines", "MB", "seconds", "CPU s",
           "peak RSS MB"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="target lines per run")
    parser.add_argument("--services", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--layouts", default="mixed", help="comma-separated layouts, one run (table row) each"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write the (last) tree here instead of a temporary folder",
    )
    args = parser.parse_args()
    rows = []
    for layout in args.layouts.split(","):
        with tempfile.TemporaryDirectory(prefix="synthetic-bench-") as tmp:
            out = Path(tmp) / "monolith"
            rows.append(run_once(out, args.lines, args.services, args.seed, layout))
            if args.keep is not None:
                if args.keep.exists():
                    shutil.rmtree(args.keep)
                shutil.copytree(out, args.keep)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, target {args.lines:,} "
        f"lines, seed {args.seed}"
    )
    print_table(rows, COLUMNS)
    for row in rows:
        print(f"  {row['layout']}: {row['summary']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
