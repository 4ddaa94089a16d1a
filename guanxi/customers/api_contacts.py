"""Contacts, account-contact links, groups and membership over the REST API:

- `/api/v1/contacts/` with nested `phones` / `emails` (written through the services, which
  normalise them); filters `account`, `name` (prefix), `phone` (digits prefix);
- `/api/v1/account-contacts/` (filters `account`, `contact`, `role`, `is_primary`);
- `/api/v1/groups/` + `GET groups/{id}/members/`, `POST groups/{id}/add-accounts/` and
  `POST groups/{id}/remove-accounts/` (`{"accounts": [ids]}`);
- `/api/v1/points-entries/` (`?account=`): an account's points ledger; `POST` records an entry
  (the account must be visible, and editable by a role that may change accounts);
- `/api/v1/membership-levels/`: everybody reads, administrators write.

Thin: the customers services do the work.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from guanxi.core.api.base import (
    ROLE_ACTIONS,
    ROLE_REFUSED,
    GuanxiAPIMixin,
    IsAdministratorOrReadOnly,
    OwnedRecordFilterSet,
    OwnedRecordSerializer,
    OwnedRecordViewSet,
    VisibleRecordField,
)
from guanxi.core.api.registry import register_viewset
from guanxi.core.phones import email_mask, phone_digits, phone_mask
from guanxi.core.scope import can

# The generic resources of api.py first, so the registrations below replace them.
from guanxi.customers import api as _api  # noqa: F401  (accounts first)
from guanxi.customers import services
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
    Group,
    MembershipLevel,
    PointsEntry,
)
from guanxi.customers.selectors import group_members


def _details_visible(context) -> bool:
    from guanxi.customers.views_contacts import contact_details_visible

    request = context.get("request")
    return contact_details_visible(getattr(request, "user", None))


# --- contacts ---------------------------------------------------------------------------


class ContactPhoneSerializer(serializers.ModelSerializer):
    number = serializers.CharField(max_length=64)

    class Meta:
        model = ContactPhone
        fields = ("number", "kind", "is_primary")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _details_visible(self.context):
            data["number"] = phone_mask(data["number"])
        return data


class ContactEmailSerializer(serializers.ModelSerializer):
    address = serializers.CharField(max_length=254)

    class Meta:
        model = ContactEmail
        fields = ("address", "kind", "is_primary")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _details_visible(self.context):
            data["address"] = email_mask(data["address"])
        return data


class ContactSerializer(OwnedRecordSerializer):
    phones = ContactPhoneSerializer(
        many=True, required=False, help_text="Replaces every phone when sent."
    )
    emails = ContactEmailSerializer(
        many=True, required=False, help_text="Replaces every e-mail when sent."
    )

    class Meta(OwnedRecordSerializer.Meta):
        model = Contact
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "name",
            "gender",
            "title",
            "birthday",
            "wechat",
            "address",
            "notes",
            "phones",
            "emails",
        )


class ContactFilter(OwnedRecordFilterSet):
    name = django_filters.CharFilter(
        field_name="name", lookup_expr="startswith", label="Name starts with"
    )
    account = django_filters.NumberFilter(method="filter_account", label="Linked to account")
    phone = django_filters.CharFilter(method="filter_phone", label="Phone digits start with")

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_account(self, queryset, name, value):
        links = AccountContact.objects.filter(
            contact_id=OuterRef("pk"), account_id=value, is_deleted=False
        )
        return queryset.filter(Exists(links))

    def filter_phone(self, queryset, name, value):
        digits = phone_digits(value) or "".join(ch for ch in value if ch.isdigit())
        if not digits:
            return queryset
        phones = ContactPhone.objects.filter(contact_id=OuterRef("pk"), digits__startswith=digits)
        return queryset.filter(Exists(phones))


def _points(data: dict, key: str):
    items = data.pop(key, None)
    return None if items is None else [dict(item) for item in items]


def _service_errors(error: ValidationError) -> ValidationError:
    """The service calls phone errors "numbers"; the API field is "phones"."""
    if hasattr(error, "error_dict") and "numbers" in error.error_dict:
        errors = dict(error.error_dict)
        errors["phones"] = errors.pop("numbers")
        return ValidationError(errors)
    return error


class ContactViewSet(OwnedRecordViewSet):
    """Contacts (people at customers) the caller may see."""

    model = Contact
    queryset = Contact.objects.none()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    list_prefetch_related = ("phones", "emails")
    ordering_fields = ("name", "created_at", "updated_at")

    def perform_record_create(self, *, data, custom_data):
        phones, emails = _points(data, "phones"), _points(data, "emails")
        try:
            return services.contact_create(
                actor=self.request.user,
                data=data,
                phones=phones,
                emails=emails,
                custom_data=custom_data,
            )
        except ValidationError as error:
            raise _service_errors(error) from None

    def perform_record_update(self, *, record, data, custom_data, version):
        phones, emails = _points(data, "phones"), _points(data, "emails")
        try:
            return services.contact_update(
                contact=record,
                actor=self.request.user,
                data=data,
                version=version,
                phones=phones,
                emails=emails,
                custom_data=custom_data,
            )
        except ValidationError as error:
            raise _service_errors(error) from None

    def perform_record_delete(self, *, record, version):
        services.contact_delete(contact=record, actor=self.request.user, version=version)


# --- account-contact links --------------------------------------------------------------


class AccountContactSerializer(OwnedRecordSerializer):
    account = VisibleRecordField(Account)
    contact = VisibleRecordField(Contact)
    account_name = serializers.CharField(source="account.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    role_label = serializers.CharField(source="role.label", read_only=True, default=None)

    class Meta(OwnedRecordSerializer.Meta):
        model = AccountContact
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "account",
            "account_name",
            "contact",
            "contact_name",
            "role",
            "role_label",
            "job_title",
            "is_primary",
        )
        validators: list = []  # "linked once" is the service's rule

    def validate_role(self, value):
        if value is not None and value.picklist.code != "contact_role":
            raise serializers.ValidationError(_("Choose a contact role."))
        return value


class AccountContactFilter(OwnedRecordFilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    role = django_filters.NumberFilter(field_name="role_id")

    class Meta:
        model = AccountContact
        fields = ["is_primary"]


class AccountContactViewSet(OwnedRecordViewSet):
    """Which contact works at which account, in what role. A link is owned like its account."""

    model = AccountContact
    queryset = AccountContact.objects.none()
    serializer_class = AccountContactSerializer
    filterset_class = AccountContactFilter
    list_select_related = ("owner", "account", "contact", "role")
    ordering_fields = ("created_at", "updated_at")

    def perform_record_create(self, *, data, custom_data):
        account = data["account"]
        if not Account.objects.editable_by(self.request.user).filter(pk=account.pk).exists():
            raise PermissionDenied(_("You may not change this account's contacts."))
        return services.account_contact_link(
            account=account,
            contact=data["contact"],
            actor=self.request.user,
            role=data.get("role"),
            job_title=data.get("job_title", ""),
            is_primary=data.get("is_primary", False),
        )

    def perform_record_update(self, *, record, data, custom_data, version):
        for fixed in ("account", "contact"):
            value = data.pop(fixed, None)
            if value is not None and value.pk != getattr(record, f"{fixed}_id"):
                raise APIValidationError(
                    {fixed: [_("Unlink the contact and link it again instead.")]}
                )
        return services.account_contact_update(
            link=record, actor=self.request.user, data=data, version=version
        )

    def perform_record_delete(self, *, record, version):
        services.account_contact_unlink(link=record, actor=self.request.user, version=version)

    def perform_record_assign(self, *, record, owner, reason, version):
        raise APIValidationError(
            {"owner": [_("A contact link belongs to its account's owner: transfer the account.")]}
        )


# --- groups -----------------------------------------------------------------------------


class GroupSerializer(OwnedRecordSerializer):
    conditions = serializers.JSONField(
        required=False,
        help_text='Dynamic groups: {"match": "all"|"any", "conditions": '
        '[{"field": ..., "op": ..., "value": ...}]}',
    )

    class Meta(OwnedRecordSerializer.Meta):
        model = Group
        fields = (*OwnedRecordSerializer.Meta.fields, "name", "kind", "description", "conditions")


class GroupFilter(OwnedRecordFilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="startswith")

    class Meta:
        model = Group
        fields = ["kind"]


class GroupMemberSerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ("id", "name", "kind", "owner", "owner_name", "created_at")
        read_only_fields = fields

    def get_owner_name(self, account) -> str | None:
        return str(account.owner) if account.owner_id else None


class GroupAccountsSerializer(serializers.Serializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=1000
    )


class GroupViewSet(OwnedRecordViewSet):
    """Customer groups: static lists or saved filters (dynamic)."""

    model = Group
    queryset = Group.objects.none()
    serializer_class = GroupSerializer
    filterset_class = GroupFilter
    ordering_fields = ("name", "created_at", "updated_at")
    ordering = ("name", "id")
    role_actions = {
        **ROLE_ACTIONS,
        "members": "view",
        "add_accounts": "change",
        "remove_accounts": "change",
    }

    def perform_record_create(self, *, data, custom_data):
        return services.group_create(actor=self.request.user, data=data)

    def perform_record_update(self, *, record, data, custom_data, version):
        return services.group_update(
            group=record, actor=self.request.user, data=data, version=version
        )

    @extend_schema(
        request=None,
        responses={200: GroupMemberSerializer(many=True)},
        summary="The group's accounts the caller may see",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def members(self, request, pk=None):
        group = self.get_record("view")
        accounts = (
            group_members(group=group, user=request.user)
            .select_related("owner")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(accounts)
        return self.get_paginated_response(GroupMemberSerializer(page, many=True).data)

    def _accounts(self, request) -> tuple[list[Account], list[int]]:
        payload = GroupAccountsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(payload.validated_data["accounts"]))
        accounts = list(Account.objects.visible_to(request.user).filter(pk__in=wanted))
        found = {account.pk for account in accounts}
        return accounts, [pk for pk in wanted if pk not in found]

    @extend_schema(
        request=GroupAccountsSerializer,
        responses={200: dict},
        summary="Add accounts to a static group",
    )
    @action(detail=True, methods=["post"], url_path="add-accounts", filter_backends=[])
    def add_accounts(self, request, pk=None):
        group = self.get_record("change")
        accounts, skipped = self._accounts(request)
        added = services.group_add_accounts(group=group, accounts=accounts, actor=request.user)
        return Response({"added": added, "not_found": skipped})

    @extend_schema(
        request=GroupAccountsSerializer,
        responses={200: dict},
        summary="Remove accounts from a static group",
    )
    @action(detail=True, methods=["post"], url_path="remove-accounts", filter_backends=[])
    def remove_accounts(self, request, pk=None):
        group = self.get_record("change")
        payload = GroupAccountsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        accounts = list(Account.all_objects.filter(pk__in=payload.validated_data["accounts"]))
        removed = services.group_remove_accounts(group=group, accounts=accounts, actor=request.user)
        return Response({"removed": removed})


# --- membership: points ledger and levels -----------------------------------------------


class PointsEntrySerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id", min_value=1)
    points = serializers.IntegerField(
        help_text="Positive; redeeming and expiring subtract it. An adjustment may be negative."
    )
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = PointsEntry
        fields = ("id", "account", "kind", "points", "reason", "actor", "actor_name", "created_at")
        read_only_fields = ("id", "actor", "actor_name", "created_at")

    def get_actor_name(self, entry) -> str | None:
        return str(entry.actor) if entry.actor_id else None


class PointsEntryFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    kind = django_filters.ChoiceFilter(choices=PointsEntry.Kind.choices)

    class Meta:
        model = PointsEntry
        fields: list[str] = []


class PointsEntryViewSet(
    GuanxiAPIMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Points ledger lines of the accounts the caller may see (filter with `?account=`)."""

    serializer_class = PointsEntrySerializer
    filterset_class = PointsEntryFilter
    permission_classes = [permissions.IsAuthenticated]
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        user = self.request.user
        if not can(user, Account, "view"):
            raise PermissionDenied(ROLE_REFUSED)
        return PointsEntry.objects.filter(
            account__in=Account.objects.visible_to(user).values("pk")
        ).select_related("actor")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        account = Account.objects.visible_to(user).filter(pk=data["account_id"]).first()
        if account is None:
            raise NotFound(_("Not found."))
        if not can(user, Account, "change"):
            raise PermissionDenied(ROLE_REFUSED)
        if not Account.objects.editable_by(user).filter(pk=account.pk).exists():
            raise PermissionDenied(_("You may see this record but not change it."))
        entry = services.points_record(
            account=account,
            kind=data["kind"],
            points=data["points"],
            reason=data.get("reason", ""),
            actor=user,
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)


class MembershipLevelSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = MembershipLevel
        fields = ("id", "name", "name_zh", "name_en", "threshold", "discount_percent")

    def get_name(self, level) -> str:
        return str(level)


class MembershipLevelViewSet(
    GuanxiAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Membership levels by points threshold. Everybody reads; administrators write."""

    queryset = MembershipLevel.objects.order_by("threshold")
    serializer_class = MembershipLevelSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    ordering_fields = ("threshold",)
    ordering = ("threshold",)
    pagination_class = None

    def perform_create(self, serializer):
        serializer.instance = services.membership_level_save(
            actor=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = services.membership_level_save(
            actor=self.request.user,
            data=dict(serializer.validated_data),
            level=serializer.instance,
        )


register_viewset("contacts", ContactViewSet, "contact")
register_viewset("account-contacts", AccountContactViewSet, "account-contact")
register_viewset("groups", GroupViewSet, "group")
register_viewset("points-entries", PointsEntryViewSet, "points-entry")
register_viewset("membership-levels", MembershipLevelViewSet, "membership-level")
