"""Sample monoliths: realistic code bases with a known intended decomposition.

Each hand-written sample (shop, clinic, travel, ...) ships an ``expected_decomposition.json``;
:mod:`sample_monoliths.synthetic` generates monoliths of any size with planted services.
These are test data and benchmark input: nothing here is ever imported by ``decomposer``.
"""
