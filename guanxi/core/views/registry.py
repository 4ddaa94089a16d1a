"""Per-model registration that drives the generic record views.

An app describes a model once (columns, filters, quick search, form, services, detail
sections, related lists) and gets list / detail / create / edit / delete / assign / share /
attachments / bulk actions / saved views from `guanxi.core.views.generic`:

    registration = ModelRegistration(model=Account, columns=[...], form_class=AccountForm)
    register_model_views(Account, registration)
    urlpatterns = model_urls(registration)   # in the app's urls.py (app_name = "customers")
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from guanxi.core.services.records import (
    record_assign,
    record_create,
    record_delete,
    record_update,
)

# (record, user) -> (title, queryset, columns) or None to hide the section.
RelatedListHook = Callable[[models.Model, Any], "tuple[str, Any, Sequence[Column]] | None"]


@dataclass
class Column:
    """One column of a list table.

    `accessor` is a field name / dotted attribute path, or a callable taking the record; it
    defaults to `name`. `order_by` is the database expression sorted on (only whitelisted
    columns sort); it defaults to `name` when `sortable`.
    """

    name: str
    label: Any
    accessor: str | Callable[[models.Model], Any] | None = None
    sortable: bool = False
    order_by: str | None = None
    link: bool = False
    default: bool = True
    # Called once with the page's records before rendering (bulk look-ups, no N+1).
    prepare: Callable[[list[models.Model]], None] | None = None

    def __post_init__(self) -> None:
        if self.sortable and not self.order_by:
            self.order_by = self.name

    def value(self, record: models.Model) -> Any:
        accessor = self.accessor or self.name
        if callable(accessor):
            return accessor(record)
        return resolve_attribute(record, accessor)


def resolve_attribute(record: models.Model, path: str) -> Any:
    """The display value of a field or dotted path: choice labels, related objects."""
    value: Any = record
    for part in path.split("."):
        if value is None:
            return None
        display = getattr(value, f"get_{part}_display", None)
        value = display() if callable(display) else getattr(value, part, None)
        if callable(value) and not isinstance(value, models.Model):
            value = value()
    return value


def format_value(value: Any) -> str:
    """Plain text for a value in a table cell or a detail field ("—" when empty)."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "Y-m-d")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def _default_create(model):
    def create(*, data, custom_data, actor):
        return record_create(model=model, data=data, custom_data=custom_data, actor=actor)

    return create


def _default_update(*, instance, data, custom_data, actor, version):
    return record_update(
        instance=instance, data=data, custom_data=custom_data, actor=actor, version=version
    )


def _default_delete(*, instance, actor, version):
    return record_delete(instance=instance, actor=actor, version=version)


def _default_assign(*, instance, owner, actor, reason, version=None):
    return record_assign(
        instance=instance, owner=owner, actor=actor, reason=reason, version=version
    )


@dataclass
class FormWarning:
    """Something the user should see before saving (e.g. a possible duplicate).

    Shown above the form with a "Save anyway" button; `url` + `link_text` make a link,
    `details` are listed under the message. All texts are already translated."""

    message: str
    url: str = ""
    link_text: str = ""
    details: Sequence[str] = ()


# (*, request, form, instance) -> list[FormWarning]; instance is None on create.
PreSaveWarnings = Callable[..., "list[FormWarning]"]


@dataclass
class BulkAction:
    """An extra bulk action of the list page (next to edit / assign / delete).

    `handler(*, request, registration, ids)` returns the response (typically a redirect);
    the ids are the checked rows, not yet checked against the user's scope. The action is
    offered when the user's roles allow `permission` on the model."""

    value: str
    label: Any
    handler: Callable[..., Any]
    permission: str = "change"


@dataclass
class ModelRegistration:
    """Everything the generic views need to know about one model."""

    model: type[models.Model]
    columns: list[Column]
    form_class: type
    filterset_class: type | None = None
    # Quick search: ORM lookups OR-ed together, e.g. ["name__startswith", "phone__startswith"].
    # Keep them prefix lookups on indexed columns: no leading % on a big table.
    search_fields: Sequence[str] = ()
    # [(section title, [field names])]; custom fields and tags get their own sections.
    detail_sections: list[tuple[Any, list[str]]] = field(default_factory=list)
    related_lists: list[RelatedListHook] = field(default_factory=list)
    # Fields the bulk "edit one field" action may set.
    bulk_edit_fields: Sequence[str] = ()
    # Foreign keys the list shows, read for the page's rows with a query per related table
    # (`attach_related`), not joined: joins cost PostgreSQL more to plan than to run.
    list_select_related: Sequence[str] = ()
    # Foreign keys the detail page shows beyond its meta and its sections' fields.
    detail_select_related: Sequence[str] = ()
    default_sort: str = "-created_at"
    page_sizes: Sequence[int] = (25, 50, 100)
    # Services. Signatures (keyword-only):
    #   create(data, custom_data, actor) -> instance
    #   update(instance, data, custom_data, actor, version) -> instance
    #   delete(instance, actor, version)
    #   assign(instance, owner, actor, reason, version=None)
    create: Callable | None = None
    update: Callable | None = None
    delete: Callable | None = None
    assign: Callable | None = None
    # URL naming: "<namespace>:<url_base>_<kind>", paths under "<path_prefix>/".
    namespace: str = ""
    url_base: str = ""
    path_prefix: str = ""
    tags: bool = True
    attachments: bool = True
    shares: bool = True
    # Warnings shown before create / update; the user confirms with `confirm_warnings=1`.
    pre_save_warnings: PreSaveWarnings | None = None
    extra_bulk_actions: list[BulkAction] = field(default_factory=list)
    # Read an own-scope user's list pages part by part (`core.scope.visible_in_parts`):
    # for models whose scope adds pool, assigned or shared records to the user's own.
    list_parts: bool = False

    def __post_init__(self) -> None:
        meta = self.model._meta
        self.namespace = self.namespace or meta.app_label
        self.url_base = self.url_base or meta.model_name
        self.path_prefix = self.path_prefix or f"{meta.model_name}s"
        self.create = self.create or _default_create(self.model)
        self.update = self.update or _default_update
        self.delete = self.delete or _default_delete
        self.assign = self.assign or _default_assign

    def list_queryset(self, user) -> models.QuerySet:
        """The rows of the list page: what the user may see (see `list_parts`)."""
        if self.list_parts:
            from guanxi.core.scope import visible_in_parts

            return visible_in_parts(self.model.objects.all(), user)
        return self.model.objects.visible_to(user)

    # --- naming -------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def verbose_name(self):
        return self.model._meta.verbose_name

    @property
    def verbose_name_plural(self):
        return self.model._meta.verbose_name_plural

    def url_name(self, kind: str) -> str:
        return f"{self.namespace}:{self.url_base}_{kind}"

    def url(self, kind: str, *args: Any) -> str:
        return reverse(self.url_name(kind), args=args)

    def record_url_maker(self, kind: str) -> Callable[[Any], str]:
        """`pk -> url` of a record route, reversed once (a list page links every row)."""
        marker = 987654321
        pattern = self.url(kind, marker)
        before, after = pattern.split(str(marker), 1)
        return lambda pk: f"{before}{pk}{after}"

    def template_names(self, kind: str) -> list[str]:
        meta = self.model._meta
        return [f"{meta.app_label}/{meta.model_name}_{kind}.html", f"core/generic/{kind}.html"]

    # --- columns and related lists ---------------------------------------------------------
    def all_columns(self, custom_fields: Sequence[Any] = ()) -> list[Column]:
        """The registered columns plus one per custom field marked "show in lists"."""
        columns = list(self.columns)
        for custom_field in custom_fields:
            if custom_field.show_in_list:
                columns.append(custom_field_column(custom_field))
        return columns

    def related_list_hooks(self) -> list[RelatedListHook]:
        return [*self.related_lists, *_related_hooks.get(self.label, [])]


def custom_field_column(custom_field) -> Column:
    from guanxi.core.models import CustomFieldType, User
    from guanxi.core.templatetags.generic_tags import custom_value_display

    key = custom_field.key
    users: dict[int, Any] = {}

    def prepare(records: list[models.Model]) -> None:
        if custom_field.field_type != CustomFieldType.USER:
            return
        ids = {record.custom_data.get(key) for record in records} - {None, ""}
        ids = {value for value in ids if isinstance(value, int)}
        users.update(User.objects.in_bulk(ids) if ids else {})

    def accessor(record: models.Model) -> Any:
        value = (record.custom_data or {}).get(key)
        if custom_field.field_type == CustomFieldType.USER:
            return custom_value_display(custom_field, value, users=users)
        return custom_value_display(custom_field, value)

    return Column(name=f"cf_{key}", label=custom_field.label, accessor=accessor, prepare=prepare)


_registry: dict[str, ModelRegistration] = {}
_related_hooks: dict[str, list[RelatedListHook]] = {}


def register_model_views(model: type[models.Model], registration: ModelRegistration) -> None:
    if registration.model is not model:
        raise ValueError("The registration describes another model.")
    _registry[model._meta.label_lower] = registration


def register_related_list(model: type[models.Model] | str, hook: RelatedListHook) -> None:
    """Let a higher app add a related list to another app's detail page."""
    label = model if isinstance(model, str) else model._meta.label_lower
    hooks = _related_hooks.setdefault(label, [])
    if hook not in hooks:
        hooks.append(hook)


_discovered = False


def _discover() -> None:
    """Import every app's `views` module once, so registrations exist before the URLconf
    is loaded (as the admin does with `admin.py`)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        _discovered = True
        autodiscover_modules("views")


def get_registration(model: type[models.Model] | str) -> ModelRegistration | None:
    label = model if isinstance(model, str) else model._meta.label_lower
    _discover()
    return _registry.get(label.lower())


def registrations() -> list[ModelRegistration]:
    _discover()
    return list(_registry.values())


def model_urls(registration: ModelRegistration) -> list:
    """The URL patterns of every generic view of the model."""
    from django.urls import path

    from guanxi.core.views import generic

    prefix = registration.path_prefix
    base = registration.url_base

    def view(cls):
        return cls.as_view(registration=registration)

    return [
        path(f"{prefix}/", view(generic.RecordListView), name=f"{base}_list"),
        path(f"{prefix}/new/", view(generic.RecordCreateView), name=f"{base}_create"),
        path(f"{prefix}/validate/", view(generic.RecordValidateView), name=f"{base}_validate"),
        path(f"{prefix}/bulk/", view(generic.RecordBulkView), name=f"{base}_bulk"),
        path(f"{prefix}/views/", view(generic.SavedViewSaveView), name=f"{base}_view_save"),
        path(
            f"{prefix}/views/<int:view_pk>/delete/",
            view(generic.SavedViewDeleteView),
            name=f"{base}_view_delete",
        ),
        path(f"{prefix}/<int:pk>/", view(generic.RecordDetailView), name=f"{base}_detail"),
        path(f"{prefix}/<int:pk>/edit/", view(generic.RecordUpdateView), name=f"{base}_edit"),
        path(
            f"{prefix}/<int:pk>/validate/",
            view(generic.RecordValidateView),
            name=f"{base}_validate_edit",
        ),
        path(f"{prefix}/<int:pk>/delete/", view(generic.RecordDeleteView), name=f"{base}_delete"),
        path(f"{prefix}/<int:pk>/assign/", view(generic.RecordAssignView), name=f"{base}_assign"),
        path(f"{prefix}/<int:pk>/share/", view(generic.RecordShareView), name=f"{base}_share"),
        path(
            f"{prefix}/<int:pk>/shares/<int:share_pk>/delete/",
            view(generic.RecordUnshareView),
            name=f"{base}_unshare",
        ),
        path(
            f"{prefix}/<int:pk>/attachments/",
            view(generic.AttachmentUploadView),
            name=f"{base}_attachment_upload",
        ),
        path(
            f"{prefix}/<int:pk>/attachments/<int:attachment_pk>/",
            view(generic.AttachmentDownloadView),
            name=f"{base}_attachment_download",
        ),
    ]
