"""/api/v1/pools/: the pools I am a member of (administrators: all), each with its rules;
`POST pools/{id}/claim/` and `POST pools/{id}/release/` with {"type": "lead|account",
"ids": [...]} answer one result per id; `GET pools/dry-run/` (administrators) lists what the
recycle job would take back and why. Thin: the pool services do the work."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from guanxi.core.api.base import GuanxiAPIMixin
from guanxi.core.api.registry import register_viewset
from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.scope import is_administrator
from guanxi.leads.models import Pool, RecycleRule
from guanxi.leads.selectors.pools import (
    RECORD_TYPES,
    claims_today,
    kind_for_type,
    pool_model,
    pools_for,
)
from guanxi.leads.services import pools as services

MAX_IDS = 100


class RecycleRuleSerializer(serializers.ModelSerializer):
    customer_level_label = serializers.CharField(
        source="customer_level.label", read_only=True, default=None
    )

    class Meta:
        model = RecycleRule
        fields = (
            "id",
            "customer_level",
            "customer_level_label",
            "not_followed_up_days",
            "no_deal_days",
            "after_contract_days",
            "exclude_open_opportunity",
            "is_active",
        )


class PoolSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True, default=None)
    rules = RecycleRuleSerializer(many=True, read_only=True)
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    member_departments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    records = serializers.IntegerField(source="record_count", read_only=True, default=None)

    class Meta:
        model = Pool
        fields = (
            "id",
            "name",
            "kind",
            "department",
            "department_name",
            "provinces",
            "members",
            "member_departments",
            "claims_per_day",
            "max_owned",
            "cooldown_days",
            "warning_days",
            "is_active",
            "records",
            "rules",
        )


class PoolActionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(RECORD_TYPES))
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_IDS
    )


class PoolReleaseSerializer(PoolActionSerializer):
    reason = serializers.CharField(max_length=255)


class PoolResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)


class DryRunItemSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    pool = serializers.IntegerField()
    reason = serializers.CharField()


class PoolViewSet(GuanxiAPIMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PoolSerializer
    permission_classes = [IsAuthenticated]
    ordering_fields = ("id", "name", "kind")
    filterset_fields = ("kind",)

    def get_queryset(self):
        from django.db.models import Count, Prefetch

        return (
            pools_for(self.request.user)
            .annotate(record_count=Count("entries", distinct=True))
            .prefetch_related(
                Prefetch("rules", queryset=RecycleRule.objects.select_related("customer_level")),
                "members",
                "member_departments",
            )
        )

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    @extend_schema(
        request=PoolActionSerializer,
        responses={200: PoolResultSerializer(many=True)},
        summary="Claim records from the pool; one result per id",
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        pool = self.get_object()
        data = self._payload(PoolActionSerializer)
        kind = kind_for_type(data["type"])
        if kind != pool.kind:
            raise serializers.ValidationError(
                {"type": [_("This pool holds %(kind)s.") % {"kind": pool.get_kind_display()}]}
            )
        results = services.pool_claim_many(
            pool=pool, model=pool_model(pool.kind), ids=data["ids"], actor=request.user
        )
        return Response(
            {
                "results": [
                    {"id": result.id, "ok": result.ok, "error": result.error} for result in results
                ],
                "claimed_today": claims_today(user=request.user, pool=pool),
            }
        )

    @extend_schema(
        request=PoolReleaseSerializer,
        responses={200: PoolResultSerializer(many=True)},
        summary="Release owned records to this pool with a reason; one result per id",
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        pool = self.get_object()
        data = self._payload(PoolReleaseSerializer)
        if kind_for_type(data["type"]) != pool.kind:
            raise serializers.ValidationError(
                {"type": [_("This pool holds %(kind)s.") % {"kind": pool.get_kind_display()}]}
            )
        model = pool_model(pool.kind)
        records = model.objects.visible_to(request.user).in_bulk(data["ids"])
        results = []
        for pk_ in data["ids"]:
            record = records.get(pk_)
            if record is None:
                results.append({"id": pk_, "ok": False, "error": _("Not found.")})
                continue
            try:
                services.pool_release(
                    record=record, actor=request.user, reason=data["reason"], pool=pool
                )
            except ValidationError as error:
                results.append({"id": pk_, "ok": False, "error": " ".join(error.messages)})
            except ActionNotAllowed as error:
                results.append({"id": pk_, "ok": False, "error": str(error)})
            else:
                results.append({"id": pk_, "ok": True, "error": ""})
        return Response({"results": results})

    @extend_schema(
        request=None,
        responses={200: DryRunItemSerializer(many=True)},
        summary="What the recycle job would take back now, and why (administrators)",
    )
    @action(detail=False, methods=["get"], url_path="dry-run", pagination_class=None)
    def dry_run(self, request):
        if not is_administrator(request.user):
            raise PermissionDenied(_("Only an administrator can run the recycle job."))
        found = services.recycle_run(dry_run=True)
        return Response(
            [
                {
                    "type": "lead" if record._meta.model_name == "lead" else "account",
                    "id": record.pk,
                    "name": str(record),
                    "owner": record.owner_id,
                    "pool": pool.pk,
                    "reason": reason,
                }
                for record, pool, reason in found
            ]
        )


register_viewset("pools", PoolViewSet, "pool")
