"""Reads of activities and follow-up records. Every one starts from the user's data scope
and loads what a page shows in a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from guanxi.activities.models import (
    ACTIVITY_TYPE_PICKLIST,
    FOLLOW_UP_CHANNEL_PICKLIST,
    Activity,
    ActivityAssignee,
    ActivityStatus,
    FollowUp,
)
from guanxi.activities.services import week_bounds
from guanxi.core.models import User
from guanxi.core.scope import ScopeFilter, can, subordinate_ids, with_parts
from guanxi.core.selectors import attach_related, picklist_option_rows

# Periods and statuses of the "my activities" filters.
PERIODS = ("today", "week", "overdue")
STATUSES = ("open", "done", "cancelled")
SORTS = ("due", "-due")


# --- picklists -------------------------------------------------------------------------------
@dataclass(frozen=True)
class KindOption:
    value: str
    label: str
    icon: str
    color: str


def activity_kinds(*, include_inactive: bool = False) -> dict[str, KindOption]:
    """The activity types by value, in their order, with icon and colour (one query a
    request)."""
    return {
        option.value: KindOption(
            value=option.value,
            label=option.label,
            icon=option.icon or "bi-check2-square",
            color=option.color or "#6c757d",
        )
        for option in picklist_option_rows(ACTIVITY_TYPE_PICKLIST)
        if include_inactive or option.is_active
    }


def follow_up_channels() -> list[tuple[str, str]]:
    """(value, label) of the active follow-up channels, in their order."""
    return [
        (option.value, option.label)
        for option in picklist_option_rows(FOLLOW_UP_CHANNEL_PICKLIST)
        if option.is_active
    ]


def kind_display(kind: str, kinds: dict[str, KindOption]) -> KindOption:
    """The option of a type (a deactivated or unknown one shows as itself, like a task)."""
    return kinds.get(kind) or KindOption(value=kind, label=kind, icon="bi-check2-square", color="")


# --- rows -------------------------------------------------------------------------------------
ROW_RELATED = ("owner", "account", "contact")


def _assignees() -> Prefetch:
    return Prefetch(
        "assignees",
        queryset=User.objects.only("pk", "username", "display_name", "first_name", "last_name"),
    )


def _with_assignees(queryset: QuerySet[Activity]) -> QuerySet[Activity]:
    return queryset.select_related(*ROW_RELATED).prefetch_related(_assignees())


def _rows_of(
    queryset: QuerySet[Activity], *, user: User, limit: int, record: models.Model
) -> list[Activity]:
    """A customer section's rows, decorated. Their owner, account and contact are read
    after the rows (`attach_related`; the page's own record is not read again): joined,
    the account's sixty columns made compiling and planning the statement cost more than
    running it."""
    rows = list(queryset.prefetch_related(_assignees())[:limit])
    attach_related(rows, ROW_RELATED, known=[record])
    return decorate_activities(rows, user=user)


# The in-place actions of a row (`gx_urls` keys) and their URL names.
ROW_URL_NAMES = {
    "detail": "activities:activity_detail",
    "complete": "activities:activity_complete",
    "reschedule": "activities:activity_reschedule",
    "reassign": "activities:activity_reassign",
    "cancel": "activities:activity_cancel",
    "reopen": "activities:activity_reopen",
    "check_in": "activities:activity_check_in",
    "outcome": "activities:activity_outcome",
}
_URL_MARKER = 2147483647


def row_url_patterns() -> dict[str, tuple[str, str]]:
    """Each row URL as (before the id, after the id): reversed once per page, not once per
    row and action (a page of 25 rows has some 200 action URLs)."""
    patterns = {}
    for key, name in ROW_URL_NAMES.items():
        before, after = reverse(name, args=[_URL_MARKER]).split(str(_URL_MARKER), 1)
        patterns[key] = (before, after)
    return patterns


def decorate_activities(
    activities: list[Activity], *, user: User, kinds: dict[str, KindOption] | None = None
) -> list[Activity]:
    """What a row shows beyond the columns, for the whole page at once (at most two
    queries): the type's icon and label (`kinds`, when the caller has read them with the
    inactive ones), whether the user may act on it, whether it is overdue, its action URLs,
    and a private activity of someone else shows only as "busy"."""
    if not activities:
        return activities
    if kinds is None:
        kinds = activity_kinds(include_inactive=True)
    # The user's own and assigned activities are editable whenever their roles allow
    # changing activities (the scope's "own" part and the assignee rule); only the others
    # (a manager's team, shares) are asked of the database.
    may_change = can(user, Activity, "change")
    assignee_ids = {
        activity.pk: {assignee.pk for assignee in activity.assignees.all()}
        for activity in activities
    }
    editable = set()
    others = []
    for activity in activities:
        if activity.owner_id == user.pk or user.pk in assignee_ids[activity.pk]:
            if may_change:
                editable.add(activity.pk)
        else:
            others.append(activity.pk)
    if others and may_change:
        editable.update(
            Activity.objects.editable_by(user)
            .filter(pk__in=others)
            .order_by()
            .values_list("pk", flat=True)
        )
    urls = row_url_patterns()
    lookup_users = reverse("core:lookup_users")
    now = timezone.now()
    for activity in activities:
        activity.gx_kind = kind_display(activity.kind, kinds)
        activity.gx_editable = activity.pk in editable
        activity.gx_overdue = activity.status == ActivityStatus.OPEN and activity.due_at < now
        activity.gx_hidden = (
            activity.is_private
            and activity.owner_id != user.pk
            and user.pk not in assignee_ids[activity.pk]
        )
        activity.gx_urls = {
            key: f"{before}{activity.pk}{after}" for key, (before, after) in urls.items()
        }
        activity.gx_urls["lookup_users"] = lookup_users
    return activities


# --- "my activities" --------------------------------------------------------------------------
@dataclass
class ActivityFilters:
    period: str = ""  # today / week / overdue / "" (any time); `when` in links
    status: str = "open"  # open / done / cancelled / "" (any)
    kind: str = ""
    kinds: tuple[str, ...] = ()  # several types at once (the "meetings and visits" card)
    owner: int | None = None  # whose activities (owned or assigned); within the scope
    department: int | None = None
    # "team" (me and the people below me) or "company" (everything I may see): the
    # statistics' drill-down; "" lists one person's activities.
    scope: str = ""
    date_from: datetime.date | None = None  # start dates, local, inclusive
    date_to: datetime.date | None = None
    sort: str = "due"

    @classmethod
    def from_params(cls, params) -> ActivityFilters:
        period = params.get("when") or params.get("period", "")
        status = params.get("status", "open")
        sort = params.get("sort", "due")
        kinds = (
            [value[:50] for value in params.getlist("kind") if value]
            if hasattr(params, "getlist")
            else ([params["kind"]] if params.get("kind") else [])
        )
        return cls(
            period=period if period in PERIODS else "",
            status=status if status in STATUSES else "",
            kind=kinds[0] if len(kinds) == 1 else "",
            kinds=tuple(kinds) if len(kinds) > 1 else (),
            owner=_int(params.get("owner")),
            department=_int(params.get("department")),
            scope=params.get("scope") if params.get("scope") in ("team", "company") else "",
            date_from=_date(params.get("from")),
            date_to=_date(params.get("to")),
            sort=sort if sort in SORTS else "due",
        )


def _int(value) -> int | None:
    try:
        return int(value or 0) or None
    except (TypeError, ValueError):
        return None


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def owners_below(user: User) -> QuerySet[User]:
    """The people whose activities the user may list besides their own (a manager's team)."""
    return User.objects.filter(pk__in=subordinate_ids(user), is_active=True).order_by(
        "display_name", "username"
    )


def _may_list_person(user: User, person: int | None) -> bool:
    """A manager may list the people below them; department, subtree and company scopes
    anyone (the scope filter still decides which activities show). Others: only themselves."""
    from guanxi.core.models import DataScope
    from guanxi.core.scope import scope_for

    if not person or person == user.pk or person in subordinate_ids(user):
        return bool(person)
    return scope_for(user, Activity, "view") in (
        DataScope.ALL,
        DataScope.DEPARTMENT,
        DataScope.SUBTREE,
    )


def _whose(user: User, filters: ActivityFilters):
    """One person's owned and assigned activities, a department's, or a whole scope's —
    always inside what the user may see."""
    if filters.department:
        return Activity.objects.visible_to(user).filter(department_id=filters.department)
    if filters.scope == "company" and not filters.owner:
        return Activity.objects.visible_to(user)
    if filters.scope == "team" and not filters.owner:
        return Activity.objects.visible_to(user).filter(
            owner_id__in=sorted(subordinate_ids(user) | {user.pk})
        )
    person = filters.owner if _may_list_person(user, filters.owner) else user.pk
    owned = Q(owner_id=person)
    assigned = Q(pk__in=ActivityAssignee.objects.filter(user_id=person).values("activity_id"))
    if person == user.pk and can(user, Activity, "view"):
        # The user's own and assigned activities are all in their scope (its "own" part and
        # the assignee rule): the scope's OR would only repeat them in every statement.
        activities = Activity.objects.all()
    else:
        activities = Activity.objects.visible_to(user)
    # Read page by page as two index-ordered parts: `owned OR assigned` in one statement
    # makes the database collect and sort all of the person's activities for every page.
    # A part's read leaves the OR out (ScopeFilter): kept there, it made PostgreSQL hash the
    # person's assignments for every row and scan the whole assignee index (30 ms at L).
    return with_parts(activities.filter(ScopeFilter(owned | assigned)), (owned, assigned))


def my_activities(*, user: User, filters: ActivityFilters | None = None) -> QuerySet[Activity]:
    """The user's own and assigned activities (or a colleague's, a department's or the
    team's, as far as the user may see them), filtered and sorted by due time."""
    filters = filters or ActivityFilters()
    activities = _whose(user, filters)
    now = timezone.now()
    if filters.period == "today":
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        activities = activities.filter(
            due_at__gte=start, due_at__lt=start + datetime.timedelta(days=1)
        )
    elif filters.period == "week":
        start, end = week_bounds(now)
        activities = activities.filter(due_at__gte=start, due_at__lt=end)
    elif filters.period == "overdue":
        activities = activities.filter(status=ActivityStatus.OPEN, due_at__lt=now)
    if filters.date_from:
        activities = activities.filter(start_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        next_day = filters.date_to + datetime.timedelta(days=1)
        activities = activities.filter(start_at__lt=_local_midnight(next_day))
    if filters.status:
        activities = activities.filter(status=filters.status)
    if filters.kind:
        activities = activities.filter(kind=filters.kind)
    elif filters.kinds:
        activities = activities.filter(kind__in=filters.kinds)
    order = ["due_at", "pk"] if filters.sort == "due" else ["-due_at", "-pk"]
    return _with_assignees(activities.order_by(*order))


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- a customer's activities -------------------------------------------------------------------
def _regarding_q(record: models.Model) -> Q:
    """Activities / follow-ups concerning a record: an account's or contact's include those
    regarding its deals, leads and people (kept in the account / contact columns)."""
    from guanxi.customers.models import Account, Contact

    if isinstance(record, Account):
        return Q(account_id=record.pk)
    if isinstance(record, Contact):
        return Q(contact_id=record.pk)
    return Q(regarding_type=ContentType.objects.get_for_model(type(record)), regarding_id=record.pk)


def open_activities(*, record: models.Model, user: User, limit: int = 50) -> list[Activity]:
    """The record's open activities the user may see, soonest due first."""
    activities = (
        Activity.objects.visible_to(user)
        .filter(_regarding_q(record), status=ActivityStatus.OPEN)
        .order_by("due_at", "pk")
    )
    return _rows_of(activities, user=user, limit=limit, record=record)


def activity_history(*, record: models.Model, user: User, limit: int = 20) -> list[Activity]:
    """The record's done and cancelled activities, latest first."""
    activities = (
        Activity.objects.visible_to(user)
        .filter(_regarding_q(record))
        .exclude(status=ActivityStatus.OPEN)
        .order_by("-due_at", "-pk")
    )
    return _rows_of(activities, user=user, limit=limit, record=record)


def follow_ups(*, record: models.Model, user: User, limit: int = 20) -> list[FollowUp]:
    """The record's follow-up records, latest first, with channel labels."""
    channels = {
        option.value: option.label for option in picklist_option_rows(FOLLOW_UP_CHANNEL_PICKLIST)
    }
    records = list(
        FollowUp.objects.visible_to(user)
        .filter(_regarding_q(record))
        .select_related("owner", "next_activity")
        .order_by("-followed_up_at", "-pk")[:limit]
    )
    for follow_up in records:
        follow_up.gx_channel = channels.get(follow_up.channel) or follow_up.channel
    return records


# --- dynamic groups ----------------------------------------------------------------------------
def parse_since(value: Any) -> datetime.datetime:
    """A group condition's value: a date (2025-03-01) or a number of days ago (30)."""
    text = str(value if value is not None else "").strip()
    if text.isdigit():
        moment = timezone.localtime() - datetime.timedelta(days=int(text))
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    day = None
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(
            _("Give a date (2025-03-01) or a number of days for the activity condition.")
        )
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def had_activity_since(moment: datetime.datetime) -> Q:
    """Accounts with a (not deleted) activity starting or a follow-up logged at or after
    `moment`, as one EXISTS filter on the account list."""
    activity = Activity.all_objects.filter(
        account_id=OuterRef("pk"), is_deleted=False, start_at__gte=moment
    )
    follow_up = FollowUp.all_objects.filter(
        account_id=OuterRef("pk"), is_deleted=False, followed_up_at__gte=moment
    )
    return Q(Exists(activity)) | Q(Exists(follow_up))


def activity_condition(op: str, value: Any) -> Q:
    condition = had_activity_since(parse_since(value))
    return condition if op == "since" else ~condition
