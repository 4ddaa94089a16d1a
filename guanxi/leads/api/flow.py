"""The lead flow over the REST API (thin: the flow services do the work):

- `POST /api/v1/leads/{id}/convert/` `{"account": id | null, "account_data": {...},
  "contact": id | null, "contact_data": {...}, "create_opportunity": false,
  "opportunity_data": {...}}` -> `{"lead", "account", "contact", "opportunity"}`;
- `GET /api/v1/leads/{id}/conversion-candidates/`: the accounts and contacts the duplicate
  engine matches with the lead (those the caller may see), to pass as "account"/"contact";
- `POST /api/v1/leads/{id}/accept/` and `POST /api/v1/leads/{id}/reject/` `{"reason"}`;
- `GET /api/v1/leads/{id}/score-history/`: the score entries with their reasons;
- `POST /api/v1/leads/events/` `{"lead": id | "email": "...", "event": "email_opened",
  "occurred_at": "..."}`: engagement events from external systems (role action "change"
  on leads; the lead must be one the caller may change, else 404).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from guanxi.core.api.base import ROLE_REFUSED, GuanxiAPIMixin
from guanxi.core.api.registry import register_api_path
from guanxi.core.phones import email_normalise
from guanxi.core.scope import can
from guanxi.customers.models import Account, Contact
from guanxi.leads.models import EngagementEvent, Lead, LeadScoreEntry, LeadStatus
from guanxi.leads.selectors.flow import conversion_candidates, lead_score_history
from guanxi.leads.services import conversion, scoring


class ConvertSerializer(serializers.Serializer):
    account = serializers.IntegerField(
        required=False, allow_null=True, help_text="An existing account to use."
    )
    account_data = serializers.DictField(
        required=False, help_text="Fields of the new account (defaults come from the lead)."
    )
    contact = serializers.IntegerField(
        required=False, allow_null=True, help_text="An existing contact to use."
    )
    contact_data = serializers.DictField(
        required=False, help_text="Fields of the new contact (defaults come from the lead)."
    )
    create_opportunity = serializers.BooleanField(required=False, default=False)
    opportunity_data = serializers.DictField(required=False)


class ConversionResultSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    account = serializers.IntegerField()
    contact = serializers.IntegerField()
    opportunity = serializers.IntegerField(allow_null=True)
    account_created = serializers.BooleanField()
    contact_created = serializers.BooleanField()


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class StageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    score = serializers.IntegerField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)


class ScoreEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LeadScoreEntry
        fields = ("id", "kind", "event", "points", "score_after", "reason", "occurred_at")


class EventSerializer(serializers.Serializer):
    lead = serializers.IntegerField(required=False, help_text="The lead's id ...")
    email = serializers.EmailField(required=False, help_text="... or its e-mail address.")
    event = serializers.ChoiceField(choices=EngagementEvent.choices)
    occurred_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not attrs.get("lead") and not attrs.get("email"):
            raise serializers.ValidationError(_("Give the lead's id or its e-mail address."))
        return attrs


class EventResultSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    score = serializers.IntegerField()
    stage = serializers.CharField()
    entries = ScoreEntrySerializer(many=True)


class CandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    owner = serializers.CharField(source="owner_name")


class CandidatesSerializer(serializers.Serializer):
    accounts = CandidateSerializer(many=True)
    contacts = CandidateSerializer(many=True)


def _instance(model, pk, user):
    if pk is None:
        return None
    record = model.objects.visible_to(user).filter(pk=pk).first()
    if record is None:
        raise DjangoValidationError({model._meta.model_name: ["The chosen record does not exist."]})
    return record


@extend_schema(request=ConvertSerializer, responses={200: ConversionResultSerializer})
@action(detail=True, methods=["post"])
def convert(self, request, pk=None):
    lead = self.get_record("change")
    payload = ConvertSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    result = conversion.lead_convert(
        lead=lead,
        actor=request.user,
        account=_instance(Account, data.get("account"), request.user),
        account_data=data.get("account_data") or None,
        contact=_instance(Contact, data.get("contact"), request.user),
        contact_data=data.get("contact_data") or None,
        create_opportunity=data.get("create_opportunity", False),
        opportunity_data=data.get("opportunity_data") or None,
    )
    return Response(
        ConversionResultSerializer(
            {
                "lead": result.lead.pk,
                "account": result.account.pk,
                "contact": result.contact.pk,
                "opportunity": result.opportunity_id,
                "account_created": result.account_created,
                "contact_created": result.contact_created,
            }
        ).data
    )


@extend_schema(
    request=None,
    responses={200: CandidatesSerializer},
    summary="Existing accounts and contacts the lead may be converted into",
)
@action(detail=True, methods=["get"], url_path="conversion-candidates")
def conversion_candidates_action(self, request, pk=None):
    lead = self.get_record("view")
    found = conversion_candidates(lead=lead, user=request.user)
    return Response(
        CandidatesSerializer({"accounts": found.accounts, "contacts": found.contacts}).data
    )


@extend_schema(request=None, responses={200: StageSerializer})
@action(detail=True, methods=["post"])
def accept(self, request, pk=None):
    lead = scoring.lead_accept(lead=self.get_record("change"), actor=request.user)
    return Response(StageSerializer(lead).data)


@extend_schema(request=RejectSerializer, responses={200: StageSerializer})
@action(detail=True, methods=["post"])
def reject(self, request, pk=None):
    record = self.get_record("change")
    payload = RejectSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    lead = scoring.lead_reject(
        lead=record, actor=request.user, reason=payload.validated_data["reason"]
    )
    return Response(StageSerializer(lead).data)


@extend_schema(request=None, responses={200: ScoreEntrySerializer(many=True)})
@action(detail=True, methods=["get"], url_path="score-history")
def score_history(self, request, pk=None):
    lead = self.get_record("view")
    return Response(ScoreEntrySerializer(lead_score_history(lead=lead), many=True).data)


class LeadEventView(GuanxiAPIMixin, GenericAPIView):
    """Record an engagement event for a lead (by id or e-mail): the scoring rules for the
    event add their points, and thresholds crossed move the lead on."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = EventSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return Lead.objects.none()

    @extend_schema(
        request=EventSerializer,
        responses={201: EventResultSerializer},
        summary="Record an engagement event of a lead",
    )
    def post(self, request):
        if not can(request.user, Lead, "change"):
            raise PermissionDenied(ROLE_REFUSED)
        payload = EventSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        leads = Lead.objects.editable_by(request.user)
        if data.get("lead"):
            lead = leads.filter(pk=data["lead"]).first()
        else:
            lead = (
                leads.filter(email__iexact=email_normalise(data["email"]))
                .exclude(status=LeadStatus.CONVERTED)
                .order_by("-created_at", "-id")
                .first()
            )
        if lead is None:
            raise Http404
        entries = scoring.lead_engagement_record(
            lead=lead, event=data["event"], occurred_at=data.get("occurred_at"), actor=request.user
        )
        result = {"lead": lead.pk, "score": lead.score, "stage": lead.stage, "entries": entries}
        return Response(EventResultSerializer(result).data, status=status.HTTP_201_CREATED)


def register_api() -> None:
    from guanxi.leads.api.leads import register_lead_action

    for function in (convert, conversion_candidates_action, accept, reject, score_history):
        register_lead_action(function)
    register_api_path("leads/events/", LeadEventView.as_view(), "lead-events")
