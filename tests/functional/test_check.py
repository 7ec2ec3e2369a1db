"""`decomposer check` end to end on a copy of the shop sample in a temporary git repository:
baseline, new coupling of each kind, allow comments, reverts, tightening, exit codes."""

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decomposer.cli import app

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "sample_monoliths" / "shop" / "shop"

PYPROJECT = """\
[tool.decomposer]
jobs = 1

[tool.decomposer.check.services]
customers = ["shop.services.accounts", "shop.api.customers"]
catalog = ["shop.services.catalog", "shop.services.pricing", "shop.api.catalog"]
inventory = ["shop.services.stock"]
orders = ["shop.services.core", "shop.api.orders", "shop.services.fulfilment"]
payments = ["shop.services.billing", "shop.integrations.gateways", "shop.api.webhooks"]
shipping = ["shop.integrations.carriers"]
notifications = ["shop.services.messaging", "shop.integrations.mailer"]
reporting = ["shop.reporting"]
shared = [
    "shop.models", "shop.db", "shop.utils", "shop.errors", "shop.settings", "shop.app",
    "shop.api", "shop.tasks", "shop.cli", "shop.seed", "shop.services", "shop.integrations",
    "shop",
]
"""

CATALOG = "shop/services/catalog.py"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def run_check(*args: object):
    """The check through the real CLI (tests run it from inside the repository: the paths it
    prints are relative to it)."""
    return CliRunner().invoke(app, ["check", *map(str, args)], catch_exceptions=False)


def check_json(*args: object) -> tuple[int, dict]:
    result = run_check("--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def make_shop_repo(base: Path) -> Path:
    """The shop sample in a git repository, its boundaries configured, its baseline recorded
    and committed."""
    repo = base / "shop-repo"
    shutil.copytree(SHOP, repo / "shop", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / ".gitignore").write_text(".decomposer/cache/\n__pycache__/\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "shop")
    result = run_check(repo, "--update-baseline")
    assert result.exit_code == 0, result.output
    assert "baseline written to" in result.output
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the baseline of its service boundaries")
    return repo


@pytest.fixture(scope="module")
def shop_repo(tmp_path_factory) -> Path:
    return make_shop_repo(tmp_path_factory.mktemp("check"))


@pytest.fixture
def repo(shop_repo: Path, monkeypatch):
    """The repository, entered; every change a test makes is reverted afterwards."""
    monkeypatch.chdir(shop_repo)
    yield shop_repo
    git(shop_repo, "checkout", "-q", "--", ".")
    git(shop_repo, "clean", "-q", "-fd", "-e", ".decomposer/cache")


def configure(repo: Path, settings: str) -> None:
    """Add settings to [tool.decomposer.check] (above its services table)."""
    config = repo / "pyproject.toml"
    services = "[tool.decomposer.check.services]"
    config.write_text(
        config.read_text().replace(services, f"[tool.decomposer.check]\n{settings}\n\n{services}")
    )


def append(repo: Path, path: str, code: str) -> int:
    """Append code to a file; return the line number of its last line."""
    file = repo / path
    text = file.read_text() + textwrap.dedent(code)
    file.write_text(text)
    return len(text.splitlines())


def test_the_recorded_baseline_passes(repo) -> None:
    code, summary = check_json(".")
    assert code == 0
    assert summary["violations"] == [] and summary["improvements"] == []
    assert summary["counts"] == {"errors": 0, "warnings": 0, "suppressed": 0, "improvements": 0}
    assert summary["baseline"]["exists"] and summary["baseline"]["path"] == (
        ".decomposer/baseline.json"
    )
    assert summary["services"] == sorted(
        [
            "customers",
            "catalog",
            "inventory",
            "orders",
            "payments",
            "shipping",
            "notifications",
            "reporting",
        ]
    )
    assert summary["analysis"]["files"] == 43 and summary["level"] == "class"
    # a warm cache stays warm across commits: the check leaves git history out
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")
    assert check_json(".")[1]["reused_last_check"]


def test_the_check_does_not_look_for_entry_points(repo, monkeypatch) -> None:
    def refuse(graph, resolver) -> None:
        raise AssertionError("the check's analysis looked for entry points")

    monkeypatch.setattr("analyzers.static.build.add_entry_points", refuse)
    code, summary = check_json(".", "--no-cache")
    assert code == 0 and summary["analysis"]["modules_resolved"] == 43


def test_the_baseline_is_sorted_one_entry_per_line_and_stable(repo) -> None:
    path = repo / ".decomposer" / "baseline.json"
    before = path.read_text()
    data = json.loads(before)
    assert data["schema"] == 1 and data["level"] == "class"
    for section in ("dependencies", "cycles", "shared_tables", "foreign_keys", "unassigned"):
        records = [json.dumps(r, sort_keys=True) for r in data[section]]
        assert records == sorted(records), section
    deps = data["dependencies"]
    assert deps and {"from", "to", "kind", "source", "target"} == set(deps[0])
    assert any(d["kind"] == "writes" and d["target"].startswith("table:") for d in deps)
    assert {"catalog", "customers", "orders", "payments"} <= set(data["cycles"][0]["services"])
    assert {m["metric"] for m in data["metrics"]} >= {"icp", "cross_service_edges"}
    lines = before.splitlines()
    for record in deps:  # one entry per line: a review diff shows each accepted dependency
        assert f"  {json.dumps(record, sort_keys=True)}," in lines or (
            f"  {json.dumps(record, sort_keys=True)}" in lines
        )
    # every module is in a service or shared ("shop" covers only the package's __init__)
    assert data["unassigned"] == []
    result = run_check(".", "--update-baseline")
    assert result.exit_code == 0, result.output
    assert path.read_text() == before


NEW_IMPORT = """

from shop.services.billing import build_invoice
"""

NEW_CALL = """

def reserved_for(session: Session, sku: str) -> int:
    product = get_product(session, sku)
    return stock.available_quantity(session, product.id){comment}
"""

NEW_WRITE = """

def void_payment(session: Session, reference: str) -> None:
    from sqlalchemy import text

    session.execute(text("UPDATE payments SET status = 'void' WHERE reference = :r"), {{"r": reference}}){comment}
"""

CASES = {
    "import": (
        NEW_IMPORT,
        "DC101",
        "catalog->payments",
        "imports shop.services.billing.build_invoice",
    ),
    "call": (
        NEW_CALL,
        "DC102",
        "catalog->inventory",
        "calls shop.services.stock.available_quantity",
    ),
    "table write": (
        NEW_WRITE,
        "DC104",
        "catalog->payments",
        "writes table payments, owned by payments",
    ),
}


def _code(case: str, comment: str = "") -> str:
    code = CASES[case][0]
    if case == "import":
        return code.rstrip("\n") + comment + "\n"
    return code.format(comment=comment)


@pytest.mark.parametrize("case", list(CASES))
def test_new_coupling_fails_names_the_line_and_can_be_allowed(repo, case) -> None:
    _, code, pair, words = CASES[case]
    line = append(repo, CATALOG, _code(case))

    result = run_check(".")  # text: what a developer sees
    assert result.exit_code == 1, result.output
    assert f"{CATALOG}:{line}: {code}" in result.output
    assert words in result.output
    assert f"# decomposer: allow {pair} (why)" in result.output  # how to fix it
    assert "decomposer check failed" in result.output

    exit_code, summary = check_json(".")
    assert exit_code == 1
    found = [v for v in summary["violations"] if v["code"] == code]
    assert len(found) == 1, summary["violations"]
    violation = found[0]
    assert (violation["file"], violation["line"]) == (CATALOG, line)
    assert violation["severity"] == "error" and violation["fix"]
    assert violation["services"] == pair.split("->")
    assert all(v["severity"] == "error" for v in summary["violations"])

    # allowed on the line, with a reason: passes, and the report says what was allowed
    git(repo, "checkout", "-q", "--", CATALOG)
    append(repo, CATALOG, _code(case, f"  # decomposer: allow {pair} (reviewed: moves in Q3)"))
    exit_code, summary = check_json(".")
    assert exit_code == 0, summary["violations"]
    assert summary["violations"] == []
    assert [(v["code"], v["reason"]) for v in summary["suppressed"]] == [
        (code, "reviewed: moves in Q3")
    ]

    # the same comment without a reason is an error of its own and accepts nothing
    git(repo, "checkout", "-q", "--", CATALOG)
    append(repo, CATALOG, _code(case, f"  # decomposer: allow {pair}"))
    exit_code, summary = check_json(".")
    assert exit_code == 1
    codes = {v["code"] for v in summary["violations"]}
    assert {"DC001", code} <= codes
    invalid = next(v for v in summary["violations"] if v["code"] == "DC001")
    assert (invalid["file"], invalid["line"]) == (CATALOG, line)
    assert "needs a reason" in invalid["message"] and f"allow {pair} (" in invalid["fix"]

    # reverted: clean again
    git(repo, "checkout", "-q", "--", CATALOG)
    exit_code, summary = check_json(".")
    assert exit_code == 0 and summary["violations"] == []


def test_a_new_table_write_also_makes_a_shared_table_and_worse_metrics(repo) -> None:
    line = append(repo, CATALOG, _code("table write"))
    _, summary = check_json(".")
    by_code = {v["code"]: v for v in summary["violations"]}
    assert by_code["DC202"]["message"].startswith("table payments is written by 2 services")
    assert (by_code["DC202"]["file"], by_code["DC202"]["line"]) == (CATALOG, line)
    regressions = [v["message"] for v in summary["violations"] if v["code"] == "DC301"]
    assert any(m.startswith("shared_tables rose from") for m in regressions)
    metric = summary["metrics"]["shared_tables"]
    assert metric["current"] == metric["baseline"] + 1 and metric["tolerance"] == 0


def test_the_allow_comment_may_stand_on_the_line_above(repo) -> None:
    code = _code("call").replace(
        "    return stock.",
        "    # decomposer: allow catalog->inventory (stock is shown on the product page)\n"
        "    return stock.",
    )
    append(repo, CATALOG, code)
    exit_code, summary = check_json(".")
    assert exit_code == 0, summary["violations"]
    assert len(summary["suppressed"]) == 1


def test_an_allow_comment_for_other_services_accepts_nothing(repo) -> None:
    append(repo, CATALOG, _code("call", "  # decomposer: allow catalog->payments (wrong pair)"))
    exit_code, summary = check_json(".")
    assert exit_code == 1
    assert [v["code"] for v in summary["violations"] if v["code"].startswith("DC1")] == ["DC102"]


def test_removed_coupling_is_an_improvement_and_tightening_records_it(repo) -> None:
    orders_api = repo / "shop" / "api" / "orders.py"
    text = orders_api.read_text()
    assert "billing.build_invoice(" in text
    orders_api.write_text(text.replace("billing.build_invoice(", "str("))
    exit_code, summary = check_json(".")
    assert exit_code == 0  # improvements never fail (stale = "warning" by default)
    fixed = [v for v in summary["improvements"] if "build_invoice" in v["message"]]
    assert len(fixed) == 1 and fixed[0]["code"] == "DC501"
    assert fixed[0]["file"] == ".decomposer/baseline.json" and fixed[0]["line"] > 1
    assert any(v["code"] == "DC501" and v["severity"] == "warning" for v in summary["violations"])
    text_result = run_check(".")
    assert "improvements" in text_result.output and "--tighten-baseline" in text_result.output

    baseline = repo / ".decomposer" / "baseline.json"
    before = json.loads(baseline.read_text())
    result = run_check(".", "--tighten-baseline")
    assert result.exit_code == 0, result.output
    after = json.loads(baseline.read_text())
    assert len(after["dependencies"]) == len(before["dependencies"]) - 1
    assert not any("build_invoice" in d["target"] for d in after["dependencies"])
    exit_code, summary = check_json(".")
    assert exit_code == 0 and summary["improvements"] == []
    # tightening accepts nothing new: a new call still fails after it
    append(repo, CATALOG, _code("call"))
    result = run_check(".", "--tighten-baseline")
    assert result.exit_code == 1
    assert "reserved_for" not in baseline.read_text()


def test_stale_entries_fail_when_configured_as_errors(repo) -> None:
    configure(repo, 'stale = "error"')
    orders_api = repo / "shop" / "api" / "orders.py"
    orders_api.write_text(orders_api.read_text().replace("billing.build_invoice(", "str("))
    exit_code, summary = check_json(".")
    assert exit_code == 1
    assert {v["code"] for v in summary["violations"]} == {"DC501"}


def test_a_new_module_in_no_service_is_a_warning_or_an_error(repo) -> None:
    (repo / "shop" / "loyalty.py").write_text("def points(total):\n    return total // 10\n")
    exit_code, summary = check_json(".")
    assert exit_code == 0
    warning = next(v for v in summary["violations"] if v["code"] == "DC401")
    assert warning["severity"] == "warning"
    assert warning["message"] == "module shop.loyalty belongs to no service"
    assert (warning["file"], warning["line"]) == ("shop/loyalty.py", 1)
    configure(repo, 'unassigned = "error"')
    exit_code, summary = check_json(".")
    assert exit_code == 1
    assert [v["severity"] for v in summary["violations"] if v["code"] == "DC401"] == ["error"]


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("[tool.decomposer.check]\nbaselin = 'x.json'\n", "unknown key 'baselin'"),
        ("[tool.decomposer.check]\nunassigned = 'loud'\n", "'unassigned' should be one of"),
        ("[tool.decomposer.check]\nlevel = 'class'\n", "no boundaries"),
        ("[tool.decomposer.check.services]\norders = 'shop.orders'\n", "non-empty list"),
        ("[tool.decomposer.check.services]\norders = ['shop..orders']\n", "not a dotted"),
        ("[tool.decomposer.check.tolerance]\nicpp = 1\n", "unknown metric"),
        (
            "[tool.decomposer.check]\nproposal = 'p.json'\n"
            + "[tool.decomposer.check.services]\na = ['shop']\n",
            "not both",
        ),
        ("[tool.decomposer.check]\nproposal = 'missing.json'\n", "missing.json does not exist"),
    ],
)
def test_bad_settings_are_exit_2_naming_the_key(repo, config, words) -> None:
    (repo / "pyproject.toml").write_text("[tool.decomposer]\njobs = 1\n\n" + config)
    result = run_check(".")
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_a_damaged_baseline_and_a_missing_folder_are_exit_2(repo, tmp_path) -> None:
    (repo / ".decomposer" / "baseline.json").write_text("{not json")
    result = run_check(".")
    assert result.exit_code == 2 and "is not valid JSON" in result.output
    result = run_check(
        ".",
        "--baseline",
        str(tmp_path / "b.json"),
        "--update-baseline",
        "--tighten-baseline",
    )
    assert result.exit_code == 2 and "exclude each other" in result.output
    result = run_check(tmp_path / "nope")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_configured_baseline_outside_the_project_is_not_written(repo, tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "linked").symlink_to(outside)
    for path in ("../escaped.json", str(outside / "absolute.json"), "linked/through.json"):
        configure(repo, f"baseline = {json.dumps(path)}")
        for flag in ("--update-baseline", "--tighten-baseline"):
            result = run_check(".", flag)
            assert result.exit_code == 2, result.output
            assert "is outside the project" in result.output
        git(repo, "checkout", "-q", "--", "pyproject.toml")
    assert not (repo.parent / "escaped.json").exists() and not list(outside.iterdir())
    # named on the command line, it is the user's choice
    result = run_check(".", "--update-baseline", "--baseline", outside / "chosen.json")
    assert result.exit_code == 0, result.output
    assert (outside / "chosen.json").is_file()


def test_a_baseline_of_another_level_is_exit_2(repo) -> None:
    configure(repo, 'level = "module"')
    result = run_check(".")
    assert result.exit_code == 2
    assert "recorded at the class level; the check runs at module" in result.output


def test_equally_specific_patterns_of_two_services_are_exit_2(repo) -> None:
    config = repo / "pyproject.toml"
    config.write_text(
        config.read_text().replace(
            'reporting = ["shop.reporting"]',
            'reporting = ["shop.reporting", "shop.services.stock"]',
        )
    )
    result = run_check(".")
    assert result.exit_code == 2
    assert "'shop.services.stock' (inventory) and 'shop.services.stock' (reporting)" in (
        result.output.replace("\n", " ")
    )


def test_no_baseline_yet_fails_and_says_how_to_record_one(repo) -> None:
    (repo / ".decomposer" / "baseline.json").unlink()
    result = run_check(".")
    assert result.exit_code == 1
    assert "no baseline at .decomposer/baseline.json" in result.output
    assert "--update-baseline" in result.output
    git(repo, "checkout", "-q", "--", ".decomposer/baseline.json")


def test_a_proposal_can_be_the_boundaries(repo) -> None:
    """The sample's truth file reads as a class-level proposal."""
    truth = REPO / "sample_monoliths" / "shop" / "expected_decomposition.json"
    shutil.copy(truth, repo / "boundaries.json")
    (repo / "pyproject.toml").write_text(
        "[tool.decomposer]\njobs = 1\n\n[tool.decomposer.check]\n"
        "proposal = 'boundaries.json'\nbaseline = 'proposal-baseline.json'\n"
    )
    result = run_check(".", "--update-baseline")
    assert result.exit_code == 0, result.output
    exit_code, summary = check_json(".")
    assert exit_code == 0, summary["violations"]
    assert summary["level"] == "class" and "coupons" in summary["services"]
    assert summary["boundaries"].startswith("proposal ")
    line = append(repo, CATALOG, _code("call"))
    exit_code, summary = check_json(".")
    assert exit_code == 1
    assert [(v["code"], v["line"]) for v in summary["violations"] if v["code"] == "DC102"] == [
        ("DC102", line)
    ]
