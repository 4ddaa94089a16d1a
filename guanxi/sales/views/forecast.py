"""Pages of the forecast area: the forecast (销售预测) with a manager's adjustments and
"forecast vs actual", and the targets (业绩目标) grid. Thin: selectors read, services write.
The sales analysis pages live in `analysis.py`; their URLs are added here."""

from __future__ import annotations

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import Department, User
from guanxi.core.scope import can
from guanxi.sales.models import (
    ForecastCategory,
    Opportunity,
    SalesTarget,
    TargetLevel,
    TargetMetric,
)
from guanxi.sales.selectors.forecast import (
    Period,
    adjustment_history,
    default_subject,
    forecast,
    forecast_subjects,
    forecast_vs_actual,
    parse_period,
    period_of,
)
from guanxi.sales.services.forecast import (
    can_adjust,
    can_manage_targets,
    forecast_adjust,
    target_copy_year,
    target_reach,
    target_set,
)
from guanxi.sales.views import analysis

MONTHS = range(1, 13)


# --- shared pickers --------------------------------------------------------------------------
def period_choices(current: Period) -> list[tuple[str, list[tuple[str, str]]]]:
    """Years, quarters and months around today (and the one shown), grouped by kind."""
    today = timezone.localdate()
    years = [today.year - 2, today.year - 1, today.year, today.year + 1]
    if current.year not in years:
        years.append(current.year)
    groups = [
        (_("Year"), [(str(y), str(y)) for y in sorted(years)]),
        (
            _("Quarter"),
            [
                (p.key, p.label)
                for y in sorted({today.year - 1, today.year, current.year})
                for p in (parse_period(f"{y}-Q{q}") for q in range(1, 5))
            ],
        ),
        (
            _("Month"),
            [
                (p.key, p.label)
                for y in sorted({today.year - 1, today.year, current.year})
                for p in (parse_period(f"{y}-{m:02d}") for m in MONTHS)
            ],
        ),
    ]
    return groups


def subject_choices(viewer, subjects) -> list[tuple[str, str]]:
    choices = []
    if subjects.company:
        choices.append(("company", _("Company")))
    for department in subjects.departments:
        choices.append((f"department:{department.pk}", f"{'— ' * department.depth}{department}"))
    for user in subjects.users:
        label = _("Me (%(name)s)") % {"name": user} if user.pk == viewer.pk else str(user)
        choices.append((f"user:{user.pk}", label))
    return choices


def pick_subject(request, subjects) -> tuple[str, int | None]:
    """`?who=company|department:<id>|user:<id>` (or `level` + `subject`); 404 outside what
    the viewer may pick."""
    who = request.GET.get("who") or ""
    level, _sep, raw = who.partition(":")
    if not who:
        level = request.GET.get("level") or ""
        raw = request.GET.get("subject") or ""
    if not level:
        return default_subject(request.user, subjects)
    subject = int(raw) if raw.isdigit() else None
    if level == TargetLevel.USER and subject is None:
        subject = request.user.pk
    if not subjects.allows(level, subject):
        raise Http404
    return level, subject


def _period_or_default(request, default_kind="quarter") -> Period:
    try:
        return parse_period(request.GET.get("period"), default_kind=default_kind)
    except ValidationError:
        return period_of(timezone.localdate(), default_kind)


def _who(level, subject) -> str:
    return "company" if level == TargetLevel.COMPANY else f"{level}:{subject}"


# --- the forecast ----------------------------------------------------------------------------
@login_required
def forecast_view(request):
    if not can(request.user, Opportunity, "view"):
        raise Http404
    period = _period_or_default(request)
    subjects = forecast_subjects(request.user)
    level, subject = pick_subject(request, subjects)
    result = forecast(
        viewer=request.user, period=period, level=level, subject=subject, subjects=subjects
    )
    rows = [result.total, *result.rows]
    people = [row for row in rows if row.level == TargetLevel.USER]
    users = {user.pk: user for user in subjects.users}
    adjustable = {
        row.subject_id
        for row in people
        if row.subject_id in users and can_adjust(request.user, users[row.subject_id])
    }
    history = adjustment_history(period=period, user_ids=[row.subject_id for row in people])
    chart_rows = result.rows if result.rows else [result.total]
    chart = {
        "labels": [row.label for row in chart_rows],
        "series": {
            "closed_won": [float(row.closed_won) for row in chart_rows],
            "commit": [float(row.commit_final) for row in chart_rows],
            "best_case": [float(row.best_case_final) for row in chart_rows],
            "pipeline": [float(row.pipeline) for row in chart_rows],
            "target": [float(row.target) if row.target is not None else None for row in chart_rows],
        },
        "names": {
            "closed_won": _("Closed won"),
            "commit": _("Commit"),
            "best_case": _("Best case"),
            "pipeline": _("Pipeline"),
            "target": _("Target"),
        },
    }
    comparison = forecast_vs_actual(
        viewer=request.user,
        subjects=subjects,
        period=period,
        level=level,
        subject=subject,
        actual=result.total.closed_won,
    )
    return render(
        request,
        "sales/forecast/forecast.html",
        {
            "result": result,
            "rows": rows,
            "period": period,
            "periods": period_choices(period),
            "who": _who(level, subject),
            "subjects": subject_choices(request.user, subjects),
            "adjustable": adjustable,
            "categories": ForecastCategory.choices,
            "history": history,
            "chart": chart,
            "comparison": comparison,
            "api_url": reverse("api:forecast")
            + "?"
            + urlencode({"period": period.key, "level": level, "subject": subject or ""}),
            "can_manage_targets": can_manage_targets(request.user),
        },
    )


@login_required
@require_POST
def forecast_adjust_view(request):
    subjects = forecast_subjects(request.user)
    raw = request.POST.get("user") or ""
    user_id = int(raw) if raw.isdigit() else None
    if not subjects.allows(TargetLevel.USER, user_id):
        raise Http404
    person = User.objects.get(pk=user_id)
    try:
        forecast_adjust(
            actor=request.user,
            user=person,
            period=request.POST.get("period") or "",
            category=request.POST.get("category") or "",
            amount=request.POST.get("amount") or "",
            reason=request.POST.get("reason") or "",
        )
    except ActionNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The forecast of %(name)s was adjusted.") % {"name": person})
    query = urlencode(
        {"period": request.POST.get("period") or "", "who": request.POST.get("who") or ""}
    )
    return redirect(f"{reverse('sales:forecast')}?{query}")


# --- targets ---------------------------------------------------------------------------------
def _targets_allowed(request) -> None:
    if not can_manage_targets(request.user):
        raise PermissionDenied(_("Only administrators and sales managers set targets."))


def _target_grid(actor, year: int, metric: str):
    company, department_filter, user_filter = target_reach(actor)
    departments = list(Department.objects.filter(department_filter).order_by("path"))
    users = list(
        User.objects.filter(user_filter, is_active=True)
        .select_related("department")
        .order_by("department__path", "username")
    )
    reach = Q(level=TargetLevel.DEPARTMENT, department__in=[d.pk for d in departments])
    reach |= Q(level=TargetLevel.USER, user__in=[u.pk for u in users])
    if company:
        reach |= Q(level=TargetLevel.COMPANY)
    values: dict[tuple[str, int | None, int], Decimal] = {}
    for level, department_id, user_id, month, amount in SalesTarget.objects.filter(
        reach, year=year, metric=metric
    ).values_list("level", "department_id", "user_id", "month", "amount"):
        values[(level, department_id or user_id, month)] = amount

    def row(level, subject, label, depth=0):
        cells = [
            {
                "month": month,
                "name": f"t-{level}-{subject or 0}-{month}",
                "value": values.get((level, subject, month)),
            }
            for month in (*MONTHS, 0)
        ]
        months_sum = sum((c["value"] or 0 for c in cells if c["month"]), Decimal(0))
        return {
            "level": level,
            "subject": subject,
            "label": label,
            "depth": depth,
            "cells": cells,
            "months_sum": months_sum,
        }

    rows = []
    if company:
        rows.append(row(TargetLevel.COMPANY, None, _("Company")))
    rows.extend(row(TargetLevel.DEPARTMENT, d.pk, d.name, d.depth) for d in departments)
    rows.extend(
        row(TargetLevel.USER, u.pk, f"{u}" + (f" · {u.department}" if u.department else ""))
        for u in users
    )
    return rows, departments, users


@login_required
def targets_view(request):
    _targets_allowed(request)
    today = timezone.localdate()
    raw_year = request.GET.get("year") or request.POST.get("year") or ""
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else today.year
    metric = request.GET.get("metric") or request.POST.get("metric") or TargetMetric.SALES
    if metric not in TargetMetric.values:
        metric = TargetMetric.SALES
    rows, departments, users = _target_grid(request.user, year, metric)
    if request.method == "POST":
        by_pk = {("department", d.pk): d for d in departments} | {("user", u.pk): u for u in users}
        errors, changed = [], 0
        for row in rows:
            for cell in row["cells"]:
                if cell["name"] not in request.POST:
                    continue
                posted = request.POST[cell["name"]].strip()
                current = cell["value"]
                if (posted == "" and current is None) or (
                    posted and current is not None and _same(posted, current)
                ):
                    continue
                try:
                    target_set(
                        actor=request.user,
                        year=year,
                        month=cell["month"],
                        level=row["level"],
                        department=by_pk.get(("department", row["subject"])),
                        user=by_pk.get(("user", row["subject"])),
                        metric=metric,
                        amount=posted or None,
                    )
                    changed += 1
                except ValidationError as error:
                    errors.append(f"{row['label']}: {'; '.join(error.messages)}")
                except ActionNotAllowed as error:
                    raise PermissionDenied(str(error)) from error
        for error in errors:
            messages.error(request, error)
        if changed:
            messages.success(
                request,
                ngettext("%(count)d target saved.", "%(count)d targets saved.", changed)
                % {"count": changed},
            )
        return redirect(f"{reverse('sales:targets')}?{urlencode({'year': year, 'metric': metric})}")
    return render(
        request,
        "sales/forecast/targets.html",
        {
            "year": year,
            "years": range(today.year - 2, today.year + 3),
            "metric": metric,
            "metrics": TargetMetric.choices,
            "rows": rows,
            "months": [datetime.date(year, m, 1) for m in MONTHS],
            "is_cash": metric == TargetMetric.CASH,
        },
    )


def _same(posted: str, current: Decimal) -> bool:
    try:
        return Decimal(posted.replace(",", "")) == current
    except Exception:
        return False


@login_required
@require_POST
def targets_copy_view(request):
    _targets_allowed(request)
    raw_year = request.POST.get("year") or ""
    if not raw_year.isdigit():
        raise Http404
    year = int(raw_year)
    metric = request.POST.get("metric") or None
    try:
        count = target_copy_year(
            actor=request.user, from_year=year - 1, to_year=year, metric=metric
        )
    except ActionNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    messages.success(
        request,
        ngettext(
            "%(count)d target copied from %(year)s.",
            "%(count)d targets copied from %(year)s.",
            count,
        )
        % {"count": count, "year": year - 1},
    )
    return redirect(
        f"{reverse('sales:targets')}?{urlencode({'year': year, 'metric': metric or ''})}"
    )


urlpatterns = [
    path("forecast/", forecast_view, name="forecast"),
    path("forecast/adjust/", forecast_adjust_view, name="forecast_adjust"),
    path("targets/", targets_view, name="targets"),
    path("targets/copy/", targets_copy_view, name="targets_copy"),
    *analysis.urlpatterns,
]
