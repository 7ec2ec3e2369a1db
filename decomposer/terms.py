"""The words of a code base: identifiers split into terms, technical words left out.

Used to name services and by the vocabulary-based strategies, so both read the same words.
"""

from __future__ import annotations

import re

# Words that say how code is built, not what business it serves.
_TECHNICAL_WORDS = """
    a an and as at by for from in is of on or the to with without
    csv dict int str bool float none true false
    abstract admin api app apps base cache check cli cls common config core create ctx data
    db default delete detail do dto error errors exception exceptions factory form forms get
    handler handlers helper helpers id ids impl init item items json list load main make
    manager managers mixin mixins model models module new obj object objects old process
    queryset repo repository request response run save schema schemas self serializer
    serializers service services set settings task tasks test tests to type types update
    url urls util utils validate value values view views viewset wrapper
"""
TECHNICAL = frozenset(_TECHNICAL_WORDS.split())
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def split_identifier(name: str) -> list[str]:
    """`OrderLineItem`, `order_line_items`, `HTTPOrder2` -> ["order", "line", "item"] …"""
    words: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        words.extend(w.lower() for w in _CAMEL.findall(part) if not w.isdigit())
    return [singular(w) for w in words if len(w) > 1]


def singular(word: str) -> str:
    """A plain English singular, good enough to make `orders` and `order` one term."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def business_terms(name: str) -> list[str]:
    """The terms of an identifier or dotted id that are not technical words."""
    return [t for t in split_identifier(name) if t not in TECHNICAL]
