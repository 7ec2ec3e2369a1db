"""decomposer: proposes how to cut a Python monolith into microservices, with evidence."""

from decomposer.use_case import use_case  # the public API: decomposer.use_case("checkout")

__version__ = "0.1.0"
__all__ = ["use_case"]
