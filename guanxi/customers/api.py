"""Customers over the REST API, built on core's OwnedRecordViewSet:
/api/v1/accounts/, /api/v1/contacts/, /api/v1/account-contacts/, /api/v1/groups/.
Thin: the customers services do the work."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from guanxi.core.api.base import (
    OwnedRecordFilterSet,
    OwnedRecordSerializer,
    OwnedRecordViewSet,
    VisibleRecordField,
)
from guanxi.core.api.registry import register_viewset
from guanxi.core.masking import EMAIL, PHONE, contact_detail_reveal, contact_details_visible, mask
from guanxi.core.models import PicklistOption, User
from guanxi.customers import services
from guanxi.customers.models import (
    Account,
    LifecycleStage,
)

# --- accounts ---------------------------------------------------------------------------


def _picklist_field(code: str, **kwargs):
    """An option of the picklist `code`, by id."""
    return serializers.PrimaryKeyRelatedField(
        queryset=PicklistOption.objects.filter(picklist__code=code),
        required=False,
        allow_null=True,
        **kwargs,
    )


class AccountSerializer(OwnedRecordSerializer):
    """An account. Phone and e-mail are masked (138****5678) for roles that may not see
    them; `POST accounts/{id}/reveal/` answers the real values and logs it."""

    industry = _picklist_field("industry")
    source = _picklist_field("source")
    status = _picklist_field("account_status")
    credit_rating = _picklist_field("credit_rating")
    level = _picklist_field("customer_level")
    industry_label = serializers.CharField(source="industry.label", read_only=True, default=None)
    source_label = serializers.CharField(source="source.label", read_only=True, default=None)
    status_label = serializers.CharField(source="status.label", read_only=True, default=None)
    credit_rating_label = serializers.CharField(
        source="credit_rating.label", read_only=True, default=None
    )
    level_label = serializers.CharField(source="level.label", read_only=True, default=None)
    membership_level_name = serializers.CharField(
        source="membership_level", read_only=True, default=None
    )
    parent = VisibleRecordField(Account, required=False, allow_null=True)
    account_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    account_manager_name = serializers.CharField(
        source="account_manager", read_only=True, default=None
    )

    class Meta(OwnedRecordSerializer.Meta):
        model = Account
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "name",
            "kind",
            "industry",
            "industry_label",
            "source",
            "source_label",
            "status",
            "status_label",
            "lifecycle_stage",
            "credit_rating",
            "credit_rating_label",
            "level",
            "level_label",
            "membership_level",
            "membership_level_name",
            "points",
            "account_manager",
            "account_manager_name",
            "parent",
            "phone",
            "email",
            "website",
            "province",
            "city",
            "district",
            "address",
            "postcode",
            "tax_number",
            "invoice_title",
            "annual_revenue",
            "currency",
            "employees",
            "notes",
            "person",
        )
        read_only_fields = ("membership_level", "points", "person")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and not contact_details_visible(user):
            data["phone"] = mask(PHONE, data.get("phone"))
            data["email"] = mask(EMAIL, data.get("email"))
        return data


class AccountRevealSerializer(serializers.Serializer):
    phone = serializers.CharField()
    email = serializers.CharField()


class AccountFilter(OwnedRecordFilterSet):
    name = django_filters.CharFilter(
        field_name="name", lookup_expr="startswith", label="Name starts with"
    )
    kind = django_filters.ChoiceFilter(choices=Account.Kind.choices)
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices)
    industry = django_filters.NumberFilter(field_name="industry_id")
    source = django_filters.NumberFilter(field_name="source_id")
    status = django_filters.NumberFilter(field_name="status_id")
    credit_rating = django_filters.NumberFilter(field_name="credit_rating_id")
    level = django_filters.NumberFilter(field_name="level_id")
    account_manager = django_filters.NumberFilter(field_name="account_manager_id")
    parent = django_filters.NumberFilter(field_name="parent_id")
    province = django_filters.CharFilter()
    city = django_filters.CharFilter()
    phone = django_filters.CharFilter(
        field_name="phone_digits", lookup_expr="startswith", label="Phone digits start with"
    )

    class Meta:
        model = Account
        fields: list[str] = []


class AccountViewSet(OwnedRecordViewSet):
    """Accounts (customers) the caller may see; writes obey role and data scope.

    Actions: `assign/` (owner, reason: timeline + audit), `share/`, `reveal/` (the real
    phone and e-mail for roles that see them masked; logged)."""

    model = Account
    queryset = Account.objects.none()  # the real one starts from visible_to(user)
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    list_select_related = ("owner", "account_manager")
    list_prefetch_related = (
        "industry",
        "source",
        "status",
        "credit_rating",
        "level",
        "membership_level",
    )
    ordering_fields = ("name", "created_at", "updated_at")

    def perform_record_create(self, *, data, custom_data):
        return services.account_create(actor=self.request.user, data=data, custom_data=custom_data)

    def perform_record_update(self, *, record, data, custom_data, version):
        return services.account_update(
            account=record,
            actor=self.request.user,
            data=data,
            version=version,
            custom_data=custom_data,
        )

    def perform_record_delete(self, *, record, version):
        services.account_delete(account=record, actor=self.request.user, version=version)

    def perform_record_assign(self, *, record, owner, reason, version):
        return services.account_assign(
            account=record, owner=owner, actor=self.request.user, reason=reason, version=version
        )

    @extend_schema(
        request=None,
        responses={200: AccountRevealSerializer},
        summary="The account's real phone and e-mail (the reveal is logged)",
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        record = self.get_record("view")
        values = {"phone": record.phone, "email": record.email}
        if not contact_details_visible(request.user):
            shown = {name: value for name, value in values.items() if value}
            if shown:
                contact_detail_reveal(instance=record, values=shown, actor=request.user)
        return Response(values)


register_viewset("accounts", AccountViewSet, "account")
