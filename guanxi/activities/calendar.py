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

from django.db import connection, connections
from django.db.models import (
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
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
from guanxi.activities.services import MAX_DURATION
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
# What one event row holds, in this order (tuples: a month of a team is thousands of rows).
EVENT_COLUMNS = (
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
)
PK, SUBJECT, KIND, STATUS, START, END, ALL_DAY, PRIVATE, OWNER, VERSION, SHOWN_USER = range(
    len(EVENT_COLUMNS)
)
# Not cancelled; written as a list so the (owner, status, due_at) index can serve it.
SHOWN_STATUSES = [ActivityStatus.OPEN, ActivityStatus.DONE]


def _rows(queryset, shown_user):
    return queryset.order_by().annotate(shown_user=shown_user).values_list(*EVENT_COLUMNS)


def _range_rows(user_ids: list[int], start, end) -> list[tuple]:
    """The activities of `user_ids` overlapping [start, end), earliest first, as one UNION ALL
    of three index-friendly parts (disjoint, so nothing is counted twice):
    - owned, starting in the range: the (owner, start_at) index;
    - owned, started before (at most MAX_DURATION) and still running: (owner, start_at);
    - assigned (owner not among the users) and overlapping: the assignees' (user, start_at)
      index, then the activity by primary key.
    """
    shown = Activity.objects.filter(status__in=SHOWN_STATUSES)
    owned = shown.filter(owner_id__in=user_ids)
    starting = owned.filter(start_at__gte=start, start_at__lt=end)
    # Activities last at most MAX_DURATION, so those still running started this far back at
    # the earliest: a bounded (owner, start_at) range instead of every earlier activity.
    running = owned.filter(start_at__gte=start - MAX_DURATION, start_at__lt=start, due_at__gt=start)
    assignments = ActivityAssignee.objects.filter(
        user_id__in=user_ids, start_at__gte=start - MAX_DURATION, start_at__lt=end
    )
    assigned = (
        shown.filter(pk__in=assignments.values("activity_id"))
        .exclude(owner_id__in=user_ids)
        .filter(Q(start_at__gte=start) | Q(due_at__gt=start))
    )
    # An assigned activity shows in the calendar of its first assignee among the users.
    first_assignee = Subquery(
        ActivityAssignee.objects.filter(activity_id=OuterRef("pk"), user_id__in=user_ids)
        .order_by("user_id")
        .values("user_id")[:1],
        output_field=IntegerField(),
    )
    parts = [_rows(starting, F("owner_id")), _rows(running, F("owner_id"))]
    parts.append(_rows(assigned, first_assignee))
    union = parts[0].union(*parts[1:], all=True)
    # Sorted here, not by the database: asked to sort, SQLite walks the whole company's
    # (start_at) index for the range instead of each person's (owner, start_at) range.
    rows = _fetch(union[: MAX_EVENTS + 1])
    if len(rows) > MAX_EVENTS:  # too many to show: the earliest ones
        return _fetch(union.order_by("start_at", "pk")[:MAX_EVENTS])
    rows.sort(key=lambda row: (row[START], row[PK]))
    return rows


def _fetch(rows) -> list[tuple]:
    """The rows of an EVENT_COLUMNS queryset, read straight from the cursor: for a team's
    month, Django's per-value converters cost more than the query. Times stay as the
    database gives them (see `_moment_reader`)."""
    connection = connections[rows.db]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if tuple(column[0] for column in cursor.description) != EVENT_COLUMNS:
            raise RuntimeError("The calendar query's columns are not EVENT_COLUMNS.")
        return cursor.fetchall()


def _local_time_reader(vendor: str, zone):
    """A function turning a time read by `_fetch` into an aware local datetime. SQLite keeps
    UTC times as ISO text, the other databases answer aware datetimes."""
    if vendor != "sqlite":
        return lambda value: value.astimezone(zone)
    # Parsing the offset is several times faster than datetime.replace(tzinfo=...).
    parse = datetime.datetime.fromisoformat
    return lambda value: (
        parse(value + "+00:00") if isinstance(value, str) else value.replace(tzinfo=datetime.UTC)
    ).astimezone(zone)


def _owners_in_scope(viewer: User, action: str) -> set[int] | None:
    """Owners all of whose activities the viewer may see (or change): everybody (None) with
    the "all" scope, else themselves and everybody below them; empty without the right."""
    scope = scope_for(viewer, Activity, action)
    if scope is None:
        return set()
    if scope == DataScope.ALL:
        return None
    return {viewer.pk} | subordinate_ids(viewer)


def _permitted(viewer: User, rows: list[tuple], action: str) -> set[int] | None:
    """The ids among `rows` the viewer may `action` (None: all of them). Rows whose owner the
    viewer covers wholly need no query; the others (a department colleague's, a shared or
    assigned one) are checked against the data scope in one query."""
    owners = _owners_in_scope(viewer, action)
    if owners is None:
        return None
    allowed = {row[PK] for row in rows if row[OWNER] in owners}
    unsure = [row[PK] for row in rows if row[OWNER] not in owners]
    if unsure and scope_for(viewer, Activity, action) is not None:
        allowed.update(
            Activity.objects.filter(pk__in=unsure)
            .filter(scope_q(viewer, Activity, action))
            .values_list("pk", flat=True)
        )
    return allowed


def _assigned_to(viewer: User, start, end) -> set[int]:
    """The activities of the range the viewer is an assignee of."""
    return set(
        ActivityAssignee.objects.filter(
            user_id=viewer.pk, start_at__gte=start - MAX_DURATION, start_at__lt=end
        ).values_list("activity_id", flat=True)
    )


def _detail_url_template() -> str:
    """The activity page's URL with a placeholder id, reversed once per request."""
    try:
        return reverse("activities:activity_detail", args=[987654321]).replace("987654321", "{}")
    except NoReverseMatch:
        return ""


def _all_day_end(start: datetime.date, local_end: datetime.datetime | None) -> datetime.date:
    """The exclusive end date of an all-day activity (see the module docstring)."""
    if local_end is None:
        return start + datetime.timedelta(days=1)
    if local_end.time() == datetime.time(0) and local_end.date() > start:
        return local_end.date()
    return max(local_end.date(), start) + datetime.timedelta(days=1)


def _event_maker(
    viewer: User,
    colors: dict[int, str],
    *,
    visible: set[int] | None,
    changeable: set[int] | None,
    assigned: set[int],
):
    """A function turning a row into a FullCalendar event for `viewer`. `visible` and
    `changeable` are the ids the viewer may see and change (None: all); `assigned` the ids
    they are an assignee of. What every event shares (time zone, URL pattern, the "Busy"
    text) is looked up once."""
    local_time = _local_time_reader(connection.vendor, zone=timezone.get_current_timezone())
    # A team's month has far fewer distinct times than events (meetings start on the hour).
    texts: dict[Any, str] = {}

    def local_text(value) -> str:
        text = texts.get(value)
        if text is None:
            text = texts[value] = local_time(value).isoformat()
        return text

    url = _detail_url_template()
    busy_title = _("Busy")
    open_status = ActivityStatus.OPEN
    viewer_id = viewer.pk

    def make(row: tuple) -> dict[str, Any]:
        pk = row[PK]
        own = row[OWNER] == viewer_id or pk in assigned
        sees = visible is None or pk in visible
        busy = not sees or (row[PRIVATE] and not own)
        user_id = row[SHOWN_USER] if row[SHOWN_USER] is not None else row[OWNER]
        if row[ALL_DAY]:
            start_day = local_time(row[START]).date()
            end_at = local_time(row[END]) if row[END] else None
            start = start_day.isoformat()
            end = _all_day_end(start_day, end_at).isoformat()
        else:
            start = local_text(row[START])
            end = local_text(row[END]) if row[END] else None
        if busy:
            return {
                "id": pk,
                "title": busy_title,
                "start": start,
                "end": end,
                "allDay": bool(row[ALL_DAY]),
                "user": user_id,
                "color": BUSY_COLOR,
                "url": "",
                "editable": False,
                "version": None,
                "busy": True,
                "kind": "",
                "status": "",
            }
        may_change = changeable is None or pk in changeable
        return {
            "id": pk,
            "title": row[SUBJECT],
            "start": start,
            "end": end,
            "allDay": bool(row[ALL_DAY]),
            "user": user_id,
            "color": colors.get(user_id) or palette_color(user_id or 0),
            "url": url.format(pk) if url else "",
            "editable": may_change and row[STATUS] == open_status,
            "version": row[VERSION],
            "busy": False,
            "kind": row[KIND],
            "status": row[STATUS],
        }

    return make


def calendar_events(
    *,
    viewer: User,
    start: datetime.datetime,
    end: datetime.datetime,
    user_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """The events of the asked-for calendars overlapping [start, end), earliest first.

    One query for the events (see `_range_rows`), one for the viewer's own assignments, a
    few fixed ones for the viewer's roles, the allowed users and their colours, and one per
    action only when some events belong to people outside the viewer's own reach."""
    if end <= start:
        return []
    ids = allowed_user_ids(viewer, user_ids)
    colors = calendar_colors(ids)
    rows = _range_rows(ids, start, end)
    make = _event_maker(
        viewer,
        colors,
        visible=_permitted(viewer, rows, "view"),
        changeable=_permitted(viewer, rows, "change"),
        assigned=_assigned_to(viewer, start, end),
    )
    return [make(row) for row in rows]


def calendar_event(*, viewer: User, activity_id: int) -> dict[str, Any]:
    """One activity as a calendar event for the viewer (after a change), shown as its
    owner's. Raises NotVisible when the viewer may not see it."""
    rows = Activity.objects.filter(pk=activity_id).filter(scope_q(viewer, Activity, "view"))
    found = _fetch(_rows(rows, F("owner_id")))
    if not found:
        raise NotVisible
    row = found[0]
    colors = calendar_colors([row[OWNER]]) if row[OWNER] else {}
    assigned = set(
        ActivityAssignee.objects.filter(activity_id=activity_id, user_id=viewer.pk).values_list(
            "activity_id", flat=True
        )
    )
    make = _event_maker(
        viewer,
        colors,
        visible=None,
        changeable=_permitted(viewer, [row], "change"),
        assigned=assigned,
    )
    return make(row)


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
