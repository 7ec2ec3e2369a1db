"""The business-capability strategy: capabilities inferred from the vocabulary of a tiny
monolith whose right answer is known, a capability map, its validation, and the shop
sample (K honoured, deterministic, folder names not the signal)."""

import json
import re

import pytest
from typer.testing import CliRunner

from decomposer.cli import app
from decomposer.errors import ConfigError
from decomposer.metrics import agreement
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph
from decomposer.model.graph_json import graph_from_dict
from decomposer.model.proposal import Constraints
from decomposer.plugins import StrategyInput
from decomposer.truth import SHARED
from strategies.business_capability import BusinessCapabilityStrategy, parse_capabilities
from tests.unit.test_strategy_ddd_subdomain import ORDERS, STOCK, TINY, UTILITIES, flatten


def run(graph: DependencyGraph, k: int | None = 2, seed: int = 0, **options):
    atoms = AtomGraph.from_graph(graph)
    request = StrategyInput(atoms, graph, k, seed, options, Constraints())
    return BusinessCapabilityStrategy().decompose(request)


def members(clusters: dict[str, str], atom: str) -> set[str]:
    return {a for a, c in clusters.items() if c == clusters[atom]}


def test_capabilities_come_from_the_words_that_occur_together(graph_of) -> None:
    result = run(graph_of(TINY))
    clusters = result.clusters
    assert members(clusters, "app.orders.place_order") >= ORDERS
    # reserve_for_order writes stock but is named for, and reads, orders: words decide here
    assert members(clusters, "app.stock.restock") >= STOCK - {"app.stock.reserve_for_order"}
    assert clusters["app.orders.place_order"] != clusters["app.stock.restock"]
    assert UTILITIES <= members(clusters, "app.util.money")
    assert clusters["app.util.money"] == SHARED
    assert result.names == {
        clusters["app.orders.place_order"]: "order",
        clusters["app.stock.restock"]: "stock",
    }


def test_each_placement_names_its_terms_and_similarity(graph_of) -> None:
    result = run(graph_of(TINY))
    text = " ".join(r.text for r in result.reasons["app.stock.restock"])
    assert re.search(r"TF-IDF similarity 0\.9\d to capability stock", text)
    assert "stock" in result.reasons["app.stock.restock"][0].evidence
    # a handler named for neither area gets the words of its route
    assert "order" in " ".join(r.text for r in result.reasons["app.web.cancel_view"])


def test_without_a_target_the_term_graph_chooses_k(graph_of) -> None:
    result = run(graph_of(TINY), k=None)
    count = len(set(result.clusters.values()) - {SHARED})
    assert result.k_choice.startswith(f"chosen: {count} capabilities, the Louvain communities")


def test_a_capability_map_decides_by_path_then_route_then_keywords(graph_of) -> None:
    capabilities = {
        "sales": {"keywords": ["order", "order line"]},
        "warehouse": {"paths": ["app/stock.py"], "routes": ["/stock"]},
    }
    result = run(graph_of(TINY), k=5, capabilities=capabilities)
    clusters = result.clusters
    assert {clusters[a] for a in ORDERS} == {"sales"}
    assert {clusters[a] for a in STOCK} == {"warehouse"}
    assert clusters["app.util.money"] == SHARED
    reasons = {a: " ".join(r.text for r in rs) for a, rs in result.reasons.items()}
    assert "matches path app/stock.py of capability warehouse" in reasons["app.stock.restock"]
    assert "handles /stock/<sku>, under /stock" in reasons["app.web.restock_view"]
    assert "keyword similarity" in reasons["app.orders.cancel_order"]
    assert "the target of 5 is ignored" in result.k_choice


def test_path_globs_match_atom_ids_too(graph_of) -> None:
    capabilities = {"sales": {"paths": ["app.orders.*"]}, "warehouse": {"paths": ["app.stock*"]}}
    clusters = run(graph_of(TINY), capabilities=capabilities).clusters
    assert clusters["app.orders.place_order"] == "sales"
    assert clusters["app.stock"] == clusters["app.stock.restock"] == "warehouse"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["billing"], "capabilities should be a table"),
        ({"billing": ["invoice"]}, "capabilities.billing should be a table"),
        ({"billing": {"words": ["invoice"]}}, "capabilities.billing has an unknown key 'words'"),
        ({"billing": {"keywords": "invoice"}}, "capabilities.billing.keywords should be a list"),
        ({"billing": {"routes": [""]}}, "capabilities.billing.routes should be a list"),
        ({"billing": {}}, "capabilities.billing has no keywords, paths or routes"),
    ],
)
def test_a_bad_capability_map_names_the_key(value, message) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_capabilities(value)


def test_other_options_are_checked(graph_of) -> None:
    graph = graph_of(TINY)
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        run(graph, colour=1)
    with pytest.raises(ConfigError, match="smoothing should be between 0 and 1"):
        run(graph, smoothing=2)


# -- on the shop sample ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> DependencyGraph:
    path = tmp_path_factory.mktemp("shop") / "graph.json"
    result = CliRunner().invoke(
        app, ["analyze", "sample_monoliths/shop", "-o", str(path), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    return graph_from_dict(json.loads(path.read_text()))


def test_shop_gets_k_capabilities_the_same_way_every_time(shop) -> None:
    first, second = run(shop, k=9, seed=5), run(shop, k=9, seed=5)
    assert first.clusters == second.clusters
    assert len(set(first.clusters.values()) - {SHARED}) == 9


def test_shop_capabilities_follow_the_business(shop) -> None:
    clusters = run(shop, k=9).clusters
    assert clusters["shop.services.catalog.create_product"] == clusters["shop.models.Product"]
    assert clusters["shop.services.fulfilment.ship"] == clusters["shop.models.Shipment"]
    assert clusters["shop.models.Product"] != clusters["shop.models.Shipment"]
    assert clusters["shop.utils.dates.parse_date"] == SHARED


def test_shop_barely_changes_when_every_module_is_flat_and_opaque(shop) -> None:
    atoms = AtomGraph.from_graph(shop)
    original = run(shop, k=9)
    flat, back = flatten(shop)
    moved = {back[a]: c for a, c in run(flat, k=9).clusters.items()}
    assert agreement(atoms, moved, original.clusters)["ari"] >= 0.9
