"""The structural baseline: Louvain community detection on the weighted dependency graph.

It knows nothing of business, use cases or data ownership beyond the edges, which is the
point: every other strategy has to beat it (docs/strategies.md).
"""

from __future__ import annotations

from typing import ClassVar

from decomposer.plugins import StrategyInput, StrategyResult
from strategies.common import (
    attach_isolated,
    choose_k,
    coupling,
    fit_to_k,
    louvain,
    number_options,
)

#: Options (`[tool.decomposer.strategies.structural]`) and their defaults.
DEFAULTS = {"resolution": 1.0}  # Louvain's resolution: higher gives more, smaller communities


class StructuralStrategy:
    name: ClassVar[str] = "structural"
    summary: ClassVar[str] = "Louvain communities of the weighted dependency graph (the baseline)"

    def decompose(self, request: StrategyInput) -> StrategyResult:
        atoms = request.atoms
        adjacency = coupling(atoms)
        resolution = number_options(self.name, request.options, DEFAULTS)["resolution"]
        # atoms (and tables) with no edge at all would each be a community of one
        connected = sorted(node for node, row in adjacency.items() if row)
        found = (
            louvain(adjacency, connected, request.seed, resolution, set(atoms.modules.values()))
            if connected
            else {}
        )
        base = {node: c for node, c in found.items() if not node.startswith("table:")}
        base = attach_isolated(base, list(atoms.atoms), atoms.module_of)
        if request.k is not None:
            clusters = fit_to_k(base, adjacency, request.k, request.seed)
            k_choice = f"given: {request.k} services"
        else:
            clusters, k_choice = choose_k(
                lambda k: fit_to_k(base, adjacency, k, request.seed), adjacency, len(atoms)
            )
            communities = len(set(base.values()))
            k_choice += f" (Louvain found {communities} communities at resolution {resolution})"
        return StrategyResult(clusters={a: clusters[a] for a in atoms.atoms}, k_choice=k_choice)
