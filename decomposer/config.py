"""Settings from `[tool.decomposer]` in the analysed project's pyproject.toml.

Every problem in the table is reported at once, each naming its key, so one edit fixes all.
Command-line options override what the file says.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from decomposer.errors import ConfigError
from decomposer.model.proposal import Constraints, parse_constraints

TABLE = "tool.decomposer"


@dataclass(frozen=True)
class AnalyzeSettings:
    #: Folders (relative to the project root) whose children are the top-level packages.
    #: Empty: `src/` in a src layout, else the root itself.
    source_roots: tuple[str, ...] = ()
    #: Globs of paths to leave out, added to the default excludes.
    exclude: tuple[str, ...] = ()
    #: Leave out tests, migrations, virtualenvs and build output (see docs/analyze.md).
    use_default_excludes: bool = True
    #: Worker processes; 0 means one per core.
    jobs: int = 0
    #: Seconds one file may take before it is given up on (a diagnostic, not a failure).
    file_timeout: float = 60.0
    #: Read co-changes and authors from git when the tree is in a repository (docs/history.md).
    history: bool = True
    #: Only commits after this date (anything `git log --since` takes); empty: all of them.
    since: str = ""
    #: Read at most this many commits, the newest first; 0: no limit.
    max_commits: int = 0
    #: Commits changing more Python files than this are sweeps, left out of the history.
    max_files_per_commit: int = 30
    #: Globs of author names or emails whose commits are left out, beside the built-in bots.
    bots: tuple[str, ...] = ()
    #: Runtime trace files to merge (docs/trace-format.md), relative to the project root.
    traces: tuple[str, ...] = ()
    #: Find the entry points (routes, tasks, signals, commands) and the code they start.
    entry_points: bool = True


_TYPES: dict[str, tuple[type[Any], ...]] = {
    "source_roots": (list,),
    "exclude": (list,),
    "use_default_excludes": (bool,),
    "jobs": (int,),
    "file_timeout": (int, float),
    "history": (bool,),
    "since": (str,),
    "max_commits": (int,),
    "max_files_per_commit": (int,),
    "bots": (list,),
    "traces": (list,),
    "entry_points": (bool,),
}


def load_settings(root: Path) -> AnalyzeSettings:
    """The `[tool.decomposer]` table of root/pyproject.toml, or the defaults without one."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return AnalyzeSettings()
    return parse_settings(_table(path), where=f"[{TABLE}] in {path}")


def load_decompose_config(path: Path | None) -> tuple[dict[str, dict[str, Any]], Constraints]:
    """Strategy options (`[tool.decomposer.strategies.<name>]`) and constraints
    (`[tool.decomposer.constraints]`) from a pyproject.toml; none without a file."""
    if path is None:
        return {}, Constraints()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist", hint="check the --config path")
    table = _table(path)
    strategies = table.get("strategies", {})
    if not isinstance(strategies, dict) or not all(
        isinstance(v, dict) for v in strategies.values()
    ):
        raise ConfigError(
            f"[{TABLE}.strategies] in {path} must hold one table per strategy",
            hint="write [tool.decomposer.strategies.<name>] with that strategy's options",
        )
    where = f"[{TABLE}.constraints] in {path}"
    return strategies, parse_constraints(table.get("constraints"), where=where)


def load_check_table(root: Path) -> tuple[dict[str, Any], str]:
    """`[tool.decomposer.check]` of root/pyproject.toml (empty without one) and where it is,
    for messages; decomposer.check validates its keys."""
    path = root / "pyproject.toml"
    where = f"[{TABLE}.check] in {path}"
    table = _table(path).get("check", {}) if path.is_file() else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", hint="see docs/check.md")
    return table, where


def _table(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc})", hint="fix the file or move it aside"
        ) from exc
    tool = document.get("tool", {})
    table = tool.get("decomposer", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"[{TABLE}] in {path} must be a table")
    return table


#: Sub-tables of [tool.decomposer] that other commands read (see load_decompose_config).
SUBTABLES = ("strategies", "constraints", "check")


def parse_settings(table: dict[str, Any], *, where: str) -> AnalyzeSettings:
    known = {f.name for f in fields(AnalyzeSettings)}
    problems = []
    table = {k: v for k, v in table.items() if k not in SUBTABLES}
    for key, value in table.items():
        if key not in known:
            problems.append(f"unknown key '{key}' (known: {', '.join(sorted(known))})")
            continue
        expected = _TYPES[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            problems.append(f"'{key}' should be {expected[0].__name__}, got {value!r}")
        elif isinstance(value, list) and not all(isinstance(v, str) for v in value):
            problems.append(f"'{key}' should be a list of strings, got {value!r}")
        elif key == "jobs" and value < 0:
            problems.append(f"'jobs' should be 0 (one per core) or more, got {value}")
        elif key == "file_timeout" and value <= 0:
            problems.append(f"'file_timeout' should be more than 0 seconds, got {value}")
        elif key == "max_commits" and value < 0:
            problems.append(f"'max_commits' should be 0 (no limit) or more, got {value}")
        elif key == "max_files_per_commit" and value < 2:
            problems.append(f"'max_files_per_commit' should be 2 or more, got {value}")
    raise_problems(
        where, problems, "fix or remove the keys named above; docs/analyze.md lists every key"
    )
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    return AnalyzeSettings(**values)


def raise_problems(where: str, problems: list[str], hint: str) -> None:
    """A ConfigError naming the first of a table's problems (the others as details), if any."""
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise ConfigError(
            f"{where} has {len(problems)} {noun}: {problems[0]}",
            details=problems[1:],
            hint=hint,
        )
