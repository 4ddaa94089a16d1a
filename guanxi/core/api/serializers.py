"""Serializers of core's resources. Thin: they shape and type-check data; every write goes
through a service called by the viewset."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guanxi.core.models import (
    Attachment,
    ChangeRecord,
    CustomField,
    Department,
    Notification,
    Picklist,
    PicklistOption,
    RecordShare,
    Role,
    ShareAccess,
    Tag,
    TimelineEntry,
    User,
)
from guanxi.core.scope import is_administrator

# --- organisation -----------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    roles = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Role.objects.all(), required=False
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Only when creating a user; empty means the user cannot sign in with a password.",
    )

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "name",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "department",
            "manager",
            "language",
            "time_zone",
            "is_active",
            "roles",
            "password",
            "date_joined",
            "last_login",
        )
        read_only_fields = ("date_joined", "last_login")


class MeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    roles = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)
    is_administrator = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "name",
            "display_name",
            "email",
            "phone",
            "department",
            "manager",
            "language",
            "time_zone",
            "roles",
            "is_administrator",
        )
        read_only_fields = (
            "id",
            "username",
            "display_name",
            "email",
            "phone",
            "department",
            "manager",
        )

    def get_is_administrator(self, user: User) -> bool:
        return is_administrator(user)


class DepartmentSerializer(serializers.ModelSerializer):
    manager_name = serializers.SerializerMethodField()

    class Meta:
        model = Department
        fields = (
            "id",
            "name",
            "parent",
            "path",
            "depth",
            "manager",
            "manager_name",
            "sort_order",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("path", "depth", "created_at", "updated_at")

    def get_manager_name(self, department: Department) -> str | None:
        return str(department.manager) if department.manager_id else None


class RoleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    permissions = serializers.JSONField(
        required=False,
        help_text='Model label (or "*") -> list of actions, e.g. {"customers.account": ["view"]}.',
    )

    class Meta:
        model = Role
        fields = (
            "id",
            "code",
            "name",
            "name_zh",
            "name_en",
            "data_scope",
            "permissions",
            "is_admin",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")


# --- configuration ----------------------------------------------------------------------


class PicklistOptionSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = PicklistOption
        fields = (
            "id",
            "picklist",
            "value",
            "label",
            "label_zh",
            "label_en",
            "sort_order",
            "is_active",
            "is_default",
        )
        extra_kwargs = {"sort_order": {"required": False}}
        # The (picklist, value) uniqueness is checked by the service's full_clean.
        validators: list = []


class PicklistSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    options = PicklistOptionSerializer(many=True, read_only=True)

    class Meta:
        model = Picklist
        fields = ("id", "code", "name", "name_zh", "name_en", "options")


@extend_schema_field(OpenApiTypes.STR)
class OwnedModelLabelField(serializers.Field):
    """A model that obeys the data scope, as its label ("customers.account")."""

    def to_representation(self, content_type: ContentType) -> str:
        return f"{content_type.app_label}.{content_type.model}"

    def to_internal_value(self, data) -> ContentType:
        from guanxi.core.selectors import owned_models

        labels = {model._meta.label_lower: model for model in owned_models()}
        model = labels.get(str(data).strip().lower())
        if model is None:
            raise serializers.ValidationError(_("Custom fields cannot be added to this model."))
        return ContentType.objects.get_for_model(model)


class CustomFieldSerializer(serializers.ModelSerializer):
    model = OwnedModelLabelField(
        source="content_type",
        help_text='The model label, e.g. "customers.account". Fixed after creation.',
    )
    label = serializers.CharField(read_only=True)
    choices = serializers.JSONField(required=False)

    class Meta:
        model = CustomField
        fields = (
            "id",
            "model",
            "key",
            "label",
            "label_zh",
            "label_en",
            "field_type",
            "required",
            "choices",
            "sort_order",
            "show_in_list",
            "is_active",
        )
        validators: list = []


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "name", "color", "created_at")
        read_only_fields = ("created_at",)


class NotificationSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "text", "url", "is_read", "actor", "actor_name", "created_at")
        read_only_fields = fields

    def get_actor_name(self, notification: Notification) -> str | None:
        return str(notification.actor) if notification.actor_id else None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Notifications to mark read; leave out to mark all of them.",
    )


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


# --- what hangs off any record ----------------------------------------------------------


class ChangeRecordSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRecord
        fields = (
            "id",
            "action",
            "actor",
            "actor_name",
            "request_id",
            "created_at",
            "before",
            "after",
            "message",
        )
        read_only_fields = fields

    def get_actor_name(self, change: ChangeRecord) -> str | None:
        return str(change.actor) if change.actor_id else None


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEntry
        fields = ("id", "kind", "text", "actor", "actor_name", "created_at", "data")
        read_only_fields = fields

    def get_actor_name(self, entry: TimelineEntry) -> str | None:
        return str(entry.actor) if entry.actor_id else None


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = (
            "id",
            "filename",
            "size",
            "mime_type",
            "uploaded_by",
            "created_at",
            "download_url",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        path = reverse("api:attachment-download", kwargs={"pk": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class AssignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    version = serializers.IntegerField(required=False, min_value=1)


class ShareSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    access = serializers.ChoiceField(choices=ShareAccess.choices, default=ShareAccess.READ)

    class Meta:
        model = RecordShare
        fields = ("id", "user", "department", "access", "expires_at", "created_at")
        read_only_fields = ("id", "created_at")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class DeletedRecordSerializer(serializers.Serializer):
    model = serializers.CharField(help_text='Model label, e.g. "customers.account".')
    model_name = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    deleted_at = serializers.DateTimeField(allow_null=True)
    deleted_by = serializers.IntegerField(allow_null=True)
    deleted_by_name = serializers.CharField(allow_null=True)
