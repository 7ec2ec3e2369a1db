"""A content-addressed store of per-file analysis results under `.decomposer/cache/`.

Entries are JSON, never pickle: the cache lives inside the analysed tree, and reading it must
not be a way to run code. A corrupt or unreadable entry is discarded and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class Cache(Protocol):
    hits: int
    misses: int

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...

    def get_text(self, name: str) -> str | None: ...

    def put_text(self, name: str, text: str) -> None: ...


def content_key(*parts: str | bytes) -> str:
    """A cache key from what determines the result: analyzer version, options and content."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


class DiskCache:
    """One JSON file per key, written atomically (a reader never sees half an entry)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writable = True
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            value = json.loads(path.read_bytes())
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError):  # corrupt or unreadable: drop it, analyse again
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        self._write(self._path(key), json.dumps(value, separators=(",", ":")))

    def get_text(self, name: str) -> str | None:
        """A named entry (not content-addressed), e.g. the last run's result."""
        try:
            return (self.root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put_text(self, name: str, text: str) -> None:
        self._write(self.root / name, text)

    def _write(self, path: Path, text: str) -> None:
        if not self.writable:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".partial")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError:  # a read-only tree: analyse without caching
            self.writable = False


class NoCache:
    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        self.misses += 1
        return None

    def put(self, key: str, value: Any) -> None:
        return None

    def get_text(self, name: str) -> str | None:
        return None

    def put_text(self, name: str, text: str) -> None:
        return None
