"""Reads that are more than a `get`. Every one starts from the actor's data scope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import Http404

from guanxi.core.models import ChangeRecord, OwnedModel, PicklistOption, TimelineEntry, User
from guanxi.core.request_context import request_memo


def record_get_visible(*, model: type[OwnedModel], pk, user: User) -> OwnedModel:
    """The record if the user may see it; otherwise 404, never 403, so ids do not leak."""
    try:
        return model.objects.visible_to(user).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def record_get_editable(*, model: type[OwnedModel], pk, user: User) -> OwnedModel:
    try:
        return model.objects.editable_by(user).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def record_history(*, record: models.Model, limit: int = 200):
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=False)
    return (
        ChangeRecord.objects.filter(content_type=content_type, object_id=record.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def record_timeline(*, record: models.Model, limit: int = 200):
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=False)
    return (
        TimelineEntry.objects.filter(content_type=content_type, object_id=record.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def record_feed(*, record: models.Model, limit: int = 200) -> list[dict]:
    """Timeline and history merged, newest first, as plain items the detail page renders."""
    items = chain(
        (
            {"type": "timeline", "at": e.created_at, "actor": e.actor, "entry": e}
            for e in record_timeline(record=record, limit=limit)
        ),
        (
            {"type": "change", "at": c.created_at, "actor": c.actor, "entry": c}
            for c in record_history(record=record, limit=limit)
        ),
    )
    return sorted(items, key=lambda item: item["at"], reverse=True)[:limit]


def recycle_bin(*, model: type[OwnedModel]):
    return model.all_objects.filter(is_deleted=True).select_related("owner", "deleted_by")


def owned_models() -> list[type[OwnedModel]]:
    """Every concrete model that obeys the data scope (the leak test walks these)."""
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if issubclass(model, OwnedModel) and not model._meta.abstract
    ]


def bounded_count(queryset: models.QuerySet, cap: int) -> tuple[int, bool]:
    """How many rows, counting at most `cap` + 1 (a huge set costs no full count): the count
    (at most `cap`) and whether there are more.

    A queryset read in parts (`core.scope.visible_in_parts`) is counted part by part, each
    without the OR of all of them: the rep's own part reads one index range (a rep's 10,000
    deals: 16 -> 2 ms on PostgreSQL, where the OR was a bitmap of every row)."""
    from guanxi.core.scope import disjoint_parts

    counted = 0
    for part in disjoint_parts(queryset):
        counted += part.order_by().values("pk")[: cap + 1 - counted].count()
        if counted > cap:
            break
    return min(counted, cap), counted > cap


def picklist_options(code: str, *, include_inactive: bool = False):
    """The options of a picklist in their order (the active ones unless asked)."""
    options = PicklistOption.objects.filter(picklist__code=code)
    if not include_inactive:
        options = options.filter(is_active=True)
    return options.order_by("sort_order", "id")


def picklist_option_rows(code: str) -> tuple[PicklistOption, ...]:
    """Every option of a picklist, inactive ones too, in their order: read once per request
    (a customer's page shows the activity types and follow-up channels in several
    sections). Callers pick the active ones themselves and must not change the options."""
    return request_memo(
        ("picklist", code), lambda: tuple(picklist_options(code, include_inactive=True))
    )


def attach_related(
    records: Sequence[models.Model], names: Sequence[str], known: Iterable[models.Model] = ()
) -> None:
    """Fill the foreign keys `names` of `records` (one level: "owner", "industry") with one
    `id IN (...)` query per related table, as if they had been read with select_related.

    A page's statement joined to its lookups costs PostgreSQL more to plan than to run: it
    searches the join orders of every joined table against the record table's indexes. The
    account list joined to five (owner, department, three picklists) planned in 6-9 ms and
    ran in under 1 ms on dataset L; this way the page reads its rows and then a user, a
    department and the picklist options it shows, each read once however many rows show it.
    Related rows are read without any data scope, like select_related (a list shows an
    account's owner whoever may see that user). `known`: related records the caller already
    holds (the account whose page lists these activities), used instead of read again."""
    if not records:
        return
    model = type(records[0])
    fields = [model._meta.get_field(name) for name in names]
    wanted: dict[type[models.Model], set] = {}
    for field in fields:
        if not (field.many_to_one or field.one_to_one) or field.auto_created:
            raise ValueError(f"{field.name} is not a foreign key of {model.__name__}")
        ids = wanted.setdefault(field.related_model, set())
        ids.update(
            value for record in records if (value := getattr(record, field.attname)) is not None
        )
    found = related_by_id(wanted, known)
    for field in fields:
        by_id = found[field.related_model]
        for record in records:
            value = getattr(record, field.attname)
            field.set_cached_value(record, None if value is None else by_id.get(value))


def related_by_id(
    wanted: dict[type[models.Model], set], known: Iterable[models.Model] = ()
) -> dict[type[models.Model], dict]:
    """{model: {id: record}} for the ids `wanted` of each model: the `known` records as
    they are, the others read with one `id IN (...)` per model, soft-deleted ones too (as a
    foreign key reads them)."""
    found: dict[type[models.Model], dict] = {related: {} for related in wanted}
    for instance in known:
        if type(instance) in found:
            found[type(instance)][instance.pk] = instance
    for related, ids in wanted.items():
        missing = [pk for pk in ids if pk not in found[related]]
        if missing:
            found[related].update(related._base_manager.in_bulk(missing))
    return found
