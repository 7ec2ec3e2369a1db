"""Find the Python files of a source tree and name their modules."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from decomposer.model.graph import Diagnostic

#: Folders and files left out unless `use_default_excludes = false`: tests, migrations,
#: virtualenvs, build output, caches. Hidden folders (".git", ".venv"…) are always left out.
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


def is_excluded(rel: PurePosixPath, patterns: tuple[str, ...]) -> bool:
    """A pattern with a "/" matches the path from the root; one without matches any part."""
    text = rel.as_posix()
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch(text, pattern) or fnmatch(text, pattern.rstrip("/") + "/*"):
                return True
        elif any(fnmatch(part, pattern) for part in rel.parts):
            return True
    return False


def find_source_roots(root: Path) -> list[Path]:
    """The folders whose children are top-level packages: `src/` in a src layout, else root."""
    src = root / "src"
    if src.is_dir() and not any(root.glob("*/__init__.py")):
        return [src]
    return [root]


def discover(
    root: Path, source_roots: list[Path], excludes: tuple[str, ...]
) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Every .py file under the source roots, sorted; symlink loops become diagnostics."""
    files: dict[str, SourceFile] = {}
    diagnostics: list[Diagnostic] = []
    for source_root in source_roots:
        seen_dirs: set[tuple[int, int]] = set()
        for folder, dirnames, filenames in os.walk(source_root, followlinks=True):
            here = Path(folder)
            stat = here.stat()
            key = (stat.st_dev, stat.st_ino)
            rel_dir = _relative(here, root)
            if key in seen_dirs:  # a symlink leading back to a folder already walked
                diagnostics.append(
                    Diagnostic(rel_dir, "symlink-loop", "folder reached twice through symlinks")
                )
                dirnames[:] = []
                continue
            seen_dirs.add(key)
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".")
                and not is_excluded(_rel_path(here / d, source_root), excludes)
            )
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                path = here / name
                in_root = _rel_path(path, source_root)
                if is_excluded(in_root, excludes) or not path.is_file():
                    continue
                module_parts = list(in_root.with_suffix("").parts)
                is_package = module_parts[-1] == "__init__"
                if is_package:
                    module_parts.pop()
                if not module_parts:  # an __init__.py directly in a source root
                    continue
                rel = _relative(path, root)
                files.setdefault(rel, SourceFile(rel, ".".join(module_parts), is_package, path))
    return sorted(files.values()), diagnostics


def _rel_path(path: Path, base: Path) -> PurePosixPath:
    return PurePosixPath(path.relative_to(base).as_posix())


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()
