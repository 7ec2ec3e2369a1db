"""Built-in report renderers, registered as `decomposer.reports` entry points."""
