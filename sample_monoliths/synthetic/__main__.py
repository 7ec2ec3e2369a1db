"""``python -m sample_monoliths.synthetic OUT ...``: see docs/synthetic.md."""

from .cli import main

raise SystemExit(main())
