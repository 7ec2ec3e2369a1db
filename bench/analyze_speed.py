"""Time `decomposer analyze` cold and warm on large real trees, beside bare parse loops.

    .venv/bin/python bench/analyze_speed.py [--trees django,stdlib] [--jobs 2]

Trees: Django's source from its wheel (downloaded with pip into bench/.data once) and the
standard library of the running Python. For each tree it measures, in this order and in
separate processes (so each peak RSS is its own):

    ast loop        stdlib `ast.parse` over every file, one process
    libcst loop     bare `libcst.parse_module` over every file, one process
    cold            `decomposer analyze --no-cache --jobs N`: parse, collect, resolve, write
    warm            `decomposer analyze` again with nothing changed (after a cache-filling run)

and prints one table: wall seconds (for decomposer including interpreter start-up), files/s,
MB/s, peak RSS of the largest process, and the time as a multiple of the libcst loop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"

LOOP = """
import sys, time, pathlib, resource
files = [pathlib.Path(p) for p in sys.argv[2:]]
srcs = [f.read_bytes() for f in files]
if sys.argv[1] == "ast":
    import ast
    parse = lambda s: ast.parse(s)
else:
    import libcst
    parse = libcst.parse_module
start = time.perf_counter()
for s in srcs:
    try:
        parse(s)
    except Exception:
        pass
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def django_tree() -> Path:
    target = DATA / "django"
    if not target.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DATA),
             "django==5.2.*"],
            check=True,
        )
        wheel = next(DATA.glob("Django-*.whl"), None) or next(DATA.glob("django-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
    return target


def stdlib_tree() -> Path:
    # a copy, so the cache goes into a folder of ours, not the Python installation
    target = DATA / f"stdlib-{sys.version_info[0]}.{sys.version_info[1]}"
    if not target.exists():
        source = Path(sysconfig.get_paths()["stdlib"])
        shutil.copytree(
            source, target, ignore=shutil.ignore_patterns("site-packages", "__pycache__")
        )
    return target


def python_files(root: Path) -> list[Path]:
    """The files `decomposer analyze` reads (its default excludes), so loops compare fairly."""
    sys.path.insert(0, str(HERE.parent))
    from analyzers.static.discovery import DEFAULT_EXCLUDES, discover, find_source_roots

    return [f.path for f in discover(root, find_source_roots(root), DEFAULT_EXCLUDES).files]


def run_loop(kind: str, files: list[Path]) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, "-c", LOOP, kind, *map(str, files)],
        capture_output=True, text=True, check=True,
    )
    seconds, rss = done.stdout.split()
    return float(seconds), int(rss) * 1024


WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:])
# the largest finished descendant: decomposer's main process or one of its workers
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(done.returncode)
"""


def run_analyze(root: Path, jobs: int, cold: bool) -> tuple[float, int]:
    out = Path(tempfile.mkdtemp()) / "graph.json"
    args = [sys.executable, "-m", "decomposer", "analyze", str(root), "-o", str(out),
            "--jobs", str(jobs), "--format", "json"]
    if cold:
        args.append("--no-cache")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True,
                          text=True, check=True)
    seconds = time.perf_counter() - start
    json.loads(done.stdout)  # a summary was printed: the run really finished
    return seconds, int(done.stderr.split()[-1]) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", default="django,stdlib")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    trees = {"django": django_tree, "stdlib": stdlib_tree}
    rows = []
    for name in args.trees.split(","):
        root = trees[name]()
        files = python_files(root)
        size = sum(f.stat().st_size for f in files)
        lines = sum(f.read_bytes().count(b"\n") for f in files)
        ast_s, ast_rss = run_loop("ast", files)
        cst_s, cst_rss = run_loop("libcst", files)
        cold_s, cold_rss = run_analyze(root, args.jobs, cold=True)
        run_analyze(root, args.jobs, cold=False)  # fill the cache
        warm_s, warm_rss = run_analyze(root, args.jobs, cold=False)
        for label, seconds, rss in (
            ("ast.parse loop (1 proc)", ast_s, ast_rss),
            ("libcst.parse_module loop (1 proc)", cst_s, cst_rss),
            (f"analyze cold (--jobs {args.jobs})", cold_s, cold_rss),
            ("analyze warm (nothing changed)", warm_s, warm_rss),
        ):
            rows.append((name, len(files), lines, label, seconds, len(files) / seconds,
                         size / seconds / 1e6, rss / 1e6, seconds / cst_s))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    header = ("tree", "files", "lines", "run", "seconds", "files/s", "MB/s", "peak MB",
              "x libcst loop")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for tree, n, lines, label, seconds, fps, mbs, rss, ratio in rows:
        print(f"| {tree} | {n} | {lines:,} | {label} | {seconds:.2f} | {fps:,.0f} | {mbs:.2f} "
              f"| {rss:,.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
