"""Reading `git log` as a stream: one commit at a time, never the whole history in memory.

One `git log -p -U0 -M` process runs with its output piped; `read_commits` turns the lines
into `Commit` records as they arrive. With `-U0` a diff has no context lines, so a hunk
header says exactly which lines a commit changed; the changed lines themselves are skipped
(counted off by the hunk header's lengths, never looked at).

Every option whose user configuration could change the output is passed explicitly (colour,
prefixes, external diff tools, path quoting, signatures), so the parser reads one format.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: One header line per commit: a record separator, then fields split by a unit separator.
#: %aN and %aE are the author's name and email after `.mailmap`.
LOG_FORMAT = "%x1e%H%x1f%P%x1f%at%x1f%aN%x1f%aE"

#: The files whose history is read (relative to the analysed folder).
PATHSPEC = ("*.py",)

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class GitError(Exception):
    """git could not be run, or said no (not a repository, dubious ownership, bad option)."""


@dataclass(slots=True)
class FileChange:
    """One file in a commit's diff, with the lines it changed."""

    #: The path after the commit (for a deleted file, the path it had), relative to the
    #: folder git ran in (`--relative`), with `/` separators.
    path: str
    #: The path before the commit when git detected a rename (`-M`), else None.
    old_path: str | None = None
    deleted: bool = False
    #: Changed line ranges (first, last; 1-based, inclusive) in the file after the commit.
    #: A pure deletion is the one line after which lines were removed.
    hunks: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Commit:
    sha: str
    parents: int
    time: int  # author time, seconds since the epoch
    author: str  # after .mailmap
    email: str
    files: list[FileChange] = field(default_factory=list)


def log_command(
    *, since: str = "", max_commits: int = 0, pathspec: Sequence[str] = PATHSPEC
) -> list[str]:
    """The `git log` command line: newest commit first, patches without context."""
    command = [
        "git",
        "-c",
        "core.quotePath=false",  # non-ASCII paths as they are; control characters still quoted
        "-c",
        "diff.noprefix=false",
        "log",
        f"--format={LOG_FORMAT}",
        "--use-mailmap",
        "--patch",
        "--unified=0",
        "--find-renames",
        "--relative",  # paths relative to the analysed folder, changes outside it left out
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-show-signature",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "--encoding=UTF-8",
    ]
    if since:
        command.append(f"--since={since}")
    if max_commits:
        command.append(f"--max-count={max_commits}")
    return [*command, "--", *pathspec]


def read_commits(lines: Iterable[bytes]) -> Iterator[Commit]:
    """Commits from the output of `log_command`, one at a time, as the lines arrive."""
    commit: Commit | None = None
    change: FileChange | None = None
    skip = 0  # changed lines of the current hunk still to pass over
    for line in lines:
        if skip:
            if line[:1] != b"\\":  # "\ No newline at end of file" is not a changed line
                skip -= 1
            continue
        first = line[:1]
        if first == b"\x1e":
            if commit is not None:
                yield commit
            commit, change = _header(line), None
        elif commit is None:
            continue
        elif first == b"@":
            found = _HUNK.match(line)
            if found is None or change is None:
                continue
            removed = int(found[1]) if found[1] is not None else 1
            start = int(found[2])
            added = int(found[3]) if found[3] is not None else 1
            skip = removed + added
            if added:
                change.hunks.append((start, start + added - 1))
            else:
                change.hunks.append((max(start, 1), max(start, 1)))
        elif first == b"d":
            if line.startswith(b"diff --git "):
                change = FileChange(_diff_line_path(line[11:].rstrip(b"\n")))
                commit.files.append(change)
            elif line.startswith(b"deleted file mode") and change is not None:
                change.deleted = True
        elif change is None:
            continue
        elif first == b"r":
            if line.startswith(b"rename from "):
                change.old_path = _path(line[12:])
            elif line.startswith(b"rename to "):
                change.path = _path(line[10:])
        elif first == b"+" and line.startswith(b"+++ "):
            target = line[4:].rstrip(b"\n")
            if target == b"/dev/null":
                change.deleted = True
            else:
                change.path = _unquote(target).removeprefix("b/")
    if commit is not None:
        yield commit


def _header(line: bytes) -> Commit:
    fields = line[1:].rstrip(b"\n").split(b"\x1f", 4)
    fields += [b""] * (5 - len(fields))
    sha, parents, when, name, email = fields
    return Commit(
        sha.decode("ascii", "replace"),
        len(parents.split()),
        int(when or 0),
        name.decode("utf-8", "replace"),
        email.decode("utf-8", "replace"),
    )


def _path(raw: bytes) -> str:
    return _unquote(raw.rstrip(b"\n"))


def _diff_line_path(rest: bytes) -> str:
    """The new path of `diff --git a/X b/Y`: exact when X and Y are the same (no rename);
    for a rename, the `rename to` line that follows replaces it."""
    if rest.startswith(b'"') or rest.endswith(b'"'):
        parts = _split_quoted(rest)
        if len(parts) == 2:
            return parts[1].removeprefix("b/")
    middle = (len(rest) - 1) // 2
    if rest[middle : middle + 1] == b" " and rest[2:middle] == rest[middle + 3 :]:
        return rest[middle + 3 :].decode("utf-8", "surrogateescape")
    return rest.rpartition(b" ")[2].decode("utf-8", "surrogateescape").removeprefix("b/")


def _split_quoted(rest: bytes) -> list[str]:
    """`"a/x y" "b/x y"`, `a/x "b/y\\tz"`: the two paths, unquoted."""
    parts: list[str] = []
    i = 0
    while i < len(rest):
        if rest[i : i + 1] == b'"':
            end = i + 1
            while end < len(rest) and rest[end : end + 1] != b'"':
                end += 2 if rest[end : end + 1] == b"\\" else 1
            parts.append(_unquote(rest[i : end + 1]))
            i = end + 2
        else:
            end = rest.find(b" ", i)
            end = len(rest) if end < 0 else end
            parts.append(rest[i:end].decode("utf-8", "surrogateescape"))
            i = end + 1
    return parts


_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def _unquote(raw: bytes) -> str:
    """A path as git prints it: as is, or C-quoted ("a\\tb", octal bytes for the rest)."""
    if not (len(raw) >= 2 and raw[:1] == b'"' and raw[-1:] == b'"'):
        return raw.decode("utf-8", "surrogateescape")
    out = bytearray()
    body = raw[1:-1]
    i = 0
    while i < len(body):
        byte = body[i]
        if byte == 92 and i + 1 < len(body):  # backslash
            following = body[i + 1]
            if 48 <= following <= 55:  # octal \ooo
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(following, following))
            i += 2
            continue
        out.append(byte)
        i += 1
    return out.decode("utf-8", "surrogateescape")


# -- running git ------------------------------------------------------------------------------

_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def git(cwd: Path, *args: str) -> str:
    """Run a short git command and return its output; GitError with git's message if it fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            env={**os.environ, **_ENV},
            check=False,
        )
    except OSError as exc:  # git is not installed, or cwd vanished
        raise GitError(f"cannot run git: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[0] if message else f"git {args[0]} failed")
    return done.stdout.decode("utf-8", "replace").strip()


@contextmanager
def log_lines(cwd: Path, command: list[str]) -> Iterator[Iterator[bytes]]:
    """The output lines of a long git command, read as git writes them.

    stderr goes to a temporary file (a pipe left unread could fill and stall git). When the
    reader stops early the process is ended; when git fails, GitError carries its message.
    """
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=errors,
                env={**os.environ, **_ENV},
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from exc
        assert process.stdout is not None
        finished = False
        try:
            yield iter(process.stdout)
            finished = True
        finally:
            if not finished:
                process.kill()
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise GitError(message[0] if message else f"git log exited with {code}")
