"""Opportunities over the REST API: /api/v1/opportunities/ (CRUD, assign, share, history,
timeline, attachments) writing through the opportunity services, plus the business actions
`move/`, `win/`, `lose/`, `reopen/`, and the deal's `lines/`, `contacts/`, `competitors/`
and `splits/`. `GET /api/v1/opportunities/check-duplicates/?account=&name=` lists the
account's open deals with a very similar name (creating never refuses one)."""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from guanxi.core.api.base import (
    ROLE_ACTIONS,
    OwnedRecordFilterSet,
    OwnedRecordSerializer,
    OwnedRecordViewSet,
    VisibleRecordField,
)
from guanxi.core.api.registry import register_viewset
from guanxi.core.models import PicklistOption, User
from guanxi.customers.models import Account, Contact
from guanxi.leads.models import LEAD_SOURCE_PICKLIST, Lead
from guanxi.sales.models import (
    CLOSED,
    LOST_REASON_PICKLIST,
    OPEN,
    Attitude,
    Competitor,
    CompetitorStatus,
    Influence,
    Opportunity,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityLine,
    OpportunitySplit,
    Pipeline,
    PriceBook,
    Product,
    Stage,
    Territory,
)
from guanxi.sales.selectors import opportunities as selectors
from guanxi.sales.services import opportunities as services


def _picklist_field(code: str, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=PicklistOption.objects.filter(picklist__code=code),
        required=kwargs.pop("required", False),
        allow_null=kwargs.pop("allow_null", True),
        **kwargs,
    )


class OpportunitySerializer(OwnedRecordSerializer):
    """An opportunity. Amounts are decimal strings with their currency; `amount_company`
    is the amount in the company currency. Closing fields change only through the
    `win/`, `lose/` and `reopen/` actions; a stage change through `move/` (or `stage` in
    an update, with the same exit criteria)."""

    account = VisibleRecordField(Account)
    lead = VisibleRecordField(Lead, required=False, allow_null=True)
    source = _picklist_field(LEAD_SOURCE_PICKLIST)
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=Pipeline.objects.filter(is_active=True), required=False
    )
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False)
    price_book = serializers.PrimaryKeyRelatedField(
        queryset=PriceBook.objects.filter(is_active=True), required=False, allow_null=True
    )
    territory = serializers.PrimaryKeyRelatedField(
        queryset=Territory.objects.all(), required=False, allow_null=True
    )
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    account_name = serializers.CharField(source="account.name", read_only=True)
    pipeline_name = serializers.CharField(source="pipeline.__str__", read_only=True)
    stage_name = serializers.CharField(source="stage.__str__", read_only=True)
    stage_kind = serializers.CharField(source="stage.kind", read_only=True)
    source_label = serializers.CharField(source="source.label", read_only=True, default=None)
    lost_reason_label = serializers.CharField(
        source="lost_reason.label", read_only=True, default=None
    )

    class Meta(OwnedRecordSerializer.Meta):
        model = Opportunity
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "name",
            "account",
            "account_name",
            "pipeline",
            "pipeline_name",
            "stage",
            "stage_name",
            "stage_kind",
            "amount",
            "currency",
            "amount_company",
            "amount_from_lines",
            "price_book",
            "expected_close_date",
            "probability",
            "next_step",
            "source",
            "source_label",
            "lead",
            "campaign_id",
            "forecast_commit",
            "territory",
            "is_closed",
            "is_won",
            "closed_at",
            "close_date",
            "lost_reason",
            "lost_reason_label",
            "close_note",
            "winner",
            "stage_entered_at",
            "last_followed_up_at",
            "next_follow_up_at",
        )
        read_only_fields = (
            "amount_company",
            "amount_from_lines",
            "is_closed",
            "is_won",
            "closed_at",
            "close_date",
            "lost_reason",
            "close_note",
            "winner",
            "stage_entered_at",
            "last_followed_up_at",
            "next_follow_up_at",
        )


class OpportunityFilter(OwnedRecordFilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="startswith")
    account = django_filters.NumberFilter(field_name="account_id")
    pipeline = django_filters.NumberFilter(field_name="pipeline_id")
    stage = django_filters.NumberFilter(field_name="stage_id")
    source = django_filters.NumberFilter(field_name="source_id")
    territory = django_filters.NumberFilter(field_name="territory_id")
    status = django_filters.ChoiceFilter(
        choices=[("open", "open"), ("won", "won"), ("lost", "lost")], method="by_status"
    )
    close_after = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    close_before = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    amount_min = django_filters.NumberFilter(field_name="amount_company", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount_company", lookup_expr="lte")

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def by_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(OPEN)
        return queryset.filter(CLOSED, is_won=value == "won")


# --- payloads of the actions -----------------------------------------------------------------
class VersionPayload(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)


class MovePayload(VersionPayload):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())


class WinPayload(VersionPayload):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class LosePayload(VersionPayload):
    reason = _picklist_field(LOST_REASON_PICKLIST, required=True, allow_null=False)
    winner = serializers.PrimaryKeyRelatedField(
        queryset=Competitor.objects.all(), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class LineSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=18, decimal_places=2, required=False, allow_null=True
    )
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)

    class Meta:
        model = OpportunityLine
        fields = ("product", "product_name", "quantity", "unit_price", "discount_percent", "total")
        read_only_fields = ("total",)


class LinesPayload(VersionPayload):
    lines = LineSerializer(many=True)


class ContactRoleSerializer(serializers.ModelSerializer):
    contact = VisibleRecordField(Contact)
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    role = _picklist_field("contact_role")
    attitude = serializers.ChoiceField(choices=Attitude.choices, default=Attitude.NEUTRAL)
    influence = serializers.ChoiceField(choices=Influence.choices, default=Influence.MEDIUM)

    class Meta:
        model = OpportunityContact
        fields = ("contact", "contact_name", "role", "attitude", "influence", "is_primary")


class ContactRemovePayload(serializers.Serializer):
    contact = serializers.IntegerField()


class CompetitorEntrySerializer(serializers.ModelSerializer):
    competitor = serializers.PrimaryKeyRelatedField(queryset=Competitor.objects.all())
    competitor_name = serializers.CharField(source="competitor.name", read_only=True)
    status = serializers.ChoiceField(
        choices=CompetitorStatus.choices, default=CompetitorStatus.ACTIVE
    )

    class Meta:
        model = OpportunityCompetitor
        fields = ("competitor", "competitor_name", "status", "notes")


class CompetitorRemovePayload(serializers.Serializer):
    competitor = serializers.IntegerField()


class SplitSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    user_name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = OpportunitySplit
        fields = ("user", "user_name", "percent")


class OpportunityDuplicateSerializer(serializers.Serializer):
    """A likely duplicate (the shape of the customers' duplicate check): `model`, `exists`,
    `owner`, `reasons` always; the rest only for a deal the caller may see."""

    model = serializers.CharField()
    exists = serializers.BooleanField()
    owner = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    id = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False)
    url = serializers.CharField(required=False)
    score = serializers.FloatField(required=False)
    stage = serializers.CharField(required=False)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    currency = serializers.CharField(required=False)


class SplitsPayload(VersionPayload):
    splits = SplitSerializer(many=True)


class OpportunityViewSet(OwnedRecordViewSet):
    """Opportunities the caller may see; writes obey role and data scope and go through
    the opportunity services (exit criteria, stage history, amounts in the company
    currency). A stale `version` answers 409; an invisible opportunity 404."""

    model = Opportunity
    queryset = Opportunity.objects.none()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    list_select_related = ("owner", "account", "stage")
    list_prefetch_related = ("pipeline", "source", "lost_reason")
    list_in_parts = True
    role_actions = {
        **ROLE_ACTIONS,
        "move": "change",
        "win": "change",
        "lose": "change",
        "reopen": "change",
        "check_duplicates": "view",
    }
    ordering_fields = (
        "name",
        "amount_company",
        "probability",
        "expected_close_date",
        "close_date",
        "created_at",
        "updated_at",
    )

    def role_action(self, request):
        if self.action in ("lines", "contacts", "competitors", "splits"):
            return "view" if request.method == "GET" else "change"
        return super().role_action(request)

    def perform_record_create(self, *, data, custom_data):
        return services.opportunity_create(
            actor=self.request.user, data=data, custom_data=custom_data
        )

    def perform_record_update(self, *, record, data, custom_data, version):
        return services.opportunity_update(
            opportunity=record,
            actor=self.request.user,
            data=data,
            version=version,
            custom_data=custom_data,
        )

    def perform_record_delete(self, *, record, version):
        services.opportunity_delete(opportunity=record, actor=self.request.user, version=version)

    def _answer(self, record):
        record = self.get_queryset().filter(pk=record.pk).first() or record
        return Response(self.get_serializer(record).data)

    # --- moving and closing --------------------------------------------------------------
    def _transition(self, request, payload_class, service):
        """Validate the body with `payload_class`, call `service` on the opportunity the
        caller may change (the payload's fields, `version` among them, as its keywords) and
        answer the opportunity."""
        record = self.get_record("change")
        payload = payload_class(data=request.data)
        payload.is_valid(raise_exception=True)
        service(opportunity=record, actor=request.user, **payload.validated_data)
        return self._answer(record)

    @extend_schema(request=MovePayload, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        return self._transition(request, MovePayload, services.opportunity_move)

    @extend_schema(request=WinPayload, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        return self._transition(request, WinPayload, services.opportunity_win)

    @extend_schema(request=LosePayload, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        return self._transition(request, LosePayload, services.opportunity_lose)

    @extend_schema(request=VersionPayload, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._transition(request, VersionPayload, services.opportunity_reopen)

    # --- before creating ---------------------------------------------------------------------
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "account", OpenApiTypes.INT, required=True, description="The deal's account."
            ),
            OpenApiParameter("name", OpenApiTypes.STR, required=True, description="Its name."),
        ],
        responses={200: OpportunityDuplicateSerializer(many=True)},
        summary="Check for duplicate opportunities before creating one",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="check-duplicates",
        pagination_class=None,
        filter_backends=[],
    )
    def check_duplicates(self, request):
        """Open opportunities of the account whose name is very similar, best first. Like
        `GET /api/v1/duplicates/check/` for customers: creating never refuses a duplicate;
        ask here first. A deal the caller may not see is named by its owner only."""
        raw = request.query_params.get("account") or ""
        if not raw.isdigit():
            raise APIValidationError({"account": [_("Choose an account.")]})
        if not Account.objects.visible_to(request.user).filter(pk=int(raw)).exists():
            raise Http404
        hits = selectors.opportunity_duplicates(
            user=request.user,
            account_id=int(raw),
            name=(request.query_params.get("name") or "")[:200],
            limit=10,
        )
        return Response([selectors.duplicate_as_dict(hit) for hit in hits])

    # --- the deal's parts ------------------------------------------------------------------
    @extend_schema(methods=["GET"], request=None, responses={200: LineSerializer(many=True)})
    @extend_schema(
        methods=["PUT"], request=LinesPayload, responses={200: LineSerializer(many=True)}
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None, filter_backends=[])
    def lines(self, request, pk=None):
        if request.method == "GET":
            record = self.get_record("view")
            return Response(LineSerializer(record.lines.select_related("product"), many=True).data)
        record = self.get_record("change")
        payload = LinesPayload(data=request.data)
        payload.is_valid(raise_exception=True)
        services.opportunity_lines_set(
            opportunity=record,
            actor=request.user,
            lines=payload.validated_data["lines"],
            version=payload.validated_data.get("version"),
        )
        return Response(LineSerializer(record.lines.select_related("product"), many=True).data)

    @extend_schema(methods=["GET"], request=None, responses={200: ContactRoleSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=ContactRoleSerializer,
        responses={200: ContactRoleSerializer(many=True)},
    )
    @extend_schema(
        methods=["DELETE"],
        request=ContactRemovePayload,
        responses={200: ContactRoleSerializer(many=True)},
    )
    @action(
        detail=True, methods=["get", "post", "delete"], pagination_class=None, filter_backends=[]
    )
    def contacts(self, request, pk=None):
        return self._entries(
            request,
            entry_class=ContactRoleSerializer,
            remove_class=ContactRemovePayload,
            add=services.opportunity_contact_set,
            remove=lambda **kw: services.opportunity_contact_remove(
                contact_id=kw.pop("contact"), **kw
            ),
            entries=lambda record: record.contact_roles.select_related("contact").order_by(
                "-is_primary", "id"
            ),
        )

    @extend_schema(
        methods=["GET"], request=None, responses={200: CompetitorEntrySerializer(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        request=CompetitorEntrySerializer,
        responses={200: CompetitorEntrySerializer(many=True)},
    )
    @extend_schema(
        methods=["DELETE"],
        request=CompetitorRemovePayload,
        responses={200: CompetitorEntrySerializer(many=True)},
    )
    @action(
        detail=True, methods=["get", "post", "delete"], pagination_class=None, filter_backends=[]
    )
    def competitors(self, request, pk=None):
        return self._entries(
            request,
            entry_class=CompetitorEntrySerializer,
            remove_class=CompetitorRemovePayload,
            add=services.opportunity_competitor_set,
            remove=lambda **kw: services.opportunity_competitor_remove(
                competitor_id=kw.pop("competitor"), **kw
            ),
            entries=lambda record: record.competitor_entries.select_related("competitor").order_by(
                "id"
            ),
        )

    def _entries(self, request, *, entry_class, remove_class, add, remove, entries):
        """The deal's contacts or competitors: GET lists them, POST adds (or changes) one
        through `add`, DELETE takes one off through `remove`; every method answers the list."""
        if request.method == "GET":
            record = self.get_record("view")
        else:
            record = self.get_record("change")
            payload = (entry_class if request.method == "POST" else remove_class)(
                data=request.data, context=self.get_serializer_context()
            )
            payload.is_valid(raise_exception=True)
            (add if request.method == "POST" else remove)(
                opportunity=record, actor=request.user, **payload.validated_data
            )
        return Response(entry_class(entries(record), many=True).data)

    @extend_schema(methods=["GET"], request=None, responses={200: SplitSerializer(many=True)})
    @extend_schema(
        methods=["PUT"], request=SplitsPayload, responses={200: SplitSerializer(many=True)}
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None, filter_backends=[])
    def splits(self, request, pk=None):
        if request.method == "GET":
            record = self.get_record("view")
        else:
            record = self.get_record("change")
            payload = SplitsPayload(data=request.data)
            payload.is_valid(raise_exception=True)
            with transaction.atomic():
                services.opportunity_splits_set(
                    opportunity=record,
                    actor=request.user,
                    splits=payload.validated_data["splits"],
                    version=payload.validated_data.get("version"),
                )
        entries = record.splits.select_related("user").order_by("id")
        return Response(SplitSerializer(entries, many=True).data)


register_viewset("opportunities", OpportunityViewSet, "opportunity")
