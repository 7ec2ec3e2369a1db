"""`decomposer analyze` end to end: the real CLI, process pool and cache."""

import json
import os
import subprocess
import sys

import pytest

from decomposer.model.graph_json import graph_from_dict

SHOP_LIKE = {
    "pyproject.toml": "[tool.decomposer]\njobs = 2\n",
    "shop/__init__.py": "",
    "shop/models.py": "class Order:\n    def total(self): return 1\n",
    "shop/services.py": "from shop.models import Order\n\ndef place():\n    return Order().total()\n",
}


def test_writes_the_graph_and_prints_a_summary(tree, cli, tmp_path) -> None:
    root = tree(SHOP_LIKE)
    out = tmp_path / "out" / "graph.json"
    result = cli("analyze", root, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Analysed 3 files" in result.output
    assert "Graph written to" in result.output
    graph = graph_from_dict(json.loads(out.read_text()))
    assert graph.edge("shop.services.place", "shop.models.Order.total", "calls") is not None


def test_json_summary_has_stable_keys(tree, cli, tmp_path) -> None:
    result = cli("analyze", tree(SHOP_LIKE), "-o", tmp_path / "g.json", "--format", "json")
    summary = json.loads(result.output)
    assert summary["modules"] == 3 and summary["classes"] == 1 and summary["functions"] == 2
    assert summary["edges"]["calls"] == 1
    assert summary["analyzers"]["static"]["files"] == 3
    assert summary["diagnostics"]["total"] == 0
    assert set(summary) >= {"nodes", "edges", "seconds", "cache", "output", "lines_of_code"}


def test_entry_points_can_be_left_out(tree, cli, tmp_path) -> None:
    files = {
        **SHOP_LIKE,
        "shop/web.py": "from flask import Flask\n\napp = Flask(__name__)\n\n"
        "@app.route('/orders')\ndef orders():\n    return []\n",
    }

    def entries(settings: str) -> list[str]:
        root = tree({**files, "pyproject.toml": f"[tool.decomposer]\n{settings}\n"})
        out = tmp_path / "graph.json"
        result = cli("analyze", root, "-o", out, "--no-cache")
        assert result.exit_code == 0, result.output
        return [n["id"] for n in json.loads(out.read_text())["nodes"] if n["kind"] == "entry"]

    assert entries("") == ["entry:http:GET /orders"]
    assert entries("entry_points = false") == []
    root = tree({**files, "pyproject.toml": '[tool.decomposer]\nentry_points = "no"\n'})
    result = cli("analyze", root)
    assert result.exit_code == 2 and "'entry_points' should be bool" in result.output


def test_missing_path_is_exit_2_with_one_sentence(cli, tmp_path) -> None:
    result = cli("analyze", tmp_path / "nope")
    assert result.exit_code == 2
    assert "nope does not exist" in result.output
    assert "Traceback" not in result.output


def test_a_file_instead_of_a_folder_is_exit_2(cli, tmp_path) -> None:
    path = tmp_path / "x.py"
    path.write_text("x = 1\n")
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert "is not a folder" in result.output


def test_empty_tree_gives_an_empty_graph(cli, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    out = tmp_path / "g.json"
    result = cli("analyze", tmp_path / "empty", "-o", out, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["modules"] == 0
    assert json.loads(out.read_text())["nodes"] == []


def test_unknown_config_key_is_named(tree, cli, tmp_path) -> None:
    root = tree({**SHOP_LIKE, "pyproject.toml": "[tool.decomposer]\njbos = 2\nexclude = 3\n"})
    result = cli("analyze", root, "-o", tmp_path / "g.json")
    assert result.exit_code == 2
    assert "unknown key 'jbos'" in result.output
    assert "'exclude' should be list" in result.output
    assert not (tmp_path / "g.json").exists()


def test_invalid_toml_is_exit_2(tree, cli, tmp_path) -> None:
    root = tree({**SHOP_LIKE, "pyproject.toml": "[tool.decomposer\n"})
    result = cli("analyze", root, "-o", tmp_path / "g.json")
    assert result.exit_code == 2
    assert "is not valid TOML" in result.output


def test_config_and_command_line_excludes(tree, cli, tmp_path) -> None:
    root = tree(
        {
            **SHOP_LIKE,
            "pyproject.toml": '[tool.decomposer]\nexclude = ["shop/legacy"]\n',
            "shop/legacy/old.py": "",
            "shop/scripts/one.py": "",
        }
    )
    from_config = cli("analyze", root, "-o", tmp_path / "g.json", "--format", "json")
    assert json.loads(from_config.output)["modules"] == 4  # scripts/one.py, not legacy
    # the command line overrides the config: legacy comes back, scripts goes
    overridden = cli(
        "analyze", root, "-o", tmp_path / "g.json", "--exclude", "scripts", "--format", "json"
    )
    modules = {n["id"] for n in json.loads((tmp_path / "g.json").read_text())["nodes"]}
    assert json.loads(overridden.output)["modules"] == 4
    assert "shop.legacy.old" in modules and "shop.scripts.one" not in modules


def test_configured_source_root_that_does_not_exist_is_exit_2(tree, cli, tmp_path) -> None:
    root = tree({**SHOP_LIKE, "pyproject.toml": '[tool.decomposer]\nsource_roots = ["lib"]\n'})
    result = cli("analyze", root, "-o", tmp_path / "g.json")
    assert result.exit_code == 2
    assert "source root 'lib' is not a folder" in result.output


def test_unwritable_output_is_exit_2_and_leaves_nothing(tree, cli, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli("analyze", tree(SHOP_LIKE), "-o", blocker / "graph.json")
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_warm_run_parses_nothing_and_a_change_reparses_one_file(tree, cli, tmp_path) -> None:
    root = tree({**SHOP_LIKE, **{f"shop/m{i}.py": f"def f{i}(): pass\n" for i in range(20)}})
    out = tmp_path / "g.json"
    first = json.loads(cli("analyze", root, "-o", out, "--format", "json").output)
    assert first["cache"] == {"hits": 0, "misses": 23}
    first_bytes = out.read_bytes()
    warm = json.loads(cli("analyze", root, "-o", out, "--format", "json").output)
    assert warm["reused_last_run"] is True and warm["cache"]["misses"] == 0
    assert out.read_bytes() == first_bytes
    (root / "shop" / "m3.py").write_text("def g(): pass\n")
    changed = json.loads(cli("analyze", root, "-o", out, "--format", "json").output)
    assert changed["cache"] == {"hits": 22, "misses": 1}
    assert changed["analyzers"]["static"]["modules_resolved"] == 1  # no other module reads m3
    assert "shop.m3.g" in out.read_text()


def test_corrupt_cache_entries_are_discarded_and_rebuilt(tree, cli, tmp_path) -> None:
    root = tree(SHOP_LIKE)
    out = tmp_path / "g.json"
    cli("analyze", root, "-o", out)
    expected = out.read_bytes()
    cache = root / ".decomposer" / "cache"
    (cache / "last-run.json").write_text("{not json")
    entries = [p for p in cache.rglob("*.json") if p.parent != cache]
    for entry in entries:
        entry.write_bytes(b"\x00garbage")
    summary = json.loads(cli("analyze", root, "-o", out, "--format", "json").output)
    assert summary["cache"]["misses"] == len(entries) // 2  # the facts; the other half, parts
    assert summary["analyzers"]["static"]["modules_resolved"] == len(entries) // 2
    assert out.read_bytes() == expected
    assert all(json.loads(p.read_text()) for p in entries)  # rewritten whole


def test_same_graph_bytes_whatever_the_number_of_jobs(cli, tmp_path) -> None:
    sample = os.path.join(os.path.dirname(__file__), "..", "..", "sample_monoliths", "shop")
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"g{jobs}.json"
        result = cli("analyze", sample, "-o", out, "--jobs", jobs, "--no-cache")
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_crashing_and_endless_files_become_diagnostics(tree, cli, tmp_path) -> None:
    root = tree(
        {
            "pyproject.toml": "[tool.decomposer]\nfile_timeout = 3\n",
            "ok.py": "def fine(): pass\n",
            # thousands of nested brackets crash libcst's native parser
            "deep.py": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
            # a very long operator chain makes it run for minutes
            "long.py": "x = " + "+1" * 20000 + "\n",
            # 3,000 implicitly concatenated strings nest 3,000 deep: deep, but fine
            "concat.py": "x = (\n" + "    'a'\n" * 3000 + ")\n\ndef after(): pass\n",
        }
    )
    result = cli("analyze", root, "-o", tmp_path / "g.json", "--format", "json")
    assert result.exit_code == 0, result.output
    graph = json.loads((tmp_path / "g.json").read_text())
    codes = {d["file"]: d["code"] for d in graph["diagnostics"]}
    assert codes == {"deep.py": "parser-crash", "long.py": "timeout"}
    assert {"ok.fine", "concat.after"} <= {n["id"] for n in graph["nodes"]}


def test_symlink_loop_is_a_diagnostic(tree, cli, tmp_path) -> None:
    root = tree({"pkg/__init__.py": "", "pkg/a.py": "X = 1\n"})
    os.symlink(root / "pkg", root / "pkg" / "again")
    result = cli("analyze", root, "-o", tmp_path / "g.json", "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    assert summary["diagnostics"]["by_code"] == {"symlink-loop": 1}


def test_runs_as_a_module_without_importing_the_analysed_code(tree, tmp_path) -> None:
    marker = tmp_path / "imported"
    root = tree({"evil.py": f"open({str(marker)!r}, 'w').write('ran')\n"})
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "analyze", str(root), "-o", str(tmp_path / "g.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert "Analysed 1 files" in done.stdout


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_sample_graph_round_trips_exactly(cli, tmp_path, sample) -> None:
    from decomposer.files import dumps
    from decomposer.model.graph_json import graph_to_dict

    sample_dir = os.path.join(os.path.dirname(__file__), "..", "..", "sample_monoliths", sample)
    out = tmp_path / "g.json"
    assert cli("analyze", sample_dir, "-o", out, "--no-cache").exit_code == 0
    text = out.read_text()
    data = json.loads(text)
    assert dumps(graph_to_dict(graph_from_dict(data), data["meta"])) == text
    assert len(data["nodes"]) > 100 and data["diagnostics"] == []
