"""GET /api/v1/search/?q= : the global search over everything the caller may see."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.search.selectors import DEFAULT_LIMIT, MAX_LIMIT, search


def _result_serializer():
    return inline_serializer(
        name="SearchResult",
        many=True,
        fields={
            "type": serializers.CharField(help_text="Model label, e.g. customers.account"),
            "type_name": serializers.CharField(),
            "id": serializers.IntegerField(),
            "title": serializers.CharField(),
            "subtitle": serializers.CharField(),
            "url": serializers.CharField(),
        },
    )


def _limit(value) -> int:
    try:
        return max(1, min(int(value), MAX_LIMIT))
    except (TypeError, ValueError):
        return DEFAULT_LIMIT


class SearchAPIView(APIView):
    @extend_schema(
        operation_id="search",
        parameters=[
            OpenApiParameter(
                "q", str, required=True, description="Words, Chinese text, pinyin or a phone"
            ),
            OpenApiParameter("limit", int, required=False),
        ],
        responses={
            200: inline_serializer(name="SearchResults", fields={"results": _result_serializer()})
        },
    )
    def get(self, request):
        q = request.query_params.get("q", "").strip()
        if not q:
            message = _("Enter something to search for.")
            return Response(
                {"detail": message, "errors": {"q": [message]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        hits = search(user=request.user, q=q, limit=_limit(request.query_params.get("limit")))
        return Response(
            {
                "results": [
                    {
                        "type": hit.model,
                        "type_name": hit.verbose_name,
                        "id": hit.pk,
                        "title": hit.title,
                        "subtitle": hit.subtitle,
                        "url": hit.url,
                    }
                    for hit in hits
                ]
            }
        )
