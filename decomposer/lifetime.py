"""What a command's process keeps until it ends, instead of freeing it object by object.

At a million lines a command holds structures of millions of objects (every file's facts,
the resolver's index, the graph). Freeing them takes a second or more, spent for nothing when
the process ends right after: the command line (`decomposer.__main__`) keeps what `outlive`
is given and ends without freeing anything, once its output is written; nor does it turn the
garbage collector back on after the command, which would walk all of it. Called as a library,
`outlive` keeps nothing.
"""

from __future__ import annotations

_kept: list[object] | None = None


def keep_until_exit() -> None:
    """From now on, `outlive` keeps what it is given (the command line calls this)."""
    global _kept
    _kept = []


def outlive(*objects: object) -> None:
    """Keep these until the process ends, when the command line asked for it."""
    if _kept is not None:
        _kept.extend(objects)


def keeps() -> bool:
    """Whether the command line asked `outlive` to keep what it is given."""
    return _kept is not None
