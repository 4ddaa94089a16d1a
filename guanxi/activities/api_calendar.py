"""`GET /api/v1/activities/calendar/?start=&end=&users=1,2`: the calendar range query.

Answers a JSON list of events (id, title, start, end, allDay, user, color, url, editable,
version, busy, kind, status), the shape FullCalendar reads. Dates are ISO 8601 (a plain date
is local midnight); the range may not exceed `MAX_RANGE_DAYS`. `users` defaults to the
caller; users whose calendar the caller may not open are left out, and when none is left the
answer is 404. Thin: `guanxi.activities.calendar` does the work.
"""

from __future__ import annotations

import datetime

import orjson
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from guanxi.activities.calendar import (
    MAX_RANGE_DAYS,
    calendar_events,
    parse_moment,
    parse_user_ids,
)
from guanxi.core.api.base import GuanxiAPIMixin
from guanxi.core.api.registry import register_api_path


def calendar_range(params) -> tuple[datetime.datetime, datetime.datetime, list[int] | None]:
    """start, end and users from query parameters; ValidationError with a clear message."""
    start, _day = parse_moment(params.get("start"))
    end, _day = parse_moment(params.get("end"))
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["start"] = [_("Give the start of the range as an ISO date or date-time.")]
    if end is None:
        errors["end"] = [_("Give the end of the range as an ISO date or date-time.")]
    try:
        users = parse_user_ids(params.get("users"))
    except ValueError:
        errors["users"] = [_("Give the users as comma-separated ids, e.g. 1,2.")]
        users = None
    if not errors and end <= start:
        errors["end"] = [_("The end of the range must be after its start.")]
    if not errors and end - start > datetime.timedelta(days=MAX_RANGE_DAYS):
        errors["end"] = [_("Ask for at most %(days)s days at a time.") % {"days": MAX_RANGE_DAYS}]
    if errors:
        raise ValidationError(errors)
    return start, end, users


EVENTS_SCHEMA = inline_serializer(
    "CalendarEvent",
    {
        "id": serializers.IntegerField(),
        "title": serializers.CharField(),
        "start": serializers.CharField(),
        "end": serializers.CharField(allow_null=True),
        "allDay": serializers.BooleanField(),
        "user": serializers.IntegerField(),
        "color": serializers.CharField(),
        "url": serializers.CharField(),
        "editable": serializers.BooleanField(),
        "version": serializers.IntegerField(allow_null=True),
        "busy": serializers.BooleanField(),
        "kind": serializers.CharField(),
        "status": serializers.CharField(),
    },
    many=True,
)


class CalendarRangeView(GuanxiAPIMixin, APIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []

    @extend_schema(
        operation_id="activities_calendar",
        summary="Calendar events in a date range",
        description=(
            "Activities of the asked-for users (owner or assignee) overlapping [start, end). "
            "Other people's private activities, and activities outside the caller's data "
            "scope, come back as busy slots without details."
        ),
        parameters=[
            OpenApiParameter("start", OpenApiTypes.STR, required=True, description="ISO date"),
            OpenApiParameter("end", OpenApiTypes.STR, required=True, description="ISO date"),
            OpenApiParameter(
                "users", OpenApiTypes.STR, description="Comma-separated user ids (default: me)"
            ),
        ],
        responses={200: EVENTS_SCHEMA},
        tags=["activities"],
    )
    def get(self, request):
        start, end, users = calendar_range(request.query_params)
        events = calendar_events(viewer=request.user, start=start, end=end, user_ids=users)
        # A team's month is thousands of events: orjson encodes them several times faster
        # than the standard renderer, and the events are plain strings, numbers and booleans.
        return HttpResponse(orjson.dumps(events), content_type="application/json")


register_api_path("activities/calendar/", CalendarRangeView.as_view(), "activity-calendar")
