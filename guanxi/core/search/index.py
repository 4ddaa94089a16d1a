"""Writing the index. Services call `index_object` / `unindex_object` inside their
transactions; the full-text side follows core_searchentry by itself (SQLite triggers,
PostgreSQL expression index)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from guanxi.core.search.registry import SearchRegistration, registration_for, registrations


def _content_type(model: type[models.Model]) -> ContentType:
    return ContentType.objects.get_for_model(model, for_concrete_model=True)


def index_object(instance) -> None:
    """Add or refresh the record's entry; remove it when the record is deleted or inactive.
    Models nobody registered are ignored."""
    if instance is None or instance.pk is None:
        return
    registration = registration_for(type(instance))
    if registration is None:
        return
    if not registration.is_searchable(instance):
        unindex_object(instance)
        return
    from guanxi.core.models import SearchEntry

    SearchEntry.objects.update_or_create(
        content_type=_content_type(type(instance)),
        object_id=instance.pk,
        defaults={
            "title": registration.title_of(instance),
            "subtitle": registration.subtitle_of(instance),
            "document": registration.document_of(instance),
        },
    )


def unindex_object(instance) -> None:
    if instance is None or instance.pk is None:
        return
    if registration_for(type(instance)) is None:
        return
    from guanxi.core.models import SearchEntry

    SearchEntry.objects.filter(
        content_type=_content_type(type(instance)), object_id=instance.pk
    ).delete()


def reindex_model(
    registration: SearchRegistration,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild one model's entries in primary-key batches; drop entries of records that are
    gone, deleted or inactive. Returns the number of records indexed."""
    from guanxi.core.models import SearchEntry

    content_type = _content_type(registration.model)
    live = registration.live_queryset()
    done = 0
    last_pk = None
    while True:
        batch_qs = live.order_by("pk")
        if last_pk is not None:
            batch_qs = batch_qs.filter(pk__gt=last_pk)
        batch = list(batch_qs[:batch_size])
        if not batch:
            break
        entries = [
            SearchEntry(
                content_type=content_type,
                object_id=instance.pk,
                title=registration.title_of(instance),
                subtitle=registration.subtitle_of(instance),
                document=registration.document_of(instance),
            )
            for instance in batch
        ]
        with transaction.atomic():
            SearchEntry.objects.bulk_create(
                entries,
                update_conflicts=True,
                unique_fields=["content_type", "object_id"],
                update_fields=["title", "subtitle", "document", "updated_at"],
            )
        done += len(batch)
        last_pk = batch[-1].pk
        if progress is not None:
            progress(done)
    SearchEntry.objects.filter(content_type=content_type).exclude(
        object_id__in=live.values("pk")
    ).delete()
    return done


def reindex_all(
    *, batch_size: int = 500, labels: list[str] | None = None, progress=None
) -> dict[str, int]:
    """Rebuild the index of every registered model (or those named by label)."""
    from guanxi.core.models import SearchEntry

    counts: dict[str, int] = {}
    chosen = [r for r in registrations() if not labels or r.label in labels]
    for registration in chosen:
        counts[registration.label] = reindex_model(
            registration,
            batch_size=batch_size,
            progress=(lambda n, label=registration.label: progress(label, n)) if progress else None,
        )
    if not labels:
        registered = [_content_type(r.model).pk for r in registrations()]
        SearchEntry.objects.exclude(content_type_id__in=registered).delete()
    from guanxi.core.search.backends import backend_for

    backend_for(connection.alias).rebuild(connection)
    return counts


def index_objects(model: type[models.Model], ids: list[int]) -> int:
    """Index many records of one model in one pass (bulk writes, imports)."""
    from guanxi.core.models import SearchEntry

    registration = registration_for(model)
    if registration is None or not ids:
        return 0
    content_type = _content_type(model)
    instances = list(registration.live_queryset().filter(pk__in=ids))
    SearchEntry.objects.bulk_create(
        [
            SearchEntry(
                content_type=content_type,
                object_id=instance.pk,
                title=registration.title_of(instance),
                subtitle=registration.subtitle_of(instance),
                document=registration.document_of(instance),
            )
            for instance in instances
            if registration.is_searchable(instance)
        ],
        update_conflicts=True,
        unique_fields=["content_type", "object_id"],
        update_fields=["title", "subtitle", "document", "updated_at"],
    )
    return len(instances)
