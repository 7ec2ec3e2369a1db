"""Writing a planned monolith to disk, with its truth file.

Files are rendered and written one at a time (no whole-tree string is ever built). The truth
file (``expected_decomposition.json``, see docs/truth-format.md) is derived from the same
plan, so it always matches the code.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import ConfigError, Plan, SynthConfig, make_plan
from .render import Renderer

TRUTH_FILE = "expected_decomposition.json"


@dataclass(frozen=True, slots=True)
class Summary:
    """What was written."""

    out: Path
    files: int
    lines: int
    bytes: int
    services: int
    modules: int
    tables: int
    seconds: float

    def one_line(self) -> str:
        return (f"wrote {self.files} files, {self.lines} lines ({self.bytes / 1e6:.1f} MB), "
                f"{self.services} services, {self.tables} tables to {self.out} "
                f"in {self.seconds:.2f} s")


def prepare_out(out: Path, package: str, force: bool) -> None:
    """Make sure out can receive the monolith; ConfigError when it cannot."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder: pass a folder path")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ConfigError(
                f"{out} exists and is not empty: pass --force to replace the generated "
                "monolith in it, or choose another folder"
            )
        pkg_dir = out / package
        if pkg_dir.is_dir() and not pkg_dir.is_symlink():
            shutil.rmtree(pkg_dir)
        elif pkg_dir.exists():
            pkg_dir.unlink()
        (out / TRUTH_FILE).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def generate(out: Path | str, config: SynthConfig, *, force: bool = False) -> Summary:
    """Write the monolith described by config under out; return what was written."""
    start = time.perf_counter()
    out = Path(out)
    config.validate()
    plan = make_plan(config)
    prepare_out(out, config.package, force)
    renderer = Renderer(plan)
    files = lines = size = 0
    made: set[str] = set()
    for rel, text in renderer.files():
        parent = rel.rpartition("/")[0]
        if parent not in made:
            os.makedirs(out / parent, exist_ok=True)
            made.add(parent)
        data = text.encode("utf-8")
        with open(out / rel, "wb") as fh:
            fh.write(data)
        files += 1
        lines += text.count("\n")
        size += len(data)
    truth = json.dumps(truth_of(plan), indent=2) + "\n"
    (out / TRUTH_FILE).write_text(truth, encoding="utf-8", newline="\n")
    return Summary(out, files, lines, size, len(plan.services), len(plan.modules),
                   len(plan.entities), time.perf_counter() - start)


def truth_of(plan: Plan) -> dict[str, Any]:
    """The intended decomposition, in the truth-file format (schema 1)."""
    cfg = plan.config
    pkg = plan.package
    members: dict[str, list[str]] = {s.name: [] for s in plan.services}
    for service in plan.services:
        if service.layout == "by-service":
            members[service.name].append(f"{pkg}.{service.name}")
        else:
            members[service.name] += [m.id for m in service.modules]
    for module in plan.modules:
        for owner, func in module.misplaced:
            members[owner.name].append(f"{module.id}.{func.name}")
    shared = [pkg, f"{pkg}.settings", f"{pkg}.app", f"{pkg}.common", f"{pkg}.common.db",
              f"{pkg}.common.events", *(u.id for u in plan.utilities)]
    layers = sorted({m.id.rsplit(".", 1)[0] for m in plan.modules
                     if m.service.layout == "by-layer"})
    shared += layers
    services: dict[str, Any] = {}
    n = len(plan.services)
    for service in plan.services:
        services[service.name] = {
            "description": f"{service.domain.summary} Planted service {service.index + 1} of "
                           f"{n}, {service.layout} layout, {len(service.modules)} modules.",
            "members": sorted(members[service.name]),
            "tables": sorted(e.table for e in service.entities),
        }
    return {
        "schema": 1,
        "monolith": (f"synthetic {pkg}: seed {cfg.seed}, {cfg.services} services, "
                     f"{cfg.modules} modules, noise {cfg.noise:g}, layout {cfg.layout}"),
        "services": services,
        "shared": {
            "description": "Settings, the WSGI app, database plumbing and the common "
                           "helpers every service imports.",
            "members": sorted(shared),
        },
    }
