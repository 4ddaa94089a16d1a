"""The forecast and targets over the REST API (thin: selectors read, services write):

- `GET /api/v1/forecast/?period=2026-Q3&level=company|department|user&subject=<id>`: the
  figures (closed won, commit, best case, pipeline, weighted; adjusted commit / best case,
  target, attainment) of the subject and its rows, inside the caller's data scope; a subject
  the caller may not pick answers 404;
- `POST /api/v1/forecast/adjustments/` `{"user", "period", "category", "amount", "reason"}`:
  a manager adjusts a subordinate's commit or best case;
- `/api/v1/sales-targets/`: the targets the caller may look at (list, filter by year, month,
  level, metric); `POST` sets one (create or change: the same subject and month replace the
  amount), `DELETE` removes one. Writes: administrators and sales managers, for what they
  manage.
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from guanxi.core.api.base import ROLE_REFUSED, GuanxiAPIMixin
from guanxi.core.api.registry import register_api_path, register_viewset
from guanxi.core.models import User
from guanxi.core.scope import can
from guanxi.sales.models import (
    ForecastCategory,
    Opportunity,
    SalesTarget,
    TargetLevel,
    TargetMetric,
)
from guanxi.sales.selectors.forecast import (
    Subjects,
    default_subject,
    forecast,
    forecast_subjects,
    parse_period,
    visible_targets,
)
from guanxi.sales.services.forecast import forecast_adjust, target_set


def _subject(request) -> tuple[str, int | None, Subjects]:
    subjects = forecast_subjects(request.user)
    level = request.query_params.get("level") or ""
    raw = request.query_params.get("subject") or ""
    if not level:
        level, subject = default_subject(request.user, subjects)
    else:
        subject = int(raw) if raw.isdigit() else None
        if level == TargetLevel.USER and subject is None:
            subject = request.user.pk
    if not subjects.allows(level, subject):
        raise Http404
    return level, subject, subjects


class ForecastView(GuanxiAPIMixin, GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return Opportunity.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, description="2026, 2026-Q3 or 2026-07"),
            OpenApiParameter("level", OpenApiTypes.STR, enum=TargetLevel.values),
            OpenApiParameter("subject", OpenApiTypes.INT, description="user or department id"),
        ],
        responses={200: OpenApiTypes.OBJECT},
        summary="The sales forecast of a person, a department or the company",
    )
    def get(self, request):
        if not can(request.user, Opportunity, "view"):
            raise PermissionDenied(ROLE_REFUSED)
        period = parse_period(request.query_params.get("period"))
        level, subject, subjects = _subject(request)
        result = forecast(
            viewer=request.user, period=period, level=level, subject=subject, subjects=subjects
        )
        return Response(result.as_dict())


class AdjustmentSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    period = serializers.CharField(max_length=10)
    category = serializers.ChoiceField(choices=ForecastCategory.choices)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    reason = serializers.CharField(max_length=255)


class AdjustmentResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    period = serializers.CharField()
    category = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    reason = serializers.CharField()
    adjusted_by = serializers.IntegerField(source="adjusted_by_id")
    created_at = serializers.DateTimeField()


class ForecastAdjustmentView(GuanxiAPIMixin, GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = AdjustmentSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return Opportunity.objects.none()

    @extend_schema(
        request=AdjustmentSerializer,
        responses={201: AdjustmentResultSerializer},
        summary="Adjust a subordinate's commit or best case for a period",
    )
    def post(self, request):
        payload = AdjustmentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not forecast_subjects(request.user).allows(TargetLevel.USER, data["user"]):
            raise Http404
        adjustment = forecast_adjust(
            actor=request.user,
            user=User.objects.get(pk=data["user"]),
            period=data["period"],
            category=data["category"],
            amount=data["amount"],
            reason=data["reason"],
        )
        return Response(AdjustmentResultSerializer(adjustment).data, status=status.HTTP_201_CREATED)


class SalesTargetSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)

    class Meta:
        model = SalesTarget
        fields = (
            "id",
            "year",
            "month",
            "level",
            "department",
            "user",
            "metric",
            "amount",
            "updated_at",
        )
        read_only_fields = ("id", "updated_at")
        validators: list = []  # the service upserts; the unique constraints are its business


class SalesTargetFilter(django_filters.FilterSet):
    class Meta:
        model = SalesTarget
        fields = ["year", "month", "level", "metric", "department", "user"]


class SalesTargetViewSet(
    GuanxiAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SalesTargetSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = SalesTargetFilter
    ordering_fields = ("year", "month", "level")
    ordering = ("year", "month", "level", "id")

    def get_queryset(self):
        if not can(self.request.user, Opportunity, "view"):
            return SalesTarget.objects.none()
        return visible_targets(self.request.user).order_by(*self.ordering)

    @extend_schema(responses={201: SalesTargetSerializer})
    def create(self, request, *args, **kwargs):
        payload = SalesTargetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        target = target_set(
            actor=request.user,
            year=data["year"],
            month=data.get("month", 0),
            level=data["level"],
            department=data.get("department"),
            user=data.get("user"),
            metric=data.get("metric", TargetMetric.SALES),
            amount=data["amount"],
        )
        return Response(SalesTargetSerializer(target).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        target_set(
            actor=self.request.user,
            year=instance.year,
            month=instance.month,
            level=instance.level,
            department=instance.department,
            user=instance.user,
            metric=instance.metric,
            amount=None,
        )


register_api_path("forecast/adjustments/", ForecastAdjustmentView.as_view(), "forecast-adjustments")
register_api_path("forecast/", ForecastView.as_view(), "forecast")
register_viewset("sales-targets", SalesTargetViewSet, "sales-target")
