"""Which models the global search covers, which of their fields it reads, and who may find
what. Apps call `register_search` from their `registrations.py` (imported in `ready()`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.signals import post_delete
from django.urls import NoReverseMatch, reverse

from guanxi.core.search.text import DocumentBuilder

ValueSource = str | Callable[[Any], Any]


def _value(instance: models.Model, source: ValueSource) -> str:
    value = source(instance) if callable(source) else getattr(instance, source, "")
    return "" if value is None else str(value)


@dataclass(frozen=True)
class SearchRegistration:
    model: type[models.Model]
    title: ValueSource
    scope: Callable[[Any], models.QuerySet]
    fields: Sequence[ValueSource] = ()
    phone_fields: Sequence[ValueSource] = ()
    email_fields: Sequence[ValueSource] = ()
    person_fields: Sequence[ValueSource] = ()
    subtitle: ValueSource | None = None
    url: Callable[[int], str] | None = None
    select_related: Sequence[str] = field(default=())

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def title_of(self, instance: models.Model) -> str:
        return _value(instance, self.title)[:255]

    def subtitle_of(self, instance: models.Model) -> str:
        return _value(instance, self.subtitle)[:255] if self.subtitle else ""

    def url_of(self, pk: int) -> str:
        if self.url is not None:
            return self.url(pk) or ""
        meta = self.model._meta
        try:
            return reverse(f"{meta.app_label}:{meta.model_name}_detail", args=[pk])
        except NoReverseMatch:
            return ""

    def document_of(self, instance: models.Model) -> str:
        builder = DocumentBuilder()
        for source in self.person_fields:
            builder.add_person_name(_value(instance, source))
        if self.title not in self.person_fields:
            builder.add_text(self.title_of(instance))
        for source in self.fields:
            builder.add_text(_value(instance, source))
        for source in self.phone_fields:
            builder.add_phone(_value(instance, source))
        for source in self.email_fields:
            builder.add_email(_value(instance, source))
        return builder.document()

    def is_searchable(self, instance: models.Model) -> bool:
        """Soft-deleted and deactivated records leave the index."""
        if getattr(instance, "is_deleted", False):
            return False
        return getattr(instance, "is_active", True) is not False

    def live_queryset(self) -> models.QuerySet:
        """Every record that belongs in the index (for rebuilding it)."""
        queryset = self.model._default_manager.all()
        names = {f.name for f in self.model._meta.concrete_fields}
        if "is_deleted" in names:
            queryset = queryset.filter(is_deleted=False)
        if "is_active" in names:
            queryset = queryset.filter(is_active=True)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset


_registry: dict[type[models.Model], SearchRegistration] = {}


def _owned_scope(model: type[models.Model]) -> Callable[[Any], models.QuerySet]:
    def scope(user):
        return model.objects.visible_to(user)

    return scope


def _remove_on_delete(sender, instance, **kwargs) -> None:
    from guanxi.core.search.index import unindex_object

    unindex_object(instance)


def register_search(
    model: type[models.Model],
    *,
    title: ValueSource,
    fields: Sequence[ValueSource] = (),
    phone_fields: Sequence[ValueSource] = (),
    email_fields: Sequence[ValueSource] = (),
    person_fields: Sequence[ValueSource] = (),
    subtitle: ValueSource | None = None,
    url: Callable[[int], str] | None = None,
    scope: Callable[[Any], models.QuerySet] | None = None,
    select_related: Sequence[str] = (),
) -> SearchRegistration:
    """Make `model` searchable.

    Field sources are attribute names or callables taking the instance. `person_fields` are
    personal names (read with surname pinyin). `scope(user)` returns the records the user may
    find; owned models default to `Model.objects.visible_to(user)`. `url(pk)` gives the
    result's link without touching the database; by default `<app>:<model>_detail`.
    """
    from guanxi.core.models import OwnedModel

    if scope is None:
        if not issubclass(model, OwnedModel):
            raise TypeError(f"{model._meta.label} is not an owned model; pass scope=")
        scope = _owned_scope(model)
    registration = SearchRegistration(
        model=model,
        title=title,
        scope=scope,
        fields=tuple(fields),
        phone_fields=tuple(phone_fields),
        email_fields=tuple(email_fields),
        person_fields=tuple(person_fields),
        subtitle=subtitle,
        url=url,
        select_related=tuple(select_related),
    )
    _registry[model] = registration
    # Services remove entries themselves; this also covers purges and cascades.
    post_delete.connect(
        _remove_on_delete, sender=model, weak=False, dispatch_uid=f"search-{registration.label}"
    )
    return registration


def registration_for(model: type[models.Model]) -> SearchRegistration | None:
    registration = _registry.get(model)
    if registration is None:
        registration = _registry.get(model._meta.concrete_model)
    return registration


def registrations() -> list[SearchRegistration]:
    return list(_registry.values())
