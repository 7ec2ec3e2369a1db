"""Raw SQL found in the code, read with a real SQL parser (sqlglot) into the tables it touches.

`summarize` turns one string (one or more statements) into a small JSON-ready summary:

    r   tables read              w   tables written (INSERT / UPDATE / DELETE / REPLACE / MERGE)
    d   tables defined (CREATE / ALTER / DROP TABLE)
    f   foreign keys declared in DDL: [[table, referenced table], ...]
    j   tables used together in one statement: [[a, b], ...] (joins, sub-queries)
    tx  transaction control in order: "begin", "commit", "rollback", "savepoint",
        "release", "rollback to savepoint"
    error   why the text could not be parsed (then the other keys may be missing)

Placeholders of every DB-API paramstyle (`?`, `:name`, `%s`, `%(name)s`) and the holes of an
f-string (given as `?`) are accepted. Table names are lower-cased unless quoted, and a
schema prefix (`main.orders`) is dropped, so names match what ORMs declare.
"""

from __future__ import annotations

import logging
import re
from itertools import combinations
from typing import Any

# A string worth parsing as SQL when it is not passed to execute(): it must open like a
# statement. Keywords in one case only (SELECT or select), so prose ("Select a product
# from the list") is not read as SQL.
_STATEMENT = (
    r"SELECT\s.+?\sFROM\s|INSERT\s+(?:OR\s+\w+\s+)?INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s"
    r"|REPLACE\s+INTO\s|WITH\s+\w+\s+AS\s*\(|CREATE\s+(?:TEMP\w*\s+)?(?:TABLE|VIEW|INDEX)\s"
)
_UPPER_SQL = re.compile(rf"\s*(?:{_STATEMENT})", re.DOTALL)
_LOWER_SQL = re.compile(rf"\s*(?:{_STATEMENT.lower()})", re.DOTALL)
_PYFORMAT = re.compile(r"%\(\w+\)s|%s")
_TX_COMMAND = re.compile(
    r"\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK\s+TO|ROLLBACK|SAVEPOINT|RELEASE)\b",
    re.IGNORECASE,
)
_TX_WORDS = {
    "begin": "begin",
    "start transaction": "begin",
    "commit": "commit",
    "end": "commit",
    "rollback to": "rollback to savepoint",
    "rollback": "rollback",
    "savepoint": "savepoint",
    "release": "release",
}
_CREATE_TABLE = r"CREATE\s+(?:TEMP\w*\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\w.]*?[`\"\[]?{name}\b"
# The database's own catalogue, not the application's data.
_SYSTEM_TABLES = ("sqlite_", "pg_", "information_schema")
_MAX_TEXT = 100_000  # characters of one string in the code
_MAX_FILE = 5_000_000  # characters of one .sql file


def looks_like_sql(text: str) -> bool:
    """Whether a string constant reads as an SQL statement (see `_STATEMENT`)."""
    return bool(_UPPER_SQL.match(text) or _LOWER_SQL.match(text))


def summarize_file(text: str) -> dict[str, Any]:
    """`summarize` for a whole .sql file, with "lines": {defined table: line of its CREATE}."""
    summary = summarize(text, limit=_MAX_FILE)
    lines = {}
    for name in summary.get("d", ()):
        pattern = _CREATE_TABLE.format(name=re.escape(name))
        found = re.search(pattern, text, re.IGNORECASE)
        lines[name] = text.count("\n", 0, found.start()) + 1 if found else 1
    if lines:
        summary["lines"] = lines
    return summary


def summarize(text: str, limit: int = _MAX_TEXT) -> dict[str, Any]:
    """What one SQL string reads, writes, defines and joins; never raises."""
    if len(text) > limit:
        return {"error": f"longer than {limit:,} characters"}
    text = _PYFORMAT.sub("?", text)
    statements: list[Any] = []
    errors = []
    for piece in _statements(text):
        control = _TX_COMMAND.match(piece)
        if control:  # sqlglot does not know savepoints; one regex reads every such command
            statements.append(control.group(1))
            continue
        try:
            statements.extend(_parse(piece))
        # sqlglot raises its own errors and, on some odd input, plain ones; one odd string
        # must not cost the rest of the file.
        except Exception as exc:  # noqa: BLE001
            errors.append((str(exc).splitlines() or [type(exc).__name__])[0])
    if errors and not statements:
        return {"error": errors[0]}
    summary: dict[str, set[Any]] = {"r": set(), "w": set(), "d": set(), "f": set(), "j": set()}
    tx: list[str] = []
    for statement in statements:
        if statement is not None:
            _add_statement(statement, summary, tx)
    result: dict[str, Any] = {
        key: sorted(list(v) if isinstance(v, tuple) else v for v in values)
        for key, values in summary.items()
        if values
    }
    if tx:
        result["tx"] = tx
    return result


def _statements(text: str) -> list[str]:
    """The text of each statement, split where sqlglot's tokenizer sees a `;` (not in a
    string or comment); the naive split when it cannot tokenize the text."""
    if ";" not in text:  # one statement (the usual case): no need to tokenize it twice
        return [text] if text.strip() else []
    from sqlglot.tokens import Tokenizer, TokenType

    try:
        tokens = Tokenizer().tokenize(text)
    except Exception:  # noqa: BLE001 - any tokenizer failure: fall back, never lose the file
        return [piece for piece in text.split(";") if piece.strip()]
    pieces, start = [], None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                pieces.append(text[start : token.start])
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        pieces.append(text[start:])
    return pieces


def _parse(text: str) -> list[Any]:
    import sqlglot  # imported here: most files have no SQL, and the import is not free

    # sqlglot logs a warning for each statement it only half understands (vendor DDL);
    # what it could not read shows in the summary instead.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    return sqlglot.parse(text)


def _add_statement(statement: Any, summary: dict[str, set[Any]], tx: list[str]) -> None:
    from sqlglot import exp

    if isinstance(statement, str):  # a transaction command, see summarize()
        tx.append(_TX_WORDS[re.sub(r"\s+", " ", statement.lower())])
        return
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    tables = [t for t in statement.find_all(exp.Table) if _table_name(t) not in ctes]
    names = {_table_name(t) for t in tables} - {""}
    target = _target_table(statement)
    if isinstance(statement, (exp.Create, exp.Alter, exp.Drop)):
        if target:
            summary["d"].add(target)
            for reference in statement.find_all(exp.Reference):
                referenced = reference.find(exp.Table)
                if referenced is not None and _table_name(referenced) not in ("", target):
                    summary["f"].add((target, _table_name(referenced)))
        return
    if target and isinstance(statement, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
        summary["w"].add(target)
        names.discard(target)
        # An UPDATE or DELETE reads its target too (WHERE), but that is part of the write.
    summary["r"].update(names)
    every = sorted(names | ({target} if target else set()))
    summary["j"].update(combinations(every, 2))


def _target_table(statement: Any) -> str:
    from sqlglot import exp

    node = statement.this or statement.find(exp.Table)  # DROP TABLE keeps it elsewhere
    if isinstance(node, exp.Schema):
        node = node.this
    return _table_name(node) if isinstance(node, exp.Table) else ""


def _table_name(table: Any) -> str:
    identifier = table.this
    name = table.name
    if not name or name == "?" or name.lower().startswith(_SYSTEM_TABLES):
        return ""
    quoted = bool(getattr(identifier, "quoted", False))
    return name if quoted else name.lower()
