"""Built-in analyzers, registered as `decomposer.analyzers` entry points."""
