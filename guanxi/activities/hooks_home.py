"""The activities' cards on "My work today" (今日待办, the home page).

- Due today: every open activity of mine (owned or assigned to me) due today, follow-up
  tasks (created by a follow-up record's next date) marked as such. All kinds are listed,
  so the card matches the activity list's `?when=today&status=open`.
- Overdue: my open activities whose due time has passed, oldest first.
- Meetings and visits today: time, customer and location; cancelled ones left out.
- Reminders: my unread `activity_reminder` notifications.

Each card reads at most two queries (a page of rows, and a count only when the page is
full), plus one shared query for the activity types; everything starts from the user's data
scope.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import (
    Activity,
    ActivityAssignee,
    ActivityKind,
    ActivityStatus,
    FollowUp,
)
from guanxi.activities.services import activity_url
from guanxi.activities.statistics import kind_options
from guanxi.core.home import register_home_widget
from guanxi.core.models import Notification
from guanxi.core.scope import can

TOP = 10
TOP_REMINDERS = 5
REMINDER_KIND = "activity_reminder"
MEETING_KINDS = (ActivityKind.MEETING, ActivityKind.VISIT)


# --- reads ---------------------------------------------------------------------------------
def today_bounds(
    now: datetime.datetime | None = None,
) -> tuple[datetime.datetime, datetime.datetime]:
    """Local midnight today and tomorrow, in the active (the user's) time zone."""
    today = timezone.localdate(now or timezone.now())
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    return start, timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
    )


def my_activities(user):
    """The visible activities the user owns or is assigned to."""
    assigned = ActivityAssignee.objects.filter(user_id=user.pk).values("activity_id")
    return Activity.objects.visible_to(user).filter(Q(owner_id=user.pk) | Q(pk__in=assigned))


def _page(queryset, size: int) -> tuple[list, int]:
    """The first `size` rows and the total; counts only when the page is full."""
    rows = list(queryset[:size])
    total = len(rows) if len(rows) < size else queryset.count()
    return rows, total


def _rows(queryset):
    return queryset.select_related("account").annotate(
        from_follow_up=Exists(FollowUp.all_objects.filter(next_activity_id=OuterRef("pk")))
    )


def due_today(user, now=None) -> tuple[list[Activity], int]:
    start, end = today_bounds(now)
    queryset = my_activities(user).filter(
        status=ActivityStatus.OPEN, due_at__gte=start, due_at__lt=end
    )
    return _page(_rows(queryset).order_by("due_at", "pk"), TOP)


def overdue(user, now=None) -> tuple[list[Activity], int]:
    queryset = my_activities(user).filter(
        status=ActivityStatus.OPEN, due_at__lt=now or timezone.now()
    )
    return _page(_rows(queryset).order_by("due_at", "pk"), TOP)


def meetings_today(user, now=None) -> tuple[list[Activity], int]:
    start, end = today_bounds(now)
    queryset = (
        my_activities(user)
        .filter(kind__in=MEETING_KINDS, start_at__gte=start, start_at__lt=end)
        .exclude(status=ActivityStatus.CANCELLED)
    )
    return _page(_rows(queryset).order_by("start_at", "pk"), TOP)


def unread_reminders(user) -> tuple[list[Notification], int]:
    queryset = Notification.objects.filter(
        recipient_id=user.pk, kind=REMINDER_KIND, is_read=False
    ).select_related("actor")
    return _page(queryset.order_by("-created_at", "-id"), TOP_REMINDERS)


# --- cards ---------------------------------------------------------------------------------
def activities_list_url(**params) -> str:
    """The activity list (`activities:index`) with the agreed filters; "" before it exists."""
    try:
        url = reverse("activities:index")
    except NoReverseMatch:
        return ""
    query = urlencode([(key, value) for key, value in params.items() if value], doseq=True)
    return f"{url}?{query}" if query else url


def _kinds(request) -> dict[str, dict]:
    """The activity types, read once per request for all cards."""
    kinds = getattr(request, "_gx_activity_kinds", None)
    if kinds is None:
        kinds = request._gx_activity_kinds = kind_options()
    return kinds


def _decorate(request, activities: list[Activity]) -> list[Activity]:
    kinds = _kinds(request)
    for activity in activities:
        option = kinds.get(activity.kind, {})
        activity.kind_label = option.get("label") or activity.kind
        activity.kind_icon = option.get("icon") or "bi-check2-square"
        activity.kind_color = option.get("color") or ""
        activity.url = activity_url(activity)
    return activities


def _may_use_activities(request) -> bool:
    return can(request.user, Activity, "view")


def _activity_card(request, *, title, template, rows, total, url, order, **extra):
    return {
        "title": title,
        "template": template,
        "context": {
            "activities": _decorate(request, rows),
            "total": total,
            "more": max(0, total - len(rows)),
            "see_all_url": url,
            **extra,
        },
        "url": url,
        "order": order,
    }


@register_home_widget
def due_today_card(request):
    if not _may_use_activities(request):
        return None
    rows, total = due_today(request.user)
    return _activity_card(
        request,
        title=_("Due today"),
        template="activities/home/due_today.html",
        rows=rows,
        total=total,
        url=activities_list_url(when="today", status="open"),
        order=10,
    )


@register_home_widget
def overdue_card(request):
    if not _may_use_activities(request):
        return None
    rows, total = overdue(request.user)
    return _activity_card(
        request,
        title=_("Overdue"),
        template="activities/home/overdue.html",
        rows=rows,
        total=total,
        url=activities_list_url(when="overdue", status="open"),
        order=20,
    )


@register_home_widget
def meetings_today_card(request):
    if not _may_use_activities(request):
        return None
    rows, total = meetings_today(request.user)
    return _activity_card(
        request,
        title=_("Meetings and visits today"),
        template="activities/home/meetings.html",
        rows=rows,
        total=total,
        url=activities_list_url(when="today", kind=[kind.value for kind in MEETING_KINDS]),
        order=30,
    )


@register_home_widget
def reminders_card(request):
    if not _may_use_activities(request):
        return None
    rows, total = unread_reminders(request.user)
    url = reverse("core:notification_list") + "?unread=1"
    return {
        "title": _("Reminders"),
        "template": "activities/home/reminders.html",
        "context": {
            "reminders": rows,
            "total": total,
            "more": max(0, total - len(rows)),
            "next_url": reverse("home"),
        },
        "url": url,
        "order": 40,
    }
