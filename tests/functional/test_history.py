"""The history analyzer on real git repositories, built commit by commit in temporary folders."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import EdgeKind
from decomposer.model.graph_json import graph_from_dict
from decomposer.pipeline import AnalyzeRequest, analyze
from decomposer.plugins import default_registry

ALICE = ("Alice Liddell", "alice@example.com")
BOB = ("Bob Builder", "bob@example.com")


class Repo:
    """A git repository whose commits a test scripts, one day apart from 2024-01-01."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.day = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Test Runner")
        self.git("config", "user.email", "runner@example.com")
        self.git("config", "commit.gpgsign", "false")
        (root / ".git" / "info").mkdir(exist_ok=True)
        (root / ".git" / "info" / "exclude").write_text(".decomposer/\n")  # the cache

    def git(self, *args: str) -> str:
        when = _date(self.day)
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))

    def commit(
        self, files: dict[str, str], author: tuple[str, str] = ALICE, message: str = "change"
    ) -> None:
        self.write(files)
        self.git("add", "-A")
        self.day += 1
        self.git("commit", "-q", "--no-verify", "-m", message, "--author", _ident(author))

    def touch(self, *names: str, author: tuple[str, str] = ALICE) -> None:
        """Append a line to each file (a module-level change) in one commit."""
        for name in names:
            path = self.root / name
            path.write_text(path.read_text() + f"X_{self.day} = {self.day}\n")
        self.commit({}, author)


def _date(day: int) -> str:
    return f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T12:00:00+00:00"


def _ident(author: tuple[str, str]) -> str:
    return f"{author[0]} <{author[1]}>"


def run_analyze(root: Path, **overrides: object) -> tuple[dict, dict]:
    """The graph (as JSON) and the summary of a real `analyze` run with every analyzer."""
    out = root.parent / "graph.json"
    outcome = analyze(
        AnalyzeRequest(root, out, dict(overrides), use_cache=False), registry=default_registry()
    )
    return json.loads(out.read_text()), outcome.summary


def co_changes(graph: dict) -> dict[tuple[str, str], dict]:
    return {(e["source"], e["target"]): e for e in graph["edges"] if e["kind"] == "co_changes"}


def node(graph: dict, node_id: str) -> dict:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


@pytest.fixture(autouse=True)
def _own_repositories(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a git hook, git's variables would point every command at the outer repository."""
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "project")


def three_modules(repo: Repo) -> None:
    repo.commit(
        {
            "shop/__init__.py": "",
            "shop/orders.py": "def place():\n    return 1\n",
            "shop/billing.py": "def charge():\n    return 2\n",
            "shop/catalog.py": "def find():\n    return 3\n",
        }
    )


def test_modules_changed_together_get_a_co_changes_edge(repo: Repo) -> None:
    three_modules(repo)
    for _ in range(3):
        repo.touch("shop/orders.py", "shop/billing.py")
    for _ in range(3):
        repo.touch("shop/catalog.py")
    repo.touch("shop/catalog.py", "shop/orders.py")  # once: below the 3 commits needed
    graph, summary = run_analyze(repo.root)
    found = co_changes(graph)
    edge = found[("shop.billing", "shop.orders")]
    assert edge["static_count"] == 4  # created together, then 3 more
    assert edge["tags"] == ["files"]
    assert not any("shop.catalog" in pair for pair in found)
    history = summary["analyzers"]["history"]
    assert history["enabled"] is True
    # the first commit creates 4 files: not above the default sweep threshold of 30
    assert (history["commits"], history["commits_used"], history["sweeps"]) == (8, 8, 0)
    assert history["authors"] == 1
    assert history["co_changes"] == len(found)
    assert history["last_commit"] == repo.git("rev-parse", "HEAD").strip()
    assert node(graph, "shop.orders")["attrs"]["commits"] == 5


def test_a_hub_that_changes_with_everything_is_not_tied_to_everything(repo: Repo) -> None:
    three_modules(repo)
    repo.commit({"shop/settings.py": "A = 1\n"})
    for _ in range(4):
        repo.touch("shop/orders.py", "shop/settings.py")
        repo.touch("shop/billing.py", "shop/settings.py")
        repo.touch("shop/catalog.py", "shop/settings.py")
    for _ in range(30):
        repo.touch("shop/settings.py")
    graph, _ = run_analyze(repo.root)
    # settings changed in 43 commits, orders in 5: degree 4 / 24 is far below 0.3
    assert co_changes(graph) == {}


def test_a_sweeping_commit_ties_nothing_and_makes_nobody_an_author(repo: Repo) -> None:
    repo.write({"pyproject.toml": "[tool.decomposer]\nmax_files_per_commit = 3\n"})
    three_modules(repo)  # 5 files (with pyproject.toml), 4 of them Python: a sweep too
    for _ in range(2):
        repo.touch("shop/orders.py", "shop/billing.py")
    for _ in range(3):  # a formatter run over every module, by someone else
        repo.touch(
            "shop/__init__.py", "shop/orders.py", "shop/billing.py", "shop/catalog.py", author=BOB
        )
    graph, summary = run_analyze(repo.root)
    assert summary["analyzers"]["history"]["sweeps"] == 4
    assert co_changes(graph) == {}  # 2 real commits together; the sweeps do not count
    assert set(node(graph, "shop.orders")["attrs"]["authors"]) == {ALICE[0]}
    assert "authors" not in node(graph, "shop.catalog").get("attrs", {})


def test_renames_are_followed(repo: Repo) -> None:
    three_modules(repo)
    for _ in range(2):
        repo.touch("shop/orders.py", "shop/billing.py")
    repo.git("mv", "shop/orders.py", "shop/ordering.py")
    repo.commit({})
    repo.touch("shop/ordering.py", "shop/billing.py")
    graph, summary = run_analyze(repo.root)
    # 3 commits as orders.py (creation included), 1 as ordering.py: 4 only when the
    # rename is followed
    assert co_changes(graph)[("shop.billing", "shop.ordering")]["static_count"] == 4
    assert summary["analyzers"]["history"]["renames"] == 1
    assert node(graph, "shop.ordering")["attrs"]["commits"] == 5  # created, 2, moved, 1


def test_mailmap_merges_identities_and_recent_work_weighs_more(repo: Repo) -> None:
    three_modules(repo)
    old_alice = ("alice", "al@old-laptop.example")
    repo.touch("shop/orders.py", author=old_alice)
    repo.touch("shop/orders.py", author=BOB)
    for _ in range(2):
        repo.touch("shop/orders.py", author=old_alice)
    graph, summary = run_analyze(repo.root)
    assert set(node(graph, "shop.orders")["attrs"]["authors"]) == {ALICE[0], "alice", BOB[0]}
    repo.commit({".mailmap": f"{_ident(ALICE)} alice <al@old-laptop.example>\n"})
    graph, summary = run_analyze(repo.root)
    authors = node(graph, "shop.orders")["attrs"]["authors"]
    assert list(authors) == [ALICE[0], BOB[0]]  # heaviest first
    assert summary["analyzers"]["history"]["authors"] == 2
    # Alice: 4 commits, each worth 0.5 ** (age / 365 days), 4, 3, 1 and 0 days older than
    # the newest commit read (the mailmap commit changes no Python file: it is not read);
    # Bob: one, 2 days old
    weight = [0.5 ** (days / 365) for days in (4, 3, 1, 0)]
    assert authors[ALICE[0]] == pytest.approx(sum(weight), abs=1e-3)
    assert authors[BOB[0]] == pytest.approx(0.5 ** (2 / 365), abs=1e-3)
    assert authors[BOB[0]] < 1


def test_bots_are_left_out_and_more_can_be_configured(repo: Repo) -> None:
    three_modules(repo)
    repo.touch("shop/orders.py", author=("dependabot[bot]", "49699333+dependabot[bot]@users"))
    repo.touch("shop/orders.py", author=("Release Robot", "ci-release@example.com"))
    graph, summary = run_analyze(repo.root)
    assert set(node(graph, "shop.orders")["attrs"]["authors"]) == {ALICE[0], "Release Robot"}
    assert summary["analyzers"]["history"]["bot_commits"] == 1
    graph, summary = run_analyze(repo.root, bots=("ci-*@example.com",))
    assert set(node(graph, "shop.orders")["attrs"]["authors"]) == {ALICE[0]}
    assert summary["analyzers"]["history"]["bot_commits"] == 2


def test_merge_commits_add_no_co_changes_and_no_author(repo: Repo) -> None:
    three_modules(repo)
    repo.git("checkout", "-q", "-b", "topic")
    for _ in range(3):
        repo.touch("shop/orders.py", "shop/billing.py", author=BOB)
    repo.git("checkout", "-q", "main")
    repo.touch("shop/catalog.py")
    repo.day += 1
    merger = ("Integrator", "merge@example.com")
    repo.git(
        "-c",
        f"user.name={merger[0]}",
        "-c",
        f"user.email={merger[1]}",
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "merge topic",
        "topic",
    )
    graph, summary = run_analyze(repo.root)
    history = summary["analyzers"]["history"]
    assert history["merges"] == 1
    assert co_changes(graph)[("shop.billing", "shop.orders")]["static_count"] == 4
    every = {a for n in graph["nodes"] for a in n.get("attrs", {}).get("authors", {})}
    assert every == {ALICE[0], BOB[0]}


CLASSES = """\
class Cart:
    def add(self):
        return 1


class Wishlist:
    def add(self):
        return 2
"""

PAYMENTS = """\
class Payment:
    def pay(self):
        return 1
"""


def test_hunks_say_which_classes_changed_together(repo: Repo) -> None:
    repo.commit({"shop/__init__.py": "", "shop/cart.py": CLASSES, "shop/pay.py": PAYMENTS})
    for n in range(3):  # the second line of Cart.add and of Payment.pay, together
        repo.commit(
            {
                "shop/cart.py": CLASSES.replace("return 1", f"return {n + 10}"),
                "shop/pay.py": PAYMENTS.replace("return 1", f"return {n + 10}"),
            }
        )
    graph, _ = run_analyze(repo.root)
    found = co_changes(graph)
    # created together, then changed together 3 times
    assert found[("shop.cart.Cart", "shop.pay.Payment")]["tags"] == ["hunks"]
    assert found[("shop.cart.Cart", "shop.pay.Payment")]["static_count"] == 4
    assert found[("shop.cart", "shop.pay")]["tags"] == ["files"]
    assert not any("Wishlist" in a or "Wishlist" in b for a, b in found)
    assert all(source < target for source, target in found)  # undirected: stored once
    loaded = graph_from_dict(graph)
    # at the module level only the edge between the files counts: 4 commits, not 4 + 4
    modules = AtomGraph.from_graph(loaded, "module")
    [edge] = [e for e in modules.edges if e.kind == EdgeKind.CO_CHANGES]
    assert (edge.source, edge.target, edge.count) == ("shop.cart", "shop.pay", 4)
    classes = AtomGraph.from_graph(loaded, "class")
    pairs = {(e.source, e.target) for e in classes.edges if e.kind == EdgeKind.CO_CHANGES}
    assert ("shop.cart.Cart", "shop.pay.Payment") in pairs
    assert node(graph, "shop.cart.Cart")["attrs"]["commits"] == 4
    assert node(graph, "shop.cart.Wishlist")["attrs"]["commits"] == 1  # only its creation


def test_options_bound_the_history_and_turn_it_off(repo: Repo) -> None:
    three_modules(repo)
    for _ in range(4):
        repo.touch("shop/orders.py", "shop/billing.py")
    _, summary = run_analyze(repo.root, max_commits=2)
    assert summary["analyzers"]["history"]["commits"] == 2
    _, summary = run_analyze(repo.root, since="2024-01-04 00:00:00")
    assert summary["analyzers"]["history"]["commits"] == 3  # January 4, 5 and 6
    graph, summary = run_analyze(repo.root, history=False)
    assert summary["analyzers"]["history"]["enabled"] is False
    assert co_changes(graph) == {}
    assert all("authors" not in n.get("attrs", {}) for n in graph["nodes"])


def test_a_folder_inside_a_repository_reads_only_its_own_history(repo: Repo) -> None:
    repo.commit(
        {
            "app/shop/__init__.py": "",
            "app/shop/a.py": "A = 1\n",
            "app/shop/b.py": "B = 1\n",
            "tools/x.py": "X = 1\n",
        }
    )
    for _ in range(3):
        repo.touch("app/shop/a.py", "app/shop/b.py", "tools/x.py")
    graph, summary = run_analyze(repo.root / "app")
    assert co_changes(graph)[("shop.a", "shop.b")]["static_count"] == 4  # paths under app/
    assert summary["analyzers"]["history"]["commits"] == 4


def test_not_a_repository_is_a_note_not_an_error(tmp_path: Path, cli) -> None:
    root = tmp_path / "plain"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "a.py").write_text("A = 1\n")
    result = cli("analyze", root, "-o", tmp_path / "g.json")
    assert result.exit_code == 0, result.output
    assert "history: not inside a git repository" in result.output
    result = cli("analyze", root, "-o", tmp_path / "g.json", "--format", "json")
    history = json.loads(result.output)["analyzers"]["history"]
    assert history == {"enabled": False, "note": "not inside a git repository: no history read"}


def test_a_shallow_clone_is_read_with_a_note(repo: Repo, tmp_path: Path) -> None:
    three_modules(repo)
    for _ in range(4):
        repo.touch("shop/orders.py", "shop/billing.py")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{repo.root}", str(clone)],
        check=True,
        capture_output=True,
    )
    graph, summary = run_analyze(clone)
    history = summary["analyzers"]["history"]
    assert history["shallow"] is True and "shallow clone" in history["note"]
    assert history["commits"] == 3
    # the oldest commit of a shallow clone holds every file: here 4, so it counts
    assert co_changes(graph)[("shop.billing", "shop.orders")]["static_count"] == 3


def test_the_cli_prints_what_it_read_and_takes_the_bounds(repo: Repo, cli, tmp_path) -> None:
    three_modules(repo)
    repo.touch("shop/orders.py", author=BOB)
    result = cli("analyze", repo.root, "-o", tmp_path / "g.json")
    assert result.exit_code == 0, result.output
    assert "History: 2 commits by 2 authors read in" in result.output
    result = cli(
        "analyze", repo.root, "-o", tmp_path / "g.json", "--max-commits", "1", "--format", "json"
    )
    assert json.loads(result.output)["analyzers"]["history"]["commits"] == 1
    result = cli("analyze", repo.root, "-o", tmp_path / "g.json", "--no-history")
    assert "History:" not in result.output
    result = cli(
        "analyze",
        repo.root,
        "-o",
        tmp_path / "g.json",
        "--since",
        "2030-01-01",
        "--format",
        "json",
    )
    history = json.loads(result.output)["analyzers"]["history"]
    assert history["commits"] == 0 and "no commit changed" in history["note"]


def test_a_new_commit_invalidates_the_last_run(repo: Repo, cli, tmp_path) -> None:
    three_modules(repo)
    out = tmp_path / "g.json"
    first = json.loads(cli("analyze", repo.root, "-o", out, "--format", "json").output)
    again = json.loads(cli("analyze", repo.root, "-o", out, "--format", "json").output)
    assert again["reused_last_run"] is True
    repo.touch("shop/orders.py")
    after = json.loads(cli("analyze", repo.root, "-o", out, "--format", "json").output)
    assert after["reused_last_run"] is False
    assert after["analyzers"]["history"]["commits"] == first["analyzers"]["history"]["commits"] + 1
    repo.commit({"README.md": "# shop\n"})  # no Python file changed: the history is the same
    docs = json.loads(cli("analyze", repo.root, "-o", out, "--format", "json").output)
    assert docs["reused_last_run"] is True


def test_explanations_and_teams_cite_the_history(repo: Repo, cli, tmp_path) -> None:
    repo.commit({"shop/__init__.py": "", "shop/cart.py": CLASSES, "shop/pay.py": PAYMENTS})
    for n in range(3):
        repo.commit(
            {
                "shop/cart.py": CLASSES.replace("return 1", f"return {n + 10}"),
                "shop/pay.py": PAYMENTS.replace("return 1", f"return {n + 10}"),
            },
            author=BOB,
        )
    out = tmp_path / "g.json"
    assert cli("analyze", repo.root, "-o", out).exit_code == 0
    # one service of everything, by hand: the core explains and measures any proposal
    hand = tmp_path / "hand.json"
    members = ["shop", "shop.cart", "shop.pay"]  # a top-level package covers only itself
    hand.write_text(json.dumps({"schema": 1, "services": {"shop": {"members": members}}}))
    proposal_path = tmp_path / "p.json"
    result = cli("evaluate", out, hand, "-o", proposal_path)
    assert result.exit_code == 0, result.output
    proposal = json.loads(proposal_path.read_text())
    [service] = proposal["services"].values()
    assert [member["author"] for member in service["team"]] == [BOB[0], ALICE[0]]
    texts = [r["text"] for r in proposal["explanations"]["shop.cart.Cart"]["reasons"]]
    assert any(t.startswith("changed together with Payment in 4 commits") for t in texts), texts
    overall = proposal["metrics"]["overall"]
    assert overall["tsr"] == 1.0  # one service: its team is the whole monolith's
    [figures] = proposal["metrics"]["services"].values()
    assert figures["authors"] == 2


def test_reports_show_each_services_team_and_team_size_reduction(
    repo: Repo, cli, tmp_path
) -> None:
    repo.commit({"shop/__init__.py": "", "shop/cart.py": CLASSES}, author=ALICE)
    repo.commit({"shop/pay.py": PAYMENTS}, author=BOB)
    out = tmp_path / "g.json"
    assert cli("analyze", repo.root, "-o", out).exit_code == 0
    hand = tmp_path / "hand.json"
    services = {"cart": {"members": ["shop", "shop.cart"]}, "pay": {"members": ["shop.pay"]}}
    hand.write_text(json.dumps({"schema": 1, "services": services}))
    proposal = tmp_path / "p.json"
    evaluated = cli("evaluate", out, hand, "-o", proposal)
    assert evaluated.exit_code == 0
    assert "team size reduction 0.500" in evaluated.output
    report = tmp_path / "report"
    result = cli("report", out, proposal, "-o", report, "--format", "md,html")
    assert result.exit_code == 0, result.output

    markdown = (report / "report.md").read_text()
    # each service was changed by one of the two authors: half the monolith's people
    assert f"- **Team:** {ALICE[0]} (" in markdown
    assert f"- **Team:** {BOB[0]} (" in markdown
    assert markdown.count("1 authors, team size reduction 0.500") == 2
    html = (report / "report.html").read_text()
    assert f"{ALICE[0]} (" in html and f"{BOB[0]} (" in html
    assert "<th>tsr</th>" in html


def test_reports_without_history_show_no_team(tmp_path: Path, cli) -> None:
    root = tmp_path / "plain"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "cart.py").write_text(CLASSES)
    out = tmp_path / "g.json"
    assert cli("analyze", root, "-o", out).exit_code == 0
    hand = tmp_path / "hand.json"
    hand.write_text(json.dumps({"schema": 1, "services": {"cart": {"members": ["shop", "shop.cart"]}}}))
    proposal = tmp_path / "p.json"
    assert cli("evaluate", out, hand, "-o", proposal).exit_code == 0
    report = tmp_path / "report"
    assert cli("report", out, proposal, "-o", report, "--format", "md,html").exit_code == 0
    assert "**Team:**" not in (report / "report.md").read_text()
    assert "<th>tsr</th>" not in (report / "report.html").read_text()
