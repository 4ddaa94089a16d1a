"""Prepared names read from the database in bulk (`MatchName`), prepared and stored on a miss.

`matching.prepare_name` is pure and costs ~0.2 ms a name; an import batch compares its rows
with tens of thousands of existing records and a scan prepares every record. Their prepared
names are read here a few hundred per query, and the names not stored yet are prepared
once and stored, so the next import or scan reads them too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import connection

from guanxi.customers import matching
from guanxi.customers.models import MatchName

# Names per read: SQLite allows a few hundred parameters per statement safely; PostgreSQL
# takes them all as one parameter (the `in_array` lookup).
NAMES_PER_QUERY = {"sqlite": 500}
NAME_MAX_LENGTH = MatchName._meta.get_field("name").max_length


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_prepared_names(names: Iterable[str], kind: str) -> dict[str, matching.PreparedName]:
    """The prepared names already stored for these names (current version), by name."""
    wanted = sorted({name for name in names if name and len(name) <= NAME_MAX_LENGTH})
    found: dict[str, matching.PreparedName] = {}
    rows = MatchName.objects.filter(version=matching.PREPARATION_VERSION, kind=kind)
    size = NAMES_PER_QUERY.get(connection.vendor) or max(len(wanted), 1)
    for chunk in _chunks(wanted, size):
        for name, core, pinyin, trade in rows.filter(name__in_array=chunk).values_list(
            "name", "core", "pinyin", "trade"
        ):
            found[name] = matching.PreparedName(name=name, core=core, pinyin=pinyin, trade=trade)
    return found


def store_prepared_names(prepared: Iterable[matching.PreparedName], kind: str) -> None:
    """Keep these prepared names for later reads (a name stored meanwhile is left as is)."""
    MatchName.objects.bulk_create(
        [
            MatchName(
                name=item.name,
                kind=kind,
                version=matching.PREPARATION_VERSION,
                core=item.core,
                pinyin=item.pinyin,
                trade=item.trade,
            )
            for item in prepared
            if item.name and len(item.name) <= NAME_MAX_LENGTH
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def store_prepared_names_of_kinds(
    named: Iterable[tuple[matching.PreparedName | None, str]],
) -> int:
    """Keep (prepared name, kind) pairs, one statement per kind; answers how many were given."""
    by_kind: dict[str, list[matching.PreparedName]] = defaultdict(list)
    for prepared, kind in named:
        if prepared is not None:
            by_kind[kind].append(prepared)
    for kind, prepared in by_kind.items():
        store_prepared_names(prepared, kind)
    return sum(len(prepared) for prepared in by_kind.values())


def prepared_names(names: Iterable[str], kind: str) -> dict[str, matching.PreparedName]:
    """Every given name prepared for `kind`: stored ones read, the others prepared now and
    stored for next time."""
    names = {name for name in names if name}
    found = stored_prepared_names(names, kind)
    fresh = [matching.prepare_name(name, kind) for name in names if name not in found]
    if fresh:
        store_prepared_names(fresh, kind)
        found.update((item.name, item) for item in fresh)
    return found
