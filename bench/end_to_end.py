"""Benchmark: every stage of decomposer on a 1,000,000-line synthetic monolith.

    .venv/bin/python bench/end_to_end.py                  # generate (once), then every stage
    .venv/bin/python bench/end_to_end.py --lines 100000   # a smaller tree, to try it out

The tree is `python -m sample_monoliths.synthetic` (seed 0) in bench/.data/e2e-<lines>, its
outputs in bench/.data/e2e-<lines>-out. Each stage is a fresh `decomposer` process (the real
command line), timed from outside, its peak RSS from wait4:

    analyze, cold        no cache: every file parsed (`--jobs`, default 2)
    analyze, warm        nothing changed: the cached analysis reused
    decompose <name>     every installed strategy, class level, K chosen by the strategy
    report               html, svg, md and json of the default strategy's proposal
    check, baseline      `decomposer check --update-baseline` with the truth as boundaries
    check, warm          the same tree checked again
    open report.html     headless chromium (playwright) until the page's load event

The goal of issue 11: analyze (cold) + the default decompose + report under 2 minutes on
2 cores, peak memory under 4 GB, and the HTML report opening within a few seconds.
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

from check_speed import configure, generate, print_table

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
BIN = Path(sys.executable).parent
DEFAULT_STRATEGY = "ddd_subdomain"
CHROMIUM = Path("/usr/bin/chromium")


def stage(name: str, *args: str | Path, ok: tuple[int, ...] = (0,)) -> dict[str, object]:
    """One `decomposer` process: wall seconds, CPU seconds (user + system), peak RSS."""
    command = [str(BIN / "decomposer"), "-q", *map(str, args)]
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        problem = err.read().strip()
    if code not in ok:
        raise SystemExit(f"{name}: exit {code}: {problem}")
    return {
        "stage": name,
        "wall s": seconds,
        "CPU s": usage.ru_utime + usage.ru_stime,
        "peak RSS MB": usage.ru_maxrss / 1024,  # KiB on Linux
        "load": os.getloadavg()[0],
    }


def open_report(path: Path) -> dict[str, object]:
    """Seconds from navigation to the load event of report.html in headless chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        seconds = time.perf_counter() - start
        cards = page.locator("details.service").count()
        browser.close()
    return {
        "stage": f"open report.html ({path.stat().st_size / 1e6:.1f} MB, {cards} service cards)",
        "wall s": seconds,
        "CPU s": "",
        "peak RSS MB": "",
        "load": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2, help="analysis worker processes")
    args = parser.parse_args()
    tree = HERE / ".data" / f"e2e-{args.lines}"
    out = HERE / ".data" / f"e2e-{args.lines}-out"
    if not (tree / "expected_decomposition.json").is_file():
        print(generate(tree, args.lines), flush=True)
    configure(tree, args.jobs)
    shutil.rmtree(tree / ".decomposer", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = sum(1 for _ in tree.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in tree.rglob("*.py"))
    graph = out / "graph.json"
    strategies = subprocess.run(
        [str(BIN / "decomposer"), "strategies", "--format", "json"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    names = sorted(item["name"] for item in json.loads(strategies)["strategies"])

    rows = [
        stage("analyze, cold", "analyze", tree, "-o", graph, "--no-history"),
        stage("analyze, warm", "analyze", tree, "-o", graph, "--no-history"),
    ]
    for name in names:
        proposal = out / f"proposal-{name}.json"
        rows.append(stage(f"decompose {name}", "decompose", graph, "--strategy", name,
                          "-o", proposal))  # fmt: skip
    report = out / "report"
    rows.append(stage("report", "report", graph, out / f"proposal-{DEFAULT_STRATEGY}.json",
                      "-o", report))  # fmt: skip
    rows.append(stage("check, baseline", "check", tree, "--update-baseline", ok=(0, 1)))
    rows.append(stage("check, warm", "check", tree, ok=(0, 1)))
    rows.append(open_report(report / "report.html"))

    goal = [r for r in rows if r["stage"] in
            ("analyze, cold", f"decompose {DEFAULT_STRATEGY}", "report")]  # fmt: skip
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, --jobs {args.jobs}; "
          f"{tree.relative_to(REPO_ROOT)}: {files:,} files, {lines:,} lines; "
          f"graph.json {graph.stat().st_size / 1e6:,.0f} MB")  # fmt: skip
    print_table(rows)
    print(
        f"\nanalyze (cold) + decompose {DEFAULT_STRATEGY} + report: "
        f"{sum(float(r['wall s']) for r in goal):,.1f} s wall (goal 120 s), "
        f"peak {max(float(r['peak RSS MB']) for r in goal):,.0f} MB (goal 4,096 MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
