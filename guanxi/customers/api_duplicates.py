"""Duplicates and merge over the REST API:

- `POST /api/v1/accounts/merge/` and `POST /api/v1/contacts/merge/`
  `{"survivor": id, "merged": [ids], "choices": {"field": id}}` -> the survivor;
- `GET /api/v1/duplicates/check/?name=&phone=&email=&kind=` -> the hits (a record the caller
  may not see shows only `model`, `exists`, `owner` and `reasons`);
- `POST /api/v1/duplicate-scans/` `{"model": "customers.account"}` and
  `GET /api/v1/duplicate-scans/{id}/` with its pairs (administrators).

Thin: `guanxi.customers.merge`, `guanxi.customers.duplicates` and the scan task do the work.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from guanxi.core.api.base import ROLE_REFUSED, GuanxiAPIMixin, administrators_only
from guanxi.core.api.registry import register_api_path, register_viewset, registered_viewsets
from guanxi.core.scope import can
from guanxi.customers import matching
from guanxi.customers.merge import account_merge, contact_merge
from guanxi.customers.models import Account, Contact, DuplicatePair, DuplicateScan
from guanxi.customers.tasks import duplicate_scan_start, scannable_models

MAX_MERGE = 10
MAX_PAIRS = 1000


IsAdministrator = administrators_only(
    gettext_lazy("Only an administrator can scan for duplicates.")
)


# --- merge ------------------------------------------------------------------------------


class MergeRequestSerializer(serializers.Serializer):
    survivor = serializers.IntegerField(min_value=1, help_text="The record that stays.")
    merged = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=MAX_MERGE,
        help_text="The records merged into the survivor (they go to the recycle bin).",
    )
    choices = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text='Field -> id of the record whose value the survivor keeps: {"phone": 12}.',
    )


def _registered_serializer(prefix: str):
    for registration in registered_viewsets():
        if registration.prefix == prefix:
            return registration.viewset.serializer_class
    raise LookupError(prefix)


class RecordMergeView(GuanxiAPIMixin, GenericAPIView):
    """Merge records into one survivor (every record must be editable by the caller; one
    that is not answers 404)."""

    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []
    pagination_class = None
    model: type = Account
    prefix = "accounts"
    merge = staticmethod(account_merge)

    def get_serializer_class(self):
        return _registered_serializer(self.prefix)

    def get_queryset(self):
        return self.model.objects.none()

    def post(self, request):
        if not can(request.user, self.model, "change"):
            raise PermissionDenied(ROLE_REFUSED)
        payload = MergeRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        survivor = self.merge(
            survivor_id=data["survivor"],
            merged_ids=data["merged"],
            actor=request.user,
            choices=dict(data.get("choices") or {}),
        )
        record = self.model.objects.visible_to(request.user).filter(pk=survivor.pk).first()
        return Response(self.get_serializer(record or survivor).data)


class AccountMergeView(RecordMergeView):
    @extend_schema(request=MergeRequestSerializer, summary="Merge accounts into one")
    def post(self, request):
        return super().post(request)


class ContactMergeView(RecordMergeView):
    model = Contact
    prefix = "contacts"
    merge = staticmethod(contact_merge)

    @extend_schema(request=MergeRequestSerializer, summary="Merge contacts into one")
    def post(self, request):
        return super().post(request)


# --- the duplicate check ----------------------------------------------------------------


class DuplicateHitSerializer(serializers.Serializer):
    model = serializers.CharField(source="model_label", help_text='e.g. "customers.account"')
    exists = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner_name")
    reasons = serializers.ListField(child=serializers.CharField())
    id = serializers.IntegerField(source="pk", required=False, help_text="Visible records only.")
    name = serializers.CharField(required=False, help_text="Visible records only.")
    url = serializers.CharField(required=False, help_text="Visible records only.")
    score = serializers.FloatField(required=False, help_text="Visible records only.")

    def get_exists(self, hit) -> bool:
        return True

    def to_representation(self, hit):
        data = super().to_representation(hit)
        if not hit.visible:
            return {key: data[key] for key in ("model", "exists", "owner", "reasons")}
        return data


CHECK_PARAMETERS = [
    OpenApiParameter("name", OpenApiTypes.STR, description="Name to check."),
    OpenApiParameter("phone", OpenApiTypes.STR, description="Phone number (repeatable)."),
    OpenApiParameter("email", OpenApiTypes.STR, description="E-mail address (repeatable)."),
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        enum=["company", "individual", "person"],
        description="Compare as a company name (default) or a person's name.",
    ),
]


class DuplicateCheckView(GuanxiAPIMixin, GenericAPIView):
    """Records that look like the given name / phones / e-mails, best first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = DuplicateHitSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        parameters=CHECK_PARAMETERS,
        responses={200: DuplicateHitSerializer(many=True)},
        summary="Check for duplicates before creating a record",
    )
    def get(self, request):
        from guanxi.customers.views_duplicates import check_duplicates

        params = request.query_params
        kind = params.get("kind", "")
        hits = check_duplicates(
            user=request.user,
            name=params.get("name", "")[:200],
            phones=[phone[:40] for phone in params.getlist("phone")[:10]],
            emails=[email[:254] for email in params.getlist("email")[:10]],
            kind=matching.PERSON if kind in ("individual", matching.PERSON) else matching.COMPANY,
            limit=10,
        )
        return Response(DuplicateHitSerializer(hits, many=True).data)


# --- scans ------------------------------------------------------------------------------


class DuplicatePairSerializer(serializers.ModelSerializer):
    first = serializers.IntegerField(source="first_id")
    second = serializers.IntegerField(source="second_id")
    first_name = serializers.SerializerMethodField()
    second_name = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = DuplicatePair
        fields = ("first", "first_name", "second", "second_name", "score", "reasons")

    def _name(self, pk: int) -> str | None:
        record = self.context.get("records", {}).get(pk)
        return str(record) if record is not None else None

    def get_first_name(self, pair) -> str | None:
        return self._name(pair.first_id)

    def get_second_name(self, pair) -> str | None:
        return self._name(pair.second_id)


class DuplicateScanSerializer(serializers.ModelSerializer):
    model = serializers.ChoiceField(
        source="model_label", choices=(), help_text='What to scan, e.g. "customers.account".'
    )
    status = serializers.CharField(read_only=True, help_text="queued, running, done or failed")
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DuplicateScan
        fields = (
            "id",
            "model",
            "status",
            "blocks_total",
            "blocks_done",
            "pairs_found",
            "error",
            "created_by",
            "created_at",
            "finished_at",
        )
        read_only_fields = (
            "status",
            "blocks_total",
            "blocks_done",
            "pairs_found",
            "error",
            "created_at",
            "finished_at",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [
            (model._meta.label_lower, model._meta.label_lower) for model in scannable_models()
        ]


class DuplicateScanDetailSerializer(DuplicateScanSerializer):
    pairs = serializers.SerializerMethodField()

    class Meta(DuplicateScanSerializer.Meta):
        fields = (*DuplicateScanSerializer.Meta.fields, "pairs")

    @extend_schema_field(DuplicatePairSerializer(many=True))
    def get_pairs(self, scan) -> list[dict]:
        pairs = self.context.get("pairs", [])
        return DuplicatePairSerializer(pairs, many=True, context=self.context).data


class DuplicateScanViewSet(
    GuanxiAPIMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Duplicate scans (administrators): start one, follow its progress, read its pairs."""

    permission_classes = [permissions.IsAuthenticated, IsAdministrator]
    serializer_class = DuplicateScanSerializer
    queryset = DuplicateScan.objects.none()
    filter_backends: list = []
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return DuplicateScan.objects.order_by("-created_at", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DuplicateScanDetailSerializer
        return DuplicateScanSerializer

    def create(self, request, *args, **kwargs):
        serializer = DuplicateScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = apps.get_model(serializer.validated_data["model_label"])
        scan = duplicate_scan_start(model=model, actor=request.user)
        return Response(DuplicateScanSerializer(scan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="Pairs to return (≤ 1000)."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Pairs to skip."),
        ]
    )
    def retrieve(self, request, *args, **kwargs):
        scan = self.get_object()
        limit = _int(request.query_params.get("limit"), 200, cap=MAX_PAIRS)
        offset = _int(request.query_params.get("offset"), 0)
        pairs = list(
            DuplicatePair.objects.filter(scan=scan).order_by("-score", "first_id", "second_id")[
                offset : offset + limit
            ]
        )
        ids = {pk for pair in pairs for pk in (pair.first_id, pair.second_id)}
        model = apps.get_model(scan.model_label)
        records = model.objects.visible_to(request.user).in_bulk(list(ids)) if ids else {}
        context = {**self.get_serializer_context(), "pairs": pairs, "records": records}
        return Response(DuplicateScanDetailSerializer(scan, context=context).data)


def _int(raw, default: int, cap: int | None = None) -> int:
    try:
        value = max(0, int(raw))
    except (TypeError, ValueError):
        value = default
    return min(value, cap) if cap else value


register_api_path("accounts/merge/", AccountMergeView.as_view(), "account-merge")
register_api_path("contacts/merge/", ContactMergeView.as_view(), "contact-merge")
register_api_path("duplicates/check/", DuplicateCheckView.as_view(), "duplicate-check")
register_viewset("duplicate-scans", DuplicateScanViewSet, "duplicate-scan")
