"""The synthetic monolith generator: determinism, valid code, a consistent truth, real structure.

Everything below reads the generated tree with ``ast`` only (the generated code imports
flask/sqlalchemy/celery and is never executed). Sizes are kept small so the file runs in a
few seconds.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # --import-mode=importlib does not add the rootdir
    sys.path.insert(0, str(REPO_ROOT))

synthetic = importlib.import_module("sample_monoliths.synthetic")
vocabulary = importlib.import_module("sample_monoliths.synthetic.vocabulary")
SynthConfig = synthetic.SynthConfig
generate = synthetic.generate
main = synthetic.main
TRUTH = synthetic.TRUTH_FILE

SMALL = {"services": 4, "modules": 100, "seed": 3, "noise": 0.3, "shared_tables": 0}
PLANTED = {"noise": 0.0, "shared_tables": 4, "cross_fks": 3}  # shared tables, cross-service FKs


# --------------------------------------------------------------------------- helpers


@dataclass
class Tree:
    """What ``ast`` finds in a generated monolith."""

    root: Path
    modules: dict[str, Path] = field(default_factory=dict)  # module id -> file
    packages: set[str] = field(default_factory=set)  # module ids of __init__.py files
    atoms: list[str] = field(default_factory=list)  # module, class, function, method ids
    kinds: dict[str, str] = field(default_factory=dict)
    tables: Counter[str] = field(default_factory=Counter)  # __tablename__ values
    trees: dict[str, ast.Module] = field(default_factory=dict)


def read_tree(root: Path) -> Tree:
    tree = Tree(root)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
            tree.packages.add(".".join(parts))
        mod_id = ".".join(parts)
        tree.modules[mod_id] = path
        module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        tree.trees[mod_id] = module
        tree.atoms.append(mod_id)
        tree.kinds[mod_id] = "module"
        _collect(module.body, mod_id, tree)
    return tree


def _collect(body: list[ast.stmt], prefix: str, tree: Tree) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            atom = f"{prefix}.{node.name}"
            tree.atoms.append(atom)
            tree.kinds[atom] = "class"
            for stmt in node.body:
                if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                        and isinstance(stmt.targets[0], ast.Name)
                        and stmt.targets[0].id == "__tablename__"
                        and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str)):
                    tree.tables[stmt.value.value] += 1
            _collect(node.body, atom, tree)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            atom = f"{prefix}.{node.name}"
            tree.atoms.append(atom)
            tree.kinds[atom] = "function"


def owner_map(truth: dict) -> dict[str, str]:
    owners: dict[str, str] = {}
    for name, service in truth["services"].items():
        for member in service["members"]:
            owners[member] = name
    for member in truth["shared"]["members"]:
        owners[member] = "<shared>"
    return owners


def longest_prefix(atom: str, owners: dict[str, str]) -> str | None:
    parts = atom.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in owners:
            return candidate
    return None


Built = tuple[Path, dict, Tree]


@pytest.fixture(scope="module")
def make(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Built]:
    """Generate (once per distinct config in this file) and read a monolith."""
    cache: dict[object, Built] = {}

    def build(**options: object) -> Built:
        key = SynthConfig(**{**SMALL, **options})  # frozen: equal options, one tree
        if key not in cache:
            out = tmp_path_factory.mktemp("synthetic")
            generate(out, key)
            truth = json.loads((out / TRUTH).read_text(encoding="utf-8"))
            cache[key] = (out, truth, read_tree(out))
        return cache[key]

    return build


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def cross_service_share(truth: dict, tree: Tree) -> tuple[float, float, int]:
    """(share of functions using another service's code, share of such imports, functions).

    A function counts when it references a name imported from a service module; it is
    cross-service when one such name belongs (by the truth) to a service other than the
    function's own. Imports are counted per imported name.
    """
    owners = owner_map(truth)

    def service_of(atom: str) -> str:
        key = longest_prefix(atom, owners)
        assert key is not None, atom
        return owners[key]

    using = crossing = 0
    imports = cross_imports = 0
    for mod_id, module in tree.trees.items():
        if service_of(mod_id) == "<shared>":
            continue
        imported: dict[str, str] = {}
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "synth."
            ):
                for alias in node.names:
                    target = service_of(f"{node.module}.{alias.name}")
                    if target != "<shared>":
                        imported[alias.asname or alias.name] = target
                        imports += 1
                        cross_imports += target != service_of(mod_id)
        functions: list[tuple[str, ast.AST]] = []
        for node in module.body:
            if isinstance(node, ast.FunctionDef):
                functions.append((f"{mod_id}.{node.name}", node))
            elif isinstance(node, ast.ClassDef):
                functions += [(f"{mod_id}.{node.name}.{f.name}", f) for f in node.body
                              if isinstance(f, ast.FunctionDef)]
        source = tree.modules[mod_id].read_text(encoding="utf-8").splitlines()
        for func_id, func in functions:
            body = "\n".join(source[func.lineno - 1 : func.end_lineno])  # type: ignore[attr-defined]
            used = set(re.findall(r"\b\w+\b", body)) & imported.keys()
            if not used:
                continue
            using += 1
            mine = service_of(func_id)
            crossing += any(imported[name] != mine for name in used)
    return crossing / max(using, 1), cross_imports / max(imports, 1), using


# --------------------------------------------------------------------------- tests


def test_vocabulary_is_distinct_and_big_enough() -> None:
    assert vocabulary.words_problems() == []
    assert len(vocabulary.DOMAINS) >= 30


def test_command_line_writes_code_truth_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "mono"
    result = subprocess.run(
        [sys.executable, "-m", "sample_monoliths.synthetic", str(out),
         "--services", "3", "--modules", "40", "--seed", "7"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert re.search(r"\d+ files, \d+ lines .* 3 services, .* in [\d.]+ s", lines[0])
    assert (out / "synth" / "__init__.py").is_file()
    truth = json.loads((out / TRUTH).read_text(encoding="utf-8"))
    assert truth["schema"] == 1 and len(truth["services"]) == 3


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    options = {"services": 4, "modules": 90, "noise": 0.2, "shared_tables": 2}
    generate(tmp_path / "a", SynthConfig(seed=11, **options))
    generate(tmp_path / "b", SynthConfig(seed=11, **options))
    generate(tmp_path / "c", SynthConfig(seed=12, **options))
    first, second, other = (hashes(tmp_path / n) for n in "abc")
    assert first == second
    assert len(first) > 90
    assert first != other
    differing = sum(first.get(path) != digest for path, digest in other.items())
    assert differing > len(other) // 2


@pytest.mark.parametrize(
    "options",
    [{"layout": "mixed"}, {"layout": "by-service"}, {"layout": "by-layer"}, PLANTED],
    ids=["mixed", "by-service", "by-layer", "shared-tables"],
)
def test_truth_matches_the_generated_code(
    make: Callable[..., Built], options: dict[str, object]
) -> None:
    _, truth, tree = make(**options)
    assert set(truth) == {"schema", "monolith", "services", "shared"}
    assert truth["schema"] == 1
    assert len(truth["services"]) == SMALL["services"]

    # Every member names a module, class or function that exists; none is listed twice.
    listed = [m for s in truth["services"].values() for m in s["members"]]
    listed += truth["shared"]["members"]
    assert len(listed) == len(set(listed))
    atoms = set(tree.atoms)
    assert [m for m in listed if m not in atoms] == []

    # Every atom is covered by the longest-dotted-prefix rule, and never just because
    # a shared package (the root, a layer folder) happens to be a prefix of it.
    owners = owner_map(truth)
    shared_packages = {m for m in truth["shared"]["members"] if m in tree.packages}
    for atom in tree.atoms:
        key = longest_prefix(atom, owners)
        assert key is not None, f"{atom} is not covered"
        if key in shared_packages:
            assert atom == key or tree.kinds[atom] != "module" and atom.rsplit(".", 1)[0] == key, \
                f"{atom} only covered by the shared package {key}"

    # Tables: each owned exactly once, and exactly the ones the models declare.
    owned = [t for s in truth["services"].values() for t in s["tables"]]
    assert len(owned) == len(set(owned))
    assert all(n == 1 for n in tree.tables.values()), "a __tablename__ is declared twice"
    assert set(owned) == set(tree.tables)
    assert all(s["tables"] for s in truth["services"].values())

    # Each service's tables are declared in modules the truth gives to that service.
    table_owner = {t: n for n, s in truth["services"].items() for t in s["tables"]}
    for mod_id, path in tree.modules.items():
        for table in re.findall(r'__tablename__ = "(\w+)"', path.read_text(encoding="utf-8")):
            assert owners[longest_prefix(mod_id, owners) or ""] == table_owner[table]


@pytest.mark.parametrize("layout", ["mixed", "by-layer"])
def test_all_files_parse_and_look_like_the_brief(make: Callable[..., Built], layout: str) -> None:
    _, _, tree = make(layout=layout)
    text = "\n".join(p.read_text(encoding="utf-8") for p in tree.modules.values())
    text = re.sub(r'"\n\s*"', "", text)  # join implicitly concatenated SQL strings
    # read_tree already ast.parse'd every file; check the promised ingredients exist.
    assert "class Base(DeclarativeBase)" in text
    assert re.search(r'__tablename__ = "\w+"', text)
    assert re.search(r'mapped_column\(ForeignKey\("\w+\.id"\)', text)
    assert re.search(r'"SELECT [^"]* JOIN ', text)
    assert re.search(r'@bp\.route\("/<int:\w+_id>(/[\w-]+)?", methods=\["(POST|GET|PUT)"\]\)',
                     text)
    assert "@shared_task(name=" in text
    assert re.search(r"self\.\w+_repo\.save\(", text)
    assert re.search(r"= \w+Repository\(session\)", text)
    assert "from synth.common." in text
    for mod_id, module in tree.trees.items():
        assert ast.get_docstring(module), f"{mod_id} has no docstring"
        first_code = [n for n in module.body if not isinstance(n, ast.Expr)]
        seen_other = False
        for node in first_code:  # imports all at the top
            if isinstance(node, ast.Import | ast.ImportFrom):
                assert not seen_other, f"{mod_id}: import after code"
            else:
                seen_other = True


def test_by_layer_module_names_use_the_vocabulary_not_the_service_name(
    make: Callable[..., Built],
) -> None:
    _, truth, tree = make(layout="by-layer")
    names = set(truth["services"])
    domains = {d.name: d for d in vocabulary.DOMAINS}
    layers = {"models", "repositories", "services", "api", "tasks", "schemas", "events"}
    for name, service in truth["services"].items():
        nouns = domains[name].nouns
        assert service["members"], name
        for member in service["members"]:
            parts = member.split(".")
            assert not names & set(parts), f"{member} spells a service name"
            assert parts[1] in layers
            if tree.kinds[member] == "module":
                assert parts[2].split("_")[0] in nouns, member
            else:  # a function misplaced in another service's module: named in our words
                assert set(parts[-1].split("_")) & set(nouns), member


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.3])
def test_calls_stay_inside_services_as_much_as_noise_says(
    make: Callable[..., Built], noise: float
) -> None:
    _, truth, tree = make(noise=noise)
    function_share, import_share, using = cross_service_share(truth, tree)
    assert using > 400
    if noise == 0:
        assert function_share == 0 and import_share == 0
    else:
        # Each eligible function reaches into another service with probability `noise`.
        assert noise * 0.5 < function_share < noise * 1.5, function_share
        assert noise * 0.25 < import_share < noise * 1.5, import_share


def test_shared_tables_and_cross_service_foreign_keys_are_planted(
    make: Callable[..., Built],
) -> None:
    _, truth, tree = make(**PLANTED)
    table_owner = {t: n for n, s in truth["services"].items() for t in s["tables"]}
    owners = owner_map(truth)
    cross_fks = 0
    foreign_writes: set[str] = set()
    for mod_id in tree.modules:
        key = longest_prefix(mod_id, owners)
        mine = owners[key or ""]
        source = tree.modules[mod_id].read_text(encoding="utf-8")
        for table in re.findall(r'ForeignKey\("(\w+)\.id"\)', source):
            cross_fks += table_owner[table] != mine
        for table in re.findall(r'"UPDATE (\w+) SET', source):
            if table_owner[table] != mine:
                foreign_writes.add(table)
        for entity in re.findall(r"^def upsert_(\w+)\(", source, flags=re.MULTILINE):
            table = vocabulary.pluralize(entity)
            assert table_owner[table] != mine
            foreign_writes.add(table)
    assert cross_fks == 3
    assert len(foreign_writes) == 4


def test_size_scales_with_modules(tmp_path: Path) -> None:
    counts = {}
    for modules in (60, 240):
        out = tmp_path / str(modules)
        summary = generate(out, SynthConfig(services=4, modules=modules, seed=1))
        code = [p for p in out.rglob("*.py") if p.name != "__init__.py"]
        assert len(code) == modules
        lines = sum(p.read_text(encoding="utf-8").count("\n") for p in out.rglob("*.py"))
        assert lines == summary.lines
        counts[modules] = lines
    assert 2.5 < counts[240] / counts[60] < 6


def test_lines_option_reaches_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "by-lines"
    assert main([str(out), "--lines", "20000", "--services", "4", "--seed", "2"]) == 0
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in out.rglob("*.py"))
    assert 20000 <= lines < 20000 * 1.3
    assert "lines" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--services", "0"], "--services must be between 1 and"),
        (["--services", "99"], "--services must be between 1 and"),
        (["--services", "12", "--modules", "20"], "--modules 20 is too small"),
        (["--noise", "1.5"], "--noise must be between 0 and 1"),
        (["--shared-tables", "-1"], "--shared-tables must be 0 or more"),
        (["--services", "1", "--cross-fks", "2"], "needs at least 2 services"),
        (["--layout", "diagonal"], "invalid choice"),
        (["--modules", "many"], "invalid int value"),
    ],
)
def test_bad_options_exit_2_with_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main([str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_non_empty_folder_is_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    command = [sys.executable, "-m", "sample_monoliths.synthetic", str(out),
               "--services", "2", "--modules", "20"]
    refused = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=120, check=False)
    assert refused.returncode == 2
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert main([str(out), "--services", "2", "--modules", "20", "--force"]) == 0
    assert (out / TRUTH).is_file() and (out / "notes.txt").is_file()
    before = hashes(out / "synth")
    assert main([str(out), "--services", "2", "--modules", "20", "--force"]) == 0
    assert hashes(out / "synth") == before


def test_package_option_renames_the_top_level_package(tmp_path: Path) -> None:
    out = tmp_path / "acme"
    generate(out, SynthConfig(services=2, modules=24, seed=4, package="acme"))
    assert sorted(p.name for p in out.iterdir()) == ["acme", TRUTH]
    truth = json.loads((out / TRUTH).read_text(encoding="utf-8"))
    members = [m for s in truth["services"].values() for m in s["members"]]
    assert all(m == "acme" or m.startswith("acme.") for m in members + truth["shared"]["members"])
    sources = [p.read_text(encoding="utf-8") for p in out.rglob("*.py")]
    assert not any(re.search(r"\bsynth\b", s) for s in sources)
    assert any("from acme.common.db import Base" in s for s in sources)
