"""Built-in decomposition strategies, registered as `decomposer.strategies` entry points."""
