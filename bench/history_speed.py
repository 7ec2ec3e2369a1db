"""Time the history analyzer on a generated git repository of 100,000 commits.

    .venv/bin/python bench/history_speed.py [--commits 100000] [--sizes 10000,30000,100000]

The repository is generated once with `git fast-import` into bench/.data/history-N (about a
minute): 400 modules in 20 packages, 8 top-level definitions each; 40 authors in teams of
four per package plus one who also commits under an old email (mapped in .mailmap); modules
paired within a package that usually change together; a sweeping commit every 2,500
commits, a file renamed every 10,000, a bot commit every 997 and a topic branch merged
every 1,000. The static graph of its checkout is built once (`decomposer analyze
--no-history`).

Then, for each size, a fresh process loads that graph and runs the history analyzer with
`max_commits` = size, and the table gives its wall time, the CPU seconds of Python and of the
`git log` it streams from (they run side by side on two cores), and the peak RSS of each
(the Python figure minus the RSS the loaded graph took before the analyzer started). Alone,
`git log` with the same options shows how much of the time is git's. The goal: under 30 s
for 100,000 commits, and the same memory whatever the number of commits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
sys.path.insert(0, str(HERE.parent))

PACKAGES, MODULES, UNITS = 20, 20, 8
START = 1_420_070_400  # 2015-01-01


def module_text(versions: list[int]) -> bytes:
    parts = []
    for i, version in enumerate(versions):
        if i % 2:
            parts.append(f"class C{i}:\n    def run(self):\n        return {version}\n\n\n")
        else:
            parts.append(f"def f{i}(x):\n    return x + {version}\n\n\n")
    return "".join(parts).encode()


class Generator:
    """Writes a fast-import stream: full contents of every changed file, one commit each."""

    def __init__(self, out, seed: int = 0) -> None:
        self.out = out
        self.rng = random.Random(seed)
        self.paths = [
            f"app/pkg{p:02d}/mod{m:02d}.py" for p in range(PACKAGES) for m in range(MODULES)
        ]
        self.versions = {path: [0] * UNITS for path in self.paths}
        self.mark = 0
        self.head = 0
        self.time = START

    def commit(
        self,
        ref: str,
        author: tuple[str, str],
        files: list[str],
        *,
        parent: int,
        merge: int = 0,
        renames: tuple[tuple[str, str], ...] = (),
        extra: dict[str, bytes] | None = None,
    ) -> int:
        self.mark += 1
        self.time += 3600
        name, email = author
        ident = f"{name} <{email}> {self.time} +0000"
        message = f"change {self.mark}".encode()
        lines = [
            f"commit {ref}",
            f"mark :{self.mark}",
            f"author {ident}",
            f"committer {ident}",
            f"data {len(message)}",
        ]
        write = self.out.write
        write(("\n".join(lines) + "\n").encode() + message + b"\n")
        if parent:
            write(f"from :{parent}\n".encode())
        if merge:
            write(f"merge :{merge}\n".encode())
        for old, new in renames:
            write(f'R "{old}" "{new}"\n'.encode())
        for path, data in (extra or {}).items():
            write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        for path in dict.fromkeys(files):
            versions = self.versions[path]
            versions[self.rng.randrange(UNITS)] += 1
            data = module_text(versions)
            write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        return self.mark

    def change(self) -> list[str]:
        """A feature-sized change: mostly a pair of modules that belong together."""
        rng = self.rng
        package = rng.randrange(PACKAGES)
        first = rng.randrange(0, MODULES, 2)
        pick = [self.paths[package * MODULES + first]]
        if rng.random() < 0.7:
            pick.append(self.paths[package * MODULES + first + 1])
        if rng.random() < 0.3:
            pick.append(self.paths[package * MODULES + rng.randrange(MODULES)])
        return pick

    def author(self, files: list[str]) -> tuple[str, str]:
        package = int(files[0].split("/")[1][3:])
        rng = self.rng
        who = (package * 2 + rng.randrange(4)) % 40 if rng.random() < 0.8 else rng.randrange(40)
        if who == 0 and rng.random() < 0.5:
            return ("D. Zero", "dev0@old-laptop")
        return (f"Dev {who}", f"dev{who}@example.com")


def generate(target: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=target, stdin=subprocess.PIPE
    )
    assert importer.stdin is not None
    gen = Generator(importer.stdin)
    mailmap = b"Dev 0 <dev0@example.com> D. Zero <dev0@old-laptop>\n"
    head = gen.commit(
        "refs/heads/main",
        ("Dev 0", "dev0@example.com"),
        gen.paths,
        parent=0,
        extra={".mailmap": mailmap},
    )
    renamed = 0
    while gen.mark < commits:
        number = gen.mark + 1
        if number % 1000 == 0 and commits - gen.mark > 6:  # a topic branch, then its merge
            topic, changed = head, []
            for _ in range(5):
                files = gen.change()
                changed += files
                topic = gen.commit("refs/heads/topic", gen.author(files), files, parent=topic)
            head = gen.commit(
                "refs/heads/main",
                ("Dev 1", "dev1@example.com"),
                [],
                parent=head,
                merge=topic,
                extra={p: module_text(gen.versions[p]) for p in changed},
            )
        elif number % 10_000 == 0:  # a module moves; its history goes with it
            index = gen.rng.randrange(len(gen.paths))
            old = gen.paths[index]
            renamed += 1
            new = old.replace(".py", f"_v{renamed}.py")
            gen.paths[index] = new
            gen.versions[new] = gen.versions.pop(old)
            head = gen.commit(
                "refs/heads/main",
                ("Dev 2", "dev2@example.com"),
                [],
                parent=head,
                renames=((old, new),),
            )
        elif number % 2500 == 0:  # a formatting sweep
            files = gen.rng.sample(gen.paths, 120)
            head = gen.commit("refs/heads/main", ("Dev 3", "dev3@example.com"), files, parent=head)
        elif number % 997 == 0:
            files = gen.rng.sample(gen.paths, 3)
            head = gen.commit(
                "refs/heads/main", ("pre-commit-ci[bot]", "bot@ci.example"), files, parent=head
            )
        else:
            files = gen.change()
            head = gen.commit("refs/heads/main", gen.author(files), files, parent=head)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=target, check=True)
    (target / ".generated").write_text(str(commits))


def repository(commits: int) -> Path:
    target = DATA / f"history-{commits}"
    if not (target / ".generated").exists():
        if target.exists():
            subprocess.run(["rm", "-rf", str(target)], check=True)
        DATA.mkdir(exist_ok=True)
        started = time.perf_counter()
        generate(target, commits)
        print(f"generated {target} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return target


RUN = """
import json, resource, sys, time
from pathlib import Path
from analyzers.history import HistoryAnalyzer
from decomposer.cache import NoCache
from decomposer.config import AnalyzeSettings
from decomposer.model.graph_json import graph_from_dict
from decomposer.pipeline import NoProgress
from decomposer.plugins import AnalysisContext

root, graph_path, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
graph = graph_from_dict(json.loads(Path(graph_path).read_text()))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
context = AnalysisContext(root, AnalyzeSettings(max_commits=size), NoCache(), NoProgress())
cpu = time.process_time()
started = time.perf_counter()
figures = HistoryAnalyzer().analyze(context, graph)
wall = time.perf_counter() - started
self_usage = resource.getrusage(resource.RUSAGE_SELF)
git_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "wall": wall, "python_cpu": time.process_time() - cpu,
    "git_cpu": git_usage.ru_utime + git_usage.ru_stime,
    "python_mb": (self_usage.ru_maxrss - before) / 1024, "graph_mb": before / 1024,
    "git_mb": git_usage.ru_maxrss / 1024, "figures": figures,
}))
"""


def run(root: Path, graph: Path, size: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(root), str(graph), str(size)],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    return json.loads(done.stdout)


def git_alone(root: Path, size: int) -> float:
    from analyzers.history.git import log_command

    started = time.perf_counter()
    subprocess.run(log_command(max_commits=size), cwd=root, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--sizes", default="10000,30000,100000")
    args = parser.parse_args()
    root = repository(args.commits)
    graph = DATA / f"history-{args.commits}.graph.json"
    if not graph.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "decomposer",
                "analyze",
                str(root),
                "-o",
                str(graph),
                "--no-history",
                "--no-cache",
                "--format",
                "json",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=HERE.parent,
        )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f} at start"
    )
    header = (
        "commits",
        "wall s",
        "python CPU s",
        "git CPU s",
        "git log alone s",
        "python peak MB (over graph)",
        "git peak MB",
        "co_changes",
        "authors",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for size in (int(s) for s in args.sizes.split(",")):
        found = run(root, graph, size)
        alone = git_alone(root, size)
        figures = found["figures"]
        print(
            f"| {figures['commits']:,} | {found['wall']:.1f} | {found['python_cpu']:.1f} "
            f"| {found['git_cpu']:.1f} | {alone:.1f} | {found['python_mb']:.0f} "
            f"| {found['git_mb']:.0f} | {figures['co_changes']:,} | {figures['authors']} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
