"""`decomposer.use_case`: mark a custom workload's use cases for `decomposer trace`.

    with decomposer.use_case("checkout"):
        cart.checkout()

    @decomposer.use_case("nightly-import")
    def run_import() -> None: ...

What runs inside is recorded as the segment `custom:checkout` (docs/trace.md). Without a
tracer running this does nothing. Standard library only: traced programs import it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

# The tracer registers itself under this name when it starts (the core never imports the
# analyzers by name; the tracer comes to it).
_TRACER_MODULE = "_decomposer_runtime.recorder"

F = TypeVar("F", bound=Callable[..., Any])


class use_case:  # lower case: it reads like a function, decomposer.use_case("checkout")
    """A context manager and decorator: what runs inside is use case `custom:<name>`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tokens: list[tuple[Any, object]] = []

    def __enter__(self) -> Self:
        tracer = sys.modules.get(_TRACER_MODULE)
        token = None
        if tracer is not None and tracer.active():
            token = tracer.begin_segment("custom", self.name)
        self._tokens.append((tracer, token))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        tracer, token = self._tokens.pop()
        if tracer is not None and token is not None:
            tracer.end_segment(token)

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with use_case(self.name):  # a fresh one per call: calls may nest or overlap
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
