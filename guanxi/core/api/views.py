"""Core's API resources: sign-in token, me, users, departments, roles, picklists, custom
fields, tags, notifications, attachments (download) and the recycle bin."""

from __future__ import annotations

import heapq
import json
from typing import Any

import django_filters
from django.apps import apps
from django.contrib.auth import authenticate
from django.http import FileResponse, Http404, HttpResponse
from django.template import engines
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework import mixins, permissions, renderers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api.base import GuanxiAPIMixin, IsAdministratorOrReadOnly, administrators_only
from guanxi.core.api.pagination import GuanxiPagination
from guanxi.core.api.serializers import (
    CustomFieldSerializer,
    DeletedRecordSerializer,
    DepartmentSerializer,
    MarkReadResultSerializer,
    MarkReadSerializer,
    MeSerializer,
    NotificationSerializer,
    PicklistOptionSerializer,
    PicklistSerializer,
    RoleSerializer,
    TagSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnreadCountSerializer,
    UserSerializer,
)
from guanxi.core.models import (
    Attachment,
    CustomField,
    Department,
    Notification,
    OwnedModel,
    Picklist,
    PicklistOption,
    Role,
    Tag,
    User,
)
from guanxi.core.scope import is_administrator
from guanxi.core.selectors import owned_models, recycle_bin
from guanxi.core.services.attachments import attachment_delete
from guanxi.core.services.configuration import (
    CUSTOM_FIELD_EDITABLE,
    custom_field_create,
    custom_field_update,
    picklist_create,
    picklist_option_create,
    picklist_option_update,
    picklist_update,
    tag_create,
    tag_delete,
    tag_update,
)
from guanxi.core.services.notifications import notification_mark_read, unread_count
from guanxi.core.services.organisation import (
    department_create,
    department_delete,
    department_update,
    role_create,
    role_delete,
    role_update,
    user_create,
    user_set_preferences,
    user_update,
)
from guanxi.core.services.records import record_purge, record_restore

# --- sign-in ----------------------------------------------------------------------------


class TokenObtainView(APIView):
    """Exchange a username and password for an API token. Failed attempts count towards the
    lockout (django-axes), exactly like the sign-in page."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            403: OpenApiResponse(description="Locked out after too many failed attempts."),
        },
        auth=[],
        summary="Get an API token",
    )
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=payload.validated_data["username"],
            password=payload.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            # Answer in the API's own JSON shape instead of axes' HTML lockout page.
            django_request.axes_locked_out = False
            raise PermissionDenied(
                _(
                    "Too many failed sign-in attempts: this account is locked for a while. "
                    "Try again later or ask an administrator to unlock it."
                )
            )
        if user is None or not user.is_active:
            raise APIValidationError(
                {"non_field_errors": [_("Unable to sign in with this username and password.")]}
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(GuanxiAPIMixin, GenericAPIView):
    """The caller's profile; language and time zone are theirs to change."""

    serializer_class = MeSerializer
    pagination_class = None
    filter_backends: list = []

    def get_object(self):
        return User.objects.prefetch_related("roles").get(pk=self.request.user.pk)

    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request):
        user = self.get_object()
        serializer = self.get_serializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user_set_preferences(
            user=user,
            language=serializer.validated_data.get("language"),
            time_zone=serializer.validated_data.get("time_zone"),
        )
        return Response(self.get_serializer(self.get_object()).data)


# --- organisation -----------------------------------------------------------------------


class UserFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(lookup_expr="startswith")
    department = django_filters.NumberFilter(field_name="department_id")
    role = django_filters.CharFilter(field_name="roles__code")

    class Meta:
        model = User
        fields = ["is_active"]


class UserViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    """Everybody reads active users; administrators see inactive ones too and write."""

    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_class = UserFilter
    ordering_fields = ("username", "display_name", "date_joined")
    ordering = ("username",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        users = User.objects.select_related("department").prefetch_related("roles")
        if getattr(self, "swagger_fake_view", False) or not is_administrator(self.request.user):
            users = users.filter(is_active=True)
        return users

    def _fields(self, validated: dict) -> tuple[dict, list | None, str | None]:
        data = dict(validated)
        roles = data.pop("roles", None)
        password = data.pop("password", None)
        return data, roles, password

    def perform_create(self, serializer):
        data, roles, password = self._fields(serializer.validated_data)
        serializer.instance = user_create(
            password=password or None, actor=self.request.user, roles=roles, **data
        )

    def perform_update(self, serializer):
        data, roles, password = self._fields(serializer.validated_data)
        if password:
            raise APIValidationError(
                {"password": [_("Passwords are changed on the password page, not here.")]}
            )
        serializer.instance = user_update(
            user=serializer.instance, actor=self.request.user, roles=roles, **data
        )


class DepartmentFilter(django_filters.FilterSet):
    parent = django_filters.NumberFilter(field_name="parent_id")
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull")
    within = django_filters.NumberFilter(
        method="filter_within", label="This department and every one below it"
    )

    class Meta:
        model = Department
        fields: list[str] = []

    def filter_within(self, queryset, name, value):
        path = Department.objects.filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(path__startswith=path)


class DepartmentViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    """The organisation tree, in tree order (`path`)."""

    queryset = Department.objects.select_related("manager")
    serializer_class = DepartmentSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_class = DepartmentFilter
    ordering_fields = ("path", "name", "sort_order")
    ordering = ("path",)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = department_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        serializer.instance = department_update(
            department=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        department_delete(department=instance, actor=self.request.user)


class RoleViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_fields = ["data_scope", "is_admin"]
    ordering_fields = ("code",)
    ordering = ("code",)

    def perform_create(self, serializer):
        serializer.instance = role_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = role_update(
            role=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        role_delete(role=instance, actor=self.request.user)


# --- configuration ----------------------------------------------------------------------


class PicklistViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    """Picklists with their options (inactive options included, flagged)."""

    queryset = Picklist.objects.prefetch_related("options")
    serializer_class = PicklistSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_fields = ["code"]
    ordering_fields = ("code",)
    ordering = ("code",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = picklist_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = picklist_update(
            picklist=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


class PicklistOptionFilter(django_filters.FilterSet):
    picklist = django_filters.NumberFilter(field_name="picklist_id")
    code = django_filters.CharFilter(field_name="picklist__code")

    class Meta:
        model = PicklistOption
        fields = ["is_active"]


class PicklistOptionViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    """Options are retired (`is_active: false`), never deleted: records point at them."""

    queryset = PicklistOption.objects.all()
    serializer_class = PicklistOptionSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_class = PicklistOptionFilter
    ordering_fields = ("sort_order", "value")
    ordering = ("picklist", "sort_order", "id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = picklist_option_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        picklist = data.pop("picklist", None)
        if picklist is not None and picklist.pk != serializer.instance.picklist_id:
            raise APIValidationError(
                {"picklist": [_("An option cannot move to another picklist.")]}
            )
        serializer.instance = picklist_option_update(
            option=serializer.instance, actor=self.request.user, **data
        )


class CustomFieldFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(method="filter_model", label="Model label")

    class Meta:
        model = CustomField
        fields = ["is_active", "field_type"]

    def filter_model(self, queryset, name, value):
        app_label, _dot, model_name = value.strip().lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model_name)


class CustomFieldViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = CustomField.objects.select_related("content_type")
    serializer_class = CustomFieldSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_class = CustomFieldFilter
    ordering_fields = ("sort_order", "key")
    ordering = ("content_type", "sort_order", "id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = custom_field_create(
            actor=self.request.user, model=data.pop("content_type"), **data
        )

    def perform_update(self, serializer):
        field: CustomField = serializer.instance
        data = dict(serializer.validated_data)
        changes: dict[str, Any] = {}
        for name, value in data.items():
            current = getattr(field, name)
            # Fixed attributes may be sent back unchanged (PUT); the service refuses changes.
            if name in CUSTOM_FIELD_EDITABLE or current != value:
                changes[name] = value
        serializer.instance = custom_field_update(field=field, actor=self.request.user, **changes)


class TagViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    """Everybody may create tags; administrators rename, recolour and delete them."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    filterset_fields = {"name": ["exact", "startswith"]}
    ordering_fields = ("name", "created_at")
    ordering = ("name",)

    def get_permissions(self):
        if self.action in ("update", "partial_update", "destroy"):
            return [permissions.IsAuthenticated(), IsAdministratorOrReadOnly()]
        return [permissions.IsAuthenticated()]

    def perform_create(self, serializer):
        serializer.instance = tag_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = tag_update(
            tag=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        tag_delete(tag=instance, actor=self.request.user)


# --- notifications ----------------------------------------------------------------------


class NotificationViewSet(GuanxiAPIMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's own notifications, newest first."""

    serializer_class = NotificationSerializer
    filterset_fields = ["is_read", "kind"]
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user).select_related("actor")

    @extend_schema(
        request=MarkReadSerializer,
        responses={200: MarkReadResultSerializer},
        summary="Mark notifications read (all of them when no ids are given)",
    )
    @action(detail=False, methods=["post"], url_path="mark-read", pagination_class=None)
    def mark_read(self, request):
        payload = MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        marked = notification_mark_read(user=request.user, ids=payload.validated_data.get("ids"))
        return Response({"marked": marked, "unread": unread_count(request.user)})

    @extend_schema(responses={200: UnreadCountSerializer}, summary="How many are unread")
    @action(
        detail=False,
        methods=["get"],
        url_path="unread-count",
        pagination_class=None,
        filter_backends=[],
    )
    def unread_count(self, request):
        return Response({"unread": unread_count(request.user)})


# --- attachments ------------------------------------------------------------------------


class PassthroughRenderer(renderers.BaseRenderer):
    """Lets a download be asked for with any Accept header; errors still come out as JSON."""

    media_type = "*/*"
    format = "bin"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str) or data is None:
            return data
        return json.dumps(data).encode()


def attachment_get_visible(*, pk, user: User) -> Attachment:
    """The attachment if the user may see the record it hangs on; otherwise 404."""
    attachment = get_object_or_404(
        Attachment.objects.select_related("content_type"), pk=pk, is_deleted=False
    )
    model = attachment.content_type.model_class()
    if model is not None and issubclass(model, OwnedModel):
        if model.objects.visible_to(user).filter(pk=attachment.object_id).exists():
            return attachment
    elif model is not None and is_administrator(user):
        return attachment
    raise Http404


class AttachmentViewSet(GuanxiAPIMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Download or remove one attachment. Upload and list live on the record:
    `POST /api/v1/<resource>/<id>/attachments/`."""

    queryset = Attachment.objects.none()
    serializer_class = None
    pagination_class = None
    filter_backends: list = []

    def get_object(self):
        return attachment_get_visible(pk=self.kwargs["pk"], user=self.request.user)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download the file",
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer, PassthroughRenderer],
    )
    def download(self, request, pk=None):
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404 from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.mime_type or "application/octet-stream",
        )

    @extend_schema(responses={204: None}, summary="Remove the attachment")
    def destroy(self, request, *args, **kwargs):
        attachment = self.get_object()
        model = attachment.content_type.model_class()
        if issubclass(model, OwnedModel):
            editable = model.objects.editable_by(request.user).filter(pk=attachment.object_id)
            if not editable.exists():
                raise PermissionDenied(_("You may see this record but not change it."))
        attachment_delete(attachment=attachment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- recycle bin ------------------------------------------------------------------------


IsAdministrator = administrators_only(
    gettext_lazy("Only an administrator can open the recycle bin.")
)


def owned_model_by_label(label: str) -> type[OwnedModel]:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    if model not in owned_models():
        raise Http404
    return model


def _deleted_item(record: OwnedModel) -> dict:
    return {
        "model": record._meta.label_lower,
        "model_name": str(record._meta.verbose_name),
        "id": record.pk,
        "title": str(record),
        "owner": record.owner_id,
        "deleted_at": record.deleted_at,
        "deleted_by": record.deleted_by_id,
        "deleted_by_name": str(record.deleted_by) if record.deleted_by_id else None,
    }


class RecycleBinView(GuanxiAPIMixin, GenericAPIView):
    """Deleted records of every owned model, most recently deleted first (administrators)."""

    permission_classes = [permissions.IsAuthenticated, IsAdministrator]
    pagination_class = GuanxiPagination
    serializer_class = DeletedRecordSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "model", OpenApiTypes.STR, description='Only this model, e.g. "customers.account".'
            )
        ],
        responses={200: DeletedRecordSerializer(many=True)},
        summary="List the recycle bin",
    )
    def get(self, request):
        label = request.query_params.get("model")
        models = [owned_model_by_label(label)] if label else owned_models()

        def fetch(offset: int, limit: int) -> list:
            # Each model's newest deletions, merged; bounded by the page asked for.
            per_model = [
                list(recycle_bin(model=model).order_by("-deleted_at", "-pk")[: offset + limit])
                for model in models
            ]
            merged = heapq.merge(
                *per_model,
                key=lambda record: record.deleted_at.timestamp() if record.deleted_at else 0,
                reverse=True,
            )
            return list(merged)[offset : offset + limit]

        paginator = self.paginator
        rows = paginator.paginate_rows(request, fetch)
        data = DeletedRecordSerializer([_deleted_item(row) for row in rows], many=True).data
        return paginator.get_paginated_response(data)


class RecycleBinRestoreView(GuanxiAPIMixin, APIView):
    permission_classes = [permissions.IsAuthenticated, IsAdministrator]

    @extend_schema(request=None, responses={200: DeletedRecordSerializer}, summary="Restore")
    def post(self, request, model_label: str, pk: int):
        model = owned_model_by_label(model_label)
        record = record_restore(model=model, pk=pk, actor=request.user)
        return Response(DeletedRecordSerializer(_deleted_item(record)).data)


class RecycleBinPurgeView(GuanxiAPIMixin, APIView):
    permission_classes = [permissions.IsAuthenticated, IsAdministrator]

    @extend_schema(request=None, responses={204: None}, summary="Delete for good")
    def delete(self, request, model_label: str, pk: int):
        model = owned_model_by_label(model_label)
        record_purge(model=model, pk=pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- docs -------------------------------------------------------------------------------

# drf-spectacular's own ReDoc page pulls web fonts from Google; this one loads nothing from
# outside the server (the ReDoc bundle comes from drf_spectacular_sidecar's static files).
REDOC_PAGE = """<!DOCTYPE html>
<html>
  <head>
    <title>{{ title|default:"ReDoc" }}</title>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <redoc spec-url="{{ schema_url }}"></redoc>
    <script src="{{ redoc_standalone }}"></script>
  </body>
</html>
"""


class OfflineRedocView(SpectacularRedocView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        template = engines["django"].from_string(REDOC_PAGE)
        context = {
            "title": self.title,
            "redoc_standalone": self._redoc_standalone(),
            "schema_url": self._get_schema_url(request),
        }
        return HttpResponse(template.render(context, request))
