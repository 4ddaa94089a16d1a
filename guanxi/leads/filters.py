"""List filters of the lead list. Every filter here has an index behind it (status, stage,
source, owner, score) or narrows an already-filtered page (rating, province)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget, RangeWidget

from guanxi.core.forms.widgets import LookupSelect
from guanxi.core.models import User
from guanxi.customers.filters import NOT_SET, PicklistFilter, _options, _province_choices
from guanxi.leads.models import LEAD_SOURCE_PICKLIST, Lead, LeadRating, LeadStage, LeadStatus


def _users(request):
    return User.objects.filter(is_active=True).order_by("display_name", "username")


class LeadFilterSet(django_filters.FilterSet):
    # A column of the lead: no join, so no DISTINCT (which would sort every match first).
    status = django_filters.MultipleChoiceFilter(
        label=_("status"), choices=LeadStatus.choices, distinct=False
    )
    stage = django_filters.ChoiceFilter(label=_("qualification"), choices=LeadStage.choices)
    source = PicklistFilter(label=_("source"), queryset=_options(LEAD_SOURCE_PICKLIST))
    rating = django_filters.ChoiceFilter(
        label=_("rating"),
        choices=[choice for choice in LeadRating.choices if choice[0]],
        null_label=NOT_SET,
        null_value="none",
        method="by_rating",
    )
    score = django_filters.RangeFilter(
        label=_("score between"), widget=RangeWidget(attrs={"type": "number"})
    )
    province = django_filters.ChoiceFilter(
        label=_("province"), choices=_province_choices, null_label=NOT_SET, method="by_province"
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"),
        queryset=_users,
        null_label=_("(nobody)"),
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    industry = PicklistFilter(label=_("industry"), queryset=_options("industry"))
    created_at = django_filters.DateFromToRangeFilter(
        label=_("created between"), widget=DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = Lead
        fields = [
            "status",
            "stage",
            "source",
            "rating",
            "score",
            "province",
            "owner",
            "industry",
            "created_at",
        ]

    def by_rating(self, queryset, name, value):
        if value == "none":
            return queryset.filter(rating="")
        return queryset.filter(rating=value)

    def by_province(self, queryset, name, value):
        if value == self.filters["province"].null_value:
            return queryset.filter(province="")
        return queryset.filter(province=value)
