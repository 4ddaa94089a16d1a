"""Global search. Apps register searchable models; see registry.py and backends.py."""

from guanxi.core.search.index import index_object, unindex_object

__all__ = ["index_object", "unindex_object"]
