"""Writing result files whole or not at all, and reading them back with clear errors."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from decomposer.errors import InputError


def write_json(path: Path, data: Any) -> Path:
    """Write `data` as sorted JSON (see `dumps`), whole or not at all. It is written piece by
    piece: a large proposal is never one string in memory (nor twice, as text and bytes)."""
    return _write(path, lambda out: _dump(data, out))


def write_text(path: Path, text: str) -> Path:
    """Write a result file; a failure leaves any previous file intact, never half of one."""
    return _write(path, lambda out: out.write(text))


def _write(path: Path, fill: Callable[[TextIO], object]) -> Path:
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8") as out:
            fill(out)
        os.replace(partial, path)
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="choose another output path with -o",
        ) from exc
    finally:
        try:
            partial.unlink(missing_ok=True)
        except OSError:  # its folder could not be made: there is nothing to remove
            pass
    return path


def output_file(folder: Path, name: str) -> Path:
    """`folder / name` for a file name made from data (a strategy's or a service's name): one
    that would lead out of `folder` (a separator, "..", an absolute path) is refused."""
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise InputError(
            f"{name!r} cannot be the name of a file in {folder}",
            hint="rename the strategy or service to a plain name",
        )
    return folder / name


def dumps(data: Any) -> str:
    """Sorted JSON, one line per element of the top-level lists: diff-friendly and fast (a
    whole-document `indent` would take the pure-Python encoder)."""
    out = io.StringIO()
    _dump(data, out)
    return out.getvalue()


def _dump(data: Any, out: TextIO) -> None:
    if not isinstance(data, dict):
        out.write(_json(data) + "\n")
        return
    out.write("{\n")
    for i, key in enumerate(sorted(data)):
        if i:
            out.write(",\n")
        out.write(f" {json.dumps(key)}: ")
        value = data[key]
        if isinstance(value, list) and value:
            out.write("[\n  " + _json(value[0]))
            out.writelines(",\n  " + _json(item) for item in value[1:])
            out.write("\n ]")
        else:
            out.write(_json(value))
    out.write("\n}\n")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def read_json(path: Path, *, what: str) -> Any:
    """Read a JSON file the user named; every failure is one sentence naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {path} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from exc
