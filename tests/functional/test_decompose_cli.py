"""`decompose`, `compare`, `evaluate` and `strategies` through the real CLI."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from decomposer.model.graph_json import graph_to_dict
from decomposer.plugins import STRATEGIES, default_registry

SHOP_TRUTH = "sample_monoliths/shop/expected_decomposition.json"


@pytest.fixture(scope="module")
def shop_graph(analysed, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "graph.json"
    path.write_text(json.dumps(graph_to_dict(analysed["shop"], {})))
    return path


def uncovered(proposal: dict, service: str) -> str:
    """A member of `service` that no other member covers as a dotted prefix (a top-level
    package covers only itself)."""
    members = [m for body in proposal["services"].values() for m in body["members"]]
    members += proposal["shared"]["members"]
    return next(
        m
        for m in proposal["services"][service]["members"]
        if not any(m.startswith(other + ".") for other in members if "." in other)
    )


def test_decompose_writes_a_complete_proposal(cli, shop_graph, tmp_path) -> None:
    out = tmp_path / "proposal.json"
    result = cli("decompose", str(shop_graph), "-s", "structural", "-k", "5", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "structural: 5 services" in result.output
    proposal = json.loads(out.read_text())
    assert proposal["schema"] == 1 and proposal["k_choice"] == "given: 5 services"
    placed = [m for s in proposal["services"].values() for m in s["members"]]
    placed += proposal["shared"]["members"]
    assert len(placed) == len(set(placed)) == len(proposal["explanations"])
    assert len(proposal["services"]) == 5
    for atom, explanation in proposal["explanations"].items():
        assert 0 <= explanation["confidence"] <= 1, atom
        assert explanation["service"] in (*proposal["services"], "shared")
    # every table has an owner among the services, and the owner lists it
    for table, ownership in proposal["tables"].items():
        if ownership["owner"] is not None:
            assert table in proposal["services"][ownership["owner"]]["tables"]
    assert {"modularity", "icp", "shared_tables"} <= set(proposal["metrics"]["overall"])


def test_the_same_seed_gives_the_same_bytes(cli, shop_graph, tmp_path) -> None:
    outputs = []
    for name in ("a.json", "b.json"):
        cli(
            "decompose",
            str(shop_graph),
            "-s",
            "structural",
            "--seed",
            "3",
            "-o",
            str(tmp_path / name),
        )
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_without_a_target_the_strategy_says_how_it_chose(cli, shop_graph, tmp_path) -> None:
    result = cli(
        "decompose",
        str(shop_graph),
        "-s",
        "structural",
        "-o",
        str(tmp_path / "p.json"),
        "--format",
        "json",
    )
    summary = json.loads(result.output)
    assert summary["k_choice"].startswith("chosen:")
    assert len(summary["services"]) >= 2


def test_evaluate_rescores_a_hand_edit(cli, shop_graph, tmp_path) -> None:
    out = tmp_path / "proposal.json"
    cli("decompose", str(shop_graph), "-s", "structural", "-k", "4", "-o", str(out))
    proposal = json.loads(out.read_text())
    first, second = sorted(proposal["services"])[:2]
    # move a whole module by naming it: the edit a user makes most
    moved = proposal["services"][first]["members"][0]
    proposal["services"][first]["members"].remove(moved)
    proposal["services"][second]["members"].append(moved)
    proposal["services"]["renamed"] = proposal["services"].pop(second)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(proposal))
    rescored = tmp_path / "rescored.json"
    result = cli("evaluate", str(shop_graph), str(edited), "-o", str(rescored))
    assert result.exit_code == 0, result.output
    after = json.loads(rescored.read_text())
    assert after["explanations"][moved]["service"] == "renamed"
    assert moved in after["services"]["renamed"]["members"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda p, s: p["services"][s]["members"].append("shop.nowhere.Thing"),
            "'shop.nowhere.Thing' is not a module, class or function of the graph",
        ),
        (lambda p, s: p["shared"]["members"].append(p["services"][s]["members"][0]), "is in both"),
        (
            lambda p, s: p["services"][s]["members"].remove(uncovered(p, s)),
            "in no service and not shared",
        ),
        (
            lambda p, s: p["services"][s]["members"].append("shop.models.Order.paid_cents"),
            "is inside the class-level atom 'shop.models.Order'",
        ),
        (
            lambda p, s: p["services"].__setitem__("shared", {"members": []}),
            "'shared' is reserved",
        ),
        (lambda p, s: p.__setitem__("schema", 7), "'schema' should be 1"),
    ],
)
def test_evaluate_refuses_mistakes_with_one_clear_sentence(
    cli, shop_graph, tmp_path, edit, message
) -> None:
    out = tmp_path / "proposal.json"
    cli("decompose", str(shop_graph), "-s", "structural", "-k", "3", "-o", str(out))
    proposal = json.loads(out.read_text())
    service = min(proposal["services"])
    edit(proposal, service)
    out.write_text(json.dumps(proposal))
    result = cli("evaluate", str(shop_graph), str(out))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_bad_inputs_exit_2(cli, shop_graph, tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases = [
        (("decompose", str(tmp_path / "missing.json")), "does not exist"),
        (("decompose", str(broken)), "is not valid JSON"),
        (
            ("decompose", str(shop_graph), "-s", "nope", "-o", str(tmp_path / "p.json")),
            "no decomposer.strategies plugin named 'nope'",
        ),
        (("evaluate", str(shop_graph), str(broken)), "is not valid JSON"),
        (("compare", str(shop_graph), "--truth", str(broken)), "is not valid JSON"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code == 2, args
        assert message in " ".join(result.output.split()), args


def test_compare_measures_every_strategy_against_the_truth(cli, shop_graph, tmp_path) -> None:
    result = cli(
        "compare",
        str(shop_graph),
        "--strategies",
        "structural",
        "--truth",
        SHOP_TRUTH,
        "-k",
        "6",
        "-o",
        str(tmp_path / "proposals"),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    row = summary["strategies"]["structural"]
    assert 0 <= row["agreement"]["mojofm"] <= 100
    assert summary["best"]["mojofm"] == ["structural"]
    assert (tmp_path / "proposals" / "structural.json").is_file()


def test_constraints_are_honoured(cli, shop_graph, tmp_path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        textwrap.dedent(
            """
            [tool.decomposer.constraints]
            pins = {"shop.models.Coupon" = "promotions", "shop.services.catalog" = "promotions"}
            must_link = [["shop.models.Order", "shop.models.Payment"]]
            cannot_link = [["shop.models.Customer", "shop.models.Address"]]
            """
        )
    )
    out = tmp_path / "p.json"
    result = cli(
        "decompose",
        str(shop_graph),
        "-s",
        "structural",
        "-k",
        "4",
        "-o",
        str(out),
        "--config",
        str(config),
    )
    assert result.exit_code == 0, result.output
    explanations = json.loads(out.read_text())["explanations"]
    assert explanations["shop.models.Coupon"]["service"] == "promotions"
    assert all(
        e["service"] == "promotions"
        for atom, e in explanations.items()
        if atom.startswith("shop.services.catalog.")
    )
    assert (
        explanations["shop.models.Order"]["service"]
        == explanations["shop.models.Payment"]["service"]
    )
    assert (
        explanations["shop.models.Customer"]["service"]
        != explanations["shop.models.Address"]["service"]
    )
    assert explanations["shop.models.Coupon"]["reasons"][0]["kind"] == "pin"


def test_contradictory_constraints_are_a_config_error(cli, shop_graph, tmp_path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        '[tool.decomposer.constraints]\npins = {"shop.models.Order" = "a", "shop.models.Payment" = "b"}\n'
        'must_link = [["shop.models.Order", "shop.models.Payment"]]\n'
    )
    result = cli(
        "decompose",
        str(shop_graph),
        "-s",
        "structural",
        "-o",
        str(tmp_path / "p.json"),
        "--config",
        str(config),
    )
    assert result.exit_code == 2
    assert "contradicts the pins" in result.output


def test_strategies_lists_every_built_in_with_a_line(cli) -> None:
    result = cli("strategies", "--format", "json")
    found = {s["name"]: s for s in json.loads(result.output)["strategies"]}
    assert set(default_registry().names(STRATEGIES)) == set(found)
    assert found["structural"]["summary"].startswith("Louvain")


def test_a_third_party_strategy_installed_from_a_folder_shows_up_and_runs(
    tmp_path, shop_graph
) -> None:
    site = tmp_path / "site"
    (site / "acme_split").mkdir(parents=True)
    (site / "acme_split" / "__init__.py").write_text(
        textwrap.dedent(
            """
            from decomposer.plugins import StrategyResult

            class HalfStrategy:
                name = "half"
                summary = "first half of the atoms, then the second"

                def decompose(self, request):
                    atoms = request.atoms.atoms
                    middle = len(atoms) // 2
                    clusters = {a: ("one" if i < middle else "two") for i, a in enumerate(atoms)}
                    return StrategyResult(clusters, "always two")
            """
        )
    )
    info = site / "acme_split-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-split\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[decomposer.strategies]\nhalf = acme_split:HalfStrategy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = subprocess.run(
        [sys.executable, "-m", "decomposer", "strategies"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "half" in listed.stdout and "first half of the atoms" in listed.stdout
    out = tmp_path / "p.json"
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "decomposer",
            "decompose",
            str(shop_graph),
            "-s",
            "half",
            "-o",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    proposal = json.loads(out.read_text())
    assert proposal["strategy"] == "half" and proposal["k_choice"] == "always two"
