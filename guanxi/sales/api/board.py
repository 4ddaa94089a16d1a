"""`GET /api/v1/opportunities/funnel/?pipeline=&scope=me|team|company&start=&end=`: the sales
funnel as JSON (count and amount per stage, how many reached each stage and the
stage-to-stage conversion), the same figures as the funnel page. Registered at app ready by
`guanxi.sales.hooks.board`."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api.base import GuanxiAPIMixin
from guanxi.core.api.registry import register_api_path
from guanxi.core.scope import can
from guanxi.sales.forms import FunnelForm
from guanxi.sales.models import Opportunity
from guanxi.sales.selectors.funnel import funnel_report

FUNNEL_SCHEMA = inline_serializer(
    "SalesFunnel",
    {
        "pipeline": serializers.IntegerField(),
        "pipeline_name": serializers.CharField(),
        "scope": serializers.CharField(),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "total": serializers.IntegerField(),
        "steps": inline_serializer(
            "SalesFunnelStep",
            {
                "stage": serializers.IntegerField(),
                "name": serializers.CharField(),
                "kind": serializers.CharField(),
                "count": serializers.IntegerField(),
                "amount": serializers.DecimalField(max_digits=30, decimal_places=2),
                "amount_display": serializers.CharField(),
                "reached": serializers.IntegerField(),
                "conversion": serializers.FloatField(allow_null=True),
                "url": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
    },
)


class FunnelView(GuanxiAPIMixin, APIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []

    @extend_schema(
        operation_id="opportunities_funnel",
        summary="The sales funnel of a pipeline",
        description=(
            "Open opportunities in each stage now (and the won ones), with their amount in the "
            "company currency; of the opportunities created in [start, end], how many reached "
            "each stage (or a later one) and the share that went on to the next stage. "
            "scope: me (my own), team (mine and my subordinates'), company (everything "
            "visible; only for those who see all opportunities, otherwise team)."
        ),
        parameters=[
            OpenApiParameter("pipeline", OpenApiTypes.INT, description="Default: the default"),
            OpenApiParameter("scope", OpenApiTypes.STR, enum=["me", "team", "company"]),
            OpenApiParameter("start", OpenApiTypes.DATE, description="Created from (ISO date)"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Created up to (ISO date)"),
        ],
        responses={200: FUNNEL_SCHEMA},
        tags=["opportunities"],
    )
    def get(self, request):
        if not can(request.user, Opportunity, "view"):
            raise Http404
        form = FunnelForm(request.query_params or None, user=request.user)
        return Response(funnel_report(request.user, form.values()))


register_api_path("opportunities/funnel/", FunnelView.as_view(), "opportunity-funnel")
