"""The HTML report in a real browser, and the graphviz diagrams with and without `dot`.

The browser is Debian's headless Chromium at /usr/bin/chromium, driven by playwright (the
`./dev install` step installs both; playwright's own browser download is never used, the
machine has no internet). A missing browser fails the test with the fix in its message
rather than skipping it: CI installs it, so a skip would only hide a broken setup.
A screenshot of the page lands in tests/actual/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decomposer.cli import app
from decomposer.model.graph import DependencyGraph
from decomposer.pipeline import load_graph
from decomposer.plugins import ReportInput
from reports.graphviz import (
    INSTALL_HINT,
    SERVICE_ATOMS_LIMIT,
    SERVICE_BOXES_LIMIT,
    GraphvizReport,
    safe_file_name,
)
from reports.html import HtmlReport

REPO = Path(__file__).resolve().parents[2]
ACTUAL = REPO / "tests" / "actual"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_SIZE = 100  # rows per page of the atom explorer (report.js)


def run_cli(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`decomposer run` on the shop: every strategy compared, every report written."""
    out = tmp_path_factory.mktemp("shop-run")
    run_cli("run", str(REPO / "sample_monoliths" / "shop"), "-o", str(out), "--no-cache")
    return out


def proposals_of(run: Path) -> list[dict[str, Any]]:
    """The run's proposals, the featured one (ddd_subdomain, the default) first."""
    found = [json.loads(p.read_text()) for p in sorted((run / "proposals").glob("*.json"))]
    return sorted(found, key=lambda p: p["strategy"] != "ddd_subdomain")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh headless Chromium (its own profile folder), shared by this module's tests."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Debian's chromium "
            "(apt-get install -y chromium; ./dev install does it)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run ./dev install", pytrace=False)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


class Watched:
    """A page with every console error, page error and failed request recorded."""

    def __init__(self, context: Any, path: Path) -> None:
        self.problems: list[str] = []
        self.page = context.new_page()
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url}"))
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")

    def rows(self) -> int:
        return self.page.locator("#atom-rows tr").count()

    def counter(self) -> str:
        return self.page.locator("#atom-count").inner_text()

    def visible(self, selector: str) -> int:
        return self.page.locator(f"{selector}:visible").count()


def matching(explanations: dict[str, Any], query: str) -> int:
    """How many atoms the explorer's search keeps: the query in the id or the service."""
    found = 0
    for atom, info in explanations.items():
        service = info.get("service", "shared")
        if query in atom.lower() or query in service.lower():
            found += 1
    return found


def test_shop_report_works_in_a_browser(shop: Path, browser: Any) -> None:
    proposal = proposals_of(shop)[0]
    explanations = proposal["explanations"]
    names = sorted(proposal["services"])
    watched = Watched(browser, shop / "report.html")
    page = watched.page

    # The service map is there, drawn, and leads to the service cards.
    svg = page.locator("#map svg.diagram")
    assert svg.count() == 1
    box = svg.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    assert page.locator("#map svg g[id^='map_s']").count() == len(names)
    page.locator("#map svg g#map_s0").click()
    assert page.locator("#service-0").get_attribute("open") is not None

    # The explorer lists every atom, a page at a time.
    total = len(explanations)
    assert watched.counter().startswith(f"{total} of {total} atoms")
    assert watched.rows() == min(total, PAGE_SIZE)

    # Typing in the search box narrows the atoms to those matching.
    query = "coupon"
    expected = matching(explanations, query)
    assert 0 < expected < total
    page.fill("#search", query)
    assert watched.counter().startswith(f"{expected} of {total} atoms")
    assert watched.rows() == min(expected, PAGE_SIZE)
    atoms = page.locator("#atom-rows tr td:nth-child(1)").all_inner_texts()
    services = page.locator("#atom-rows tr td:nth-child(2)").all_inner_texts()
    assert all(query in f"{a} {s}".lower() for a, s in zip(atoms, services, strict=True))
    page.fill("#search", "no-atom-is-called-this")
    assert watched.rows() == 0
    page.fill("#search", "")
    assert watched.rows() == min(total, PAGE_SIZE)

    # The service filter: its atoms only, its card only, findings involving it only.
    name = names[0]
    page.select_option("#filter-service", "0")
    in_service = sum(1 for info in explanations.values() if info["service"] == name)
    assert watched.counter().startswith(f"{in_service} of {total} atoms")
    services_shown = page.locator("#atom-rows tr td:nth-child(2)").all_inner_texts()
    assert services_shown and set(services_shown) == {name}
    assert watched.visible("details.service") == 1
    involved = sum(1 for f in proposal["findings"] if name in f["services"])
    assert 0 < watched.visible("details.finding") <= involved
    for keys in page.locator("details.finding:visible").evaluate_all(
        "els => els.map(e => e.dataset.svc)"
    ):
        assert "0" in keys.split()
    page.select_option("#filter-service", "")
    assert watched.visible("details.service") == len(names)

    # The severity filter keeps only findings of that severity.
    page.select_option("#filter-severity", "high")
    severities = page.locator("details.finding:visible").evaluate_all(
        "els => els.map(e => e.dataset.severity)"
    )
    assert severities and set(severities) == {"high"}
    assert len(severities) == page.locator("details.finding[data-severity='high']").count()
    page.select_option("#filter-severity", "")

    # A collapsed card opens.
    card = page.locator("details.service").nth(1)
    assert card.get_attribute("open") is None
    card.locator(":scope > summary").click()
    assert card.get_attribute("open") is not None

    page.locator("#collapse-all").click()
    ACTUAL.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ACTUAL / "report-shop.png"), full_page=True)
    assert watched.problems == []
    assert all(url.startswith(("file:", "data:")) for url in watched.requests), watched.requests
    page.close()


EXTERNAL = re.compile(
    r"""(?:src|href|action|poster|xlink:href)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import""",
    re.IGNORECASE,
)


def test_html_report_references_nothing_outside(shop: Path) -> None:
    html = (shop / "report.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(html)
    # The shop's code holds no URL, so any at all would be ours (a CDN, a DTD, a namespace).
    assert re.findall(r"https?://", html) == []
    assert "default-src 'none'" in html  # the browser itself refuses any request
    assert "<svg" in html and INSTALL_HINT not in html


def test_diagrams_of_every_service(shop: Path) -> None:
    names = sorted(proposals_of(shop)[0]["services"])
    for stem in ["services", *(f"service-{safe_file_name(n)}" for n in names)]:
        assert (shop / f"{stem}.dot").read_text().startswith("digraph ")
        assert "<svg" in (shop / f"{stem}.svg").read_text()


def report_input(run: Path, out: Path, dot: str | None) -> ReportInput:
    graph: DependencyGraph = load_graph(run / "graph.json")
    return ReportInput(graph, tuple(proposals_of(run)), out, "shop", dot)


def test_without_dot_the_dot_files_are_written_and_the_html_says_how(
    shop: Path, tmp_path: Path
) -> None:
    request = report_input(shop, tmp_path, None)
    files = GraphvizReport().render(request)
    names = sorted(request.proposals[0]["services"])
    assert sorted(f.name for f in files) == sorted(
        ["services.dot", *(f"service-{safe_file_name(n)}.dot" for n in names)]
    )
    assert not list(tmp_path.glob("*.svg"))
    html = HtmlReport().render(request)[0].read_text(encoding="utf-8")
    assert INSTALL_HINT in html
    assert "<svg" not in html
    assert 'id="atoms-data"' in html  # the rest of the page is all there


def test_a_failing_dot_leaves_a_note_not_a_crash(shop: Path, tmp_path: Path) -> None:
    failing = tmp_path / "dot"
    failing.write_text("#!/bin/sh\necho 'syntax error near <b>' >&2\nexit 3\n")
    failing.chmod(0o755)
    request = report_input(shop, tmp_path, str(failing))
    files = GraphvizReport().render(request)
    svg = (tmp_path / "services.svg").read_text()
    assert "could not draw" in svg and "exit 3" in svg and "&lt;b&gt;" in svg
    assert (tmp_path / "services.dot") in files
    html = HtmlReport().render(request)[0].read_text(encoding="utf-8")
    assert "graphviz could not draw the service map" in html


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "..", ".", "a/b", "a\\b", "", "Orders", "orders", "x" * 300]
)
def test_service_file_names_are_safe(name: str) -> None:
    safe = safe_file_name(name)
    assert re.fullmatch(r"[a-z0-9_][a-z0-9_-]{0,80}", safe), safe
    assert safe_file_name(name) == safe  # stable from run to run


def test_service_file_names_never_collide() -> None:
    names = ["a/b", "a_b", "a.b", "A_b", "a b", "a_b-0"]
    assert len({safe_file_name(n) for n in names}) == len(names)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic monolith of about two thousand atoms, decomposed by one strategy."""
    source = tmp_path_factory.mktemp("synthetic")
    subprocess.run(
        [sys.executable, "-m", "sample_monoliths.synthetic", str(source / "app"),
         "--services", "10", "--modules", "400", "--seed", "2"],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    out = tmp_path_factory.mktemp("synthetic-run")
    run_cli("run", str(source / "app"), "-o", str(out), "--strategy", "structural", "--no-cache")
    return out


def boxes(dot_source: str) -> int:
    """Nodes drawn for the service's own code (n<i>), not its neighbours or tables."""
    return len(re.findall(r"^\s+n\d+ \[", dot_source, re.MULTILINE))


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz's dot")
def test_a_big_graph_gets_aggregated_diagrams(big: Path, browser: Any) -> None:
    proposal = proposals_of(big)[0]
    assert len(proposal["explanations"]) > 1500
    assert len(proposal["tables"]) > 40
    services_dot = (big / "services.dot").read_text()
    assert "// aggregated" in services_dot  # tables folded into their owners
    assert "cylinder" not in services_dot
    for name, info in proposal["services"].items():
        source = (big / f"service-{safe_file_name(name)}.dot").read_text()
        assert len(info["members"]) > SERVICE_ATOMS_LIMIT
        assert "// aggregated" in source
        assert 0 < boxes(source) <= SERVICE_BOXES_LIMIT
        assert (big / f"service-{safe_file_name(name)}.svg").read_text().startswith("<?xml")
    html_path = big / "report.html"
    html = html_path.read_text(encoding="utf-8")
    assert html.count('id="map_s') == len(proposal["services"])  # the aggregated map, inline
    assert len(html) < 20_000_000
    watched = Watched(browser, html_path)
    total = len(proposal["explanations"])
    assert watched.counter().startswith(f"{total} of {total} atoms")
    assert watched.rows() == PAGE_SIZE
    watched.page.locator("#atoms-next").click()
    assert watched.rows() == PAGE_SIZE
    assert watched.problems == []
    watched.page.close()
