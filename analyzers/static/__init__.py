"""The static analyzer: modules, classes, functions, imports, calls and references, read with
libcst and never imported or run."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from analyzers.static.build import PASSES, build_graph, reduce_parts
from analyzers.static.crossing import SHARE_VERSION, Crossings, assemble, share
from analyzers.static.discovery import (
    DEFAULT_EXCLUDES,
    SourceFile,
    discover,
    find_source_roots,
    relative,
)
from analyzers.static.parts import ModulePart
from analyzers.static.resolve import Resolver
from analyzers.static.runner import CHANGED, FACTS_VERSION, collect_all, file_keys, is_kept
from analyzers.static.sql import summarize_file
from decomposer.cache import content_key
from decomposer.errors import ConfigError
from decomposer.lifetime import outlive
from decomposer.model.graph import DependencyGraph, Diagnostic
from decomposer.plugins import AnalysisContext


@dataclass(frozen=True)
class _Tree:
    roots: list[Path]
    keyed: list[tuple[SourceFile, str | None]]
    excluded: list[str]
    diagnostics: list[Diagnostic]
    sql: list[tuple[SourceFile, str | None]]  # .sql files (schemas) under the source roots


class StaticAnalyzer:
    name: ClassVar[str] = "static"
    summary: ClassVar[str] = "modules, classes, functions, imports, calls and references (libcst)"

    def __init__(self) -> None:
        self._trees: dict[AnalysisContext, _Tree] = {}

    def fingerprint(self, context: AnalysisContext) -> str:
        tree = self._tree(context)
        return content_key(
            FACTS_VERSION,
            *(f"{s.rel}\0{key}" for s, key in tree.keyed + tree.sql),
            *tree.excluded,
            *(str(d) for d in tree.diagnostics),
        )

    def analyze(self, context: AnalysisContext, graph: DependencyGraph) -> dict[str, Any]:
        tree = self._tree(context)
        for diagnostic in tree.diagnostics:
            graph.add_diagnostic(diagnostic)
        facts = self._facts(context, tree)
        entry_points = context.settings.entry_points
        context.progress.start("building the graph", PASSES if entry_points else PASSES - 1)
        sql = read_sql_files(tree.sql, graph)
        keys = {s.rel: key if is_kept(facts[s.rel]) else None for s, key in tree.keyed}
        resolved = build_graph(
            graph,
            facts,
            tree.excluded,
            sql,
            progress=context.progress.advance,
            parts=(context.cache, keys),
            entry_points=entry_points,
        )
        return self._figures(context, tree, facts, resolved)

    @staticmethod
    def _facts(context: AnalysisContext, tree: _Tree) -> dict[str, dict[str, Any]]:
        """Every file's facts, from the cache or parsed (see runner.py)."""
        context.progress.start("analysing files", len(tree.keyed))
        return collect_all(
            tree.keyed,
            cache=context.cache,
            jobs=context.settings.jobs or os.cpu_count() or 1,
            file_timeout=context.settings.file_timeout,
            progress=context.progress.advance,
        )

    @staticmethod
    def _figures(
        context: AnalysisContext, tree: _Tree, facts: dict[str, dict[str, Any]], resolved: int
    ) -> dict[str, Any]:
        changed = sum(any(d[0] == CHANGED for d in f["diagnostics"]) for f in facts.values())
        return {
            "files": len(tree.keyed),
            "source_roots": [relative(r, context.root) for r in tree.roots],
            # the others' parts were reused: neither their facts nor those of a module they read changed
            "modules_resolved": resolved,
            # the graph is not that of the fingerprint: the pipeline does not keep it
            **({"changed_during_analysis": changed} if changed else {}),
        }

    def crossings(
        self,
        context: AnalysisContext,
        level: str,
        service_of: Callable[[str], str | None],
        boundaries: str,
    ) -> tuple[Crossings, dict[str, Any]]:
        """The atom graph `decomposer check` reads, with only the edges that cross services
        (crossing.py), made without the graph; and the figures `analyze` would give.
        `boundaries` stands for `service_of` in the cache: the modules' shares are kept
        under it and the level."""
        tree = self._tree(context)
        facts = self._facts(context, tree)
        context.progress.start("building the atom graph", 1)
        sql = read_sql_files(tree.sql, DependencyGraph())
        keys = {s.rel: key if is_kept(facts[s.rel]) else None for s, key in tree.keyed}

        def reduce(resolver: Resolver, module: str, part: ModulePart) -> tuple[Any, set[str]]:
            return share(resolver, module, part, level, service_of)

        name = content_key(SHARE_VERSION, level, boundaries)
        modules, shares = reduce_parts(
            facts, tree.excluded, sql, (context.cache, keys), name, reduce
        )
        found = assemble(modules, shares, level)
        outlive(facts, modules, shares)
        context.progress.advance()
        return found, self._figures(context, tree, facts, modules.resolved)

    def _tree(self, context: AnalysisContext) -> _Tree:
        if context not in self._trees:
            settings = context.settings
            roots = self.source_roots(context.root, settings.source_roots)
            patterns = DEFAULT_EXCLUDES if settings.use_default_excludes else ()
            found = discover(context.root, roots, patterns + settings.exclude)
            self._trees[context] = _Tree(
                roots,
                file_keys(found.files),
                found.excluded,
                found.diagnostics,
                file_keys(found.sql),
            )
        return self._trees[context]

    @staticmethod
    def source_roots(root: Path, configured: tuple[str, ...]) -> list[Path]:
        if not configured:
            return find_source_roots(root)
        roots = []
        for entry in configured:
            path = (root / entry).resolve()
            if not path.is_dir():
                raise ConfigError(
                    f"source root '{entry}' is not a folder under {root}",
                    hint="fix source_roots in [tool.decomposer] or --source-root",
                )
            roots.append(path)
        return roots


def read_sql_files(
    keyed: list[tuple[SourceFile, str | None]], graph: DependencyGraph
) -> dict[str, dict[str, Any]]:
    """Each readable .sql file's summary (see sql.py); the others become diagnostics."""
    summaries = {}
    for source, _ in keyed:
        try:
            text = source.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            graph.add_diagnostic(Diagnostic(source.rel, "undecodable", str(exc)))
            continue
        summary = summarize_file(text)
        if "error" in summary:
            graph.add_diagnostic(Diagnostic(source.rel, "sql-error", summary["error"]))
        summaries[source.rel] = summary
    return summaries
