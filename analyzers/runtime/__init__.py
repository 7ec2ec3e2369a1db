"""The runtime analyzer: `decomposer trace` records which project code each use case runs.

This package is also loaded inside traced processes, under the private name
`_decomposer_runtime` (see `bootstrap/sitecustomize.py`), possibly by an interpreter without
decomposer's dependencies. So this file imports nothing, the modules that run in traced
processes (`recorder`, `pytest_plugin`, `integrations`) use the standard library only, and
they import each other relatively (`from . import recorder`), never as `analyzers.runtime`.
"""
