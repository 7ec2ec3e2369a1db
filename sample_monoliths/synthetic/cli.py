"""Command line: ``python -m sample_monoliths.synthetic OUT [options]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .generator import generate
from .plan import LAYOUTS, ConfigError, SynthConfig, modules_for_lines


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One sentence and exit code 2, like every bad input."""
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m sample_monoliths.synthetic",
        description="Generate a Python monolith with planted services and write its truth "
                    "file (expected_decomposition.json) beside it.",
    )
    parser.add_argument("out", type=Path, help="folder to write into (must be empty or new)")
    parser.add_argument("--services", type=int, default=12, help="planted services (1-32)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--modules", type=int, default=2000,
                      help="code modules in total, __init__.py files not counted")
    size.add_argument("--lines", type=int, default=None,
                      help="approximate total lines instead of --modules")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--noise", type=float, default=0.1,
                        help="probability that a function reaches into another service")
    parser.add_argument("--shared-tables", type=int, default=None,
                        help="tables also written by a second service (default services/4)")
    parser.add_argument("--cross-fks", type=int, default=None,
                        help="foreign keys across services (default 2*services*noise)")
    parser.add_argument("--utility-modules", type=int, default=6,
                        help="helper modules under <package>/common")
    parser.add_argument("--layout", choices=LAYOUTS, default="mixed",
                        help="package per service, per layer, or some of each")
    parser.add_argument("--package", default="synth", help="name of the top-level package")
    parser.add_argument("--force", action="store_true",
                        help="replace a monolith already generated in OUT")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; return the exit code (0 done, 2 bad input)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else 2
    modules = args.modules
    if args.lines is not None:
        if args.lines < 1:
            print(f"error: --lines must be positive, got {args.lines}", file=sys.stderr)
            return 2
        modules = modules_for_lines(args.lines)
    config = SynthConfig(
        services=args.services, modules=modules, seed=args.seed, noise=args.noise,
        shared_tables=args.shared_tables, utility_modules=args.utility_modules,
        cross_fks=args.cross_fks, layout=args.layout, package=args.package,
    )
    try:
        summary = generate(args.out, config, force=args.force)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary.one_line())
    return 0
