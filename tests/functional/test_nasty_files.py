"""`decomposer analyze` over a tree of nasty files: the real CLI, process pool and parser.

Each nasty file is either analysed (its module is in the graph) or a diagnostic naming it;
the run exits 0 and the ordinary files beside them are analysed as usual.
"""

import json
import os
import subprocess
import sys

from tests.conftest import write_tree

NESTING = 1000

NASTY: dict[str, str | bytes] = {
    "py2.py": (
        "import urllib2\n"
        "print 'hello', `1`\n"
        "exec 'x = 1'\n"
        "try:\n    pass\nexcept ValueError, e:\n    raise ValueError, 'no'\n"
        "mode = 0777\n"
    ),
    "bom.py": b"\xef\xbb\xbfdef with_bom():\n    return 1\n",
    "crlf.py": b"def with_crlf():\r\n    return 2\r\n\r\nclass C:\r\n    pass\r\n",
    "formfeed.py": b"def before():\n    pass\n\x0c\ndef after_page_break():\n    before()\n",
    "latin1.py": "# -*- coding: latin-1 -*-\ndef caf\u00e9():\n    return 'd\u00e9j\u00e0'\n".encode(
        "latin-1"
    ),
    "nul.py": b"x = 1\x00\ndef after_nul():\n    pass\n",
    "empty.py": b"",
    "binary.py": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16,
    "deep_parens.py": "x = " + "(" * NESTING + "1" + ")" * NESTING + "\n",
    "deep_blocks.py": "".join("    " * i + "if x:\n" for i in range(NESTING))
    + "    " * NESTING
    + "pass\n",
    "huge_literal.py": "DATA = [" + ", ".join(str(i) for i in range(700_000)) + "]\n",
    # a module and a package of the same name: Python imports the package
    "clash.py": "def from_the_module():\n    pass\n",
    "clash/__init__.py": "def from_the_package():\n    pass\n",
}
GOOD = {
    "shop/__init__.py": "",
    "shop/models.py": "class Order:\n    def total(self):\n        return 1\n",
    "shop/services.py": (
        "from shop.models import Order\n\ndef place():\n    return Order().total()\n"
    ),
}


def analyze_command(root, out) -> list[str]:
    """The real command line; run as root (who reads any file) without the capabilities that
    let root read a chmod 000 file, so that it is unreadable to analyze too."""
    command = [sys.executable, "-m", "decomposer", "analyze", str(root), "-o", str(out),
               "--no-history", "--no-cache"]  # fmt: skip
    if os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        return ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]
    return command


def test_nasty_files_are_analysed_or_diagnosed(tree, tmp_path) -> None:
    # a low time limit: the huge literal would keep libcst busy for minutes
    root = tree({"pyproject.toml": "[tool.decomposer]\njobs = 2\nfile_timeout = 10\n"})
    root = tree({**NASTY, **GOOD, "unreadable.py": "def secret():\n    pass\n"})
    (root / os.fsdecode(b"latin1_name_\xe9.py")).write_text("def f():\n    pass\n")
    locked = write_tree(root / "locked", {"inside.py": "def hidden():\n    pass\n"})
    (root / "unreadable.py").chmod(0)
    locked.chmod(0)
    try:
        done = subprocess.run(
            analyze_command(root, tmp_path / "g.json"), capture_output=True, text=True, check=False
        )
    finally:
        (root / "unreadable.py").chmod(0o644)
        locked.chmod(0o755)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    graph = json.loads((tmp_path / "g.json").read_text())
    nodes = {n["id"]: n for n in graph["nodes"]}
    diagnosed = {d["file"]: d["code"] for d in graph["diagnostics"]}
    for name in [*NASTY, "unreadable.py"]:
        module = name.removesuffix(".py").removesuffix("/__init__")
        analysed = module in nodes and nodes[module].get("file") == name
        assert analysed or name in diagnosed, name

    # what each is, where it is certain
    assert diagnosed["py2.py"] == "syntax-error"
    assert diagnosed["nul.py"] == "syntax-error"
    assert diagnosed["binary.py"] in ("syntax-error", "undecodable")
    assert diagnosed["unreadable.py"] == "unreadable"
    assert diagnosed["locked"] == "unreadable"
    assert diagnosed["latin1_name_\ufffd.py"] == "undecodable"
    assert diagnosed["deep_blocks.py"] == "syntax-error"  # as in Python: too many indent levels
    assert diagnosed["clash.py"] == "duplicate-module"
    for name in ("bom", "crlf", "formfeed", "latin1", "empty"):
        assert f"{name}.py" not in diagnosed, name
    assert {"bom.with_bom", "crlf.with_crlf", "crlf.C", "latin1.caf\u00e9"} <= set(nodes)
    assert nodes["formfeed.after_page_break"]["line"] == 4
    assert nodes["clash"]["file"] == "clash/__init__.py"
    assert "clash.from_the_package" in nodes and "clash.from_the_module" not in nodes

    # the ordinary files are analysed as usual
    calls = {(e["source"], e["target"]) for e in graph["edges"] if e["kind"] == "calls"}
    assert ("shop.services.place", "shop.models.Order.total") in calls
    assert ("formfeed.after_page_break", "formfeed.before") in calls
