"""The history analyzer: which code changes together and who changes it, read from the git
history of the analysed folder (docs/history.md).

It runs after the static analyzer (`runs_after`): it charges history to the module,
class and function nodes that analyzer adds, finding modules by their `file`. A folder that
is not in a git repository, a repository without commits, or a missing git give a note in
the summary and no history, never an error.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from analyzers.history.git import PATHSPEC, GitError, git, log_command, log_lines, read_commits
from analyzers.history.signals import History, Units, apply
from decomposer.cache import content_key
from decomposer.model.graph import DependencyGraph
from decomposer.plugins import AnalysisContext

#: Bump when what the analyzer adds for the same history changes.
HISTORY_VERSION = "history-1"
#: How many commits to read between two progress updates.
_PROGRESS_EVERY = 500


@dataclass(frozen=True)
class _Repository:
    """Where the analysed folder's history is, or why there is none (`note`)."""

    top: Path | None = None
    #: The newest commit that changed a Python file under the folder: what the history read
    #: from HEAD depends on (a commit changing only docs or a baseline changes nothing).
    last: str = ""
    shallow: bool = False
    mailmap: bytes = b""
    note: str = ""


class HistoryAnalyzer:
    name: ClassVar[str] = "history"
    summary: ClassVar[str] = "co-changes and authors from the git history (git log)"
    #: It attaches facts to the nodes the static analyzer adds.
    runs_after: ClassVar[tuple[str, ...]] = ("static",)

    def __init__(self) -> None:
        self._repositories: dict[AnalysisContext, _Repository] = {}

    def fingerprint(self, context: AnalysisContext) -> str:
        settings = context.settings
        if not settings.history:
            return content_key(HISTORY_VERSION, "off")
        repo = self._repository(context)
        # a relative --since ("2 years ago") reads a different history tomorrow
        today = datetime.date.today().isoformat() if settings.since else ""
        return content_key(
            HISTORY_VERSION,
            repo.last,
            str(repo.shallow),
            repo.mailmap,
            repo.note,
            settings.since,
            today,
            str(settings.max_commits),
            str(settings.max_files_per_commit),
            *settings.bots,
        )

    def analyze(self, context: AnalysisContext, graph: DependencyGraph) -> dict[str, Any]:
        settings = context.settings
        if not settings.history:
            return {"enabled": False, "note": "turned off (--no-history or history = false)"}
        started = time.perf_counter()
        repo = self._repository(context)
        if repo.top is None:
            return {"enabled": False, "note": repo.note}
        history = History(
            Units.of(graph), max_files=settings.max_files_per_commit, bots=settings.bots
        )
        command = log_command(since=settings.since, max_commits=settings.max_commits)
        context.progress.start("reading git history", self._upper_bound(context))
        try:
            with log_lines(context.root, command) as lines:
                for commit in read_commits(lines):
                    history.add(commit)
                    if history.figures.commits % _PROGRESS_EVERY == 0:
                        context.progress.advance(_PROGRESS_EVERY)
        except GitError as exc:
            return {"enabled": False, "note": f"git log failed, no history read: {exc}"}
        edges = apply(graph, history)
        figures = history.figures
        notes = [repo.note] if repo.note else []
        if figures.commits == 0:
            notes.append("no commit changed a Python file under the analysed folder")
        return {
            "enabled": True,
            "last_commit": repo.last,
            "shallow": repo.shallow,
            "commits": figures.commits,
            "commits_used": figures.used,
            "merges": figures.merges,
            "bot_commits": figures.bots,
            "sweeps": figures.sweeps,
            "renames": figures.renames,
            "authors": len(history.authors()),
            "co_changes": edges,
            "from": _date(figures.first_time) if figures.commits else None,
            "to": _date(figures.last_time) if figures.commits else None,
            "seconds": round(time.perf_counter() - started, 3),
            **({"note": "; ".join(notes)} if notes else {}),
        }

    def _repository(self, context: AnalysisContext) -> _Repository:
        if context not in self._repositories:
            self._repositories[context] = _find_repository(context.root)
        return self._repositories[context]

    @staticmethod
    def _upper_bound(context: AnalysisContext) -> int:
        """Commits reachable from HEAD (fast: no diffs), as the progress bar's total."""
        args = ["rev-list", "--count", "--no-merges"]
        if context.settings.since:
            args.append(f"--since={context.settings.since}")
        if context.settings.max_commits:
            args.append(f"--max-count={context.settings.max_commits}")
        try:
            return int(git(context.root, *args, "HEAD"))
        except (GitError, ValueError):
            return 0


def _find_repository(root: Path) -> _Repository:
    try:
        lines = git(root, "rev-parse", "--show-toplevel", "--is-shallow-repository").splitlines()
    except GitError as exc:
        return _Repository(note=_why_no_repository(str(exc)))
    if not lines:
        return _Repository(note="git did not say where the repository is: no history read")
    top_dir = Path(lines[0])
    try:
        git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except GitError:
        return _Repository(note="the git repository has no commits yet: no history read")
    try:
        last = git(root, "rev-list", "-1", "HEAD", "--", *PATHSPEC)
    except GitError as exc:
        return _Repository(note=f"git refused the folder ({exc}): no history read")
    is_shallow = lines[1:2] == ["true"]
    try:
        mailmap = (top_dir / ".mailmap").read_bytes()
    except OSError:
        mailmap = b""
    note = ""
    if is_shallow:
        note = (
            "shallow clone: only the commits it holds were read "
            "(`git fetch --unshallow` reads the whole history)"
        )
    return _Repository(top_dir, last, is_shallow, mailmap, note)


def _why_no_repository(message: str) -> str:
    if message.startswith("cannot run git"):
        return f"{message}: no history read (install git for co-change and team signals)"
    if "not a git repository" in message:
        return "not inside a git repository: no history read"
    return f"git refused the folder ({message}): no history read"


def _date(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).date().isoformat()
