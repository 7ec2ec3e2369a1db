"""The tracer's parts: callable resolution, which files are the project's, merging partial
files, trace.json validation, and `decomposer.use_case`."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest

import decomposer
from analyzers.runtime import recorder
from analyzers.runtime.launch import merge_partials
from analyzers.runtime.trace_file import new_trace, read_trace, write_trace
from decomposer.errors import InputError


def helper(x: int) -> int:
    return x


class Thing:
    def __init__(self) -> None:
        self.value = 1

    def method(self) -> int:
        return self.value

    def __call__(self) -> int:
        return 2


@pytest.mark.parametrize(
    ("callable_", "code"),
    [
        (helper, helper.__code__),
        (Thing().method, Thing.method.__code__),
        (Thing, Thing.__init__.__code__),
        (Thing(), Thing.__call__.__code__),
        (partial(helper, 1), helper.__code__),
        (len, None),
        (dict, None),
    ],
)
def test_code_of_a_callable(callable_: object, code: object) -> None:
    assert recorder._code_of(callable_) is code


def test_project_files_are_those_under_a_root_outside_installed_code(tmp_path: Path) -> None:
    tracer = recorder._Tracer([str(tmp_path)], str(tmp_path / "out"))
    assert tracer.classify(str(tmp_path / "shop" / "orders.py")) == "shop/orders.py"
    venv_file = tmp_path / ".venv" / "lib" / "python3.12" / "site-packages" / "flask" / "app.py"
    assert tracer.classify(str(venv_file)) is None
    assert tracer.classify(str(tmp_path / "venv/lib/site-packages/x.py")) is None
    assert tracer.classify("/usr/lib/python3.11/json/__init__.py") is None
    assert tracer.classify("<string>") is None
    assert tracer.classify(recorder.__file__) is None  # the tracer itself


def test_nested_roots_give_paths_in_the_innermost(tmp_path: Path) -> None:
    tracer = recorder._Tracer([str(tmp_path), str(tmp_path / "src")], str(tmp_path / "out"))
    assert tracer.classify(str(tmp_path / "src" / "shop" / "db.py")) == "shop/db.py"
    assert tracer.classify(str(tmp_path / "tests" / "test_db.py")) == "tests/test_db.py"


def write_partial(path: Path, *records: dict, tail: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")


def header(started: float, python: str = "3.12.1", tracer: str = "sys.monitoring") -> dict:
    return {"process": {"pid": 1, "python": python, "tracer": tracer, "started": started}}


def checkout_run(transaction: int, outcome: str) -> dict:
    return {
        "segment": {
            "use_case": "custom:checkout",
            "kind": "custom",
            "calls": [["shop/cart.py", "checkout", "shop/orders.py", "place", 1]],
            "functions": [["shop/orders.py", "place", 1]],
            "sql": [
                ["SELECT id FROM customers WHERE id = ?", transaction, 1],
                ["INSERT INTO orders (customer_id) VALUES (?)", transaction, 2],
                ["SELECT 1", None, 1],
            ],
            "transactions": [[transaction, outcome]],
        }
    }


def test_partial_files_merge_into_one_trace(tmp_path: Path) -> None:
    write_partial(tmp_path / "1.jsonl", header(2.0), checkout_run(1, "commit"), {"end": True})
    write_partial(
        tmp_path / "2.jsonl",
        header(1.0, "3.11.7", "sys.setprofile"),
        checkout_run(1, "commit"),  # the same local id in another process: another transaction
        checkout_run(2, "rollback"),
        {"end": True},
    )
    trace = merge_partials(tmp_path, ["pytest"], 0, ["/src"], interrupted=False)
    assert (trace["python"], trace["tracer"]) == ("3.11.7", "sys.setprofile")  # first started
    assert trace["processes"] == 2 and trace["complete"] is True
    [segment] = trace["segments"]
    assert segment["runs"] == 3
    assert segment["calls"] == [["shop/cart.py", "checkout", "shop/orders.py", "place", 3]]
    # Alike transactions merge: one committed shape, one rolled back.
    assert segment["transactions"] == [
        {"id": 1, "outcome": "commit", "reads": ["customers"], "writes": ["orders"]},
        {"id": 2, "outcome": "rollback", "reads": ["customers"], "writes": ["orders"]},
    ]
    inserts = {
        row["transaction"]: row["count"]
        for row in segment["sql"]
        if row["statement"].startswith("INSERT")
    }
    assert inserts == {1: 4, 2: 2}
    [outside] = [row for row in segment["sql"] if row["transaction"] is None]
    assert outside["count"] == 3 and outside["reads"] == [] and outside["writes"] == []
    write_trace(tmp_path / "trace.json", trace)
    assert read_trace(tmp_path / "trace.json") == trace


def test_a_process_that_did_not_finish_makes_the_trace_incomplete(tmp_path: Path) -> None:
    write_partial(
        tmp_path / "1.jsonl", header(1.0), checkout_run(1, "commit"), tail='{"segment": {"use'
    )
    trace = merge_partials(tmp_path, ["pytest"], None, ["/src"], interrupted=False)
    assert trace["complete"] is False
    assert trace["segments"][0]["runs"] == 1  # what was flushed is kept


def test_an_interrupted_command_makes_the_trace_incomplete(tmp_path: Path) -> None:
    write_partial(tmp_path / "1.jsonl", header(1.0), checkout_run(1, "commit"), {"end": True})
    assert merge_partials(tmp_path, ["x"], 130, ["/src"], interrupted=True)["complete"] is False


def valid_trace() -> dict:
    segment = {
        "use_case": "test:t.py::t",
        "kind": "test",
        "runs": 1,
        "calls": [["a.py", "f", "b.py", "g", 1]],
        "functions": [["b.py", "g", 1]],
        "sql": [],
        "transactions": [],
    }
    return new_trace(
        "sys.monitoring",
        [segment],
        python="3.12.1",
        command=["pytest"],
        exit_code=0,
        source_roots=["/src"],
    )


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: t.update(version=2), "has format version 2; this decomposer reads version 1"),
        (lambda t: t.pop("segments"), 'the file has no "segments"'),
        (lambda t: t.update(complete="yes"), '"complete" of the wrong type (str)'),
        (
            lambda t: t["segments"][0]["calls"].append(["a.py", "f", 3]),
            "segment 1 calls row 2 is not [text, text, text, text, count]",
        ),
        (lambda t: t["segments"][0].update(runs=True), '"runs" of the wrong type (bool)'),
        (lambda t: t.update(format="other"), "is not a decomposer trace"),
    ],
)
def test_bad_trace_names_the_file_and_the_fault(tmp_path: Path, change, complaint: str) -> None:
    data = valid_trace()
    change(data)
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_trace(path)
    assert str(path) in caught.value.message
    assert complaint in caught.value.message


def test_truncated_trace_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(valid_trace())[:-40])
    with pytest.raises(InputError, match="is not valid JSON"):
        read_trace(path)


class FakeTracer(ModuleType):
    def __init__(self) -> None:
        super().__init__(recorder.TRACER_MODULE)
        self.events: list[tuple[str, ...]] = []

    def active(self) -> bool:
        return True

    def begin_segment(self, kind: str, label: str) -> object:
        self.events.append(("begin", kind, label))
        return label

    def end_segment(self, token: object) -> None:
        self.events.append(("end", str(token)))


def test_use_case_does_nothing_without_a_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, recorder.TRACER_MODULE, raising=False)

    @decomposer.use_case("nightly")
    def job() -> str:
        return "done"

    with decomposer.use_case("checkout"):
        assert job() == "done"


def test_use_case_opens_and_closes_custom_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTracer()
    monkeypatch.setitem(sys.modules, recorder.TRACER_MODULE, fake)

    @decomposer.use_case("nightly")
    def job(depth: int) -> int:
        return job(depth - 1) + 1 if depth else 0

    with pytest.raises(ValueError), decomposer.use_case("checkout"):
        assert job(1) == 1
        raise ValueError("the segment still ends")
    assert fake.events == [
        ("begin", "custom", "checkout"),
        ("begin", "custom", "nightly"),
        ("begin", "custom", "nightly"),
        ("end", "nightly"),
        ("end", "nightly"),
        ("end", "checkout"),
    ]
