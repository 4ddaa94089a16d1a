"""Activity statistics (活动统计) and appointment show-rates (到访率), inside the viewer's
data scope.

Every number starts from `Activity.objects.visible_to(user)` and is aggregated in SQL
(`values().annotate()`); Python only reshapes the aggregated rows and fills empty time
buckets, so the cost never grows with the number of activities read row by row. Later
performance reports reuse these functions.

An activity belongs to a period by its start (`start_at`, local time). The rates:

- completion rate = done / (done + open past due). Cancelled activities and open ones not yet
  due are left out: they are neither achievements nor failures yet.
- overdue rate = (open past due + done after their due time) / (done + open past due).
- show rate (appointments) = came / (came + no-show). Pending, rescheduled and cancelled
  appointments are counted but left out of the rate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import (
    ACTIVITY_TYPE_PICKLIST,
    Activity,
    ActivityStatus,
    AppointmentOutcome,
)
from guanxi.core.models import DataScope, PicklistOption, User
from guanxi.core.scope import is_administrator, scope_for, subordinate_ids

# The biggest groups a dimension lists (owners, departments, sources).
MAX_GROUPS = 50


class StatScope:
    ME = "me"
    TEAM = "team"
    COMPANY = "company"


SCOPE_LABELS = {
    StatScope.ME: _("Me"),
    StatScope.TEAM: _("My team"),
    StatScope.COMPANY: _("Company"),
}


class PeriodKey:
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    CUSTOM = "custom"


PERIOD_LABELS = {
    PeriodKey.WEEK: _("This week"),
    PeriodKey.MONTH: _("This month"),
    PeriodKey.QUARTER: _("This quarter"),
    PeriodKey.CUSTOM: _("From … to …"),
}

COMPLETION_FORMULA = _("Completion rate = done ÷ (done + open past due)")
OVERDUE_FORMULA = _("Overdue rate = (open past due + done late) ÷ (done + open past due)")
SHOW_RATE_FORMULA = _("Show rate = came ÷ (came + no-show)")

# Appointment outcomes in the order they are shown; "" is pending.
OUTCOMES = [
    outcome.value
    for outcome in (
        AppointmentOutcome.CAME,
        AppointmentOutcome.NO_SHOW,
        AppointmentOutcome.RESCHEDULED,
        AppointmentOutcome.CANCELLED,
        AppointmentOutcome.PENDING,
    )
]


# --- period --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    key: str
    first_day: datetime.date  # inclusive
    last_day: datetime.date  # inclusive
    granularity: str  # "day", "week" or "month": how the time chart buckets

    @property
    def start(self) -> datetime.datetime:
        return _local_midnight(self.first_day)

    @property
    def end(self) -> datetime.datetime:
        """The first moment after the period."""
        return _local_midnight(self.last_day + datetime.timedelta(days=1))


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _granularity(first_day: datetime.date, last_day: datetime.date) -> str:
    days = (last_day - first_day).days + 1
    if days <= 45:
        return "day"
    if days <= 190:
        return "week"
    return "month"


def period_for(
    key: str,
    *,
    today: datetime.date | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> Period:
    """This week (Monday to Sunday), this month, this quarter, or the custom days given."""
    today = today or timezone.localdate()
    if key == PeriodKey.CUSTOM and date_from and date_to:
        first, last = min(date_from, date_to), max(date_from, date_to)
        return Period(PeriodKey.CUSTOM, first, last, _granularity(first, last))
    if key == PeriodKey.MONTH:
        first = today.replace(day=1)
        last = _add_months(first, 1) - datetime.timedelta(days=1)
        return Period(PeriodKey.MONTH, first, last, "day")
    if key == PeriodKey.QUARTER:
        first = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        last = _add_months(first, 3) - datetime.timedelta(days=1)
        return Period(PeriodKey.QUARTER, first, last, "week")
    first = today - datetime.timedelta(days=today.weekday())
    return Period(PeriodKey.WEEK, first, first + datetime.timedelta(days=6), "day")


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


# --- scope ---------------------------------------------------------------------------------
def scopes_for(user: User) -> list[str]:
    """The scopes the user may choose: always "me"; "my team" when somebody reports to them;
    "company" when they may see every activity."""
    scopes = [StatScope.ME]
    if subordinate_ids(user):
        scopes.append(StatScope.TEAM)
    if is_administrator(user) or scope_for(user, Activity, "view") == DataScope.ALL:
        scopes.append(StatScope.COMPANY)
    return scopes


def scoped_activities(user: User, scope: str):
    """The activities a statistic counts: always inside what the user may see, then narrowed
    to their own (me) or to them and the people below them (my team)."""
    queryset = Activity.objects.visible_to(user)
    if scope not in scopes_for(user):
        scope = StatScope.ME
    if scope == StatScope.ME:
        return queryset.filter(owner_id=user.pk)
    if scope == StatScope.TEAM:
        return queryset.filter(owner_id__in=sorted(subordinate_ids(user) | {user.pk}))
    return queryset


# --- aggregates ----------------------------------------------------------------------------
def _measures(now: datetime.datetime) -> dict:
    """The counts every group carries, as SQL aggregates."""
    open_q = Q(status=ActivityStatus.OPEN)
    done_q = Q(status=ActivityStatus.DONE)
    return {
        "count": Count("id"),
        "open": Count("id", filter=open_q),
        "done": Count("id", filter=done_q),
        "cancelled": Count("id", filter=Q(status=ActivityStatus.CANCELLED)),
        "overdue": Count("id", filter=open_q & Q(due_at__lt=now)),
        "done_late": Count("id", filter=done_q & Q(completed_at__gt=F("due_at"))),
    }


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _with_rates(row: dict) -> dict:
    basis = row["done"] + row["overdue"]
    row["completion_rate"] = _rate(row["done"], basis)
    row["overdue_rate"] = _rate(row["overdue"] + row["done_late"], basis)
    return row


def _numbers(row: dict) -> dict:
    return _with_rates(
        {key: row[key] for key in ("count", "open", "done", "cancelled", "overdue", "done_late")}
    )


def _english() -> bool:
    return not (get_language() or "zh").startswith("zh")


def _user_label(display_name: str | None, username: str | None) -> str:
    return display_name or username or str(_("(nobody)"))


def kind_options() -> dict[str, dict]:
    """value -> {label, icon, color} of the activity types (one query)."""
    options = PicklistOption.objects.filter(picklist__code=ACTIVITY_TYPE_PICKLIST).order_by(
        "sort_order", "pk"
    )
    return {
        option.value: {"label": option.label, "icon": option.icon, "color": option.color}
        for option in options
    }


def activity_statistics(*, user: User, period: Period, scope: str = StatScope.ME, now=None) -> dict:
    """Counts and rates of the activities in the period, overall and by type, owner,
    department and time bucket. Every group carries the same measures:
    count, open, done, cancelled, overdue (open past due), done_late, completion_rate and
    overdue_rate (None when nothing was due)."""
    now = now or timezone.now()
    measures = _measures(now)
    activities = scoped_activities(user, scope).filter(
        start_at__gte=period.start, start_at__lt=period.end
    )
    totals = _with_rates(activities.aggregate(**measures))

    kinds = kind_options()
    by_kind = []
    for row in activities.values("kind").annotate(**measures).order_by("-count", "kind"):
        option = kinds.get(row["kind"], {})
        by_kind.append(
            {
                "kind": row["kind"],
                "label": str(option.get("label") or row["kind"]),
                "color": option.get("color", ""),
                **_numbers(row),
            }
        )

    by_owner = [
        {
            "owner_id": row["owner_id"],
            "label": _user_label(row["owner__display_name"], row["owner__username"]),
            **_numbers(row),
        }
        for row in activities.values("owner_id", "owner__display_name", "owner__username")
        .annotate(**measures)
        .order_by("-count", "owner_id")[:MAX_GROUPS]
    ]

    by_department = [
        {
            "department_id": row["department_id"],
            "label": row["department__name"] or str(_("(no department)")),
            **_numbers(row),
        }
        for row in activities.values("department_id", "department__name")
        .annotate(**measures)
        .order_by("-count", "department_id")[:MAX_GROUPS]
    ]

    return {
        "period": {
            "key": period.key,
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "granularity": period.granularity,
        },
        "scope": scope if scope in scopes_for(user) else StatScope.ME,
        "totals": totals,
        "by_kind": by_kind,
        "by_owner": by_owner,
        "by_department": by_department,
        "by_period": _by_period(activities, period, measures),
        "formulas": {
            "completion_rate": str(COMPLETION_FORMULA),
            "overdue_rate": str(OVERDUE_FORMULA),
        },
    }


TRUNCATE = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _bucket_starts(period: Period) -> list[datetime.date]:
    """The first day of every bucket overlapping the period (weeks start on Monday)."""
    day = period.first_day
    if period.granularity == "week":
        day -= datetime.timedelta(days=day.weekday())
    elif period.granularity == "month":
        day = day.replace(day=1)
    starts = []
    while day <= period.last_day:
        starts.append(day)
        if period.granularity == "day":
            day += datetime.timedelta(days=1)
        elif period.granularity == "week":
            day += datetime.timedelta(days=7)
        else:
            day = _add_months(day, 1)
    return starts


def _bucket_end(start: datetime.date, granularity: str) -> datetime.date:
    if granularity == "day":
        return start
    if granularity == "week":
        return start + datetime.timedelta(days=6)
    return _add_months(start, 1) - datetime.timedelta(days=1)


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def _by_period(activities, period: Period, measures: dict) -> list[dict]:
    """One row per day, week or month of the period, empty buckets included; each bucket's
    from/to are clipped to the period."""
    truncate = TRUNCATE[period.granularity]
    counted = {
        _as_date(row["bucket"]): row
        for row in activities.annotate(bucket=truncate("start_at"))
        .values("bucket")
        .annotate(**measures)
        .order_by("bucket")
    }
    empty = dict.fromkeys(("count", "open", "done", "cancelled", "overdue", "done_late"), 0)
    rows = []
    for start in _bucket_starts(period):
        row = counted.get(start, empty)
        rows.append(
            {
                "bucket": start.isoformat(),
                "from": max(start, period.first_day).isoformat(),
                "to": min(_bucket_end(start, period.granularity), period.last_day).isoformat(),
                **_numbers(row),
            }
        )
    return rows


# --- appointments --------------------------------------------------------------------------
def _outcome_counts(rows, key_fields: tuple[str, ...]) -> dict[tuple, dict[str, int]]:
    """Pivot (group..., outcome, count) rows into {group: {outcome: count}}."""
    pivot: dict[tuple, dict[str, int]] = {}
    for row in rows:
        group = tuple(row[field] for field in key_fields)
        counts = pivot.setdefault(group, dict.fromkeys(OUTCOMES, 0))
        outcome = row["appointment_outcome"] or AppointmentOutcome.PENDING
        counts[outcome] = counts.get(outcome, 0) + row["count"]
    return pivot


def _show_numbers(counts: dict[str, int]) -> dict:
    came = counts.get(AppointmentOutcome.CAME, 0)
    no_show = counts.get(AppointmentOutcome.NO_SHOW, 0)
    return {
        "count": sum(counts.values()),
        "came": came,
        "no_show": no_show,
        "rescheduled": counts.get(AppointmentOutcome.RESCHEDULED, 0),
        "cancelled": counts.get(AppointmentOutcome.CANCELLED, 0),
        "pending": counts.get(AppointmentOutcome.PENDING, 0),
        "show_rate": _rate(came, came + no_show),
    }


def appointment_statistics(*, user: User, period: Period, scope: str = StatScope.ME) -> dict:
    """Appointments (预约) in the period by outcome, per owner and per the account's source,
    with the show rate (到访率) of each."""
    appointments = scoped_activities(user, scope).filter(
        is_appointment=True, start_at__gte=period.start, start_at__lt=period.end
    )
    source_label = "account__source__label_en" if _english() else "account__source__label_zh"

    owner_rows = (
        appointments.values(
            "owner_id", "owner__display_name", "owner__username", "appointment_outcome"
        )
        .annotate(count=Count("id"))
        .order_by()
    )
    owners = _outcome_counts(owner_rows, ("owner_id", "owner__display_name", "owner__username"))
    by_owner = sorted(
        (
            {"owner_id": owner_id, "label": _user_label(display, username), **_show_numbers(counts)}
            for (owner_id, display, username), counts in owners.items()
        ),
        key=lambda row: (-row["count"], row["label"]),
    )[:MAX_GROUPS]

    source_rows = (
        appointments.values("account__source_id", source_label, "appointment_outcome")
        .annotate(count=Count("id"))
        .order_by()
    )
    sources = _outcome_counts(source_rows, ("account__source_id", source_label))
    by_source = sorted(
        (
            {
                "source_id": source_id,
                "label": label or str(_("(not set)")),
                **_show_numbers(counts),
            }
            for (source_id, label), counts in sources.items()
        ),
        key=lambda row: (-row["count"], row["label"]),
    )[:MAX_GROUPS]

    total_counts = dict.fromkeys(OUTCOMES, 0)
    for counts in owners.values():
        for outcome, count in counts.items():
            total_counts[outcome] += count
    return {
        "totals": _show_numbers(total_counts),
        "by_owner": by_owner,
        "by_source": by_source,
        "formulas": {"show_rate": str(SHOW_RATE_FORMULA)},
    }
