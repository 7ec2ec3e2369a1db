import pytest

from decomposer.errors import ConfigError, PluginError
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, Node, NodeKind
from decomposer.model.proposal import Constraints
from decomposer.plugins import ANALYZERS, PluginSpec, Registry, StrategyInput, default_registry


def spec(name: str, value: str, dist: str = "acme") -> PluginSpec:
    return PluginSpec(ANALYZERS, name, value, dist)


def test_built_in_analyzer_is_found_through_its_entry_point() -> None:
    registry = default_registry()
    assert "static" in registry.names(ANALYZERS)
    [analyzer] = [a for a in registry.analyzers() if a.name == "static"]
    assert analyzer.summary


def test_unknown_name_lists_what_is_available() -> None:
    registry = Registry([spec("static", "analyzers.static:StaticAnalyzer")])
    with pytest.raises(PluginError) as info:
        registry.load(ANALYZERS, "nope")
    assert info.value.message == "no decomposer.analyzers plugin named 'nope'"
    assert info.value.hint == "available: static"


def test_a_plugin_that_fails_to_import_names_its_distribution() -> None:
    registry = Registry([spec("broken", "acme_missing_module:Thing", "acme-plugins")])
    with pytest.raises(PluginError, match="'broken' from acme-plugins failed to import"):
        registry.load(ANALYZERS, "broken")


def test_a_plugin_of_the_wrong_shape_is_refused() -> None:
    registry = Registry([spec("dumps", "json:dumps")])
    with pytest.raises(PluginError, match="does not follow the Analyzer protocol"):
        registry.load(ANALYZERS, "dumps")


def test_entry_point_name_must_match_the_class_name() -> None:
    registry = Registry([spec("other", "analyzers.static:StaticAnalyzer")])
    with pytest.raises(PluginError, match="calls itself 'static'"):
        registry.load(ANALYZERS, "other")


def test_two_distributions_claiming_one_name_is_an_error_naming_both() -> None:
    with pytest.raises(PluginError, match="from acme.*from globex"):
        Registry([spec("x", "a:A", "acme"), spec("x", "b:B", "globex")])


#: A numeric option of each built-in strategy.
NUMERIC_OPTION = {
    "business_capability": "resolution",
    "ddd_subdomain": "resolution",
    "resource": "dependent_size",
    "structural": "resolution",
    "use_case": "resolution",
}


@pytest.mark.parametrize("strategy", sorted(NUMERIC_OPTION))
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "unknown option 'colour' in \\[tool.decomposer.strategies.{name}\\]"),
        ("x", "option '{option}' in .* should be a number >= 0, got 'x'"),
        (-1, "option '{option}' in .* should be a number >= 0, got -1"),
    ],
)
def test_every_built_in_strategy_checks_its_options(strategy, value, message) -> None:
    option = NUMERIC_OPTION[strategy]
    options = {"colour": 1} if value is None else {option: value}
    graph = DependencyGraph.build([Node("app", NodeKind.MODULE)], [])
    atoms = AtomGraph.from_graph(graph, "class")
    request = StrategyInput(atoms, graph, 1, 0, options, Constraints())
    with pytest.raises(ConfigError, match=message.format(name=strategy, option=option)):
        default_registry().strategy(strategy).decompose(request)
