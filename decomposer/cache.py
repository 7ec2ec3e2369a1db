"""A content-addressed store of per-file analysis results under `.decomposer/cache/`.

Entries are JSON, never pickle: the cache lives inside the analysed tree, and reading it must
not be a way to run code. Each entry is `{"sha256": DIGEST, "value": VALUE}` with the digest of
VALUE's text, so an entry that was cut short (a full disk), garbled or replaced by hand is
detected, however plausible its JSON, and is discarded and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from itertools import count
from pathlib import Path
from typing import Any, Protocol


class Cache(Protocol):
    hits: int
    misses: int
    #: False when nothing put is kept (no cache, or a read-only tree)
    writable: bool

    def get(self, key: str) -> Any | None: ...

    def read(self, key: str) -> Any | None: ...

    def read_ahead(self, keys: Iterable[str]) -> None: ...

    def put(self, key: str, value: Any) -> None: ...

    def get_text(self, name: str) -> str | None: ...

    def put_text(self, name: str, text: str) -> None: ...


def read_ahead(paths: Iterable[str]) -> None:
    """Ask the operating system to start reading these files now, all of them. A run reads
    10,000 small files at a million lines (sources, then cache entries): from a disk, one
    after another, that takes seconds; asked for together, they arrive in a fraction of it.
    Files already in memory cost an open and a close each."""
    if not hasattr(os, "posix_fadvise"):  # not on macOS or Windows
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # missing or unreadable: its reader says so
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def content_key(*parts: str | bytes) -> str:
    """A cache key from what determines the result: analyzer version, options and content."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


#: An entry's text up to its value: the digest of the value's text (64 hex digits) included.
_HEAD = b'{"sha256":"%s","value":'
_HEAD_SIZE = len(_HEAD % (b"0" * 64))
#: Numbers the partial files of this process (the process id tells processes apart).
_SERIAL = count()


class DiskCache:
    """One JSON file per key, written atomically (a reader never sees half an entry)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writable = True
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> str:
        # a string, not a Path: a warm run at a million lines reads 20,000 entries
        return os.path.join(self.root, key[:2], key + ".json")

    def get(self, key: str) -> Any | None:
        """The entry's value, counted as a hit or a miss (the files' facts are)."""
        value = self.read(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def read(self, key: str) -> Any | None:
        """The entry's value, or None, without counting it."""
        text = self._read(self._path(key))
        try:
            return json.loads(text) if text is not None else None
        except ValueError:  # cannot happen with a matching digest, unless written by hand
            return None

    def read_ahead(self, keys: Iterable[str]) -> None:
        """Start reading these entries (`read_ahead`): a run then reads them one by one."""
        read_ahead(map(self._path, keys))

    def put(self, key: str, value: Any) -> None:
        self._write(Path(self._path(key)), json.dumps(value, separators=(",", ":")))

    def get_text(self, name: str) -> str | None:
        """A named entry (not content-addressed) of JSON text, e.g. the last run's result."""
        return self._read(self.root / name)

    def put_text(self, name: str, text: str) -> None:
        self._write(self.root / name, text)

    def _read(self, path: str | Path) -> str | None:
        """The entry's text; None when it is missing, unreadable or damaged (then deleted)."""
        try:
            with open(path, "rb") as entry:
                data = entry.read()
        except OSError:
            return None
        payload = data[_HEAD_SIZE:-1]
        head = _HEAD % hashlib.sha256(payload).hexdigest().encode("ascii")
        if not (data.startswith(head) and data.endswith(b"}")):
            try:
                os.unlink(path)  # damaged: drop it, it is rebuilt
            except OSError:
                pass
            return None
        return payload.decode("utf-8")

    def _write(self, path: Path, text: str) -> None:
        if not self.writable:
            return
        payload = text.encode("utf-8")
        # named before it exists, and made inside the `try`: a Ctrl-C at any point of the
        # write leaves no .partial behind (tempfile.mkstemp has Python code after the file
        # is made, where an interrupt would lose its name)
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{next(_SERIAL)}.partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with tmp.open("xb") as out:
                    out.write(_HEAD % hashlib.sha256(payload).hexdigest().encode("ascii"))
                    out.write(payload)
                    out.write(b"}")
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError:  # a read-only tree: analyse without caching
            self.writable = False


class NoCache:
    def __init__(self) -> None:
        self.writable = False
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        self.misses += 1
        return None

    def read(self, key: str) -> Any | None:
        return None

    def read_ahead(self, keys: Iterable[str]) -> None:
        return None

    def put(self, key: str, value: Any) -> None:
        return None

    def get_text(self, name: str) -> str | None:
        return None

    def put_text(self, name: str, text: str) -> None:
        return None
