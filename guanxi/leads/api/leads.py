"""Leads over the REST API: /api/v1/leads/ (CRUD, assign, share, history, timeline,
attachments), built on core's OwnedRecordViewSet and writing through the lead services.

Other areas add business actions (`POST /api/v1/leads/{id}/convert/`, ...) without editing
this file: decorate a function with DRF's `@action` and pass it to `register_lead_action`
from a module imported at app ready (the area's `hooks/<area>.py`), e.g.

    @extend_schema(request=ConvertSerializer, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        lead = self.get_record("change")
        ...
    register_lead_action(convert)
"""

from __future__ import annotations

from collections.abc import Callable

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from guanxi.core.api.base import OwnedRecordFilterSet, OwnedRecordSerializer, OwnedRecordViewSet
from guanxi.core.api.registry import register_viewset
from guanxi.core.masking import EMAIL, PHONE, contact_detail_reveal, contact_details_visible, mask
from guanxi.core.models import PicklistOption
from guanxi.leads.models import LEAD_SOURCE_PICKLIST, Lead, LeadRating, LeadStage, LeadStatus
from guanxi.leads.services import leads as services


def _picklist_field(code: str):
    return serializers.PrimaryKeyRelatedField(
        queryset=PicklistOption.objects.filter(picklist__code=code),
        required=False,
        allow_null=True,
    )


class LeadSerializer(OwnedRecordSerializer):
    """A lead. Phone and e-mail are masked for roles that may not see contact details.
    Stage, score and the conversion links are read-only: scoring, qualification and
    conversion change them."""

    industry = _picklist_field("industry")
    source = _picklist_field(LEAD_SOURCE_PICKLIST)
    industry_label = serializers.CharField(source="industry.label", read_only=True, default=None)
    source_label = serializers.CharField(source="source.label", read_only=True, default=None)
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)

    class Meta(OwnedRecordSerializer.Meta):
        model = Lead
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "name",
            "company",
            "title",
            "phone",
            "email",
            "wechat",
            "website",
            "industry",
            "industry_label",
            "source",
            "source_label",
            "campaign_id",
            "web_form",
            "province",
            "city",
            "address",
            "status",
            "rating",
            "stage",
            "score",
            "mql_at",
            "sql_at",
            "accepted_at",
            "rejected_reason",
            "notes",
            "last_followed_up_at",
            "next_follow_up_at",
            "assigned_at",
            "converted_at",
            "converted_account",
            "converted_contact",
            "converted_opportunity_id",
        )
        read_only_fields = (
            "web_form",
            "stage",
            "score",
            "mql_at",
            "sql_at",
            "accepted_at",
            "rejected_reason",
            "last_followed_up_at",
            "next_follow_up_at",
            "assigned_at",
            "converted_at",
            "converted_account",
            "converted_contact",
            "converted_opportunity_id",
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and not contact_details_visible(user):
            data["phone"] = mask(PHONE, data.get("phone"))
            data["email"] = mask(EMAIL, data.get("email"))
        return data


class LeadRevealSerializer(serializers.Serializer):
    phone = serializers.CharField()
    email = serializers.CharField()


class LeadFilter(OwnedRecordFilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="startswith")
    company = django_filters.CharFilter(field_name="company", lookup_expr="startswith")
    # A column of the lead itself: no join, so no duplicates for DISTINCT to remove (which
    # would make the database collect every matching row before the page).
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices, distinct=False)
    stage = django_filters.ChoiceFilter(choices=LeadStage.choices)
    rating = django_filters.ChoiceFilter(choices=LeadRating.choices)
    source = django_filters.NumberFilter(field_name="source_id")
    industry = django_filters.NumberFilter(field_name="industry_id")
    web_form = django_filters.NumberFilter(field_name="web_form_id")
    province = django_filters.CharFilter()
    city = django_filters.CharFilter()
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte")
    unowned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull")
    phone = django_filters.CharFilter(field_name="phone_digits", lookup_expr="startswith")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")

    class Meta:
        model = Lead
        fields: list[str] = []


class LeadViewSet(OwnedRecordViewSet):
    """Leads the caller may see; writes obey role and data scope and go through the lead
    services (normalised phones and e-mails, duplicate keys, assignment and scoring hooks).

    Actions: `assign/` (owner, reason), `share/`, `history/`, `timeline/`, `attachments/`,
    `reveal/` (the real phone and e-mail; logged for roles that see them masked), and what
    other areas register (e.g. `convert/`)."""

    model = Lead
    queryset = Lead.objects.none()  # the real one starts from visible_to(user)
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    list_select_related = ("owner", "industry", "source")
    ordering_fields = (
        "name",
        "score",
        "created_at",
        "updated_at",
        "next_follow_up_at",
        "last_followed_up_at",
    )

    list_in_parts = True

    def perform_record_create(self, *, data, custom_data):
        return services.lead_create(
            actor=self.request.user, data=data, custom_data=custom_data, origin="api"
        )

    def perform_record_update(self, *, record, data, custom_data, version):
        return services.lead_update(
            lead=record,
            actor=self.request.user,
            data=data,
            version=version,
            custom_data=custom_data,
        )

    def perform_record_delete(self, *, record, version):
        services.lead_delete(lead=record, actor=self.request.user, version=version)

    def perform_record_assign(self, *, record, owner, reason, version):
        return services.lead_assign(
            lead=record, owner=owner, actor=self.request.user, reason=reason, version=version
        )

    @extend_schema(
        request=None,
        responses={200: LeadRevealSerializer},
        summary="The lead's real phone and e-mail (the reveal is logged)",
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


def register_lead_action(function: Callable) -> None:
    """Add a DRF `@action` to the lead viewset (before the URLs are built, i.e. at app
    ready). Its name is the function's name; registering a name again replaces it."""
    if not hasattr(function, "mapping"):
        raise TypeError("Decorate the function with rest_framework.decorators.action first.")
    setattr(LeadViewSet, function.__name__, function)


register_viewset("leads", LeadViewSet, "lead")
