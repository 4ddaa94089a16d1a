"""Reading the index: the global search.

One statement does the work: the full-text backend picks at most CANDIDATE_CAP matching
entries, and each entry must pass its model's registered scope as a correlated EXISTS on
that model, so nothing is ever filtered in Python and a search never reads the whole index.
Titles and subtitles come from the entries themselves: no per-hit queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BooleanField, Case, Exists, IntegerField, OuterRef, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length

from guanxi.core.search.backends import backend_for
from guanxi.core.search.registry import registrations
from guanxi.core.search.text import query_terms

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# How many full-text matches a search looks at, at most, before applying scope and order.
CANDIDATE_CAP = 2000


@dataclass(frozen=True)
class SearchHit:
    model: str  # "customers.account"
    verbose_name: str
    pk: int
    title: str
    subtitle: str
    url: str


def _scope_condition(user) -> tuple[Case | None, dict[int, object]]:
    """CASE entry type WHEN T THEN EXISTS(user may see that T) ... ELSE false, and the
    registrations by content type id.

    A CASE rather than an OR of (type = T AND EXISTS ...): an OR lets the planner drive the
    query from the content-type index and test every entry of every type, whereas the CASE
    leaves the capped full-text candidate list as the only way in."""
    whens = []
    by_type: dict[int, object] = {}
    for registration in registrations():
        scoped = registration.scope(user)
        if scoped.query.is_empty():
            continue
        content_type = ContentType.objects.get_for_model(registration.model)
        by_type[content_type.pk] = registration
        whens.append(
            When(
                content_type_id=content_type.pk,
                then=Exists(scoped.filter(pk=OuterRef("object_id"))),
            )
        )
    if not whens:
        return None, by_type
    return Case(*whens, default=Value(False), output_field=BooleanField()), by_type


def search(*, user, q: str, limit: int = DEFAULT_LIMIT) -> list[SearchHit]:
    """What the user may see that matches every term of `q` (each as a prefix), best first:
    exact title, then title starting with the query, then shorter titles, then newer."""
    from guanxi.core.models import SearchEntry

    if user is None or not user.is_authenticated or not user.is_active:
        return []
    terms = query_terms(q)
    if not terms:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    condition, by_type = _scope_condition(user)
    if condition is None:
        return []
    sql, params = backend_for(connection.alias).candidates_sql(terms, CANDIDATE_CAP)
    text = q.strip()
    rows = (
        SearchEntry.objects.filter(id__in=RawSQL(sql, params))
        .filter(condition)
        .annotate(
            closeness=Case(
                When(title__iexact=text, then=Value(0)),
                When(title__istartswith=text, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("closeness", Length("title"), "-id")
        .values_list("content_type_id", "object_id", "title", "subtitle")[:limit]
    )
    hits = []
    for content_type_id, object_id, title, subtitle in rows:
        registration = by_type[content_type_id]
        meta = registration.model._meta
        hits.append(
            SearchHit(
                model=registration.label,
                verbose_name=str(meta.verbose_name),
                pk=object_id,
                title=title,
                subtitle=subtitle,
                url=registration.url_of(object_id),
            )
        )
    return hits
