"""Writing result files whole or not at all, and reading them back with clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from decomposer.errors import InputError


def write_json(path: Path, data: Any) -> Path:
    """Write `data` as sorted JSON (see `dumps`), whole or not at all."""
    return write_text(path, dumps(data))


def write_text(path: Path, text: str) -> Path:
    """Write a result file; a failure leaves any previous file intact, never half of one."""
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(text, encoding="utf-8")
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
    if not isinstance(data, dict):
        return json.dumps(data, sort_keys=True, ensure_ascii=False) + "\n"
    parts = []
    for key in sorted(data):
        value = data[key]
        text = json.dumps(key)
        if isinstance(value, list) and value:
            items = ",\n  ".join(json.dumps(v, sort_keys=True, ensure_ascii=False) for v in value)
            parts.append(f" {text}: [\n  {items}\n ]")
        else:
            parts.append(f" {text}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


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
