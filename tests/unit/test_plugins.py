import pytest

from decomposer.errors import PluginError
from decomposer.plugins import ANALYZERS, PluginSpec, Registry, default_registry


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
