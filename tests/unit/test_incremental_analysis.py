"""A warm analysis (facts from the cache, the last run's graph reused where it matches) gives
the same graph.json, byte for byte, as a cold one of the same tree, whatever was edited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decomposer import pipeline
from decomposer.cache import DiskCache
from decomposer.check import CheckRequest, check
from decomposer.plugins import default_registry
from tests.conftest import write_tree

TREE = {
    "pyproject.toml": "[tool.decomposer]\njobs = 1\nhistory = false\n",
    "shop/__init__.py": "",
    "shop/models.py": """\
        from sqlalchemy import Column, ForeignKey, Integer
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class Customer(Base):
            __tablename__ = "customers"
            id = Column(Integer, primary_key=True)
            points = Column(Integer)


        class Order(Base):
            __tablename__ = "orders"
            id = Column(Integer, primary_key=True)
            customer_id = Column(Integer, ForeignKey("customers.id"))
        """,
    "shop/orders.py": """\
        from shop.models import Order
        from shop.pricing import Price, total


        class OrderService:
            def __init__(self, session):
                self.session = session

            def place(self, lines):
                order = Order()
                self.session.add(order)
                self.session.commit()
                return total(lines)

            def quote(self, lines):
                return Price(total(lines))
        """,
    "shop/pricing.py": """\
        class Price:
            def __init__(self, amount):
                self.amount = amount


        def total(lines):
            return sum(line for line in lines)
        """,
    "shop/api.py": """\
        from shop import orders
        from shop.pricing import *


        def create(session, lines):
            return orders.OrderService(session).place(lines)
        """,
}

REFUNDS = """\
from shop.orders import OrderService


def refund(session):
    return OrderService(session).quote([])
"""

#: Edits of each kind, applied one after the other to the same tree.
EDITS = {
    "body edit": ("shop/pricing.py", "return sum(line for line in lines)",
                  "Price(0)\n    return sum(lines)"),
    "new function": ("shop/pricing.py", "def total(", "def discount(x):\n    return x\n\n\ndef total("),
    "renamed class": ("shop/pricing.py", "class Price:", "class Amount:"),
    "new file": ("shop/refunds.py", None, REFUNDS),
    "deleted file": ("shop/api.py", None, None),
}  # fmt: skip


def analysis(root: Path, *, use_cache: bool) -> tuple[bytes, dict]:
    out = root.parent / ("warm.json" if use_cache else "cold.json")
    request = pipeline.AnalyzeRequest(root, out, use_cache=use_cache)
    summary = pipeline.analyze(request, registry=default_registry()).summary
    return out.read_bytes(), summary


def edit(root: Path, path: str, old: str | None, new: str | None) -> None:
    target = root / path
    if new is None:
        target.unlink()
    elif old is None:
        target.write_text(new)
    else:
        text = target.read_text()
        assert old in text
        target.write_text(text.replace(old, new))


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = write_tree(tmp_path / "project", TREE)
    analysis(root, use_cache=True)  # the cache a warm run starts from
    return root


def test_a_warm_analysis_after_each_kind_of_edit_equals_a_cold_one(shop: Path) -> None:
    previous, _ = analysis(shop, use_cache=False)
    for name, (path, old, new) in EDITS.items():
        edit(shop, path, old, new)
        warm, summary = analysis(shop, use_cache=True)
        cold, _ = analysis(shop, use_cache=False)
        assert not summary["reused_last_run"], name
        assert summary["cache"]["misses"] <= 1, name  # only the edited file is parsed again
        assert warm == cold, name
        assert warm != previous, name  # the edit is seen
        previous = warm


def test_an_unchanged_tree_reuses_the_last_graph_as_it_is(shop: Path) -> None:
    first, _ = analysis(shop, use_cache=True)
    again, summary = analysis(shop, use_cache=True)
    assert summary["reused_last_run"]
    assert summary["cache"]["misses"] == 0
    assert again == first == analysis(shop, use_cache=False)[0]


def test_a_last_run_of_another_format_or_version_is_not_reused(shop: Path) -> None:
    cold, _ = analysis(shop, use_cache=False)
    cache = DiskCache(shop / pipeline.CACHE_DIR)
    record = json.loads(cache.get_text(pipeline.LAST_RUN) or "null")
    older = {"key": "0" * 64, "summary": record["summary"]}  # another version's key
    cache.put_text(pipeline.LAST_RUN_GRAPH, '{"schema": 0, "nodes": []}')
    for damaged in (json.dumps(older), '{"key": "old"}', "[1, 2", '{"summary": {}}'):
        cache.put_text(pipeline.LAST_RUN, damaged)
        warm, summary = analysis(shop, use_cache=True)
        assert not summary["reused_last_run"]
        assert warm == cold


CHECKED = (
    TREE["pyproject.toml"]
    + '\n[tool.decomposer.check.services]\nsales = ["shop.orders", "shop.api"]\n'
    'money = ["shop.pricing"]\nshared = ["shop.models", "shop"]\n'
)


def test_a_check_keeps_its_result_and_not_its_graph(shop: Path) -> None:
    (shop / "pyproject.toml").write_text(CHECKED)
    edit(shop, *EDITS["body edit"])  # not the tree of the last analysis
    cache = DiskCache(shop / pipeline.CACHE_DIR)
    last_run = cache.get_text(pipeline.LAST_RUN)
    first = check(CheckRequest(shop, cwd=shop), registry=default_registry())
    assert first.exit_code == 1  # sales calls money: not in a baseline
    assert not first.summary["reused_last_check"]
    assert not first.summary["analysis"]["reused_last_run"]
    assert cache.get_text(pipeline.LAST_RUN) == last_run  # no graph written for later
    again = check(CheckRequest(shop, cwd=shop), registry=default_registry())
    assert again.summary["reused_last_check"] and again.exit_code == 1
    assert again.summary["violations"] == first.summary["violations"]
    assert again.summary["analysis"] == first.summary["analysis"]  # the run it came from


def test_the_check_after_a_baseline_is_written_reuses_the_result_kept_for_it(
    shop: Path,
) -> None:
    (shop / "pyproject.toml").write_text(CHECKED)
    compared = ("violations", "counts", "metrics")
    for flag in ("update_baseline", "tighten_baseline"):
        if flag == "tighten_baseline":
            edit(shop, *EDITS["body edit"])  # the baseline of another tree
        writing = check(CheckRequest(shop, cwd=shop, **{flag: True}), registry=default_registry())
        assert writing.summary["baseline"]["written"], flag
        warm = check(CheckRequest(shop, cwd=shop), registry=default_registry())
        cold = check(CheckRequest(shop, cwd=shop, use_cache=False), registry=default_registry())
        assert warm.summary["reused_last_check"], flag  # no second analysis
        assert warm.exit_code == cold.exit_code == 0, flag
        assert {k: warm.summary[k] for k in compared} == {k: cold.summary[k] for k in compared}


def test_a_warm_check_after_each_kind_of_edit_equals_a_cold_one(shop: Path) -> None:
    (shop / "pyproject.toml").write_text(CHECKED)

    resolved = []

    def checked(use_cache: bool) -> dict:
        request = CheckRequest(shop, cwd=shop, use_cache=use_cache)
        summary = check(request, registry=default_registry()).summary
        if use_cache and not summary["reused_last_check"]:
            resolved.append(summary["analysis"]["modules_resolved"])
        return {k: summary[k] for k in ("violations", "counts", "metrics", "reused_last_check")}

    checked(use_cache=True)
    # the fixture's analysis kept every module's part: the check's own analysis reuses them
    assert resolved.pop() == 0
    modules = sum(path.endswith(".py") for path in TREE)
    for name, (path, old, new) in EDITS.items():
        edit(shop, path, old, new)
        warm, cold = checked(use_cache=True), checked(use_cache=False)
        if name == "body edit":  # pricing.py: its module and those that read it, not all
            assert 0 < resolved[-1] < modules, resolved
        assert not warm.pop("reused_last_check"), name
        cold.pop("reused_last_check")
        assert warm == cold, name
        again = checked(use_cache=True)  # the same tree: the result is reused, unchanged
        assert again.pop("reused_last_check"), name
        assert again == cold, name


def test_a_check_rebuilds_a_damaged_last_graph_instead_of_failing(shop: Path, monkeypatch) -> None:
    from analyzers.static import StaticAnalyzer

    # the check reads a graph only when another analyzer has something to add, as when the
    # static analyzer cannot make the check's atom graph alone
    monkeypatch.delattr(StaticAnalyzer, "crossings")
    # analysed as the check analyses (no history, no entry points), the tree's graph kept by
    # `decomposer analyze` is the one the check needs
    settings = "history = false\nentry_points = false\n"
    (shop / "pyproject.toml").write_text(CHECKED.replace("history = false\n", settings))
    analysis(shop, use_cache=True)
    first = check(CheckRequest(shop, cwd=shop), registry=default_registry())
    assert first.summary["analysis"]["reused_last_run"] is True
    cache = DiskCache(shop / pipeline.CACHE_DIR)
    cache.put_text(pipeline.LAST_RUN_GRAPH, '{"nodes": [')
    # another folder: the last check's result does not apply, the graph is needed
    second = check(CheckRequest(shop, cwd=shop.parent), registry=default_registry())
    assert second.summary["analysis"]["reused_last_run"] is False
    assert second.summary["counts"] == first.summary["counts"]
    assert [v["message"] for v in second.summary["violations"]] == [
        v["message"] for v in first.summary["violations"]
    ]


def test_a_file_edited_while_it_is_analysed_is_neither_cached_nor_kept(
    shop: Path, monkeypatch
) -> None:
    from analyzers import static

    keyed = ("shop/pricing.py", "return sum(", "return 1 + sum(")
    edit(shop, *keyed)  # keyed and not yet in the cache
    real = static.collect_all

    def edited_meanwhile(*args, **kwargs):  # after keying, before parsing
        edit(shop, "shop/pricing.py", "return 1 + sum(", "return 2 + sum(")
        return real(*args, **kwargs)

    monkeypatch.setattr(static, "collect_all", edited_meanwhile)
    raced, summary = analysis(shop, use_cache=True)
    monkeypatch.undo()
    assert summary["analyzers"]["static"]["changed_during_analysis"] == 1
    assert b'"changed-during-analysis"' in raced
    # the content it was keyed with, back: the facts of the other content were not cached
    # under its key, nor the graph kept as that of the tree keyed
    edit(shop, "shop/pricing.py", "return 2 + sum(", "return 1 + sum(")
    warm, summary = analysis(shop, use_cache=True)
    assert not summary["reused_last_run"]
    assert "changed_during_analysis" not in summary["analyzers"]["static"]
    assert warm == analysis(shop, use_cache=False)[0]
    again, summary = analysis(shop, use_cache=True)  # and now it is kept
    assert summary["reused_last_run"] and again == warm


class Steps:
    """A progress sink that records each step: [description, total, advanced]."""

    def __init__(self) -> None:
        self.steps: list[list] = []

    def start(self, description: str, total: int) -> None:
        self.steps.append([description, total, 0])

    def advance(self, amount: int = 1) -> None:
        self.steps[-1][2] += amount


def test_every_step_of_a_check_is_reported_and_completed(shop: Path) -> None:
    (shop / "pyproject.toml").write_text(CHECKED)
    edit(shop, *EDITS["body edit"])  # the graph is built again
    progress = Steps()
    check(CheckRequest(shop, cwd=shop), registry=default_registry(), progress=progress)
    assert [step[0] for step in progress.steps] == [
        "analysing files",
        "building the atom graph",
        "checking the boundaries",
    ]
    assert [step[1] for step in progress.steps] == [5, 1, 1]
    assert all(total == advanced for _, total, advanced in progress.steps)
