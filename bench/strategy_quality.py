"""Score every strategy against known decompositions, then time each on a 100,000-atom graph.

    .venv/bin/python bench/strategy_quality.py [--scale-atoms 100000] [--timeout 900]
                                               [--skip-quality] [--skip-scale]

Quality: each hand-written sample (sample_monoliths/shop, clinic, travel) and a few synthetic
monoliths with planted services (generated into bench/.data/strategy_quality) is analysed
with `decomposer analyze`, then `decomposer compare --truth expected_decomposition.json
--services K`, with K the number of services in the truth, runs every installed strategy
(class level, seed 0). Prints MoJoFM / ARI per input and strategy, the best non-structural
strategy of each input with its margin over `structural`, and the goals: the best
non-structural strategy at least 80 MoJoFM on each sample and 10 points above structural on
average over the samples; at least 90 on each synthetic monolith.

Scale: a synthetic monolith of about --scale-atoms class-level atoms (12 services; the graph
is cached in bench/.data and reused), then `decomposer decompose --strategy NAME --services
12` once per strategy, each in its own process: wall seconds (interpreter start-up and graph
loading included), peak RSS (os.wait4 of that process), and a timeout per strategy. Goal:
under 2 minutes and 4 GB each. Raw numbers go to bench/results/strategy_quality.json.

All decomposer runs use a folder without pyproject.toml as working directory, so no
`[tool.decomposer]` configuration is read: every strategy runs with its defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from decomposer.model.graph_json import SCHEMA as GRAPH_SCHEMA

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data" / "strategy_quality"
RESULTS = HERE / "results"
SAMPLES = ["shop", "clinic", "travel"]
SYNTHETIC = {  # name: generator options (each also gets --force)
    "synth 8 svc / 300 mod": "--services 8 --modules 300 --seed 1",
    "synth 12 svc / 800 mod": "--services 12 --modules 800 --seed 2",
    "synth 8 svc / 400 mod, noise 0.3": "--services 8 --modules 400 --seed 3 --noise 0.3",
}
ATOMS_PER_MODULE = 100_000 / 19_000  # class-level atoms per module: measured 5.24 to 5.28
SCALE_SERVICES = 12
SAMPLE_GOAL, MARGIN_GOAL, SYNTH_GOAL = 80.0, 10.0, 90.0
SECONDS_GOAL, BYTES_GOAL = 120.0, 4e9
#: Both with the cyclic garbage collector off, as the command line runs (decomposer.cli).
LOAD = """import gc, sys, pathlib, decomposer.pipeline as p
gc.disable()
p.AtomGraph.from_graph(p.load_graph(pathlib.Path(sys.argv[1])), "class")"""
#: The strategy alone: load as above, then time only `Strategy.decompose` (no core after it).
ALONE = """import gc, json, sys, time, pathlib, resource, decomposer.pipeline as p
gc.disable()
from decomposer.model.proposal import Constraints
from decomposer.plugins import StrategyInput, default_registry
graph = p.load_graph(pathlib.Path(sys.argv[1]))
atoms = p.AtomGraph.from_graph(graph, "class")
strategy = default_registry().strategy(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
strategy.decompose(StrategyInput(atoms, graph, int(sys.argv[3]), 0, {}, Constraints()))
print(json.dumps({"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))"""


def decomposer(*args: str, stop: bool = True) -> dict:
    """Run the CLI with --format json; a failure stops the benchmark, or gives {"error": …}."""
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", *args, "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        cwd=DATA,
    )
    if done.returncode and stop:
        sys.exit(f"decomposer {' '.join(args)} failed:\n{done.stderr}")
    return {"error": done.stderr.strip()} if done.returncode else json.loads(done.stdout)


def synthetic(options: list[str]) -> Path:
    target = DATA / "-".join(o.lstrip("-") for o in options)
    if not (target / "expected_decomposition.json").exists():
        subprocess.run(
            [sys.executable, "-m", "sample_monoliths.synthetic", str(target), *options, "--force"],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    return target


def graph_of(root: Path, graph: Path) -> Path:
    """The graph of root, analysed once and kept (the analyze cache covers the samples), and
    again when kept in another schema than this decomposer's."""
    if not _current(graph):
        print(f"analysing {root} ...", file=sys.stderr, flush=True)
        decomposer("analyze", str(root), "-o", str(graph))
    return graph


def _current(graph: Path) -> bool:
    """Whether graph.json exists in this decomposer's schema: its last key, written sorted,
    read from the end of the file (a large graph is not parsed for it)."""
    if not graph.exists():
        return False
    with graph.open("rb") as f:
        f.seek(max(0, graph.stat().st_size - 64))
        return f'"schema": {GRAPH_SCHEMA}'.encode() in f.read()


def quality(names: list[str]) -> list[dict]:
    inputs = [(s, ROOT / "sample_monoliths" / s, "sample") for s in SAMPLES]
    inputs += [(n, synthetic(o.split()), "synthetic") for n, o in SYNTHETIC.items()]
    rows = []
    for name, root, kind in inputs:
        truth = root / "expected_decomposition.json"
        k = len(json.loads(truth.read_text())["services"])
        graph = DATA / f"{root.name}.graph.json" if kind == "sample" else root / "graph.json"
        if kind == "sample":
            graph.unlink(missing_ok=True)  # samples change with the code: analyse every run
        graph_of(root, graph)
        print(f"comparing on {name} (K = {k}) ...", file=sys.stderr, flush=True)
        args = ["compare", str(graph), "--truth", str(truth), "--services", str(k)]
        result = decomposer(*args, stop=False)
        if "error" in result:  # a crash, not a reported failure: find the strategy, one by one
            result = {"strategies": {}, "failed": {}}
            for s in names:
                one = decomposer(*args, "--strategies", s, "--debug", stop=False)
                result["strategies"].update(one.get("strategies", {}))
                result["failed"].update(one.get("failed", {}))
                if "error" in one:
                    result["failed"][s] = one["error"].splitlines()[-1]
                    result.setdefault("tracebacks", {})[s] = one["error"]
        strategies = result["strategies"]
        atoms = next(iter(strategies.values()))["metrics"]["atoms"] if strategies else None
        row = {"input": name, "kind": kind, "k": k, "atoms": atoms, "failed": result["failed"]}
        row.update(agreement={s: r["agreement"] for s, r in strategies.items()})
        rows.append(row | {"tracebacks": result.get("tracebacks", {})})
    return rows


def best_other(row: dict) -> tuple[str | None, float | None, float | None]:
    """The best non-structural strategy by MoJoFM, its MoJoFM and its margin over structural."""
    scores = {s: a["mojofm"] for s, a in row["agreement"].items() if s != "structural"}
    if not scores:
        return None, None, None
    name = max(sorted(scores), key=scores.__getitem__)
    base = row["agreement"].get("structural", {}).get("mojofm")
    return name, scores[name], None if base is None else scores[name] - base


def print_quality(rows: list[dict], names: list[str]) -> list[str]:
    header = ["input", "K", "atoms", *names, "best non-structural", "margin", "goal"]
    print("MoJoFM / ARI per strategy (class level, seed 0, K = the truth's services)\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    goals, margins = [], []
    for row in rows:
        cells = []
        for s in names:
            a = row["agreement"].get(s)
            cells.append(f"{a['mojofm']:.1f} / {a['ari']:.2f}" if a else "failed")
        best, score, margin = best_other(row)
        floor = SAMPLE_GOAL if row["kind"] == "sample" else SYNTH_GOAL
        met = score is not None and score >= floor
        if row["kind"] == "sample" and margin is not None:
            margins.append(margin)
        shown = "—" if score is None else f"{best} {score:.1f}"
        gap = "—" if margin is None else f"{margin:+.1f}"
        goal = f"≥ {floor:.0f}: {'met' if met else 'NOT met'}"
        print(
            f"| {row['input']} | {row['k']} | {row['atoms']:,} | "
            + " | ".join(cells)
            + f" | {shown} | {gap} | {goal} |"
        )
        goals.append(
            f"{row['input']}: best non-structural {shown} (goal ≥ {floor:.0f}): "
            + ("met" if met else "NOT met")
        )
        for s, message in row["failed"].items():
            goals.append(f"{row['input']}: {s} failed: {message}")
            goals += ["    " + line for line in row["tracebacks"].get(s, "").splitlines()[-15:]]
    if margins:
        mean = sum(margins) / len(margins)
        goals.append(
            f"samples: mean margin of the best non-structural over structural "
            f"{mean:+.1f} MoJoFM (goal ≥ +{MARGIN_GOAL:.0f}): "
            + ("met" if mean >= MARGIN_GOAL else "NOT met")
        )
    samples = [r for r in rows if r["kind"] == "sample"]
    if samples:  # the same goals held by one strategy on every sample

        def mean_of(s: str) -> float:
            return sum(r["agreement"].get(s, {}).get("mojofm", 0) for r in samples) / len(samples)

        one = max((s for s in names if s != "structural"), key=mean_of)
        low = min(r["agreement"].get(one, {}).get("mojofm", 0) for r in samples)
        goals.append(
            f"samples, one strategy for all: {one}, mean {mean_of(one):.1f}, lowest "
            f"{low:.1f}, {mean_of(one) - mean_of('structural'):+.1f} over structural"
        )
    print("\n" + "\n".join(f"- {g}" for g in goals) + "\n")
    return goals


def timed(args: list[str], timeout: float, log: Path) -> dict:
    """Run args in a fresh process: status, wall and CPU seconds, peak RSS in bytes, the
    load average at the end (the machine may be shared), and what it printed."""
    start = time.perf_counter()
    out = log.with_suffix(".out")
    with log.open("w") as err, out.open("w") as printed:
        child = subprocess.Popen(
            args, stdout=printed, stderr=err, cwd=DATA, start_new_session=True
        )
        status = None
        while status is None:
            pid, code, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                status = "ok" if os.waitstatus_to_exitcode(code) == 0 else "failed"
            elif time.perf_counter() - start > timeout:
                os.killpg(child.pid, signal.SIGKILL)
                _, _, usage = os.wait4(child.pid, 0)
                status = "timeout"
            else:
                time.sleep(0.05)
        child.returncode = 0  # reaped by wait4 above
    return {
        "status": status,
        "seconds": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss": usage.ru_maxrss * 1024,
        "load": os.getloadavg()[0],
        "stdout": out.read_text(),
    }


def scale(atoms: int, names: list[str], timeout: float) -> dict:
    modules = round(atoms / ATOMS_PER_MODULE)
    options = ["--services", str(SCALE_SERVICES), "--modules", str(modules), "--seed", "0"]
    root = synthetic(options)
    start = time.perf_counter()
    graph = graph_of(root, root / "graph.json")
    analysed = time.perf_counter() - start
    load = timed([sys.executable, "-c", LOAD, str(graph)], 3600, root / "load.log")
    runs = {}
    for name in names:
        print(f"{name} alone, then decompose --strategy {name} ...", file=sys.stderr, flush=True)
        alone = [sys.executable, "-c", ALONE, str(graph), name, str(SCALE_SERVICES)]
        run = timed(alone, timeout, root / f"alone-{name}.log")
        inner = json.loads(run["stdout"]) if run["status"] == "ok" else {}
        run.update(strategy_seconds=inner.get("seconds"), strategy_cpu=inner.get("cpu"))
        out, log = root / f"proposal-{name}.json", root / f"decompose-{name}.log"
        out.unlink(missing_ok=True)
        args = [sys.executable, "-m", "decomposer", "decompose", str(graph), "-o", str(out)]
        args += f"--strategy {name} --services {SCALE_SERVICES} --debug".split()
        full = timed(args, timeout, log)
        proposal = json.loads(out.read_text()) if full["status"] == "ok" and out.exists() else {}
        overall = proposal.get("metrics", {}).get("overall", {})
        full.update(atoms=overall.get("atoms"), services=overall.get("services"), log=str(log))
        full["stderr_tail"] = (
            log.read_text().splitlines()[-25:] if full["status"] == "failed" else []
        )
        runs[name] = {"alone": run, "full": full}
    return {"modules": modules, "analyze_seconds": analysed, "load": load, "runs": runs}


def print_scale(result: dict, timeout: float) -> None:
    runs = result["runs"]
    atoms = next((r["full"]["atoms"] for r in runs.values() if r["full"]["atoms"]), None)
    print(
        f"decompose on a synthetic monolith of {result['modules']:,} modules, "
        f"{f'{atoms:,}' if atoms else '?'} class-level atoms, K = {SCALE_SERVICES} "
        f"(timeout {timeout:.0f} s per process)\n"
    )
    print(
        "(a) = the strategy alone: its own wall / CPU seconds inside a process that loads the "
        "graph first (that process's total and peak RSS alongside); (b) = `decomposer "
        "decompose` as a user runs it: load, strategy, the core's completion, writing.\n"
    )
    header = ["run", "status", "wall s", "CPU s", "peak MB", "load avg", "goal (< 120 s, < 4 GB)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")

    def row(label: str, r: dict, goal: bool) -> None:
        met = r["status"] == "ok" and r["seconds"] < SECONDS_GOAL and r["peak_rss"] < BYTES_GOAL
        print(
            f"| {label} | {r['status']} | {r['seconds']:.1f} | {r['cpu']:.1f} "
            f"| {r['peak_rss'] / 1e6:,.0f} | {r['load']:.1f} "
            f"| {('met' if met else 'NOT met') if goal else '—'} |"
        )

    row("(graph load only)", result["load"], goal=False)
    for name, r in runs.items():
        alone = r["alone"]
        if alone.get("strategy_seconds") is not None:
            label = (
                f"{name} (a): strategy {alone['strategy_seconds']:.1f} s wall, "
                f"{alone['strategy_cpu']:.1f} s CPU; whole process"
            )
        else:
            label = f"{name} (a)"
        row(label, alone, goal=False)
        row(f"{name} (b)", r["full"], goal=True)
    for name, r in runs.items():
        if r["full"]["status"] == "failed":
            print(f"\n{name} failed, last lines of {r['full']['log']}:\n")
            print("\n".join("    " + line for line in r["full"]["stderr_tail"]))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-atoms", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per strategy")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    names = [s["name"] for s in decomposer("strategies")["strategies"]]
    report = {"date": date.today().isoformat(), "cores": os.cpu_count(), "strategies": names}
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, strategies: {', '.join(names)}\n"
    )
    if not args.skip_quality:
        report["quality"] = quality(names)
        report["goals"] = print_quality(report["quality"], names)
    if not args.skip_scale:
        report["scale"] = scale(args.scale_atoms, names, args.timeout)
        print_scale(report["scale"], args.timeout)
    out = RESULTS / "strategy_quality.json"
    saved = json.loads(out.read_text()) if out.exists() else {}  # keeps a skipped part
    out.write_text(json.dumps(saved | report, indent=2) + "\n")
    print(f"raw numbers: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
