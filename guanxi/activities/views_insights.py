"""Activity statistics and appointment show-rates: the page (ECharts with drill-down to the
activity list) and the same numbers as JSON (`?format=json`). The numbers come from
`guanxi.activities.statistics`; this module only reads the filters and builds links."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity
from guanxi.activities.statistics import (
    COMPLETION_FORMULA,
    OVERDUE_FORMULA,
    PERIOD_LABELS,
    SCOPE_LABELS,
    SHOW_RATE_FORMULA,
    PeriodKey,
    StatScope,
    activity_statistics,
    appointment_statistics,
    period_for,
    scopes_for,
)
from guanxi.core.scope import can

# A custom period longer than this is cut to this many days (the chart buckets by month).
MAX_CUSTOM_DAYS = 731


def _filters(request) -> tuple[dict, list[str]]:
    """The period and scope asked for, with messages for what could not be used."""
    errors = []
    user = request.user
    key = request.GET.get("period") or PeriodKey.WEEK
    if key not in PERIOD_LABELS:
        key = PeriodKey.WEEK
    date_from = parse_date(request.GET.get("from") or "") if request.GET.get("from") else None
    date_to = parse_date(request.GET.get("to") or "") if request.GET.get("to") else None
    if key == PeriodKey.CUSTOM:
        if not (date_from and date_to):
            errors.append(_("Give both dates of the period (YYYY-MM-DD); showing this week."))
            key = PeriodKey.WEEK
        else:
            date_from, date_to = min(date_from, date_to), max(date_from, date_to)
            if (date_to - date_from).days >= MAX_CUSTOM_DAYS:
                date_to = date_from + datetime.timedelta(days=MAX_CUSTOM_DAYS - 1)
                errors.append(_("A period can be at most two years long; it was shortened."))
    period = period_for(key, date_from=date_from, date_to=date_to)
    allowed = scopes_for(user)
    scope = request.GET.get("scope") or (
        StatScope.TEAM if StatScope.TEAM in allowed else StatScope.ME
    )
    if scope not in allowed:
        errors.append(_("You cannot see statistics for that scope; showing your own."))
        scope = StatScope.ME
    return {"period": period, "scope": scope, "scopes": allowed}, errors


class DrillDown:
    """Links to the activity list (`activities:index`) filtered like a bar or a row, with
    the agreed parameters owner, kind, department, status, when, from and to."""

    def __init__(self, base: str, common: dict):
        self.base = base
        self.common = common

    @classmethod
    def for_filters(cls, user, period, scope) -> DrillDown:
        try:
            base = reverse("activities:index")
        except NoReverseMatch:  # the list has not landed yet
            base = ""
        common = {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
        if scope == StatScope.ME:
            common["owner"] = user.pk
        else:
            common["scope"] = scope
        return cls(base, common)

    def narrowed(self, **common) -> DrillDown:
        return DrillDown(self.base, {**self.common, **common})

    def url(self, **params) -> str:
        """An empty `status` is kept: it asks for every status (the list shows open ones
        when none is given)."""
        if not self.base:
            return ""
        given = {k: v for k, v in params.items() if v is not None and (v != "" or k == "status")}
        return f"{self.base}?{urlencode({**self.common, **given})}"

    def by_status(self, **params) -> dict[str, str]:
        return {
            "count": self.url(status="", **params),
            "done": self.url(status="done", **params),
            "open": self.url(status="open", **params),
            "overdue": self.url(status="open", when="overdue", **params),
            "cancelled": self.url(status="cancelled", **params),
        }


def _add_links(stats: dict, drill: DrillDown) -> None:
    stats["totals"]["urls"] = drill.by_status()
    for row in stats["by_kind"]:
        row["urls"] = drill.by_status(kind=row["kind"])
    for row in stats["by_owner"]:
        row["urls"] = drill.by_status(owner=row["owner_id"])
    for row in stats["by_department"]:
        row["urls"] = drill.by_status(department=row["department_id"])
    for row in stats["by_period"]:
        row["urls"] = drill.narrowed(**{"from": row["from"], "to": row["to"]}).by_status()


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _status_chart(rows: list[dict]) -> dict:
    """A stacked bar chart of done / open not yet due / overdue / cancelled per row; each
    segment drills down to the list with that status."""
    parts = [
        ("done", _("Done"), lambda row: row["done"]),
        ("open", _("Open, not yet due"), lambda row: row["open"] - row["overdue"]),
        ("overdue", _("Overdue"), lambda row: row["overdue"]),
        ("cancelled", _("Cancelled"), lambda row: row["cancelled"]),
    ]
    colors = {"done": "#198754", "open": "#0d6efd", "overdue": "#dc3545", "cancelled": "#adb5bd"}
    return {
        "categories": [row["label"] for row in rows],
        "series": [
            {
                "name": str(name),
                "color": colors[key],
                "values": [value(row) for row in rows],
                "urls": [row["urls"][key] for row in rows],
            }
            for key, name, value in parts
        ],
    }


def _kind_chart(rows: list[dict]) -> dict:
    return {
        "categories": [row["label"] for row in rows],
        "series": [
            {
                "name": str(_("Activities")),
                "values": [row["count"] for row in rows],
                "colors": [row["color"] for row in rows],
                "urls": [row["urls"]["count"] for row in rows],
            }
        ],
    }


def _appointment_chart(rows: list[dict]) -> dict:
    parts = [
        ("came", _("Came"), "#198754"),
        ("no_show", _("No-show"), "#dc3545"),
        ("rescheduled", _("Rescheduled"), "#fd7e14"),
        ("cancelled", _("Cancelled"), "#adb5bd"),
        ("pending", _("Pending"), "#0dcaf0"),
    ]
    return {
        "categories": [row["label"] for row in rows],
        "series": [
            {"name": str(name), "color": color, "values": [row[key] for row in rows], "urls": []}
            for key, name, color in parts
        ],
    }


def _bucket_label(bucket: str, granularity: str) -> str:
    """A short axis label: "11-23" for a day or a week (its Monday), "2026-11" for a month."""
    return bucket[:7] if granularity == "month" else bucket[5:]


def _decorate_rates(rows: list[dict], *keys: str) -> None:
    for row in rows:
        for key in keys:
            row[f"{key}_display"] = _pct(row[key])


@login_required
def activity_statistics_view(request):
    """Counts by type, owner, department and period, completion and overdue rates, and the
    appointments' show rates, for a period and a scope inside the user's data scope."""
    user = request.user
    if not can(user, Activity, "view"):
        return TemplateResponse(
            request,
            "core/generic/forbidden.html",
            {"message": _("Your role does not allow you to see these records.")},
            status=403,
        )
    filters, errors = _filters(request)
    period, scope = filters["period"], filters["scope"]
    stats = activity_statistics(user=user, period=period, scope=scope)
    appointments = appointment_statistics(user=user, period=period, scope=scope)
    drill = DrillDown.for_filters(user, period, scope)
    _add_links(stats, drill)

    if request.GET.get("format") == "json":
        return JsonResponse(
            {"activities": stats, "appointments": appointments, "errors": errors},
            json_dumps_params={"ensure_ascii": False},
        )

    _decorate_rates([stats["totals"]], "completion_rate", "overdue_rate")
    for key in ("by_kind", "by_owner", "by_department"):
        _decorate_rates(stats[key], "completion_rate", "overdue_rate")
    _decorate_rates([appointments["totals"]], "show_rate")
    _decorate_rates(appointments["by_owner"], "show_rate")
    _decorate_rates(appointments["by_source"], "show_rate")
    period_rows = [
        {**row, "label": _bucket_label(row["bucket"], period.granularity)}
        for row in stats["by_period"]
    ]
    charts = {
        "kind": _kind_chart(stats["by_kind"]),
        "owner": _status_chart(stats["by_owner"]),
        "department": _status_chart(stats["by_department"]),
        "period": _status_chart(period_rows),
        "appointment_owner": _appointment_chart(appointments["by_owner"]),
        "appointment_source": _appointment_chart(appointments["by_source"]),
    }
    query = {"period": period.key, "scope": scope}
    if period.key == PeriodKey.CUSTOM:
        query.update({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    return TemplateResponse(
        request,
        "activities/insights/statistics.html",
        {
            "stats": stats,
            "appointments": appointments,
            "charts": charts,
            "period": period,
            "scope": scope,
            "periods": [(key, label) for key, label in PERIOD_LABELS.items()],
            "scopes": [(key, SCOPE_LABELS[key]) for key in filters["scopes"]],
            "errors": errors,
            "formulas": {
                "completion": COMPLETION_FORMULA,
                "overdue": OVERDUE_FORMULA,
                "show_rate": SHOW_RATE_FORMULA,
            },
            "json_url": f"{request.path}?{urlencode({**query, 'format': 'json'})}",
            "list_url": drill.base,
        },
    )
