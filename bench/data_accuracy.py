"""Measure how well `decomposer analyze` finds Django model tables and URL handlers.

    .venv/bin/python bench/data_accuracy.py [--projects wagtail,djangocms] [--jobs 2]

Projects: wagtail 8.0.1 and django-cms 5.1.3 (packages `cms` and `menus`), installed once
with pip into their own venv, bench/.data/django-apps-venv. The ground truth comes from
Django itself: a script run with that venv's python configures settings in-process, calls
`django.setup()`, and dumps every model's `db_table` and, for each urls module that
decomposer analysed, the handler of every `path()` / `re_path()` listed there. decomposer
analyses a copy of the installed packages (bench/.data/<project>-src, `--no-cache`), and
its graph is compared with the truth. See docs/benchmarks-data.md. Kept in bench/.data for
a look: <project>-truth.json (what Django says) and <project>-graph.json.

Prints one table (models, auto-created M2M tables, URL patterns; found correctly and %),
up to 15 mismatches of each kind per project, and writes the numbers to
bench/results/data_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
RESULTS = HERE / "results"
VENV = DATA / "django-apps-venv"
# django-cms imports `packaging` without declaring it
PINS = ["wagtail==8.0.1", "django-cms==5.1.3", "packaging"]
DJANGO = ["admin", "auth", "contenttypes", "sessions", "messages", "staticfiles"]
WAGTAIL = ["embeds", "sites", "users", "snippets", "documents", "images", "search", "locales"]
WAGTAIL += ["admin", "api.v2", "api.v3"]
WAGTAIL += ["contrib.forms", "contrib.redirects", "contrib.settings", "contrib.search_promotions"]
WAGTAIL += ["contrib.table_block", "contrib.typed_table_block", "contrib.styleguide"]
WAGTAIL += ["contrib.sitemaps", "contrib.routable_page", "contrib.simple_translation"]
WAGTAIL += ["contrib.frontend_cache"]
CMS_TEST = ["sampleapp", "placeholderapp", "fakemlng", "objectpermissionsapp", "bunch_of_plugins"]
CMS_TEST += ["extensionapp", "mti_pluginapp", "nested_plugins_app"]
CMS_TEST += ["placeholder_relation_field_app"]
PLUGINS = ["link", "multicolumn", "multiwrap", "no_custom_model", "style", "manytomany_rel"]
PLUGINS += ["extra_context", "meta", "one_thing", "revdesc"]
CMS_TEST += [f"pluginapp.plugins.{plugin}" for plugin in PLUGINS]
PROJECTS = {
    "wagtail": {
        "packages": ["wagtail"],
        "apps": [f"wagtail.{app}" for app in WAGTAIL]
        + ["wagtail", "modelcluster", "taggit", "rest_framework", "ninja"]
        + [f"django.contrib.{app}" for app in [*DJANGO, "sitemaps"]],
        "settings": {"WAGTAIL_SITE_NAME": "bench", "WAGTAILADMIN_BASE_URL": "http://localhost"},
    },
    "djangocms": {
        "packages": ["cms", "menus"],
        # with the test project's apps (cms/tests/settings.py, less djangocms_text):
        # cms/test_utils is analysed (not a default exclude), its models and urls count
        "apps": [f"django.contrib.{app}" for app in [*DJANGO, "sites"]]
        + ["treebeard", "cms", "menus", "sekizai"]
        + [f"cms.test_utils.project.{app}" for app in CMS_TEST],
        "settings": {"SITE_ID": 1, "CMS_CONFIRM_VERSION4": True, "CMS_TEMPLATES": [["t", "t"]]},
        "template_dirs": ["cms/test_utils/project/templates"],
    },
}

TRUTH = r"""
import ast, functools, importlib, importlib.util, inspect, json, pathlib, sys
cfg = json.load(sys.stdin)
out, sys.stdout = sys.stdout, sys.stderr  # imports may print: keep stdout for the JSON
site = pathlib.Path(importlib.util.find_spec(cfg["packages"][0]).origin).parent.parent
from django.conf import settings
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=cfg["apps"], SECRET_KEY="bench", USE_TZ=True, STATIC_URL="/static/",
    MEDIA_URL="/media/", LANGUAGE_CODE="en", LANGUAGES=[("en", "English")],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField", ROOT_URLCONF=__name__,
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                "DIRS": [str(site / d) for d in cfg.get("template_dirs", [])], "OPTIONS": {
                    "context_processors": ["django.template.context_processors.request"]}}],
    **cfg["settings"])
import django
django.setup()
from django.apps import apps
from django.urls import URLResolver
from django.urls.resolvers import LocalePrefixPattern

def module_of(obj):
    # where the class statement is: wagtail sets Page.__module__ = "wagtail.models" after it,
    # but Django made Page.DoesNotExist (and Python the methods) before that
    for value in vars(obj).values() if isinstance(obj, type) else ():
        try:
            func = inspect.unwrap(getattr(value, "__func__", value))
            if not getattr(func, "__qualname__", "").startswith(obj.__qualname__ + "."):
                continue
            if isinstance(func, type):
                return func.__module__
            path = pathlib.Path(func.__code__.co_filename)
        except Exception:  # lazy objects, wrapper cycles, no code
            continue
        if path.is_relative_to(site):
            parts = path.relative_to(site).with_suffix("").parts
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return getattr(obj, "__module__", None) or type(obj).__module__

def name(obj):
    if isinstance(obj, functools.partial):
        obj = obj.func
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module_of(obj)}.{qualname.replace('.<locals>.', '.')}"

prefixes = tuple(p + "." for p in cfg["packages"])
models = [
    {"class": name(m), "module": name(m).removesuffix("." + m.__qualname__),
     "declared_module": m.__module__, "table": m._meta.db_table, "proxy": m._meta.proxy,
     "auto_created": bool(m._meta.auto_created), "app_label": m._meta.app_label}
    for m in apps.get_models(include_auto_created=True) if m.__module__.startswith(prefixes)
]

def handler(callback):
    for obj in (callback, inspect.unwrap(callback)):
        cls = getattr(obj, "view_class", None) or getattr(obj, "cls", None)  # CBV, DRF viewset
        if isinstance(cls, type):
            return name(cls)
    return name(inspect.unwrap(callback))

def literal_routes(path):
    # the first string argument of every path()/re_path()/url() call written in the module
    routes = set()
    for node in ast.walk(ast.parse(open(path, "rb").read())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if func in ("path", "re_path", "url"):
                routes.add(str(node.args[0].value))
    return routes

def walk(patterns, module, prefix, literal, written):
    # written: the route of every enclosing include() is written in this module too
    for p in patterns:
        if isinstance(p, URLResolver):
            if isinstance(p.urlconf_name, (list, tuple)):  # include([...]): counts here
                ok = isinstance(p.pattern, LocalePrefixPattern) or str(p.pattern) in literal
                walk(p.url_patterns, module, prefix + str(p.pattern), literal, written and ok)
        else:
            route = str(p.pattern)
            urls.append({"module": module, "route": route, "prefix": prefix, "name": p.name,
                         "handler": handler(p.callback), "literal": written and route in literal})

urls, skipped = [], []
for module in cfg["urls"]:
    try:
        mod = importlib.import_module(module)
    except Exception as error:
        skipped.append({"module": module, "error": f"{type(error).__name__}: {error}"[:300]})
        continue
    if not isinstance(getattr(mod, "urlpatterns", None), (list, tuple)):
        skipped.append({"module": module, "error": "no module-level urlpatterns list"})
        continue
    walk(mod.urlpatterns, module, "", literal_routes(mod.__file__), True)
json.dump({"models": models, "urls": urls, "skipped": skipped}, out)
"""


def apps_python() -> Path:
    python = VENV / "bin" / "python"
    marker = VENV / "bench-installed.txt"
    if not marker.exists() or marker.read_text().split() != PINS:
        DATA.mkdir(exist_ok=True)
        subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        marker.write_text("\n".join(PINS) + "\n")
    return python


def source_tree(project: str) -> Path:
    target = DATA / f"{project}-src"
    if not target.exists():  # delete it to copy again after a change of PINS
        site = next(VENV.glob("lib/python3*/site-packages"))
        partial = DATA / f"{project}-src.partial"
        shutil.rmtree(partial, ignore_errors=True)
        for package in PROJECTS[project]["packages"]:
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(site / package, partial / package, ignore=ignore)
        partial.rename(target)
    return target


def analyze(root: Path, graph: Path, jobs: int) -> dict:
    # --no-cache: the analyzers change under development, a cached result could be stale
    args = ["analyze", str(root), "-o", str(graph), "--jobs", str(jobs), "--no-cache"]
    args = [sys.executable, "-m", "decomposer", *args]
    done = subprocess.run(args, check=False, capture_output=True)
    if done.returncode:
        sys.exit(f"decomposer analyze {root} failed:\n{done.stderr.decode(errors='replace')}")
    return json.loads(graph.read_text())


def ground_truth(python: Path, project: str, urls_modules: list[str]) -> dict:
    config = {**PROJECTS[project], "urls": urls_modules}
    args = [str(python), "-c", TRUTH]
    done = subprocess.run(
        args, check=False, input=json.dumps(config), capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"ground truth for {project} failed:\n{done.stderr}")
    (DATA / f"{project}-truth.json").write_text(done.stdout)
    return json.loads(done.stdout)


def urls_modules(root: Path, modules: dict[str, dict]) -> list[str]:
    """Analysed modules named *urls or assigning a module-level `urlpatterns`."""
    assigns = re.compile(r"^urlpatterns\s*(:[^=\n]*)?\+?=", re.MULTILINE)
    return sorted(
        module
        for module, node in modules.items()
        if module.rsplit(".", 1)[-1].endswith("urls")
        or assigns.search((root / node["file"]).read_text(errors="replace"))
    )


def compare(truth: dict, graph: dict, packages: list[str], limit: int) -> dict:
    nodes = {node["id"]: node for node in graph["nodes"]}
    modules = {i for i, node in nodes.items() if node["kind"] == "module"}
    entries: dict[tuple, list] = {}
    for node in nodes.values():
        if node["kind"] == "entry":
            attrs = node.get("attrs", {})
            key = (node.get("file"), attrs.get("route"))
            entries.setdefault(key, []).append(attrs.get("handler"))
    score = {key: [0, 0] for key in ("models", "m2m", "urls", "literal")}
    wrong: dict[str, list] = {"models": [], "m2m": [], "urls": [], "generated urls": []}

    def count(keys: tuple[str, ...], ok: bool, kind: str, mismatch: str) -> None:
        for key in keys:
            score[key][0] += 1
            score[key][1] += ok
        if not ok:
            wrong[kind].append(mismatch)

    for model in truth["models"]:
        if model["module"] not in modules:
            continue
        if model["auto_created"]:
            found = f"table:{model['table']}" in nodes
            count(("m2m",), found, "m2m", f"{model['class']}: no node table:{model['table']}")
            continue
        node = nodes.get(model["class"])
        found = node.get("attrs", {}).get("table") if node else "no class node"
        proxy = " (proxy)" if model["proxy"] else ""
        mismatch = f"{model['class']}{proxy}: expected {model['table']!r}, found {found!r}"
        count(("models",), found == model["table"], "models", mismatch)
    external = 0
    for url in truth["urls"]:
        expected = url["handler"]
        if not expected.startswith(tuple(p + "." for p in packages)):
            external += 1  # e.g. django.contrib.auth views: no project node to point at
            continue
        found = entries.get((nodes[url["module"]]["file"], url["route"]), [])
        ok = any(h == expected or str(h).startswith(expected + ".") for h in found)
        mismatch = (
            f"{url['module']} {url['prefix']}{url['route']!r}: expected {expected}, "
            f"found {', '.join(map(str, found)) or 'no entry'}"
        )
        if url["literal"]:
            count(("urls", "literal"), ok, "urls", mismatch)
        else:
            count(("urls",), ok, "generated urls", mismatch)
    mismatches = {kind: lines[:limit] for kind, lines in wrong.items()}
    totals = {"models_all": len(truth["models"]), "urls_all": len(truth["urls"])}
    return {"score": score, "mismatches": mismatches, "external_handlers": external, **totals}


def timed(seconds: dict, step: str, function, *args):
    start = time.perf_counter()
    value = function(*args)
    seconds[step] = time.perf_counter() - start
    return value


def pct(pair: list[int]) -> str:
    return f"{100 * pair[1] / pair[0]:.1f}" if pair[0] else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="wagtail,djangocms")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mismatches", type=int, default=15, help="shown per kind and project")
    args = parser.parse_args()
    results = {}
    seconds = {}
    python = timed(seconds, "venv", apps_python)
    for project in args.projects.split(","):
        root = timed(seconds, "copy", source_tree, project)
        graph_path = DATA / f"{project}-graph.json"
        graph = timed(seconds, "analyze", analyze, root, graph_path, args.jobs)
        modules = {n["id"]: n for n in graph["nodes"] if n["kind"] == "module"}
        urls = urls_modules(root, modules)
        truth = timed(seconds, "truth", ground_truth, python, project, urls)
        result = compare(truth, graph, PROJECTS[project]["packages"], args.mismatches)
        result |= {"seconds": seconds, "skipped": truth["skipped"], "files": len(modules)}
        results[project] = result
        seconds = {"venv": 0.0}
    header = "project|models in analysed files|models with correct table|%|URL patterns in "
    header += "analysed urls modules|patterns resolved to the correct handler|%"
    print("| " + header.replace("|", " | ") + " |")
    print("|---" * (header.count("|") + 1) + "|")
    for project, result in results.items():
        s = result["score"]
        m, u, m2m, lit = s["models"], s["urls"], s["m2m"], s["literal"]
        print(f"| {project} | {m[0]} | {m[1]} | {pct(m)} | {u[0]} | {u[1]} | {pct(u)} |")
        print(f"| {project} auto M2M tables | {m2m[0]} | {m2m[1]} | {pct(m2m)} | | | |")
        print(
            f"| {project} routes written in the module | | | | {lit[0]} | {lit[1]} | {pct(lit)} |"
        )
    for project, result in results.items():
        t = result["seconds"]
        print(
            f"\n## {project}: {result['files']} modules analysed; ground truth "
            f"{result['models_all']} models, {result['urls_all']} URL patterns "
            f"({result['external_handlers']} with a handler outside the project, not "
            f"counted); seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in t.items())
        )
        for skip in result["skipped"]:
            print(f"skipped urls module {skip['module']}: {skip['error']}")
        for kind, lines in result["mismatches"].items():
            for line in lines:
                print(f"{kind} mismatch: {line}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "data_accuracy.json").write_text(json.dumps(results, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
