"""Hostile names in the analysed code never reach a report unescaped.

A small Flask project whose folder, file (module) names, route paths, SQL table names (quoted
identifiers hold anything, even a line break) and string constants carry HTML, markdown,
mermaid and DOT syntax is analysed, decomposed by every strategy and reported in every
format. Each output is then read back the way a browser, GitHub or graphviz would read it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from decomposer.cli import app
from tests.conftest import write_tree

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PIPE = "a|b`c"
BRACKETS = "]]{{#x"
QUOTED = '"quoted"'
NEWLINE = "new\nline"

PROJECT: dict[str, str | bytes] = {
    "app/__init__.py": "",
    "app/web.py": '''\
        import sqlite3

        from flask import Flask

        app = Flask(__name__)

        XSS = "<script>alert(1)</script>"


        def db():
            return sqlite3.connect("x.db")


        @app.route("/<script>alert(1)</script>")
        def script_route():
            with db() as conn:
                conn.execute('INSERT INTO "<script>alert(1)</script>" (id) VALUES (1)')
                conn.execute('INSERT INTO "a|b`c" (id) VALUES (1)')
            return XSS


        @app.route('/"><img src=x onerror=alert(1)>')
        def img_route():
            with db() as conn:
                conn.execute('UPDATE "a|b`c" SET id = 2')
                conn.execute('INSERT INTO "]]{{#x" (id) VALUES (1)')
            return ""


        @app.route("/pipe|`tick`/#hash/]]/{{x}}")
        def pipe_route():
            with db() as conn:
                conn.execute('INSERT INTO """quoted""" (id) VALUES (1)')
                sql = 'SELECT * FROM "<script>alert(1)</script>" JOIN "]]{{#x" ON 1'
                return str(conn.execute(sql).fetchall())


        @app.route("/line\\nbreak")
        def newline_route():
            with db() as conn:
                conn.execute('INSERT INTO "new\\nline" (id) VALUES (1)')
            return ""
        ''',
    # Module names are file names, which may hold almost anything.
    'app/"><img src=x onerror=alert(1)>.py': """\
        from app.web import db


        def helper():
            return db()
        """,
    "app/x|y`z]]{{#.py": """\
        def other():
            return "<script>alert(1)</script>"
        """,
    "schema.sql": """\
        CREATE TABLE "<script>alert(1)</script>" (id INTEGER PRIMARY KEY);
        CREATE TABLE "a|b`c" (
            id INTEGER PRIMARY KEY,
            other INTEGER REFERENCES "<script>alert(1)</script>"(id)
        );
        CREATE TABLE "]]{{#x" (id INTEGER PRIMARY KEY);
        CREATE TABLE \"\"\"quoted\"\"\" (id INTEGER PRIMARY KEY);
        CREATE TABLE "new
        line" (id INTEGER PRIMARY KEY);
        """,
}


TITLE = f"{SCRIPT}\n# {IMG} | {PIPE}"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile project, analysed and reported in every format by `decomposer run`; then
    reported again in `structural/` with that strategy featured (it finds sagas, shared
    tables and joins here) and a hostile title."""
    base = tmp_path_factory.mktemp("hostile")
    root = write_tree(base / 'evil"><img src=x onerror=alert(1)> |`{{#]]', PROJECT)
    folder = base / "out"
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", str(root), "-o", str(folder), "-k", "3", "--no-cache"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    proposals = [str(folder / "proposals" / f"{n}.json") for n in ("structural", "use_case")]
    again = ["report", str(folder / "graph.json"), *proposals, "-o", str(folder / "structural")]
    result = runner.invoke(app, [*again, "--title", TITLE], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder


def reports(out: Path, name: str) -> list[Path]:
    return [out / name, out / "structural" / name]


def test_the_hostile_names_reach_the_reports(out: Path) -> None:
    """Guards the test itself: the names are in the data, exactly as written."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for proposal in report["proposals"]:
        assert {SCRIPT, PIPE, BRACKETS, QUOTED, NEWLINE} <= set(proposal["tables"])
    members = {a for p in report["proposals"] for a in p["explanations"]}
    assert f"app.{IMG}" in members and "app.x|y`z]]{{#" in members
    names = {s for p in report["proposals"] for s in p["services"]}
    assert names & {SCRIPT, PIPE, BRACKETS, QUOTED, NEWLINE}, names  # services named after them


# -- HTML --------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """What a browser would build: tags with their attributes, script bodies, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in in ("script", "style") else self.text).append(data)


@pytest.mark.parametrize("which", [0, 1])
def test_html_has_no_markup_from_the_analysed_code(out: Path, which: int) -> None:
    source = reports(out, "report.html")[which].read_text(encoding="utf-8")
    assert SCRIPT not in source and IMG not in source
    page = _Page()
    page.feed(source)
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert name != "onerror", tag  # what the injected <img> would bring
            assert not name.startswith("on") or "alert" not in (value or ""), (tag, name)
    for body in page.scripts:  # embedded data must not close its <script> early
        assert "<script" not in body.lower() and "<img" not in body.lower()
    text = "".join(page.text)
    assert SCRIPT in text  # shown, as text


# -- SVG and DOT -------------------------------------------------------------------------------


def _svg_text(path: Path) -> str:
    root = ElementTree.parse(path).getroot()  # well-formed XML, or this raises
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        assert local not in ("script", "foreignObject", "image"), (path.name, local)
        for name in element.attrib:
            assert not name.rsplit("}", 1)[-1].lower().startswith("on"), (path.name, name)
    return "".join(root.itertext())


def test_svg_files_are_well_formed_and_hold_the_names_as_text(out: Path) -> None:
    svgs = sorted(out.rglob("*.svg"))
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed: no SVG is drawn")
    assert svgs
    text = "".join(_svg_text(path) for path in svgs)
    assert SCRIPT in text or IMG in text


def test_dot_files_parse_and_keep_the_names_inside_labels(out: Path) -> None:
    dots = sorted(out.rglob("*.dot"))
    assert dots, "the .dot files are written even without graphviz"
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("graphviz's dot is not installed: the .dot files cannot be checked")
    drawn = ""
    for path in dots:
        result = subprocess.run(
            [dot, "-Tsvg", str(path)], capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0 and not result.stderr.strip(), (path.name, result.stderr)
        drawn += "".join(ElementTree.fromstring(result.stdout).itertext())
    # a name that broke out of its label would be missing here, or become graph syntax
    assert SCRIPT in drawn and BRACKETS in drawn


# -- markdown and mermaid ----------------------------------------------------------------------

# The only HTML report.md writes itself.
OWN_HTML = re.compile(r"<(?:br/>|/?details>|/?summary>|!-- written by decomposer)")


def _cells(row: str) -> int:
    """Cells of a table row as GitHub splits it: at every `|` not preceded by a backslash."""
    inner = row.strip()
    inner = inner.removeprefix("|")
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(re.split(r"(?<!\\)\|", inner))


@pytest.mark.parametrize("which", [0, 1])
def test_markdown_tables_keep_their_columns(out: Path, which: int) -> None:
    lines = reports(out, "report.md")[which].read_text(encoding="utf-8").splitlines()
    tables = 0
    for i, line in enumerate(lines[:-1]):
        if line.startswith("|") and re.fullmatch(r"\|( (---|--:|:-:) \|)+", lines[i + 1]):
            tables += 1
            width = _cells(line)
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                assert _cells(row) == width, row
    assert tables >= 4 + which  # the featured structural proposal has findings


@pytest.mark.parametrize("which", [0, 1])
def test_markdown_has_no_html_and_no_stray_syntax_from_the_code(out: Path, which: int) -> None:
    md = reports(out, "report.md")[which].read_text(encoding="utf-8")
    stray = [m.start() for m in re.finditer("<", md) if not OWN_HTML.match(md, m.start())]
    assert not stray, [md[i : i + 40] for i in stray]
    for line in md.splitlines():
        assert not line.startswith("#") or re.match(r"#{1,3} ", line), line
    # read as GitHub would: the names are shown as text, no tag comes through
    html = MarkdownIt("commonmark").enable("table").render(md)
    page = _Page()
    page.feed(html)
    assert {"script", "img"}.isdisjoint(tag for tag, _ in page.tags)
    text = "".join(page.text)
    assert SCRIPT in text and IMG in text and PIPE in text and BRACKETS in text


# What report.md's mermaid block may contain, line by line; labels are quoted and hold no
# quote, bracket, angle bracket, backtick or `#` (other than entities such as `#60;`).
LABEL = r'"(?:[^"<>\[\]`#\n]|#\d+;|<br/>)*"'
MERMAID_LINE = re.compile(
    rf"flowchart LR|  s\d+\[{LABEL}\]|  t\d+\[\({LABEL}\)\]"
    r"|  s\d+ -\.- t\d+|  s\d+ -->\|[\d,]+\| s\d+"
)


@pytest.mark.parametrize("which", [0, 1])
def test_the_mermaid_block_is_well_formed(out: Path, which: int) -> None:
    md = reports(out, "report.md")[which].read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)\n```", md, re.DOTALL)
    assert block is not None
    labels = []
    for line in block.group(1).splitlines():
        assert MERMAID_LINE.fullmatch(line), line
        labels += re.findall(r'"([^"]*)"', line)
    shown = {re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label) for label in labels}
    assert SCRIPT in shown and PIPE in shown and BRACKETS in shown and QUOTED in shown
