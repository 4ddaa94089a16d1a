"""List filters of the customers app. Every filter here has an index behind it."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from guanxi.core.models import Department, PicklistOption, User
from guanxi.customers.models import Account


def _industries(request):
    return PicklistOption.objects.filter(picklist__code="industry", is_active=True).order_by(
        "sort_order", "id"
    )


def _users(request):
    return User.objects.filter(is_active=True).order_by("display_name", "username")


def _departments(request):
    return Department.objects.order_by("path")


class AccountFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("type"), choices=Account.Kind.choices)
    industry = django_filters.ModelChoiceFilter(label=_("industry"), queryset=_industries)
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=_users)
    department = django_filters.ModelChoiceFilter(label=_("department"), queryset=_departments)
    created_at = django_filters.DateFromToRangeFilter(
        label=_("created between"), widget=DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = Account
        fields = ["kind", "industry", "owner", "department", "created_at"]
