"""Writes of the forecast area: a manager's forecast adjustments, targets (业绩目标) and the
weekly forecast snapshots. Every change is audited."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeAction, Department, User
from guanxi.core.scope import is_administrator, subordinate_ids
from guanxi.core.services.records import audit_record, snapshot
from guanxi.sales.models import (
    ForecastAdjustment,
    ForecastCategory,
    ForecastSettings,
    ForecastSnapshot,
    SalesTarget,
    TargetLevel,
    TargetMetric,
)
from guanxi.sales.selectors.forecast import (
    FIGURES,
    base_opportunities,
    can_manage_targets,
    company_figures,
    department_figures,
    latest_adjustments,
    money,
    parse_period,
    period_of,
    person_figures,
    roll_up,
    target_reach,
    targets_by_subject,
    targets_in_reach_q,
)


def _amount(value: Any, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter an amount.")}) from None
    if amount < 0:
        raise ValidationError({field: _("An amount cannot be negative.")})
    if amount >= Decimal("1e16"):
        raise ValidationError({field: _("This amount is too large.")})
    return money(amount)


# --- adjustments -----------------------------------------------------------------------------
def can_adjust(actor: User, user: User) -> bool:
    """Managers adjust the people below them; administrators anybody but themselves."""
    if not actor.is_authenticated or actor.pk == user.pk:
        return False
    return user.pk in subordinate_ids(actor) or is_administrator(actor)


@transaction.atomic
def forecast_adjust(
    *, actor: User, user: User, period: str, category: str, amount: Any, reason: str
) -> ForecastAdjustment:
    """Record a manager's view of a subordinate's commit or best case for a period; the
    latest one counts, the earlier ones stay as history."""
    if not can_adjust(actor, user):
        raise ActionNotAllowed(_("You can only adjust the forecast of people below you."))
    period_key = parse_period(period).key
    if category not in ForecastCategory.values:
        raise ValidationError({"category": _("Adjust the commit or the best case.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you adjust the forecast.")})
    adjustment = ForecastAdjustment.objects.create(
        user=user,
        period=period_key,
        category=category,
        amount=_amount(amount),
        reason=reason[:255],
        adjusted_by=actor,
    )
    audit_record(
        instance=adjustment,
        action=ChangeAction.CREATE,
        actor=actor,
        after=snapshot(adjustment),
        message=_("%(category)s of %(user)s for %(period)s set to %(amount)s: %(reason)s")
        % {
            "category": ForecastCategory(category).label,
            "user": user,
            "period": period_key,
            "amount": adjustment.amount,
            "reason": reason,
        },
    )
    return adjustment


# --- targets ---------------------------------------------------------------------------------
def _check_reach(actor: User, level: str, department, user) -> None:
    company, departments, users = target_reach(actor)
    allowed = (
        (level == TargetLevel.COMPANY and company)
        or (
            level == TargetLevel.DEPARTMENT
            and department is not None
            and Department.objects.filter(departments, pk=department.pk).exists()
        )
        or (
            level == TargetLevel.USER
            and user is not None
            and User.objects.filter(users, pk=user.pk).exists()
        )
    )
    if not allowed:
        raise ActionNotAllowed(_("You cannot set this target."))


@transaction.atomic
def target_set(
    *,
    actor: User,
    year: int,
    month: int,
    level: str,
    amount: Any,
    department: Department | None = None,
    user: User | None = None,
    metric: str = TargetMetric.SALES,
) -> SalesTarget | None:
    """Create or change one target (month 0: the whole year); an empty amount removes it."""
    if level not in TargetLevel.values:
        raise ValidationError({"level": _("Choose the company, a department or a person.")})
    if metric not in TargetMetric.values:
        raise ValidationError({"metric": _("Choose what the target measures.")})
    if not 2000 <= int(year) <= 2100 or not 0 <= int(month) <= 12:
        raise ValidationError({"month": _("Choose a year and a month (0 for the whole year).")})
    if level != TargetLevel.DEPARTMENT:
        department = None
    if level != TargetLevel.USER:
        user = None
    if level == TargetLevel.DEPARTMENT and department is None:
        raise ValidationError({"department": _("Choose a department.")})
    if level == TargetLevel.USER and user is None:
        raise ValidationError({"user": _("Choose a person.")})
    _check_reach(actor, level, department, user)
    existing = (
        SalesTarget.objects.select_for_update()
        .filter(
            year=year, month=month, level=level, metric=metric, department=department, user=user
        )
        .first()
    )
    before = snapshot(existing) if existing else None
    if amount in (None, ""):
        if existing is not None:
            audit_record(instance=existing, action=ChangeAction.DELETE, actor=actor, before=before)
            existing.delete()
        return None
    value = _amount(amount)
    if existing is not None and existing.amount == value:
        return existing
    if existing is None:
        existing = SalesTarget(
            year=year, month=month, level=level, metric=metric, department=department, user=user
        )
    existing.amount = value
    existing.updated_by = actor
    existing.full_clean(validate_constraints=False)
    existing.save()
    audit_record(
        instance=existing,
        action=ChangeAction.UPDATE if before else ChangeAction.CREATE,
        actor=actor,
        before=before,
        after=snapshot(existing),
    )
    return existing


@transaction.atomic
def target_copy_year(
    *, actor: User, from_year: int, to_year: int, metric: str | None = None
) -> int:
    """Copy last year's targets the actor may set into a year, leaving the targets that
    year already has; answers how many were copied."""
    if not can_manage_targets(actor):
        raise ActionNotAllowed(_("You cannot set targets."))
    source = SalesTarget.objects.filter(targets_in_reach_q(actor), year=from_year)
    if metric:
        source = source.filter(metric=metric)
    taken = {
        (t.month, t.level, t.metric, t.department_id, t.user_id)
        for t in SalesTarget.objects.filter(year=to_year)
    }
    copies = [
        SalesTarget(
            year=to_year,
            month=t.month,
            level=t.level,
            metric=t.metric,
            department_id=t.department_id,
            user_id=t.user_id,
            amount=t.amount,
            updated_by=actor,
        )
        for t in source
        if (t.month, t.level, t.metric, t.department_id, t.user_id) not in taken
    ]
    created = SalesTarget.objects.bulk_create(copies)
    for target in created:
        if target.pk:
            audit_record(
                instance=target,
                action=ChangeAction.CREATE,
                actor=actor,
                after=snapshot(target),
                message=_("Copied from %(year)s") % {"year": from_year},
            )
    return len(created)


# --- snapshots -------------------------------------------------------------------------------
def _snapshot_row(*, taken_on, period, level, figures, department=None, user=None, target=None):
    return ForecastSnapshot(
        taken_on=taken_on,
        period=period.key,
        level=level,
        department_id=department,
        user_id=user,
        target=target,
        **{name: figures[name] for name in FIGURES},
    )


def _shifted(figures: dict, deltas: dict[int, dict[str, Decimal]], user_ids) -> dict:
    """Figures with the changes the adjusted people among `user_ids` brought."""
    figures = dict(figures)
    for user_id in user_ids:
        for category, delta in deltas.get(user_id, {}).items():
            figures[category] += delta
    return figures


@transaction.atomic
def forecast_snapshot_take(*, taken_on: datetime.date | None = None) -> int:
    """Store the forecast as it stands for the current month, quarter and year: the company,
    every department (with everything below it) and every person with an open or closed
    opportunity in the period. Commit and best case are the adjusted figures where a
    manager adjusted them. Taking it again the same day replaces that day's rows."""
    taken_on = taken_on or timezone.localdate()
    settings = ForecastSettings.current()
    opportunities = base_opportunities(None)
    departments = list(Department.objects.order_by("path"))
    ForecastSnapshot.objects.filter(taken_on=taken_on).delete()
    rows: list[ForecastSnapshot] = []
    for kind in ("month", "quarter", "year"):
        period = period_of(taken_on, kind)
        company = company_figures(opportunities=opportunities, period=period, settings=settings)
        people = person_figures(
            opportunities=opportunities, period=period, settings=settings, user_ids=None
        )
        adjustments = latest_adjustments(period=period, user_ids=None)
        # Adjusted people: carry the change into their figures (and department/company).
        user_departments = dict(
            User.objects.filter(pk__in=set(people) | set(adjustments)).values_list(
                "pk", "department__path"
            )
        )
        deltas: dict[int, dict[str, Decimal]] = {}
        for user_id, categories in adjustments.items():
            figures = people.setdefault(user_id, {name: Decimal(0) for name in FIGURES})
            figures.setdefault("won_count", 0)
            figures.setdefault("open_count", 0)
            for category, adjustment in categories.items():
                delta = money(adjustment.amount) - figures[category]
                deltas.setdefault(user_id, {})[category] = delta
                figures[category] = money(adjustment.amount)

        company_targets = targets_by_subject(period=period, level=TargetLevel.COMPANY)
        rows.append(
            _snapshot_row(
                taken_on=taken_on,
                period=period,
                level=TargetLevel.COMPANY,
                figures=_shifted(company, deltas, deltas),
                target=company_targets.get(None),
            )
        )
        rolled = roll_up(
            departments,
            department_figures(opportunities=opportunities, period=period, settings=settings),
        )
        department_targets = targets_by_subject(period=period, level=TargetLevel.DEPARTMENT)
        for department in departments:
            below = [
                user_id
                for user_id in deltas
                if (user_departments.get(user_id) or "\0").startswith(department.path)
            ]
            rows.append(
                _snapshot_row(
                    taken_on=taken_on,
                    period=period,
                    level=TargetLevel.DEPARTMENT,
                    department=department.pk,
                    figures=_shifted(rolled[department.pk], deltas, below),
                    target=department_targets.get(department.pk),
                )
            )
        user_targets = targets_by_subject(period=period, level=TargetLevel.USER, ids=list(people))
        for user_id, figures in people.items():
            if user_id not in user_departments:
                continue
            rows.append(
                _snapshot_row(
                    taken_on=taken_on,
                    period=period,
                    level=TargetLevel.USER,
                    user=user_id,
                    figures=figures,
                    target=user_targets.get(user_id),
                )
            )
    ForecastSnapshot.objects.bulk_create(rows)
    return len(rows)
