"""List filters of the customers app. Every filter here has an index behind it.

Every statistics dimension (`guanxi.customers.statistics.DIMENSIONS`) drills down to the
filter of the same name; the value ``null`` selects the records where it is not set.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from guanxi.core.forms.widgets import LookupSelect
from guanxi.core.models import Department, PicklistOption, User
from guanxi.customers.filters_contacts import AccountGroupFilter
from guanxi.customers.models import Account, LifecycleStage
from guanxi.customers.regions import PROVINCES

NOT_SET = _("(not set)")


def _options(code):
    def queryset(request):
        return PicklistOption.objects.filter(picklist__code=code, is_active=True).order_by(
            "sort_order", "id"
        )

    return queryset


def _industries(request):
    return _options("industry")(request)


def _users(request):
    return User.objects.filter(is_active=True).order_by("display_name", "username")


def _departments(request):
    return Department.objects.order_by("path")


class PicklistFilter(django_filters.ModelChoiceFilter):
    """A picklist filter showing the options' labels in the reader's language."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null_label", NOT_SET)
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        field = super().field
        field.label_from_instance = lambda option: option.label
        return field


def _province_choices():
    return [(name, name) for name in PROVINCES]


class AccountFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("type"), choices=Account.Kind.choices)
    industry = PicklistFilter(label=_("industry"), queryset=_industries)
    status = PicklistFilter(label=_("status"), queryset=_options("account_status"))
    lifecycle_stage = django_filters.ChoiceFilter(
        label=_("lifecycle stage"), choices=LifecycleStage.choices
    )
    credit_rating = PicklistFilter(label=_("credit rating"), queryset=_options("credit_rating"))
    level = PicklistFilter(label=_("customer level"), queryset=_options("customer_level"))
    source = PicklistFilter(label=_("source"), queryset=_options("source"))
    province = django_filters.ChoiceFilter(
        label=_("province"), choices=_province_choices, null_label=NOT_SET, method="by_province"
    )
    # Search-as-you-type: the page renders only the chosen owner / department.
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"),
        queryset=_users,
        null_label=_("(nobody)"),
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    department = django_filters.ModelChoiceFilter(
        label=_("department"),
        queryset=_departments,
        null_label=NOT_SET,
        widget=LookupSelect(url_name="core:lookup_departments"),
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=_("created between"), widget=DateRangeWidget(attrs={"type": "date"})
    )
    group = AccountGroupFilter()  # static members or a dynamic group's saved filter

    class Meta:
        model = Account
        fields = [
            "kind",
            "industry",
            "status",
            "lifecycle_stage",
            "credit_rating",
            "level",
            "source",
            "province",
            "owner",
            "department",
            "created_at",
        ]

    def by_province(self, queryset, name, value):
        if value == self.filters["province"].null_value:
            return queryset.filter(province="")
        return queryset.filter(province=value)
