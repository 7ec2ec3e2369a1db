import pytest

from decomposer.errors import InputError
from decomposer.truth import parse_truth

TRUTH = {
    "schema": 1,
    "monolith": "shop",
    "services": {
        "orders": {"members": ["shop.services.core"], "tables": ["orders"]},
        "billing": {"members": ["shop.services.core.charge_card", "shop.billing"],
                    "tables": ["payments"]},
    },
    "shared": {"members": ["shop", "shop.utils"]},
}


def test_longest_prefix_wins() -> None:
    truth = parse_truth(TRUTH, where="t.json")
    assert truth.group_of("shop.services.core.place_order", "shop.services.core") == "orders"
    assert truth.group_of("shop.services.core.charge_card", "shop.services.core") == "billing"
    assert truth.group_of("shop.billing.stripe.Client", "shop.billing.stripe") == "billing"
    assert truth.group_of("shop.utils.money", "shop.utils.money") == "shared"
    assert truth.tables == {"orders": "orders", "payments": "billing"}


def test_a_top_level_package_covers_only_its_own_init() -> None:
    truth = parse_truth(TRUTH, where="t.json")
    assert truth.group_of("shop", "shop") == "shared"
    assert truth.group_of("shop.create_app", "shop") == "shared"
    assert truth.group_of("shop.reporting.daily", "shop.reporting") is None


def test_every_problem_is_reported_at_once() -> None:
    bad = {
        "schema": 2,
        "services": {
            "a": {"members": ["x.y"], "tables": ["t"]},
            "b": {"members": ["x.y"], "tables": ["t"]},
        },
        "shared": {"members": [], "tables": ["u"]},
    }
    with pytest.raises(InputError) as info:
        parse_truth(bad, where="t.json")
    problems = [info.value.message, *info.value.details]
    assert len(problems) == 4
    assert "'x.y' is listed in both 'a' and 'b'" in " ".join(problems)
    assert "'shared' cannot own table 'u'" in " ".join(problems)
