"""The JSON report: every proposal in full plus what the graph says about its size, in one
file other tools can read (the same shape for one proposal or a comparison)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from decomposer import __version__
from decomposer.files import write_json
from decomposer.plugins import ReportInput

REPORT_SCHEMA = 1


class JsonReport:
    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "report.json: every proposal in full, for tools"

    def render(self, request: ReportInput) -> list[Path]:
        counts = request.graph.count_nodes()
        data = {
            "schema": REPORT_SCHEMA,
            "decomposer": __version__,
            "title": request.title,
            "graph": {
                "modules": counts["module"],
                "classes": counts["class"],
                "functions": counts["function"],
                "tables": counts["table"],
                "entry_points": counts["entry"],
            },
            "proposals": list(request.proposals),
        }
        return [write_json(request.out_dir / "report.json", data)]
