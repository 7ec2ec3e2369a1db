"""One segment per pytest test: `test:<node id>`, its setup, call and teardown together.

`decomposer trace` enables this plugin in every traced process (through PYTEST_PLUGINS).
Requests or `decomposer.use_case` blocks inside a test get segments of their own (the
innermost open segment records); the rest of the test's code is the test's.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from . import recorder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, Any, Any]:
    token = recorder.begin_segment("test", item.nodeid)
    try:
        return (yield)
    finally:
        recorder.end_segment(token)
