"""`decomposer analyze` over real trees nobody here wrote: does it ever crash?

    .venv/bin/python bench/real_trees.py                        # every tree, one after another
    .venv/bin/python bench/real_trees.py --tree stdlib-3.12     # one tree (repeatable)
    .venv/bin/python bench/real_trees.py --table                # the table of the saved runs

Trees: the standard libraries of the pyenv Pythons 3.11, 3.12 and 3.13 (without their
site-packages) and the site-packages of this checkout's .venv. Each is copied (only folders,
.py and .sql files; no __pycache__) into bench/.data/real/<tree>, beside a pyproject.toml with
`use_default_excludes = false`: the default excludes would leave out every `test`/`tests`
folder and `test_*.py` file, and the point is every file (hidden folders stay out, as always).
The copy also keeps the analysis cache out of the Python installations.

Each tree is analysed by a fresh `decomposer analyze COPY --no-history --no-cache --format json`
process. A crash is an exit code other than 0 or a traceback on stderr. The table gives the
files and physical lines analysed, the diagnostics by code, crashes, wall seconds (with
interpreter start-up) and the peak RSS of the largest process (from wait4: decomposer or
one of its workers). Each run's row is saved in bench/results/real_trees.json, so trees can be
run one at a time and the table printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DATA = HERE / ".data" / "real"
RESULTS = HERE / "results" / "real_trees.json"
PYENV = Path.home() / ".pyenv" / "versions"


def sources() -> dict[str, Path]:
    """Tree name → the folder it is copied from."""
    trees = {}
    for version in ("3.11", "3.12", "3.13"):
        found = sorted(PYENV.glob(f"{version}.*/lib/python{version}"))
        if found:
            trees[f"stdlib-{version}"] = found[-1]
    venv = REPO_ROOT / ".venv" / "lib"
    trees["site-packages"] = next(venv.glob("python3.*/site-packages"))
    return trees


def _keep_sources(folder: str, names: list[str]) -> list[str]:
    """copytree's ignore: drop everything but folders and .py/.sql files (and site-packages
    inside a standard library, which is its own tree)."""
    return [
        name
        for name in names
        if name in ("__pycache__", "site-packages")
        or not (Path(folder, name).is_dir() or name.endswith((".py", ".sql")))
    ]


def prepare(name: str, source: Path) -> Path:
    target = DATA / name
    if not target.exists():
        partial = DATA / (name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial, symlinks=True, ignore=_keep_sources)
        (partial / "pyproject.toml").write_text(
            "[tool.decomposer]\nuse_default_excludes = false\n"
        )
        partial.rename(target)
    return target


def count_lines(tree: Path) -> tuple[int, int]:
    """Files and physical lines the analyzer reads (every .py file, no default excludes)."""
    sys.path.insert(0, str(REPO_ROOT))
    from analyzers.static.discovery import discover, find_source_roots

    files = discover(tree, find_source_roots(tree), ()).files
    lines = 0
    for source in files:
        try:
            lines += source.path.read_bytes().count(b"\n")
        except OSError:
            pass
    return len(files), lines


def analyze(name: str, tree: Path, jobs: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp())
    out, printed, errors = work / "graph.json", work / "stdout", work / "stderr"
    command = [sys.executable, "-m", "decomposer", "analyze", str(tree), "-o", str(out),
               "--no-history", "--no-cache", "--format", "json", "--jobs", str(jobs)]  # fmt: skip
    start = time.perf_counter()
    with printed.open("w") as stdout, errors.open("w") as stderr:
        pid = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=REPO_ROOT).pid
        _, status, usage = os.wait4(pid, 0)  # usage: of decomposer and its workers
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    crash_text = errors.read_text()
    crashed = code != 0 or "Traceback" in crash_text
    diagnosed: dict[str, list[str]] = {}  # the files behind each code but unresolved imports
    if not crashed:
        for d in json.loads(out.read_text())["diagnostics"]:
            if d["code"] != "unresolved-import":
                diagnosed.setdefault(d["code"], []).append(d["file"])
    summary = {} if crashed else json.loads(printed.read_text())
    shutil.rmtree(work, ignore_errors=True)
    files, lines = count_lines(tree)
    return {
        "tree": name,
        "python": sys.version.split()[0],
        "files": summary.get("analyzers", {}).get("static", {}).get("files", files),
        "lines": lines,
        "diagnostics": summary.get("diagnostics", {}).get("by_code", {}),
        "exit": code,
        "crash": crash_text.strip().splitlines()[-1] if crashed and crash_text.strip() else "",
        "diagnosed_files": {c: paths[:50] for c, paths in diagnosed.items()},
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # KiB on Linux
        "jobs": jobs,
        "load": round(os.getloadavg()[0], 1),
    }


def load_results() -> dict[str, dict[str, object]]:
    try:
        return json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}


def print_table(rows: list[dict[str, object]]) -> None:
    print("| tree | files | lines | diagnostics by code | crashes | seconds | peak RSS MB |")
    print("|---|---:|---:|---|---|---:|---:|")
    for row in rows:
        by_code = row["diagnostics"]
        assert isinstance(by_code, dict)
        diagnostics = ", ".join(f"{code} {count:,}" for code, count in by_code.items()) or "none"
        crash = f"exit {row['exit']}: {row['crash']}" if row["exit"] or row["crash"] else "0"
        print(
            f"| {row['tree']} | {row['files']:,} | {row['lines']:,} | {diagnostics} | {crash} "
            f"| {row['seconds']:,} | {row['peak_rss_mb']:,} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", help="tree name (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--table", action="store_true", help="print the saved runs only")
    args = parser.parse_args()
    trees = sources()
    results = load_results()
    if not args.table:
        for name in args.tree or list(trees):
            if name not in trees:
                parser.error(f"unknown tree {name!r}; known: {', '.join(trees)}")
            row = analyze(name, prepare(name, trees[name]), args.jobs)
            results = load_results() | {name: row}  # runs in parallel keep each other's rows
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    rows = [results[name] for name in trees if name in results]
    if rows:
        loads = ", ".join(f"{r['tree']} {r['load']}" for r in rows)
        print(f"{os.cpu_count()} cores, --jobs {rows[0]['jobs']}, load at the end: {loads}")
        print_table(rows)
    return 1 if any(r["exit"] or r["crash"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
