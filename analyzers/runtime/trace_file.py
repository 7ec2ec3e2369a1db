"""trace.json (docs/trace-format.md): written sorted and atomically, read with validation.

A bad, truncated or wrong-version file raises an InputError naming the file and what is
wrong in it, so `decomposer analyze --trace` stops with one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from decomposer.errors import InputError
from decomposer.files import read_json, write_json

FORMAT = "decomposer-trace"
VERSION = 1


def new_trace(
    tracer: str,
    segments: list[dict[str, Any]],
    *,
    python: str = "",
    command: list[str] | None = None,
    exit_code: int | None = None,
    complete: bool = True,
    source_roots: list[str] | None = None,
    processes: int = 1,
) -> dict[str, Any]:
    """A trace document of the current format version."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "tracer": tracer,
        "python": python,
        "command": command or [],
        "exit_code": exit_code,
        "complete": complete,
        "source_roots": source_roots or [],
        "processes": processes,
        "segments": segments,
    }


# field -> the JSON types it may have (None: null allowed)
_TOP_FIELDS: dict[str, tuple[type | None, ...]] = {
    "tracer": (str,),
    "python": (str,),
    "command": (list,),
    "exit_code": (int, None),
    "complete": (bool,),
    "source_roots": (list,),
    "processes": (int,),
    "segments": (list,),
}
_SEGMENT_FIELDS: dict[str, tuple[type | None, ...]] = {
    "use_case": (str,),
    "kind": (str,),
    "runs": (int,),
    "calls": (list,),
    "functions": (list,),
    "sql": (list,),
    "transactions": (list,),
}
_SQL_FIELDS: dict[str, tuple[type | None, ...]] = {
    "statement": (str,),
    "count": (int,),
    "reads": (list,),
    "writes": (list,),
    "transaction": (int, None),
}
_TRANSACTION_FIELDS: dict[str, tuple[type | None, ...]] = {
    "id": (int,),
    "outcome": (str,),
    "reads": (list,),
    "writes": (list,),
}
# Row shapes: calls [file, qualname, file, qualname, count]; functions [file, qualname, count].
_CALL_ROW = (str, str, str, str, int)
_FUNCTION_ROW = (str, str, int)


def write_trace(path: Path, trace: dict[str, Any]) -> Path:
    """Write a trace whole or not at all, keys sorted."""
    return write_json(path, trace)


def read_trace(path: Path) -> dict[str, Any]:
    """A trace file's content, checked against format version 1."""
    data = read_json(path, what="trace file")
    _check(path, data)
    return data


def _check(path: Path, data: Any) -> None:
    def bad(where: str, what: str) -> InputError:
        return InputError(
            f"trace file {path}: {where} {what}",
            hint="record it again with `decomposer trace -o FILE -- COMMAND`",
        )

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("is not", f'a decomposer trace (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise InputError(
            f"trace file {path} has format version {data.get('version')!r}; "
            f"this decomposer reads version {VERSION}",
            hint="record it again with this decomposer's `decomposer trace`",
        )
    _check_fields(data, _TOP_FIELDS, "the file", bad)
    for i, segment in enumerate(data["segments"]):
        where = f"segment {i + 1}"
        if not isinstance(segment, dict):
            raise bad(where, "is not an object")
        _check_fields(segment, _SEGMENT_FIELDS, where, bad)
        _check_rows(segment["calls"], _CALL_ROW, f"{where} calls", bad)
        _check_rows(segment["functions"], _FUNCTION_ROW, f"{where} functions", bad)
        for j, row in enumerate(segment["sql"]):
            if not isinstance(row, dict):
                raise bad(f"{where} sql row {j + 1}", "is not an object")
            _check_fields(row, _SQL_FIELDS, f"{where} sql row {j + 1}", bad)
        for j, row in enumerate(segment["transactions"]):
            if not isinstance(row, dict):
                raise bad(f"{where} transaction {j + 1}", "is not an object")
            _check_fields(row, _TRANSACTION_FIELDS, f"{where} transaction {j + 1}", bad)


def _check_fields(
    obj: dict[str, Any], fields: dict[str, tuple[type | None, ...]], where: str, bad: Any
) -> None:
    for name, types in fields.items():
        if name not in obj:
            raise bad(where, f'has no "{name}"')
        value = obj[name]
        if not any(_is(value, t) for t in types):
            raise bad(where, f'has a "{name}" of the wrong type ({type(value).__name__})')


def _check_rows(rows: list[Any], shape: tuple[type, ...], where: str, bad: Any) -> None:
    for j, row in enumerate(rows):
        if not (
            isinstance(row, list)
            and len(row) == len(shape)
            and all(_is(v, t) for v, t in zip(row, shape, strict=True))
        ):
            raise bad(f"{where} row {j + 1}", f"is not {_shape_text(shape)}")


def _is(value: Any, kind: type | None) -> bool:
    if kind is None:
        return value is None
    if kind is int:  # JSON true/false are not counts
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _shape_text(shape: tuple[type, ...]) -> str:
    return "[" + ", ".join("count" if t is int else "text" for t in shape) + "]"
