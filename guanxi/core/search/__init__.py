"""Global search. Apps register searchable models (registry.py); services keep the index
(index.py); the full-text side lives in backends.py; selectors.search() reads it."""

from guanxi.core.search.index import index_object, unindex_object

__all__ = ["index_object", "unindex_object"]
