"""Calendar reads: whose calendars a user may open, and the events of a date range.

Who may see whose calendar follows the data scope of activities:
- everybody sees their own calendar;
- everybody below them (manager chains and managed department subtrees);
- with the department (or department-and-below) scope, the department (or its subtree);
- with the "all" scope, and administrators, everybody.
A peer rep (own scope) does not see a peer's calendar.

Asking for calendars the viewer may not open: those users are silently left out; when none
of the asked-for users is allowed, `calendar_events` raises `NotVisible` (HTTP 404), like any
record the viewer may not see.

An event is shown in full when the viewer may see the activity (its data scope) and, for a
private activity, is its owner or an assignee. Otherwise it is returned as "Busy": the time
only, without subject, details or link.

All-day activities: `start_at` is local midnight of the first day and `end_at` the local
midnight after the last day (exclusive, as FullCalendar and iCalendar count). An all-day
activity without an end, or whose end is not at midnight, is read as ending on that day.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import (
    Activity,
    ActivityAssignee,
    ActivityPreference,
    ActivityStatus,
)
from guanxi.core.exceptions import NotVisible
from guanxi.core.models import DataScope, User
from guanxi.core.scope import (
    is_administrator,
    scope_for,
    scope_q,
    subordinate_ids,
    subtree_department_ids,
)

# A range query never spans more than this (the year view asks for one year).
MAX_RANGE_DAYS = 400
# Nor answers more events than this (a year of a whole team's calendars).
MAX_EVENTS = 20_000
# Colours for people who did not choose one: stable per user (the id picks one).
PALETTE = [
    "#0d6efd",
    "#198754",
    "#d63384",
    "#fd7e14",
    "#6f42c1",
    "#20c997",
    "#dc3545",
    "#0dcaf0",
    "#6610f2",
    "#795548",
    "#ffc107",
    "#607d8b",
]
# Shown instead of the colour for a busy slot.
BUSY_COLOR = "#adb5bd"


# --- whose calendars ---------------------------------------------------------------------------
def calendar_users_visible_to(user: User):
    """The active users whose calendar `user` may open, themselves included, by name."""
    users = User.objects.filter(is_active=True)
    if is_administrator(user):
        return users.order_by("display_name", "username")
    scope = scope_for(user, Activity, "view")
    if scope == DataScope.ALL:
        return users.order_by("display_name", "username")
    allowed = Q(pk=user.pk)
    below = subordinate_ids(user)
    if below:
        allowed |= Q(pk__in=sorted(below))
    if scope == DataScope.SUBTREE and user.department_id:
        allowed |= Q(department_id__in=subtree_department_ids(user))
    elif scope == DataScope.DEPARTMENT and user.department_id:
        allowed |= Q(department_id=user.department_id)
    return users.filter(allowed).order_by("display_name", "username")


def palette_color(user_id: int) -> str:
    return PALETTE[user_id % len(PALETTE)]


def calendar_colors(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's calendar colour: their own choice, else a stable palette colour."""
    ids = list(user_ids)
    chosen = dict(
        ActivityPreference.objects.filter(user_id__in=ids)
        .exclude(calendar_color="")
        .values_list("user_id", "calendar_color")
    )
    return {pk: chosen.get(pk) or palette_color(pk) for pk in ids}


def calendar_people(user: User) -> list[dict[str, Any]]:
    """The people picker: id, name and colour of every calendar the user may open (two
    queries, however many people)."""
    people = list(calendar_users_visible_to(user).values("pk", "display_name", "username"))
    colors = calendar_colors(person["pk"] for person in people)
    return [
        {
            "id": person["pk"],
            "name": person["display_name"] or person["username"],
            "color": colors[person["pk"]],
            "me": person["pk"] == user.pk,
        }
        for person in people
    ]


def allowed_user_ids(viewer: User, user_ids: Iterable[int] | None) -> list[int]:
    """The asked-for users whose calendars the viewer may open (default: the viewer)."""
    wanted = sorted({int(pk) for pk in user_ids or []}) or [viewer.pk]
    if wanted == [viewer.pk]:
        return wanted
    allowed = list(
        calendar_users_visible_to(viewer)
        .filter(pk__in=wanted)
        .order_by()
        .values_list("pk", flat=True)
    )
    if not allowed:
        raise NotVisible
    return sorted(allowed)


# --- events ------------------------------------------------------------------------------------
def _flag(condition: Q) -> Case | Value:
    """A boolean column: whether the row matches `condition` (an empty Q matches all)."""
    if not condition:
        return Value(True, output_field=BooleanField())
    return Case(
        When(condition, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _events_queryset(viewer: User, user_ids: list[int] | None):
    """Activities (not deleted, not cancelled) with what the calendar needs to know, as
    plain rows. With `user_ids`, only those whose owner or an assignee is one of them."""
    is_assignee = Exists(
        ActivityAssignee.objects.filter(activity_id=OuterRef("pk"), user_id=viewer.pk)
    )
    rows = Activity.objects.exclude(status=ActivityStatus.CANCELLED)
    if user_ids is not None:
        assigned = ActivityAssignee.objects.filter(user_id__in=user_ids).values("activity_id")
        rows = rows.filter(Q(owner_id__in=user_ids) | Q(pk__in=assigned))
        first_assignee = Subquery(
            ActivityAssignee.objects.filter(activity_id=OuterRef("pk"), user_id__in=user_ids)
            .order_by("user_id")
            .values("user_id")[:1],
            output_field=IntegerField(),
        )
        shown_user = Case(
            When(owner_id__in=user_ids, then=F("owner_id")),
            default=first_assignee,
            output_field=IntegerField(),
        )
    else:
        shown_user = F("owner_id")
    return rows.annotate(
        shown_user=shown_user,
        viewer_sees=_flag(scope_q(viewer, Activity, "view")),
        viewer_changes=_flag(scope_q(viewer, Activity, "change")),
        viewer_assigned=is_assignee,
    ).values(
        "pk",
        "subject",
        "kind",
        "status",
        "start_at",
        "end_at",
        "all_day",
        "is_private",
        "owner_id",
        "version",
        "shown_user",
        "viewer_sees",
        "viewer_changes",
        "viewer_assigned",
    )


def _detail_url_template() -> str:
    """The activity page's URL with a placeholder id, reversed once per request."""
    try:
        return reverse("activities:activity_detail", args=[987654321]).replace("987654321", "{}")
    except NoReverseMatch:
        return ""


def _all_day_end(start: datetime.date, end_at: datetime.datetime | None) -> datetime.date:
    """The exclusive end date of an all-day activity (see the module docstring)."""
    if end_at is None:
        return start + datetime.timedelta(days=1)
    local = timezone.localtime(end_at)
    if local.time() == datetime.time(0) and local.date() > start:
        return local.date()
    return max(local.date(), start) + datetime.timedelta(days=1)


def _event(row: dict[str, Any], *, viewer: User, colors: dict[int, str], url: str, busy_title):
    own = row["owner_id"] == viewer.pk or row["viewer_assigned"]
    busy = not row["viewer_sees"] or (row["is_private"] and not own)
    user_id = row["shown_user"] if row["shown_user"] is not None else row["owner_id"]
    start_at, end_at = row["start_at"], row["end_at"]
    if row["all_day"]:
        start_day = timezone.localtime(start_at).date()
        start = start_day.isoformat()
        end = _all_day_end(start_day, end_at).isoformat()
    else:
        start = timezone.localtime(start_at).isoformat()
        end = timezone.localtime(end_at).isoformat() if end_at else None
    editable = bool(row["viewer_changes"] and not busy and row["status"] == ActivityStatus.OPEN)
    return {
        "id": row["pk"],
        "title": busy_title if busy else row["subject"],
        "start": start,
        "end": end,
        "allDay": row["all_day"],
        "user": user_id,
        "color": BUSY_COLOR if busy else colors.get(user_id) or palette_color(user_id or 0),
        "url": "" if busy or not url else url.format(row["pk"]),
        "editable": editable,
        "version": None if busy else row["version"],
        "busy": busy,
        "kind": "" if busy else row["kind"],
        "status": "" if busy else row["status"],
    }


def calendar_events(
    *,
    viewer: User,
    start: datetime.datetime,
    end: datetime.datetime,
    user_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """The events of the asked-for calendars overlapping [start, end), earliest first.

    One query for the events (owner or assignee among the users, start before the end of
    the range, and not over before its start) plus a few fixed ones for the viewer's roles,
    the allowed users and their colours."""
    if end <= start:
        return []
    ids = allowed_user_ids(viewer, user_ids)
    colors = calendar_colors(ids)
    rows = (
        _events_queryset(viewer, ids)
        .filter(start_at__lt=end)
        # Started in the range, or earlier and still running at its start.
        .filter(Q(start_at__gte=start) | Q(due_at__gt=start))
        .order_by("start_at", "pk")[:MAX_EVENTS]
    )
    url = _detail_url_template()
    busy_title = _("Busy")
    return [
        _event(row, viewer=viewer, colors=colors, url=url, busy_title=busy_title) for row in rows
    ]


def calendar_event(*, viewer: User, activity_id: int) -> dict[str, Any]:
    """One activity as a calendar event for the viewer (after a change), shown as its
    owner's. Raises NotVisible when the viewer may not see it."""
    row = (
        _events_queryset(viewer, None)
        .filter(pk=activity_id)
        .filter(scope_q(viewer, Activity, "view") or Q())
        .first()
    )
    if row is None:
        raise NotVisible
    colors = calendar_colors([row["owner_id"]]) if row["owner_id"] else {}
    return _event(
        row, viewer=viewer, colors=colors, url=_detail_url_template(), busy_title=_("Busy")
    )


# --- parsing what the browser and API clients send --------------------------------------------
def parse_moment(value: str | None) -> tuple[datetime.datetime | None, bool]:
    """An ISO date or date-time from a query string or form as an aware datetime, and
    whether it was a plain date (local midnight). (None, False) when it cannot be read."""
    from django.utils.dateparse import parse_date, parse_datetime

    text = (value or "").strip()
    if not text:
        return None, False
    # A "+" in an unencoded query string arrives as a space.
    text = text.replace(" ", "+") if "T" in text else text
    try:
        if len(text) == 10:
            day = parse_date(text)
            if day is None:
                return None, False
            midnight = datetime.datetime.combine(day, datetime.time(0))
            return timezone.make_aware(midnight), True
        moment = parse_datetime(text)
    except ValueError:
        return None, False
    if moment is None:
        return None, False
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, False


def parse_user_ids(value: str | None) -> list[int] | None:
    """ "1,2,3" as [1, 2, 3]; None when empty. Raises ValueError on anything else."""
    text = (value or "").strip()
    if not text:
        return None
    return [int(part) for part in text.split(",") if part.strip()]
