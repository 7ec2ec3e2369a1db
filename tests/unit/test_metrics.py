"""Metrics on small graphs whose every number is worked out by hand in the comments."""

import json
import math

import networkx
import pytest

from decomposer import metrics
from decomposer.errors import InputError
from decomposer.metrics import COUPLING_WEIGHTS, SHARED, evaluate, table_owners
from decomposer.model.atoms import Access, AtomEdge, AtomGraph, Transaction
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind

CALLS, IMPORTS, REFERENCES = EdgeKind.CALLS, EdgeKind.IMPORTS, EdgeKind.REFERENCES


def atom_graph(
    atoms,
    edges=(),
    access=(),
    tables=(),
    foreign_keys=(),
    transactions=(),
    entries=None,
    loc=None,
    attrs=None,
) -> AtomGraph:
    """An AtomGraph of class atoms `pkg.module.Name`; edges as (source, target, kind, static,
    runtime), access as (atom, table, kind, count)."""
    loc, attrs = loc or {}, attrs or {}
    return AtomGraph(
        level="class",
        atoms=tuple(sorted(atoms)),
        nodes={
            a: Node(a, NodeKind.CLASS, "f.py", 1, 9, loc.get(a, 0), attrs.get(a, {}))
            for a in atoms
        },
        atom_of={a: a for a in atoms},
        modules={a: a.rsplit(".", 1)[0] for a in atoms},
        edges=tuple(AtomEdge(s, t, k, n, r) for s, t, k, n, r in edges),
        tables=tuple(sorted(tables)),
        access=tuple(Access(a, t, k, n) for a, t, k, n in access),
        foreign_keys=tuple(foreign_keys),
        transactions=tuple(transactions),
        entries=entries or {},
    )


# Two services and a utility the assignment leaves out (so it is shared):
#   orders  = PlaceOrder (o1), OrderRepo (o2), cancel_order (o3)
#   billing = ChargeCard (b1), refund_card (b2)
#   shared  = fmt (u)
O1, O2, O3 = "shop.orders.PlaceOrder", "shop.orders.OrderRepo", "shop.orders.cancel_order"
B1, B2 = "shop.billing.ChargeCard", "shop.billing.refund_card"
U = "shop.util.fmt"
ASSIGNMENT = {O1: "orders", O2: "orders", O3: "orders", B1: "billing", B2: "billing"}


def shop() -> AtomGraph:
    return atom_graph(
        [O1, O2, O3, B1, B2, U],
        edges=[
            (O1, O2, CALLS, 3, 0),  # inside orders
            (O1, B1, CALLS, 1, 5),  # orders -> billing, also seen 5 times at runtime
            (O3, B2, CALLS, 2, 0),  # orders -> billing
            (B1, O2, CALLS, 1, 0),  # billing -> orders: a cycle
            (B1, B2, IMPORTS, 1, 0),  # inside billing
            (O1, U, CALLS, 4, 0),  # to the shared library: not counted anywhere
            (B2, U, CALLS, 1, 0),
            (O2, O3, REFERENCES, 2, 0),  # inside orders
        ],
        access=[
            (O2, "orders", "writes", 5),
            (O1, "orders", "reads", 2),
            (B1, "payments", "writes", 4),
            (B1, "orders", "reads", 1),
            (B2, "payments", "writes", 1),
            (B2, "refunds", "writes", 2),
            (B2, "orders", "writes", 1),
            (U, "audit", "writes", 3),
        ],
        tables=["audit", "orders", "payments", "refunds", "unused"],
        foreign_keys=[
            ("refunds", "payments"),  # both billing's
            ("payments", "orders"),  # billing -> orders: crosses
            ("orders", "audit"),  # audit has no owner: not counted
        ],
        transactions=[
            Transaction(O1, "atomic", 10, frozenset({"orders", "payments"})),  # two owners
            Transaction(B2, "atomic", 5, frozenset({"payments", "refunds"})),  # billing only
            Transaction(U, "commit", 1, frozenset({"audit", "orders"})),  # audit is unowned
        ],
        entries={
            "entry:http:POST /orders": (O1,),
            "entry:http:POST /refunds": (B2,),
            "entry:cli:report": (U,),  # a shared handler reaches nothing
        },
        loc={O1: 10, O2: 20, O3: 5, B1: 8, B2: 4, U: 3},
        attrs={
            O1: {"sql_joins": [["orders", "payments"]]},  # orders' and billing's tables
            B1: {"sql_joins": [["payments", "refunds"]]},  # both billing's
        },
    )


def test_service_dependencies_count_code_edges_between_services() -> None:
    # orders -> billing: O1->B1, O3->B2; billing -> orders: B1->O2; edges to U are ignored
    assert metrics.service_dependencies(shop(), ASSIGNMENT) == {
        "billing": {"orders": 1},
        "orders": {"billing": 2},
    }


def test_api_surface_is_what_other_services_call() -> None:
    # B1 and B2 are called from orders, O2 from billing; U calling nobody adds nothing
    assert metrics.api_surface(shop(), ASSIGNMENT) == {
        "billing": [B1, B2],
        "orders": [O2],
    }


def test_table_owner_is_the_main_writer_and_says_why() -> None:
    owners = table_owners(shop(), ASSIGNMENT)
    # orders: written 5 times by O2 (orders), once by B2 (billing); read by O1 2, B1 1
    assert owners["orders"] == metrics.TableOwnership(
        "orders",
        {"billing": 1, "orders": 5},
        {"billing": 1, "orders": 2},
        "written 5 times by orders, 1 by billing",
    )
    # payments: 4 (B1) + 1 (B2) writes by billing
    assert owners["payments"].owner == "billing"
    assert owners["payments"].reason == "written 5 times by billing"
    assert owners["refunds"].owner == "billing"
    # audit is written only by the shared U; unused by nobody
    assert owners["audit"].owner is None
    assert owners["audit"].reason == "only shared code reads or writes it"
    assert owners["unused"] == metrics.TableOwnership(None, {}, {}, "no code reads or writes it")
    assert json.loads(json.dumps(owners["refunds"].to_dict())) == {
        "owner": "billing",
        "writers": {"billing": 2},
        "readers": {},
        "reason": "written 2 times by billing",
    }


def test_table_ownership_ties() -> None:
    atoms = atom_graph(
        ["x.a.A", "x.b.B", "x.c.C"],
        access=[
            # t1: 4 writes each by a and b; b reads it 3 times, a once -> b
            ("x.a.A", "t1", "writes", 4),
            ("x.b.B", "t1", "writes", 4),
            ("x.a.A", "t1", "reads", 1),
            ("x.b.B", "t1", "reads", 3),
            # t2: 2 writes each, no reads -> the first name, a
            ("x.b.B", "t2", "writes", 2),
            ("x.a.A", "t2", "writes", 2),
            # t3: only read, c 5 times, a 2 -> c
            ("x.c.C", "t3", "reads", 5),
            ("x.a.A", "t3", "reads", 2),
            # t4: only read, once each by b and c -> b
            ("x.c.C", "t4", "reads", 1),
            ("x.b.B", "t4", "reads", 1),
        ],
        tables=["t1", "t2", "t3", "t4"],
    )
    owners = table_owners(atoms, {"x.a.A": "a", "x.b.B": "b", "x.c.C": "c"})
    assert (owners["t1"].owner, owners["t1"].reason) == (
        "b",
        "tie between a and b at 4 writes: b reads it most (3 times)",
    )
    assert (owners["t2"].owner, owners["t2"].reason) == (
        "a",
        "tie between a and b at 2 writes: first by name",
    )
    assert (owners["t3"].owner, owners["t3"].reason) == (
        "c",
        "only read, most by c: 5 times by c, 2 by a",
    )
    assert (owners["t4"].owner, owners["t4"].reason) == (
        "b",
        "only read; tie between b and c at 1 read: first by name",
    )


def test_overall_metrics_by_hand() -> None:
    overall = evaluate(shop(), ASSIGNMENT).overall
    assert overall["services"] == 2
    assert overall["atoms"] == 6
    assert overall["shared_atoms"] == 1  # U, left out of the assignment
    # Q on the weighted coupling of service atoms (U's edges dropped):
    #   O1-O2 calls 1 x 3 = 3, O1-B1 calls 1 x (1 static + 1 for being traced, not its 5 runs)
    #   = 2, O3-B2 calls 2, B1-O2 calls 1, B1-B2 imports 0.25 x 1 = 0.25, O2-O3 references
    #   0.5 x 2 = 1  -> m = 9.25
    #   L_orders = 3 + 1 = 4, L_billing = 0.25; cut = 2 + 2 + 1 = 5
    #   d_orders = 2 x 4 + 5 = 13, d_billing = 2 x 0.25 + 5 = 5.5 (sum 18.5 = 2m)
    q = (4 / 9.25 - (13 / 18.5) ** 2) + (0.25 / 9.25 - (5.5 / 18.5) ** 2)
    assert overall["modularity"] == pytest.approx(q)
    assert overall["modularity"] == pytest.approx(-0.122717, abs=1e-6)
    # SM: pairs joined by calls: {O1,O2} inside orders; {O1,B1}, {O3,B2}, {B1,O2} across
    #   scoh: orders 1 / 3^2, billing 0 / 2^2 -> mean 1/18
    #   scop(orders, billing) = 3 / (2 x 3 x 2) = 0.25, counted for both orders of the pair
    #   -> 0.5 / (K (K - 1) / 2 = 1) = 0.5; SM = 1/18 - 0.5
    assert overall["structural_modularity"] == pytest.approx(1 / 18 - 0.5)
    # ICP: static calls between service atoms 3 + 1 + 2 + 1 = 7, crossing 1 + 2 + 1 = 4
    assert overall["icp"] == pytest.approx(4 / 7)
    # runtime: only O1 -> B1 (5 times), which crosses
    assert overall["icp_runtime"] == pytest.approx(1.0)
    # IFN: billing has 2 interface atoms, orders 1 -> 1.5
    assert overall["ifn"] == pytest.approx(1.5)
    # NED: sizes 3 and 2, none within [5, 20] -> 1 - 0 / 5
    assert overall["ned"] == pytest.approx(1.0)
    # BCP: POST /orders reaches O1, O2 (call) and B1 (call), not O3 (only referenced);
    #   POST /refunds reaches B2; the cli entry's handler is shared and reaches nothing.
    #   orders: 1 use case -> ln 1 = 0; billing: 2 -> ln 2; mean ln 2 / 2
    assert overall["bcp"] == pytest.approx(math.log(2) / 2)
    # CHM: billing's operations ChargeCard {charge, card} and refund_card {refund, card}:
    #   Jaccard 1/3; orders has one operation (OrderRepo): 1.0 -> mean 2/3
    assert overall["chm"] == pytest.approx(2 / 3)
    # CHD: B1 touches {payments, orders}, B2 {payments, refunds, orders}: 2/3;
    #   orders: one operation: 1.0 -> mean 5/6
    assert overall["chd"] == pytest.approx(5 / 6)
    # sizes 3 and 2: mean 2.5, population deviation 0.5 -> 0.2
    assert overall["size_balance"] == pytest.approx(0.2)
    assert overall["service_cycles"] == 1  # orders <-> billing
    # orders is written by orders and billing; payments and refunds only by billing
    assert overall["shared_tables"] == 1
    assert overall["shared_tables_accessed"] == 1
    assert overall["cross_service_foreign_keys"] == 1  # payments -> orders
    assert overall["cross_service_joins"] == 1  # O1 joins orders with payments
    assert overall["sagas_needed"] == 1  # O1's transaction writes orders and payments


def test_per_service_metrics_by_hand() -> None:
    found = evaluate(shop(), ASSIGNMENT)
    assert found.services["orders"] == {
        "atoms": 3,
        "loc": 35,  # 10 + 20 + 5
        "tables_owned": 1,  # orders
        "afferent": 1,  # billing depends on orders
        "efferent": 1,  # orders depends on billing
        "instability": 0.5,  # 1 / (1 + 1)
        "interface": 1,  # O2
        "internal_edges": 2,  # O1->O2 calls, O2->O3 references
        "external_edges": 3,  # O1->B1, O3->B2, B1->O2
        "bcp": 0.0,  # ln 1
        "chm": 1.0,  # a single operation
        "chd": 1.0,
        "authors": None,  # no history
        "tsr": None,
    }
    billing = found.services["billing"]
    assert billing["loc"] == 12  # 8 + 4
    assert billing["tables_owned"] == 2  # payments, refunds
    assert billing["internal_edges"] == 1  # B1->B2 imports
    assert billing["bcp"] == pytest.approx(math.log(2))
    assert found.cycles == (("billing", "orders"),)


def test_modularity_agrees_with_networkx_on_the_atom_graphs_own_coupling() -> None:
    # strategies cluster on AtomGraph.coupling(COUPLING_WEIGHTS): Q must be measured on it
    atoms = shop()
    graph = networkx.Graph()
    for a, neighbours in atoms.coupling(COUPLING_WEIGHTS).items():
        for b, weight in neighbours.items():
            if a in ASSIGNMENT and b in ASSIGNMENT:
                graph.add_edge(a, b, weight=weight)
    communities = [{O1, O2, O3}, {B1, B2}]
    expected = networkx.community.modularity(graph, communities, weight="weight")
    assert evaluate(atoms, ASSIGNMENT).overall["modularity"] == pytest.approx(expected)


def test_use_cases_flow_around_call_cycles() -> None:
    # x.A -> x.B -> y.C -> x.A (a cycle), x.A -> y.D; entry e1 at y.C, e2 at y.D
    atoms = atom_graph(
        ["x.m.A", "x.m.B", "y.m.C", "y.m.D"],
        edges=[
            ("x.m.A", "x.m.B", CALLS, 1, 0),
            ("x.m.B", "y.m.C", CALLS, 1, 0),
            ("y.m.C", "x.m.A", CALLS, 1, 0),
            ("x.m.A", "y.m.D", EdgeKind.INSTANTIATES, 1, 0),
        ],
        entries={"entry:task:e1": ("y.m.C",), "entry:task:e2": ("y.m.D",)},
    )
    assignment = {"x.m.A": "x", "x.m.B": "x", "y.m.C": "y", "y.m.D": "y"}
    found = evaluate(atoms, assignment)
    # e1 reaches C, A, B (round the cycle) and D (constructed by A): x has {e1}, y {e1, e2}
    assert found.services["x"]["bcp"] == 0.0
    assert found.services["y"]["bcp"] == pytest.approx(math.log(2))
    assert found.overall["bcp"] == pytest.approx(math.log(2) / 2)


def test_ned_and_size_balance_use_the_mono2micro_thresholds() -> None:
    sizes = {"a": 4, "b": 5, "c": 20, "d": 21}
    assignment = {f"p.m.{name}{i}": name for name, n in sizes.items() for i in range(n)}
    found = evaluate(atom_graph(list(assignment)), assignment).overall
    assert (metrics.NED_MIN_ATOMS, metrics.NED_MAX_ATOMS) == (5, 20)
    # b (5) and c (20) are within [5, 20]: 1 - 25 / 50
    assert found["ned"] == pytest.approx(0.5)
    # mean 12.5; deviations -8.5, -7.5, 7.5, 8.5 -> variance 257 / 4 = 64.25
    assert found["size_balance"] == pytest.approx(math.sqrt(64.25) / 12.5)
    # no edges at all: nothing to measure
    assert found["modularity"] is None
    assert found["icp"] is None
    assert found["bcp"] is None
    assert found["structural_modularity"] == 0.0


def test_one_service() -> None:
    found = evaluate(shop(), dict.fromkeys(ASSIGNMENT, "all"))
    overall = found.overall
    # every edge between service atoms is inside "all": Q = L/m - (2m/2m)^2 = 1 - 1 = 0
    assert overall["modularity"] == pytest.approx(0.0)
    # SM: pairs {O1,O2}, {O1,B1}, {O3,B2}, {B1,O2} all inside: 4 / 5^2, no coupling term
    assert overall["structural_modularity"] == pytest.approx(4 / 25)
    assert overall["icp"] == 0.0
    assert overall["icp_runtime"] == 0.0
    assert overall["ifn"] == 0.0
    assert overall["service_cycles"] == 0
    assert overall["size_balance"] == 0.0
    assert overall["shared_tables"] == 0
    assert overall["sagas_needed"] == 0
    assert found.services["all"]["instability"] == 0.0
    assert found.services["all"]["chm"] is None  # no interface: nobody else calls it
    assert found.services["all"]["bcp"] == pytest.approx(math.log(2))  # both http entries


def test_every_atom_shared() -> None:
    found = evaluate(shop(), {})
    overall = found.overall
    assert (overall["services"], overall["atoms"], overall["shared_atoms"]) == (0, 6, 6)
    for key in ("modularity", "structural_modularity", "icp", "icp_runtime", "ifn", "ned"):
        assert overall[key] is None, key
    assert overall["bcp"] is None and overall["size_balance"] is None
    assert overall["cross_service_foreign_keys"] == 0
    assert found.services == {}
    assert all(o.owner is None for o in table_owners(shop(), {}).values())


def test_empty_graph() -> None:
    found = evaluate(atom_graph([]), {})
    assert found.overall["atoms"] == 0
    assert found.overall["service_cycles"] == 0
    assert found.to_dict() == {
        "overall": dict(sorted(found.overall.items())),
        "services": {},
        "cycles": [],
    }


def test_cycles_list_each_strongly_connected_group_of_services() -> None:
    # a -> b -> c -> a is a cycle; d depends on a but nothing depends on d
    pairs = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
    atoms = atom_graph(
        [f"s.{x}.X" for x in "abcd"],
        edges=[(f"s.{x}.X", f"s.{y}.X", IMPORTS, 1, 0) for x, y in pairs],
    )
    found = evaluate(atoms, {f"s.{x}.X": x for x in "abcd"})
    assert found.overall["service_cycles"] == 1
    assert found.cycles == (("a", "b", "c"),)
    assert found.services["a"]["afferent"] == 2  # c and d
    assert found.services["d"]["instability"] == 1.0  # Ce 1 / (0 + 1)


def test_crossing_is_what_evaluate_measures_across_the_boundaries() -> None:
    atoms = shop()
    for assignment in (ASSIGNMENT, {**ASSIGNMENT, O3: "billing"}, {O1: "orders", B1: "orders"}):
        whole, crossing = evaluate(atoms, assignment), metrics.crossing(atoms, assignment)
        assert crossing.overall == {k: whole.overall[k] for k in crossing.overall}
        assert {"icp", "service_cycles", "sagas_needed", "shared_tables"} <= set(crossing.overall)
        assert crossing.cycles == whole.cycles
        external = sum(s["external_edges"] for s in whole.services.values())
        assert crossing.cross_service_edges == external // 2


def test_every_overall_metric_with_a_better_side_has_a_direction() -> None:
    overall = evaluate(shop(), ASSIGNMENT).overall
    undirected = {"services", "atoms", "shared_atoms"}
    assert set(metrics.DIRECTIONS) == (set(overall) - undirected) | {"mojofm", "ari", "ami", "nmi"}
    assert set(metrics.DIRECTIONS.values()) == {1, -1}


def test_to_dict_is_sorted_json() -> None:
    found = evaluate(shop(), ASSIGNMENT).to_dict()
    assert list(found) == ["overall", "services", "cycles"]
    assert list(found["overall"]) == sorted(found["overall"])
    assert list(found["services"]["orders"]) == sorted(found["services"]["orders"])
    assert found["cycles"] == [["billing", "orders"]]
    assert found["overall"]["modularity"] == round(found["overall"]["modularity"], 6)
    reordered = dict(reversed(list(ASSIGNMENT.items())))
    assert json.dumps(evaluate(shop(), reordered).to_dict()) == json.dumps(found)


def test_loc_counts_nested_atoms_once() -> None:
    # module m: 30 lines; class m.A: 10 of them, with method m.A.f: 4; function m.g: 5
    graph = DependencyGraph.build(
        [
            Node("m", NodeKind.MODULE, "m.py", 1, 40, 30),
            Node("m.A", NodeKind.CLASS, "m.py", 3, 15, 10),
            Node("m.A.f", NodeKind.FUNCTION, "m.py", 5, 9, 4),
            Node("m.g", NodeKind.FUNCTION, "m.py", 20, 26, 5),
        ],
        [
            Edge("m", "m.A", EdgeKind.CONTAINS, 1),
            Edge("m.A", "m.A.f", EdgeKind.CONTAINS, 1),
            Edge("m", "m.g", EdgeKind.CONTAINS, 1),
        ],
    )
    # class level: atoms m (30 - 10 - 5 = 15), m.A (10, its method folded in), m.g (5)
    atoms = AtomGraph.from_graph(graph, "class")
    found = evaluate(atoms, {"m": "a", "m.A": "b", "m.g": "b"})
    assert (found.services["a"]["loc"], found.services["b"]["loc"]) == (15, 15)
    # function level: m.A keeps 10 - 4 = 6 and m.A.f has its 4
    atoms = AtomGraph.from_graph(graph, "function")
    found = evaluate(atoms, {"m": "a", "m.A": "b", "m.A.f": "c", "m.g": "b"})
    assert [found.services[s]["loc"] for s in "abc"] == [15, 11, 4]
    assert sum(s["loc"] for s in found.services.values()) == 30


# -- MoJo and agreement ---------------------------------------------------------------------

# The truth B: B1 = {1, 2, 3}, B2 = {4, 5}. The proposal A: A1 = {1, 4}, A2 = {2, 3, 5}.
TRUTH = {"1": "B1", "2": "B1", "3": "B1", "4": "B2", "5": "B2"}
PROPOSAL = {"1": "A1", "4": "A1", "2": "A2", "3": "A2", "5": "A2"}


def test_mno_uses_a_maximum_matching_not_the_first_best_tag() -> None:
    # A1 shares 1 object with B1 and 1 with B2 (a tie); A2 shares 2 with B1, 1 with B2.
    # moves: A1 2 - 1 = 1, A2 3 - 2 = 1. Tagging A1 with B1 (the first best) would leave
    # B2 untagged and cost a join (3); matching A1-B2, A2-B1 uses both tags: 0 joins -> 2
    assert metrics.mno(PROPOSAL, TRUTH) == 2
    # B1: 2 with A2 -> 1 move; B2 ties A1/A2 -> 1 move; matching B1-A2, B2-A1 -> 2
    assert metrics.mno(TRUTH, PROPOSAL) == 2
    assert metrics.mojo(PROPOSAL, TRUTH) == 2


def test_mno_counts_joins_when_clusters_share_a_tag() -> None:
    # A = {1}, {2}, {3}, {4, 5}: no moves; the three singletons can only take B1 and {4, 5}
    # B2, so 2 of the 4 clusters are matched -> 2 joins

    split = {"1": "a", "2": "b", "3": "c", "4": "d", "5": "d"}
    assert metrics.mno(split, TRUTH) == 2


def test_mojofm() -> None:
    # max distance to B: sizes ascending 2, 3 -> g = 2 (2 > 0, 3 > 1); n - g = 5 - 2 = 3
    # MoJoFM = (1 - 2 / 3) x 100
    assert metrics.mojofm(PROPOSAL, TRUTH) == pytest.approx(100 / 3)
    # names do not matter, only the grouping
    renamed = {obj: "x" + cluster for obj, cluster in TRUTH.items()}
    assert metrics.mojofm(renamed, TRUTH) == 100.0
    # all singletons are as far as it gets: 3 joins, MoJoFM 0
    assert metrics.mojofm({obj: obj for obj in TRUTH}, TRUTH) == 0.0
    assert metrics.mojofm({"1": "a"}, {"1": "b"}) == 100.0


def test_agreement_over_the_atoms_both_cover() -> None:
    names = {obj: f"p.m.A{obj}" for obj in TRUTH}
    atoms = atom_graph([*names.values(), "p.m.extra"])  # the truth does not cover extra
    truth = {names[obj]: group for obj, group in TRUTH.items()} | {"p.m.gone": "B1"}
    assignment = {names[obj]: group for obj, group in PROPOSAL.items()} | {"p.m.extra": "A1"}
    found = metrics.agreement(atoms, assignment, truth)
    assert set(found) == {"mojofm", "ari", "ami", "nmi"}
    assert found["mojofm"] == pytest.approx(100 / 3)
    # ARI: cells (A1,B1) 1, (A1,B2) 1, (A2,B1) 2, (A2,B2) 1 -> sum C(n_ij, 2) = 1
    #   rows 2, 3 -> C = 1 + 3 = 4; columns 3, 2 -> 4; C(5, 2) = 10; expected 4 x 4 / 10
    #   ARI = (1 - 1.6) / ((4 + 4) / 2 - 1.6) = -0.25
    assert found["ari"] == pytest.approx(-0.25)
    # NMI: H(A) = H(B) = -(0.4 ln 0.4 + 0.6 ln 0.6);
    #   MI = 0.2 ln(0.2/0.24) + 0.2 ln(0.2/0.16) + 0.4 ln(0.4/0.36) + 0.2 ln(0.2/0.24)
    h = -(0.4 * math.log(0.4) + 0.6 * math.log(0.6))
    mi = 0.4 * math.log(0.2 / 0.24) + 0.2 * math.log(0.2 / 0.16) + 0.4 * math.log(0.4 / 0.36)
    assert found["nmi"] == pytest.approx(mi / h)
    assert found["ami"] < found["nmi"]  # less than chance agreement on so few objects


def test_agreement_treats_left_out_atoms_as_shared() -> None:
    atoms = atom_graph(["p.m.A", "p.m.B", "p.m.C"])
    truth = {"p.m.A": "s", "p.m.B": SHARED, "p.m.C": SHARED}
    found = metrics.agreement(atoms, {"p.m.A": "t"}, truth)
    assert found == pytest.approx({"mojofm": 100.0, "ari": 1.0, "ami": 1.0, "nmi": 1.0})


def test_agreement_without_common_atoms_is_an_input_error() -> None:
    with pytest.raises(InputError, match="covers none"):
        metrics.agreement(atom_graph(["p.m.A"]), {}, {"q.m.B": "s"})
