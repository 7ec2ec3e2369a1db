"""Benchmark: `decomposer check` on a 1,000,000-line synthetic monolith.

    .venv/bin/python bench/check_speed.py                     # generate (once), cold, warm runs
    .venv/bin/python bench/check_speed.py --no-cold           # keep the cache of an earlier run
    .venv/bin/python bench/check_speed.py --lines 250000 --jobs 2

The tree is `python -m sample_monoliths.synthetic` (seed 0), kept in bench/.data/check-<lines>
with its analysis cache; its truth file is the committed boundaries (a class-level proposal,
`[tool.decomposer.check] proposal = "expected_decomposition.json"`). Runs, each a fresh
`decomposer check --format json` process (the real command line):

    cold                 no cache: every file parsed; records the baseline (--update-baseline)
    warm, no change      the same tree again (the last check's result reused, unless the
                         previous run of this benchmark ended on another tree)
    warm, no change again  and again (the last check's result reused)
    warm, one file       one service module gains a function calling another service (exit 1);
                         the edit differs on every run, so the file is parsed again
    warm, reverted       the file restored

The table gives wall seconds (with interpreter start-up), the analysis's share, the files
parsed, the modules resolved (the others' resolved parts reused from the cache), whether the last analysis / last check were reused, the exit code, the violations,
the CPU seconds and peak RSS (from wait4: the check and the processes it waited for), and
the one-minute load average when the run started (the machine may be shared). The line
above it ends with the machine's speed at the end of the runs: the seconds a fixed loop of 30
million Python steps takes (1.2 to 1.4 s on the project's machine), so that figures taken
at different times can be compared. The issue's target: a warm check with one file changed
in under 10 s on 2 cores.
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
BIN = Path(sys.executable).parent


def generate(out: Path, lines: int) -> str:
    command = [sys.executable, "-m", "sample_monoliths.synthetic", str(out), "--lines",
               str(lines), "--seed", "0"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"generator failed: {done.stderr.strip()}")
    return done.stdout.strip()


def configure(tree: Path, jobs: int) -> None:
    (tree / "pyproject.toml").write_text(
        f"[tool.decomposer]\njobs = {jobs}\n\n"
        '[tool.decomposer.check]\nproposal = "expected_decomposition.json"\n'
    )


def run_check(tree: Path, name: str, *args: str) -> dict[str, object]:
    command = [str(BIN / "decomposer"), "check", str(tree), "--format", "json", *args]
    load = os.getloadavg()[0]  # the machine may be shared: this says how busy it was
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code not in (0, 1):
        raise SystemExit(f"{name}: decomposer check exited {code}: {stderr.strip()}")
    summary = json.loads(stdout)
    # a reused result carries the figures of the analysis it came from: none ran now
    reused = summary["reused_last_check"]
    analysis = summary["analysis"]
    return {
        "run": name,
        "seconds": seconds,
        "check s": summary["seconds"],
        "analysis s": "-" if reused else analysis["seconds"],
        "parsed": 0 if reused else analysis["cache"].get("misses", 0),
        "resolved": "-" if reused or analysis["reused_last_run"] else analysis["modules_resolved"],
        "reused": "check" if reused else "analysis" if analysis["reused_last_run"] else "",
        "exit": code,
        "errors": summary["counts"]["errors"],
        # the check and its analysis workers together
        "CPU s": usage.ru_utime + usage.ru_stime,
        "peak RSS MB": usage.ru_maxrss / 1024,  # KiB on Linux; the largest of the processes
        "load": load,
    }


def coupling_edit(tree: Path) -> tuple[Path, str]:
    """A module of one service and the code that makes it call another service's function
    (a dependency taken from the baseline, so that the target exists)."""
    baseline = json.loads((tree / ".decomposer" / "baseline.json").read_text())
    for record in baseline["dependencies"]:
        if record["kind"] != "calls":
            continue
        source_module = _module_file(tree, record["source"])
        target_module, _, name = record["target"].rpartition(".")
        if (
            source_module is None
            or not (tree / (target_module.replace(".", "/") + ".py")).is_file()
        ):
            continue
        code = (
            f"\n\ndef bench_new_coupling(*args):\n"
            f"    from {target_module} import {name}\n\n"
            f"    return {name}(*args)\n"
            # new on every run, as a real edit is: the file is parsed, nothing of it is cached
            f"\n# edit {time.time_ns()}\n"
        )
        return source_module, code
    raise SystemExit("no cross-service call in the baseline to imitate")


def _module_file(tree: Path, atom: str) -> Path | None:
    parts = atom.split(".")
    for i in range(len(parts), 0, -1):
        path = tree / ("/".join(parts[:i]) + ".py")
        if path.is_file():
            return path
    return None


def machine_speed() -> float:
    """Seconds for a fixed loop of Python steps: a shared machine's speed drifts over
    minutes, and this says how fast it was when the runs were made."""
    started = time.perf_counter()
    total = 0
    for step in range(30_000_000):
        total += step
    return time.perf_counter() - started


def print_table(rows: list[dict[str, object]], columns: list[str] | None = None) -> None:
    """A markdown table of the rows: the given columns, or every key of the first row."""
    columns = columns or list(rows[0])
    cells = [[_fmt(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + " |")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2, help="analysis worker processes")
    parser.add_argument(
        "--no-cold",
        action="store_true",
        help="keep the cache (and baseline) of an earlier run: no cold run",
    )
    args = parser.parse_args()
    tree = HERE / ".data" / f"check-{args.lines}"
    if not (tree / "expected_decomposition.json").is_file():
        print(generate(tree, args.lines), flush=True)
    configure(tree, args.jobs)
    files = sum(1 for _ in tree.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in tree.rglob("*.py"))
    rows = []
    has_baseline = (tree / ".decomposer" / "baseline.json").is_file()
    if not args.no_cold or not has_baseline:
        if not args.no_cold:
            shutil.rmtree(tree / ".decomposer", ignore_errors=True)
        rows.append(run_check(tree, "cold" if not args.no_cold else "baseline",
                              "--update-baseline"))  # fmt: skip
    rows.append(run_check(tree, "warm, no change"))
    rows.append(run_check(tree, "warm, no change again"))  # the last check's result reused
    path, code = coupling_edit(tree)
    original = path.read_bytes()
    try:
        path.write_bytes(original + code.encode())
        rows.append(run_check(tree, "warm, one file"))
    finally:
        path.write_bytes(original)
    rows.append(run_check(tree, "warm, reverted"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, --jobs {args.jobs}; "
          f"{tree.relative_to(REPO_ROOT)}: {files:,} files, {lines:,} lines; "
          f"changed: {path.relative_to(tree)}; machine speed: {machine_speed():.2f} s")  # fmt: skip
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
