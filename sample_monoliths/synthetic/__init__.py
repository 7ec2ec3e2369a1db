"""A generator of synthetic Python monoliths with planted services.

``python -m sample_monoliths.synthetic OUT --services 12 --modules 2000 --seed 0`` writes a
package ``OUT/synth`` and the truth file ``OUT/expected_decomposition.json``. In process::

    from sample_monoliths.synthetic import SynthConfig, generate
    summary = generate(tmp_path, SynthConfig(services=4, modules=80, seed=1))

See docs/synthetic.md for every option, the layouts and the determinism guarantee.
"""

from .cli import main
from .generator import TRUTH_FILE, Summary, generate, truth_of
from .plan import ConfigError, SynthConfig, make_plan, modules_for_lines

__all__ = [
    "TRUTH_FILE",
    "ConfigError",
    "Summary",
    "SynthConfig",
    "generate",
    "main",
    "make_plan",
    "modules_for_lines",
    "truth_of",
]
