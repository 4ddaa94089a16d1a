"""The base every API resource is built on, and `OwnedRecordViewSet` for owned records.

An owned-record viewset:
- starts every read from `Model.objects.visible_to(user)` (invisible -> 404, never 403);
- checks the role action with `can(user, Model, action)` (list/create/update/delete...);
- loads records it changes from `editable_by` / `deletable_by` (visible but not editable
  -> 403);
- writes only through the services (`record_create`, `record_update(version=)`,
  `record_delete`, `record_assign`, `record_share`, `attachment_upload`,
  `record_tags_set`), never `serializer.save()`.

A domain app subclasses it with `model`, `serializer_class`, `filterset_class` and
`ordering_fields`, and overrides `perform_record_create` / `perform_record_update` when it
has its own service.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.fields import Field, SkipField
from rest_framework.filters import OrderingFilter
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField, RelatedField
from rest_framework.response import Response

from guanxi.core.api.serializers import (
    AssignSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    ChangeRecordSerializer,
    ShareSerializer,
    TimelineEntrySerializer,
)
from guanxi.core.models import OwnedModel, Tag, TaggedItem, User
from guanxi.core.scope import can, is_administrator, scope_q, visible_in_parts
from guanxi.core.selectors import record_history, record_timeline
from guanxi.core.services.attachments import attachment_upload, attachments_of
from guanxi.core.services.configuration import record_tags_set, tag_create, tags_of
from guanxi.core.services.records import (
    record_assign,
    record_create,
    record_delete,
    record_share,
    record_update,
)

# --- shared pieces ----------------------------------------------------------------------


class StableOrderingFilter(OrderingFilter):
    """OrderingFilter restricted to the view's whitelist, with the primary key as the last
    key so equal values never make rows jump between pages."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        ordering = list(ordering)
        if not any(term.lstrip("-") in ("id", "pk") for term in ordering):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering


class NamedFiltersBackend(DjangoFilterBackend):
    """DjangoFilterBackend that leaves the list alone when the request names none of its
    filters: building and validating the FilterSet's form was ~8 % of an unfiltered page,
    and with no filter given it changes nothing (django-filter skips empty values)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        # A prefix, not the name: range filters read suffixed parameters (amount_min).
        names = tuple(filterset_class.base_filters)
        if not any(parameter.startswith(names) for parameter in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class GuanxiAPIMixin:
    # What every Guanxi API view shares: filters, and the caller's language and time zone
    # (token-authenticated requests are only known to DRF, after Django's middleware ran).
    # A comment, not a docstring: the schema would show it as every operation's description.

    filter_backends = [NamedFiltersBackend, StableOrderingFilter]
    ordering_fields: tuple[str, ...] = ("id",)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        user = request.user
        if user.is_authenticated:
            if user.language:
                translation.activate(user.language)
            try:
                timezone.activate(user.time_zone)
            except Exception:  # an unknown zone name must not break the API
                timezone.deactivate()


class IsAdministrator(permissions.BasePermission):
    """Administrators only; `administrators_only(message)` says why to everybody else."""

    message = gettext_lazy("Only an administrator can do this.")

    def has_permission(self, request, view) -> bool:
        return is_administrator(request.user)


def administrators_only(message) -> type[IsAdministrator]:
    return type("IsAdministrator", (IsAdministrator,), {"message": message})


class IsAdministratorOrReadOnly(permissions.BasePermission):
    """Everybody signed in reads; administrators write."""

    message = gettext_lazy("Only an administrator can change this.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_administrator(request.user)


ROLE_REFUSED = gettext_lazy("Your role does not allow this.")


class RecordActionPermission(permissions.BasePermission):
    """The caller's roles must allow the action the view asks for on its model.

    On a detail route the check waits until the record is loaded (`get_record`), so a record
    the caller cannot see answers 404 whatever the role, never 403."""

    message = ROLE_REFUSED

    def has_permission(self, request, view) -> bool:
        if getattr(view, "detail", False):
            return True
        needed = view.role_action(request)
        return needed is None or can(request.user, view.model, needed)


class OwnedRecordFilterSet(django_filters.FilterSet):
    """Filters every owned resource has; subclasses add their own."""

    owner = django_filters.NumberFilter(field_name="owner_id")
    department = django_filters.NumberFilter(field_name="department_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")


def attach_tag_names(records: list[models.Model]) -> None:
    """Load the tag names of many records with one query (no N+1 in lists)."""
    if not records:
        return
    content_type = ContentType.objects.get_for_model(type(records[0]))
    names: dict[int, list[str]] = {record.pk: [] for record in records}
    rows = (
        TaggedItem.objects.filter(content_type=content_type, object_id__in=list(names))
        .order_by("tag__name")
        .values_list("object_id", "tag__name")
    )
    for object_id, name in rows:
        names[object_id].append(name)
    for record in records:
        record._api_tag_names = names[record.pk]


def prefetch_links(records: list[models.Model], names: Sequence[str]) -> None:
    """Load the links `names` of many records of one model, with one query per target model.

    `prefetch_related` reads each link on its own: the five picklist links of an account
    page (industry, source, status, rating, level) were five reads of the options table.
    Forward links to a primary key are read here grouped by target; the rest (many-to-many,
    reverse links) go through Django's prefetch."""
    if not records or not names:
        return
    model = type(records[0])
    by_target: dict[type[models.Model], list[models.ForeignKey]] = defaultdict(list)
    others = []
    for name in names:
        field = model._meta.get_field(name)
        if field.many_to_one and field.concrete and field.target_field.primary_key:
            by_target[field.related_model].append(field)
        else:
            others.append(name)
    for target, links in by_target.items():
        ids = {getattr(record, link.attname) for record in records for link in links}
        ids.discard(None)
        # The base manager, as Django's own forward-link descriptor uses.
        found = target._base_manager.in_bulk(ids) if ids else {}
        for record in records:
            for link in links:
                link.set_cached_value(record, found.get(getattr(record, link.attname)))
    if others:
        models.prefetch_related_objects(records, *others)


class TagNamesField(serializers.ListField):
    """A record's tags as a list of names; written by the view through `record_tags_set`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=50))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        names = getattr(instance, "_api_tag_names", None)
        if names is None:
            names = sorted(tags_of(instance).values_list("name", flat=True))
        return names


class OwnedRecordListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        records = list(data.all() if isinstance(data, models.Manager) else data)
        attach_tag_names(records)
        return super().to_representation(records)


class VisibleRecordField(serializers.PrimaryKeyRelatedField):
    """A link to another owned record: only records the caller can see may be chosen (an
    invisible id answers like a missing one)."""

    def __init__(self, model: type[OwnedModel], **kwargs):
        self.target_model = model
        kwargs.setdefault("queryset", model.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.target_model.objects.none()
        return self.target_model.objects.visible_to(user)


_SKIPPED = object()


def _stock_reader(field: Field):
    """DRF's own way of reading one field of an instance (Serializer.to_representation)."""

    def read(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return _SKIPPED
        check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check_for_none is None else field.to_representation(attribute)

    return read


def _column_reader(field: Field, column: str):
    to_representation = field.to_representation

    def read(instance):
        value = getattr(instance, column)
        return None if value is None else to_representation(value)

    return read


def _foreign_key_reader(attname: str):
    def read(instance):
        return getattr(instance, attname)

    return read


def field_reader(field: Field, model: type[models.Model]):
    """How to read `field` of a `model` instance for output, as DRF would.

    A field whose source is one of the model's columns is read straight from the instance,
    and a primary-key link as its `<name>_id`: DRF's generic path (source walking, callable
    checks, PKOnlyObject) costs more than the value itself, 50 rows x 40 fields a page.
    Everything else (dotted sources, methods, fields that read their own way) goes DRF's way.
    """
    attrs = field.source_attrs
    if field.source == "*" or len(attrs) != 1:
        return _stock_reader(field)
    try:
        model_field = model._meta.get_field(attrs[0])
    except Exception:
        return _stock_reader(field)
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return _stock_reader(field)
    kind = type(field)
    if isinstance(field, RelatedField):
        reads_pk_as_drf_does = (
            isinstance(field, PrimaryKeyRelatedField)
            and kind.get_attribute is RelatedField.get_attribute
            and kind.to_representation is PrimaryKeyRelatedField.to_representation
            and field.pk_field is None
            and field.use_pk_only_optimization()
            and model_field.is_relation
        )
        if reads_pk_as_drf_does:
            return _foreign_key_reader(model_field.attname)
        return _stock_reader(field)
    if kind.get_attribute is not Field.get_attribute:
        return _stock_reader(field)
    return _column_reader(field, model_field.name)


class FastReadSerializerMixin:
    """`to_representation` with each readable field's reader worked out once per serializer
    (see `field_reader`); the output is exactly DRF's."""

    @functools.cached_property
    def _field_readers(self) -> list[tuple[str, Any]]:
        model = self.Meta.model
        return [
            (field.field_name, field_reader(field, model))
            for field in self.fields.values()
            if not field.write_only
        ]

    def to_representation(self, instance):
        data = {}
        for name, read in self._field_readers:
            value = read(instance)
            if value is not _SKIPPED:
                data[name] = value
        return data


class OwnedRecordSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    """Base of every owned record's serializer. Subclasses set `Meta.model` and add their
    fields to `OwnedRecordSerializer.Meta.fields`."""

    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_name = serializers.SerializerMethodField()
    department = serializers.PrimaryKeyRelatedField(read_only=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; required when updating (stale -> 409).",
    )
    custom_fields = serializers.DictField(
        source="custom_data",
        required=False,
        help_text="Custom field values by key; validated against the model's custom fields.",
    )
    tags = TagNamesField(help_text="Tag names; unknown names create the tag.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model: type[models.Model] | None = None
        fields: tuple[str, ...] = (
            "id",
            "version",
            "owner",
            "owner_name",
            "department",
            "created_at",
            "updated_at",
            "custom_fields",
            "tags",
        )
        list_serializer_class = OwnedRecordListSerializer

    def get_owner_name(self, record: OwnedModel) -> str | None:
        return str(record.owner) if record.owner_id else None


# --- the owned-record viewset -----------------------------------------------------------

ROLE_ACTIONS = {
    "list": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "assign": "assign",
    "share": "change",
}

VERSION_PARAMETER = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    description="The version you read; a stale one answers 409.",
)


class OwnedRecordViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    model: type[OwnedModel]
    permission_classes = [permissions.IsAuthenticated, RecordActionPermission]
    role_actions: dict[str, str] = ROLE_ACTIONS
    # Join only the few big relations a page needs and prefetch the small lookup tables
    # (picklist options, levels, processes): PostgreSQL searches join orders exhaustively,
    # and an account page joined to its eight lookups took 38 ms to plan and 1 ms to run
    # (dataset L); each prefetch is one `id IN (...)` of a tiny table.
    list_select_related: tuple[str, ...] = ("owner",)
    list_prefetch_related: tuple[str, ...] = ()
    ordering_fields: tuple[str, ...] = ("created_at", "updated_at")
    ordering: tuple[str, ...] = ("-created_at", "-id")
    # True: a rep's list reads each part of their scope (own, shared, assigned, pool) in
    # index order and merges them, instead of sorting every matching row for each page
    # (see `guanxi.core.scope.visible_in_parts`).
    list_in_parts: bool = False

    # --- permissions and loading ----------------------------------------------------------
    def role_action(self, request) -> str | None:
        """The role action this request needs on the model (None: visibility is enough)."""
        if self.action == "attachments":
            return "view" if request.method in permissions.SAFE_METHODS else "change"
        return self.role_actions.get(self.action)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        records = self.model.objects.select_related(*self.list_select_related)
        if self.list_in_parts and self.action == "list":
            records = visible_in_parts(records, self.request.user)
        else:
            records = records.visible_to(self.request.user)
        if self.list_prefetch_related and not self.prefetches_page():
            records = records.prefetch_related(*self.list_prefetch_related)
        return records

    def prefetches_page(self) -> bool:
        """A paginated list loads its rows' links page-wise (`paginate_queryset`)."""
        return self.action == "list" and self.paginator is not None

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.list_prefetch_related:
            prefetch_links(page, self.list_prefetch_related)
        return page

    def get_record(self, scope_action: str = "view") -> OwnedModel:
        """The record of the URL: 404 unless visible; 403 unless the role allows this
        route's action and the data scope allows `scope_action` ("change", "delete",
        "assign", ...) on it. Every detail route must load its record through here."""
        record = get_object_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_field])
        needed = self.role_action(self.request)
        if needed is not None and not can(self.request.user, self.model, needed):
            raise PermissionDenied(ROLE_REFUSED)
        if scope_action != "view":
            allowed = self.model.objects.filter(
                scope_q(self.request.user, self.model, scope_action), pk=record.pk
            ).exists()
            if not allowed:
                raise PermissionDenied(_("You may see this record but not change it."))
        self.check_object_permissions(self.request, record)
        return record

    def get_object(self):
        return self.get_record("view")

    # --- service hooks --------------------------------------------------------------------
    @staticmethod
    def split_validated(validated: dict[str, Any]) -> tuple[dict, dict | None, list | None]:
        """validated_data -> (model field data, custom_data, tag names)."""
        data = dict(validated)
        data.pop("version", None)
        custom_data = data.pop("custom_data", None)
        tag_names = data.pop("tags", None)
        return data, custom_data, tag_names

    def perform_record_create(self, *, data: dict, custom_data: dict | None) -> OwnedModel:
        return record_create(
            model=self.model, data=data, actor=self.request.user, custom_data=custom_data
        )

    def perform_record_update(
        self, *, record: OwnedModel, data: dict, custom_data: dict | None, version: int
    ) -> OwnedModel:
        return record_update(
            instance=record,
            data=data,
            actor=self.request.user,
            version=version,
            custom_data=custom_data,
        )

    def perform_record_delete(self, *, record: OwnedModel, version: int | None) -> None:
        record_delete(instance=record, actor=self.request.user, version=version)

    def perform_record_assign(
        self, *, record: OwnedModel, owner: User, reason: str, version: int | None
    ) -> OwnedModel:
        return record_assign(
            instance=record, owner=owner, actor=self.request.user, reason=reason, version=version
        )

    def set_tags(self, record: OwnedModel, names: list[str]) -> None:
        wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        tags = list(Tag.objects.filter(name__in=wanted))
        known = {tag.name for tag in tags}
        for name in wanted:
            if name not in known:
                tags.append(tag_create(actor=self.request.user, name=name))
        record_tags_set(record=record, tags=tags, actor=self.request.user)

    # --- CRUD -----------------------------------------------------------------------------
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, custom_data, tag_names = self.split_validated(serializer.validated_data)
        with transaction.atomic():
            record = self.perform_record_create(data=data, custom_data=custom_data)
            if tag_names is not None:
                self.set_tags(record, tag_names)
        record = self.get_queryset().filter(pk=record.pk).first() or record
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        record = self.get_record("change")
        sent = request.data.get("version") if hasattr(request.data, "get") else None
        if sent in (None, ""):
            raise APIValidationError({"version": [_("version is required")]})
        serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data["version"]
        data, custom_data, tag_names = self.split_validated(serializer.validated_data)
        with transaction.atomic():
            record = self.perform_record_update(
                record=record, data=data, custom_data=custom_data, version=version
            )
            if tag_names is not None:
                self.set_tags(record, tag_names)
        record = self.get_queryset().filter(pk=record.pk).first() or record
        return Response(self.get_serializer(record).data)

    @extend_schema(parameters=[VERSION_PARAMETER])
    def destroy(self, request, *args, **kwargs):
        record = self.get_record("delete")
        raw = request.query_params.get("version")
        if raw in (None, "") and hasattr(request.data, "get"):
            raw = request.data.get("version")
        version = None
        if raw not in (None, ""):
            try:
                version = int(raw)
            except (TypeError, ValueError):
                raise APIValidationError({"version": [_("Enter a whole number.")]}) from None
        self.perform_record_delete(record=record, version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- actions on any owned record ------------------------------------------------------
    @extend_schema(request=AssignSerializer, summary="Give the record to another owner")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        record = self.get_record("assign")
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        self.perform_record_assign(
            record=record,
            owner=payload.validated_data["owner"],
            reason=payload.validated_data.get("reason", ""),
            version=payload.validated_data.get("version"),
        )
        record = self.get_queryset().filter(pk=record.pk).first() or record
        return Response(self.get_serializer(record).data)

    @extend_schema(
        request=ShareSerializer,
        responses={201: ShareSerializer},
        summary="Share the record with a user or a department",
    )
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        record = self.get_record("change")
        payload = ShareSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        share = record_share(instance=record, actor=request.user, **payload.validated_data)
        return Response(ShareSerializer(share).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ChangeRecordSerializer(many=True)},
        summary="The record's audit history, newest first",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, required=False)],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        record = self.get_record("view")
        changes = record_history(record=record, limit=_limit(request))
        return Response(ChangeRecordSerializer(changes, many=True).data)

    @extend_schema(
        request=None,
        responses={200: TimelineEntrySerializer(many=True)},
        summary="The record's timeline, newest first",
        parameters=[OpenApiParameter("limit", OpenApiTypes.INT, required=False)],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        record = self.get_record("view")
        entries = record_timeline(record=record, limit=_limit(request))
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: AttachmentSerializer(many=True)},
        summary="The record's attachments",
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
        summary="Attach a file to the record",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def attachments(self, request, pk=None):
        if request.method == "GET":
            record = self.get_record("view")
            context = self.get_serializer_context()
            return Response(
                AttachmentSerializer(attachments_of(record), many=True, context=context).data
            )
        record = self.get_record("change")
        payload = AttachmentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        attachment = attachment_upload(
            record=record, uploaded_file=payload.validated_data["file"], actor=request.user
        )
        return Response(
            AttachmentSerializer(attachment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


def _limit(request, default: int = 200, cap: int = 1000) -> int:
    try:
        value = int(request.query_params.get("limit", default))
    except (TypeError, ValueError):
        return default
    return max(1, min(value, cap))
