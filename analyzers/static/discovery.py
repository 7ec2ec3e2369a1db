"""Find the Python files of a source tree and name their modules."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fnmatch import translate
from pathlib import Path

from decomposer.model.graph import Diagnostic

#: Folders and files left out unless `use_default_excludes = false`: tests, migrations,
#: virtualenvs, build output, caches. Hidden folders and files (".git", ".venv"…) are always
#: left out.
DEFAULT_EXCLUDES = (
    "tests",
    "test",
    "testing",
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "conftest.py",
    "migrations",
    "venv",
    "env",
    "virtualenv",
    "site-packages",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
)


@dataclass(frozen=True, slots=True, order=True)
class SourceFile:
    """One Python file: where it is, and the module id it gets."""

    rel: str  # path relative to the analysed root, POSIX separators: the id used in sites
    module: str
    is_package: bool
    path: Path


class Excludes:
    """Globs of paths to leave out. One with a "/" matches the path from the source root;
    one without matches any single folder or file name on the way."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        names = [translate(p) for p in patterns if "/" not in p]
        paths = [translate(p.rstrip("/")) for p in patterns if "/" in p]
        paths += [translate(p.rstrip("/") + "/*") for p in patterns if "/" in p]
        self._name = re.compile("|".join(names)) if names else None
        self._path = re.compile("|".join(paths)) if paths else None

    def name(self, name: str) -> bool:
        return self._name is not None and self._name.match(name) is not None

    def path(self, rel: str) -> bool:
        return self._path is not None and self._path.match(rel) is not None


def find_source_roots(root: Path) -> list[Path]:
    """The folders whose children are top-level packages: `src/` in a src layout, else root."""
    src = root / "src"
    if src.is_dir() and not any(root.glob("*/__init__.py")):
        return [src]
    return [root]


@dataclass(frozen=True)
class Discovered:
    """What `discover` finds under the source roots."""

    files: list[SourceFile]  # the .py files, sorted
    excluded: list[str]  # module ids of the excluded packages and modules
    diagnostics: list[Diagnostic]
    sql: list[SourceFile]  # the .sql files (schemas), sorted


def discover(root: Path, source_roots: list[Path], patterns: tuple[str, ...]) -> Discovered:
    """Every .py and .sql file under the source roots, walked once; the module ids of the
    excluded packages and modules (imports of them are not unresolved); as diagnostics:
    symlink loops, symlinks leading out of `root` (not followed), unreadable folders, names
    that are not UTF-8, and modules beside a package of the same name (left out)."""
    excludes = Excludes(patterns)
    real_root = Path(os.path.realpath(root))
    files: dict[str, SourceFile] = {}
    sql: dict[str, SourceFile] = {}
    excluded: set[str] = set()
    diagnostics: list[Diagnostic] = []
    for source_root in source_roots:
        if _leaves(source_root, real_root):  # `src` a symlink out of the tree
            diagnostics.append(_outside(source_root, root, "folder"))
            continue
        seen_dirs: set[tuple[int, int]] = set()
        # files are named from the walk's own names: a million lines are 10,000 files
        base = relative(source_root, root)
        base = "" if base == "." else base + "/"

        def unreadable(error: OSError) -> None:
            folder = Path(error.filename)
            message = f"the folder cannot be read ({error.strerror}); its files are left out"
            diagnostics.append(Diagnostic(relative(folder, root), "unreadable", message))

        walk = os.walk(source_root, onerror=unreadable, followlinks=True)
        for folder, dirnames, filenames in walk:
            here = Path(folder)
            stat = here.stat()
            key = (stat.st_dev, stat.st_ino)
            if key in seen_dirs:  # a symlink leading back to a folder already walked
                diagnostics.append(
                    Diagnostic(
                        relative(here, root),
                        "symlink-loop",
                        "folder reached twice through symlinks; walked once",
                    )
                )
                dirnames[:] = []
                continue
            seen_dirs.add(key)
            in_root = here.relative_to(source_root).as_posix()
            prefix = "" if in_root == "." else in_root + "/"
            kept = []
            for d in sorted(dirnames):
                if d.startswith("."):
                    continue
                if not _utf8(d):
                    diagnostics.append(_undecodable_name(here / d, root, "folder"))
                elif excludes.name(d) or excludes.path(prefix + d):
                    excluded.add((prefix + d).replace("/", "."))
                elif _leaves(here / d, real_root):
                    diagnostics.append(_outside(here / d, root, "folder"))
                else:
                    kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                # hidden files, like hidden folders, are left out: ".py" would be module ""
                suffix = ".py" if name.endswith(".py") else ".sql" if name.endswith(".sql") else ""
                if name.startswith(".") or not suffix:
                    continue
                if not _utf8(name):
                    diagnostics.append(_undecodable_name(here / name, root, "file"))
                    continue
                stem = name[: -len(suffix)]
                if excludes.name(name) or excludes.path(prefix + name):
                    if suffix == ".py":
                        excluded.add((prefix + stem).replace("/", "."))
                    continue
                path = here / name
                if _leaves(path, real_root):
                    diagnostics.append(_outside(path, root, "file"))
                    continue
                if not path.is_file():
                    continue
                module_parts = (prefix + stem).split("/")
                is_package = module_parts[-1] == "__init__"
                if is_package:
                    module_parts.pop()
                if not module_parts:  # an __init__.py directly in a source root
                    continue
                rel = base + prefix + name
                found = files if suffix == ".py" else sql
                found.setdefault(rel, SourceFile(rel, ".".join(module_parts), is_package, path))
    for rel in [r for r in files if r.removesuffix(".py") + "/__init__.py" in files]:
        # `x.py` beside the package `x/`: Python imports the package, so the graph does too
        diagnostics.append(
            Diagnostic(
                rel,
                "duplicate-module",
                f"module {files.pop(rel).module} is also the package "
                f"{rel.removesuffix('.py')}/; Python imports the package, this file is left out",
            )
        )
    return Discovered(sorted(files.values()), sorted(excluded), diagnostics, sorted(sql.values()))


def _leaves(path: Path, real_root: Path) -> bool:
    """Whether `path` is a symlink to somewhere outside the analysed tree: it is not
    followed, so analysing a tree never reads files its owner did not put in it."""
    return path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(real_root)


def _outside(path: Path, root: Path, what: str) -> Diagnostic:
    message = f"symlink to a {what} outside the analysed folder; not followed"
    return Diagnostic(relative(path, root), "symlink-outside", message)


def _utf8(name: str) -> bool:
    """Whether a name from the file system is text (else it holds undecodable bytes as
    surrogates, which no module name, cache key or graph.json can carry)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _undecodable_name(path: Path, root: Path, what: str) -> Diagnostic:
    shown = os.fsencode(relative(path, root)).decode("utf-8", "replace")
    message = f"the {what} name is not valid UTF-8; left out (Python could not import it)"
    return Diagnostic(shown, "undecodable", message)


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()
