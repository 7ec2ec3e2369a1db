"""decomposer: proposes how to cut a Python monolith into microservices, with evidence."""

__version__ = "0.1.0"
