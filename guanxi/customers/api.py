"""Accounts over the REST API: /api/v1/accounts/ (built on core's OwnedRecordViewSet)."""

import django_filters
from rest_framework import serializers

from guanxi.core.api.base import OwnedRecordFilterSet, OwnedRecordSerializer, OwnedRecordViewSet
from guanxi.core.api.registry import register_viewset
from guanxi.customers.models import Account


class AccountSerializer(OwnedRecordSerializer):
    industry_label = serializers.CharField(source="industry.label", read_only=True, default=None)

    class Meta(OwnedRecordSerializer.Meta):
        model = Account
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "name",
            "kind",
            "industry",
            "industry_label",
            "phone",
            "email",
            "website",
            "address",
            "notes",
        )


class AccountFilter(OwnedRecordFilterSet):
    name = django_filters.CharFilter(
        field_name="name", lookup_expr="startswith", label="Name starts with"
    )
    kind = django_filters.ChoiceFilter(choices=Account.Kind.choices)
    industry = django_filters.NumberFilter(field_name="industry_id")

    class Meta:
        model = Account
        fields: list[str] = []


class AccountViewSet(OwnedRecordViewSet):
    """Accounts (customers) the caller may see; writes obey role and data scope."""

    model = Account
    queryset = Account.objects.none()  # the real one starts from visible_to(user)
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    list_select_related = ("owner", "industry")
    ordering_fields = ("name", "created_at", "updated_at")


register_viewset("accounts", AccountViewSet, "account")
