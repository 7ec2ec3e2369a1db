"""The check's pieces without the CLI: boundary patterns, allow comments, settings, and the
rules on a small tree."""

from pathlib import Path

import pytest

from decomposer.check import (
    Baseline,
    Boundaries,
    CheckSettings,
    Comments,
    _Checked,
    _Run,
    parse_check_settings,
)
from decomposer.errors import ConfigError
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import Site

TREE = {
    "shop/__init__.py": "",
    "shop/orders/__init__.py": "",
    "shop/orders/service.py": """\
        from shop.payments.gateway import charge


        class OrderService:
            def place(self):
                return charge(10)
        """,
    "shop/orders/api.py": "def show(): pass\n",
    "shop/payments/__init__.py": "",
    "shop/payments/gateway.py": "def charge(amount):\n    return amount\n",
    "shop/api/orders_views.py": "def view(): pass\n",
    "shop/api/payments_views.py": "def view(): pass\n",
    "shop/billing/jobs/tasks.py": "def run(): pass\n",
    "shop/tasks.py": "def run(): pass\n",
}


@pytest.fixture
def atoms(graph_of) -> AtomGraph:
    return AtomGraph.from_graph(graph_of(TREE), "class")


def assign(atoms: AtomGraph, **services: list[str]):
    patterns = tuple((s, p) for s, found in services.items() for p in found)
    return Boundaries("test", "class", patterns).assign(atoms)


def test_a_plain_pattern_covers_everything_under_it(atoms) -> None:
    found, unmatched = assign(atoms, orders=["shop.orders"], payments=["shop.payments"])
    assert found["shop.orders.service.OrderService"] == "orders"
    assert found["shop.orders.service"] == "orders" and found["shop.orders"] == "orders"
    assert found["shop.payments.gateway.charge"] == "payments"
    assert "shop.api.orders_views" not in found and unmatched == []


def test_star_is_one_part_and_double_star_any_number(atoms) -> None:
    found, _ = assign(atoms, views=["shop.api.*_views"], tasks=["shop.**.tasks"])
    assert found["shop.api.orders_views.view"] == "views"
    assert found["shop.api.payments_views"] == "views"
    assert found["shop.tasks.run"] == "tasks"  # ** includes no part at all
    assert found["shop.billing.jobs.tasks.run"] == "tasks"
    found, _ = assign(atoms, any=["shop.*"])
    assert found["shop.orders.service.OrderService"] == "any"  # shop.orders is a part
    assert "shop" not in found  # the package itself is not below shop.*


def test_the_most_specific_pattern_wins(atoms) -> None:
    found, _ = assign(
        atoms,
        orders=["shop.orders"],
        payments=["shop.payments", "shop.orders.service.OrderService"],
        api=["shop.*.api"],
    )
    assert found["shop.orders.service.OrderService"] == "payments"  # deeper than shop.orders
    assert found["shop.orders.service"] == "orders"
    # the same id matched by shop.orders (a parent) and shop.*.api (the id): the id's wins
    assert found["shop.orders.api.show"] == "api"
    found, _ = assign(atoms, a=["shop.orders.api"], b=["shop.*.api"])
    assert found["shop.orders.api"] == "a"  # more plain parts


def test_a_top_level_package_covers_only_itself(atoms) -> None:
    found, unmatched = assign(atoms, shared=["shop"], orders=["shop.orders"])
    assert found["shop"] == "shared" and unmatched == []
    assert found["shop.orders.api.show"] == "orders"
    assert "shop.tasks.run" not in found and "shop.tasks" not in found


def test_a_tie_between_two_services_is_a_config_error(atoms) -> None:
    with pytest.raises(ConfigError) as caught:
        assign(atoms, a=["shop.or*.service"], b=["shop.*rs.service"])
    assert "shop.orders.service is matched equally by" in caught.value.message


def test_shared_and_unmatched_patterns(atoms) -> None:
    found, unmatched = assign(
        atoms,
        orders=["shop.orders", "shop.ordres"],
        shared=["shop.api", "shop.nothing.*"],
        payments=["shop.payments.gateway.charge", "shop.payments"],
    )
    assert found["shop.api.orders_views.view"] == "shared"
    assert unmatched == [("orders", "shop.ordres"), ("shared", "shop.nothing.*")]
    # shop.payments names a package even though a deeper pattern took its only atom
    assert ("payments", "shop.payments") not in unmatched


def test_settings_problems_are_all_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_check_settings(
            {"stale": "sometimes", "services": {"a": ["ok.module", "bad pattern"]}, "x": 1},
            where="[tool.decomposer.check] in pyproject.toml",
        )
    problems = [caught.value.message, *caught.value.details]
    assert "has 3 problems" in caught.value.message
    assert any("unknown key 'x'" in p for p in problems)
    assert any("'stale' should be one of error, warning, off" in p for p in problems)
    assert any("'bad pattern' is not a dotted module name" in p for p in problems)
    settings = parse_check_settings(
        {"services": {"a": ["x"]}, "tolerance": {"icp": 0.02}}, where="w"
    )
    assert settings.tolerance["icp"] == 0.02 and settings.tolerance["shared_tables"] == 0
    assert settings.level is None and settings.unassigned == "warning"


def test_allow_comments_on_the_line_or_the_comment_line_above(tmp_path) -> None:
    (tmp_path / "m.py").write_text(
        "x = a.b()  # decomposer: allow orders->payments (until the API exists)\n"
        "# decomposer: allow orders->stock (stock is read-only here)\n"
        "y = c.d()\n"
        "z = 1  # decomposer: allow orders->billing (for the line above? no)\n"
        "w = e.f()\n"
        "v = 1  # decomposer:allow orders -> payments\n"
        "u = 1  # decomposer: allow payments\n"
    )
    comments = Comments(tmp_path)
    [first] = comments.near(Site("m.py", 1))
    assert (first.pair, first.reason) == (("orders", "payments"), "until the API exists")
    [above] = comments.near(Site("m.py", 3))
    assert above.site == Site("m.py", 2) and above.pair == ("orders", "stock")
    assert [a.site.line for a in comments.near(Site("m.py", 5))] == []  # line 4 is code
    [bare] = comments.near(Site("m.py", 6))
    assert bare.pair == ("orders", "payments") and bare.reason == ""
    [unreadable] = comments.near(Site("m.py", 7))
    assert unreadable.pair is None
    assert comments.near(Site("missing.py", 1)) == []


def test_rules_on_a_small_tree(graph_of, tmp_path) -> None:
    graph = graph_of(TREE)
    atoms = AtomGraph.from_graph(graph, "class")
    boundaries = Boundaries(
        "test", "class", (("orders", "shop.orders"), ("payments", "shop.payments"))
    )
    assignment, _ = boundaries.assign(atoms)
    settings = CheckSettings(services={"orders": ("shop.orders",)})
    run = _Run(
        tmp_path / "project",
        _Checked(graph, atoms),
        assignment,
        boundaries,
        settings,
        Baseline.empty("class"),
    )
    state = run.evaluate(suppress_all=False)
    deps = {(f.record["source"], f.record["target"], f.record["kind"]): f for f in state.found["dependencies"].values()}  # fmt: skip
    assert set(deps) == {
        ("shop.orders.service", "shop.payments.gateway.charge", "imports"),
        ("shop.orders.service.OrderService", "shop.payments.gateway.charge", "calls"),
    }
    call = deps[("shop.orders.service.OrderService", "shop.payments.gateway.charge", "calls")]
    assert call.code == "DC102" and call.sites == (Site("shop/orders/service.py", 6),)
    assert call.pair == ("orders", "payments")
    # modules in no service: the top package and the others not in the boundaries
    assert set(state.found["unassigned"]) >= {"shop", "shop.tasks", "shop.api.orders_views"}
    assert state.metrics["cross_service_edges"] == 2
    violations, improvements = run.compare(state)
    assert improvements == []
    assert {v.code for v in violations if v.severity == "error"} == {"DC101", "DC102"}
    # recorded, the same state is clean; an entry gone from the code is an improvement
    recorded = state.baseline("class")
    run.baseline = Baseline(
        "class",
        {**recorded.entries, "cycles": {"x": {"services": ["a", "b"]}}},
        recorded.metrics,
    )
    violations, improvements = run.compare(state)
    assert [v.code for v in violations] == ["DC501"] and violations[0].severity == "warning"
    assert [i.message for i in improvements] == ["fixed since the baseline: cycle of a and b"]


def test_a_baseline_round_trips(tmp_path) -> None:
    from decomposer.check import load_baseline
    from decomposer.files import write_json

    baseline = Baseline(
        "class",
        {
            "dependencies": {},
            "cycles": {},
            "shared_tables": {"t": {"table": "t", "writers": ["a", "b"]}},
            "foreign_keys": {},
            "unassigned": {"m": {"module": "m"}},
        },
        {"icp": 0.25, "shared_tables": 1},
    )
    path = write_json(tmp_path / "b.json", baseline.to_dict())
    again = load_baseline(Path(path), "class")
    assert again.entries == baseline.entries and again.metrics == baseline.metrics
    assert again.lines[("shared_tables", "t")] > 1 and ("metrics", "icp") in again.lines
