"""The sales forecast (销售预测) against targets (业绩目标), read in SQL aggregates.

Figures for a period ("2026", "2026-Q3", "2026-07"), always inside what the viewer may see
(`Opportunity.objects.visible_to(viewer)`), amounts in the company currency:

- closed won: won opportunities whose close date falls in the period;
- commit: open opportunities expected to close in the period whose probability reaches
  `ForecastSettings.commit_probability`, or that the rep flagged `forecast_commit`;
- best case: open, in the period, probability >= `best_case_probability` (commit included:
  a flagged deal counts here too);
- pipeline: every open opportunity expected to close in the period;
- weighted: the pipeline's amounts × probability / 100.

Who is credited:
- a person: with team selling, their `OpportunitySplit` percent of every opportunity that has
  splits; the owner gets 100% of an opportunity without splits;
- a department: every opportunity owned in the department or below (`Opportunity.department`),
  at 100% (a department's figure is not the sum of its people's credits when a split crosses
  departments);
- the company: every opportunity, at 100%.

Adjustments: a person's latest `ForecastAdjustment` for the period and category replaces their
computed commit / best case (both are shown). A department's or the company's adjusted figure
is the computed one plus the differences its adjusted people bring.

Targets (sales amount unless asked otherwise), in this order of precedence:
- a month: its month row; else a twelfth of the year row; else none;
- a quarter: the sum of its month rows when any of them is set; else a quarter of the year
  row; else none;
- a year: the year row (month 0) when set; else the sum of its month rows; else none.
Attainment = closed won / target, as a percentage (none without a positive target).
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.expressions import RowCount
from guanxi.core.models import DataScope, Department, User
from guanxi.core.scope import (
    can,
    is_administrator,
    scope_for,
    subordinate_ids,
    subtree_department_ids,
)
from guanxi.sales.models import (
    ForecastAdjustment,
    ForecastCategory,
    ForecastSettings,
    ForecastSnapshot,
    Opportunity,
    OpportunitySplit,
    SalesTarget,
    TargetLevel,
    TargetMetric,
)

CENT = Decimal("0.01")
ZERO = Decimal("0")
FIGURES = ("closed_won", "commit", "best_case", "pipeline", "weighted")
COUNTS = ("won_count", "open_count")


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


# --- periods ---------------------------------------------------------------------------------
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


@dataclass(frozen=True)
class Period:
    key: str
    kind: str  # "year", "quarter" or "month"
    year: int
    months: tuple[int, ...]

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, self.months[0], 1)

    @property
    def end(self) -> datetime.date:
        last = self.months[-1]
        if last == 12:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, last + 1, 1) - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "year":
            return _("%(year)s") % {"year": self.year}
        if self.kind == "quarter":
            return _("Q%(quarter)s %(year)s") % {
                "quarter": self.months[0] // 3 + 1,
                "year": self.year,
            }
        return _("%(year)s-%(month)02d") % {"year": self.year, "month": self.months[0]}

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods of the same kind later (earlier when negative)."""
        if self.kind == "year":
            return period_of(datetime.date(self.year + steps, 1, 1), "year")
        size = len(self.months)
        index = self.year * 12 + self.months[0] - 1 + steps * size
        return period_of(datetime.date(index // 12, index % 12 + 1, 1), self.kind)

    def previous(self) -> Period:
        return self.shifted(-1)

    def same_last_year(self) -> Period:
        return period_of(self.start.replace(year=self.year - 1), self.kind)

    def __str__(self) -> str:
        return self.key


def period_of(day: datetime.date, kind: str) -> Period:
    """The month, quarter or year containing `day`."""
    if kind == "year":
        return Period(str(day.year), "year", day.year, tuple(range(1, 13)))
    if kind == "quarter":
        quarter = (day.month - 1) // 3 + 1
        first = quarter * 3 - 2
        return Period(f"{day.year}-Q{quarter}", "quarter", day.year, (first, first + 1, first + 2))
    if kind == "month":
        return Period(f"{day.year}-{day.month:02d}", "month", day.year, (day.month,))
    raise ValidationError({"period": _("A period is a month, a quarter or a year.")})


def parse_period(text: str | None, *, default_kind: str = "quarter") -> Period:
    """ "2026" / "2026-Q3" / "2026-07"; empty: the current quarter (or `default_kind`)."""
    if not text:
        return period_of(timezone.localdate(), default_kind)
    match = PERIOD_PATTERN.match(text.strip())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise ValidationError(
            {
                "period": _("Give the period as 2026, 2026-Q3 or 2026-07 (got %(text)s).")
                % {"text": text}
            }
        )
    year, quarter, month = int(match.group(1)), match.group(2), match.group(3)
    if quarter:
        return period_of(datetime.date(year, int(quarter) * 3, 1), "quarter")
    if month:
        if not 1 <= int(month) <= 12:
            raise ValidationError({"period": _("A month is 01 to 12.")})
        return period_of(datetime.date(year, int(month), 1), "month")
    return period_of(datetime.date(year, 1, 1), "year")


# --- the aggregates --------------------------------------------------------------------------
def _decimal(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DecimalField(max_digits=30, decimal_places=6))


def _conditions(period: Period, settings: ForecastSettings, prefix: str = "") -> dict[str, Q]:
    p = prefix
    # Won deals are closed; said so (`is_closed IN (true)`, see sales.models.CLOSED), a
    # rep's deals closed in the period are read from opportunity_owner_board_sums.
    won = Q(**{f"{p}is_closed__in": [True], f"{p}is_won": True})
    won &= Q(**{f"{p}close_date__gte": period.start})
    won &= Q(**{f"{p}close_date__lte": period.end})
    # `is_closed IN (false)`: see sales.models.OPEN.
    open_ = Q(**{f"{p}is_closed__in": [False], f"{p}expected_close_date__gte": period.start})
    open_ &= Q(**{f"{p}expected_close_date__lte": period.end})
    flagged = Q(**{f"{p}forecast_commit": True})
    commit = open_ & (Q(**{f"{p}probability__gte": settings.commit_probability}) | flagged)
    best = open_ & (Q(**{f"{p}probability__gte": settings.best_case_probability}) | flagged)
    return {"won": won, "open": open_, "commit": commit, "best_case": best}


def _aggregates(
    period: Period, settings: ForecastSettings, prefix: str = "", share: str | None = None
) -> dict[str, Any]:
    """Conditional sums of one grouping; `share` names a percent column to credit by."""
    conditions = _conditions(period, settings, prefix)
    amount = F(f"{prefix}amount_company")
    if share:
        amount = amount * F(share) * Value(Decimal("0.01"))
    weighted = amount * F(f"{prefix}probability") * Value(Decimal("0.01"))
    return {
        "closed_won": Sum(_decimal(amount), filter=conditions["won"]),
        "commit": Sum(_decimal(amount), filter=conditions["commit"]),
        "best_case": Sum(_decimal(amount), filter=conditions["best_case"]),
        "pipeline": Sum(_decimal(amount), filter=conditions["open"]),
        "weighted": Sum(_decimal(weighted), filter=conditions["open"]),
        "won_count": RowCount(filter=conditions["won"]),
        "open_count": RowCount(filter=conditions["open"]),
    }


def _in_period(period: Period, settings: ForecastSettings, prefix: str = "") -> Q:
    conditions = _conditions(period, settings, prefix)
    return conditions["won"] | conditions["open"]


def _figures(row: dict | None) -> dict[str, Any]:
    row = row or {}
    values: dict[str, Any] = {name: money(row.get(name)) for name in FIGURES}
    values.update({name: int(row.get(name) or 0) for name in COUNTS})
    return values


def _add(total: dict[str, Any], other: dict[str, Any]) -> None:
    for name in (*FIGURES, *COUNTS):
        total[name] = total.get(name, 0) + other.get(name, 0)


def _summed(figures: Iterable[dict[str, Any]]) -> dict[str, Any]:
    total = _figures(None)
    for other in figures:
        _add(total, other)
    return total


def base_opportunities(viewer: User | None) -> QuerySet:
    """What a forecast may count: the viewer's visible opportunities (every one for a
    system job such as the weekly snapshot, `viewer=None`)."""
    if viewer is None:
        return Opportunity.objects.all()
    return Opportunity.objects.visible_to(viewer)


def person_figures(
    *,
    opportunities: QuerySet,
    period: Period,
    settings: ForecastSettings,
    user_ids: Iterable[int] | None,
) -> dict[int, dict[str, Any]]:
    """Credited figures per person in two grouped queries (owners of unsplit deals, then
    split shares). `user_ids` None: everybody with a figure."""
    relevant = opportunities.filter(_in_period(period, settings))
    unsplit = relevant.filter(~Exists(OpportunitySplit.objects.filter(opportunity=OuterRef("pk"))))
    # Read from the split side, each split's deal looked up by key: the few split deals of
    # the people asked for, where `opportunity IN (relevant)` listed every deal of the period
    # in the viewer's scope first.
    splits = OpportunitySplit.objects.filter(Exists(relevant.filter(pk=OuterRef("opportunity_id"))))
    if user_ids is not None:
        user_ids = list(user_ids)
        unsplit = unsplit.filter(owner_id__in=user_ids)
        splits = splits.filter(user_id__in=user_ids)
    result: dict[int, dict[str, Any]] = {}
    for row in unsplit.order_by().values("owner_id").annotate(**_aggregates(period, settings)):
        if row["owner_id"] is not None:
            result[row["owner_id"]] = _figures(row)
    for row in (
        splits.order_by()
        .values("user_id")
        .annotate(**_aggregates(period, settings, "opportunity__", share="percent"))
    ):
        figures = result.setdefault(row["user_id"], _figures(None))
        _add(figures, _figures(row))
    return result


def department_figures(
    *, opportunities: QuerySet, period: Period, settings: ForecastSettings
) -> dict[int | None, dict[str, Any]]:
    """Figures per owning department (not rolled up), one grouped query."""
    rows = (
        opportunities.filter(_in_period(period, settings))
        .order_by()
        .values("department_id")
        .annotate(**_aggregates(period, settings))
    )
    return {row["department_id"]: _figures(row) for row in rows}


def company_figures(*, opportunities: QuerySet, period: Period, settings: ForecastSettings):
    return _figures(
        opportunities.filter(_in_period(period, settings)).aggregate(
            **_aggregates(period, settings)
        )
    )


def roll_up(departments: list[Department], own: dict[int | None, dict]) -> dict[int, dict]:
    """Each department's figures with everything below it (by materialised path)."""
    rolled: dict[int, dict] = {}
    for department in departments:
        total = _figures(None)
        for other in departments:
            if other.path.startswith(department.path) and other.pk in own:
                _add(total, own[other.pk])
        rolled[department.pk] = total
    return rolled


# --- targets ---------------------------------------------------------------------------------
def target_for(rows: dict[int, Decimal], period: Period) -> Decimal | None:
    """The target of a period from {month (0 = year): amount} (see the module's precedence)."""
    year = rows.get(0)
    if period.kind == "month":
        month = rows.get(period.months[0])
        if month is not None:
            return money(month)
        return money(year / 12) if year is not None else None
    if period.kind == "quarter":
        months = [rows[m] for m in period.months if m in rows]
        if months:
            return money(sum(months, ZERO))
        return money(year / 4) if year is not None else None
    if year is not None:
        return money(year)
    months = [amount for month, amount in rows.items() if month]
    return money(sum(months, ZERO)) if months else None


def targets_by_subject(
    *,
    period: Period,
    level: str,
    metric: str = TargetMetric.SALES,
    ids: Iterable[int] | None = None,
) -> dict[int | None, Decimal | None]:
    """{subject id (None for the company): target} for a level, in one query."""
    rows = SalesTarget.objects.filter(year=period.year, level=level, metric=metric)
    column = {"user": "user_id", "department": "department_id"}.get(level)
    if column and ids is not None:
        rows = rows.filter(**{f"{column}__in": list(ids)})
    found: dict[int | None, dict[int, Decimal]] = defaultdict(dict)
    for subject, month, amount in rows.values_list(column or "level", "month", "amount"):
        found[subject if column else None][month] = amount
    return {subject: target_for(months, period) for subject, months in found.items()}


def attainment(closed_won: Decimal, target: Decimal | None) -> Decimal | None:
    if not target:
        return None
    return (closed_won * 100 / target).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- adjustments -----------------------------------------------------------------------------
def latest_adjustments(
    *, period: Period, user_ids: Iterable[int] | None
) -> dict[int, dict[str, ForecastAdjustment]]:
    """{user id: {category: their latest adjustment}} for the period, in one query."""
    rows = ForecastAdjustment.objects.filter(period=period.key).select_related("adjusted_by")
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    latest: dict[int, dict[str, ForecastAdjustment]] = defaultdict(dict)
    for adjustment in rows.order_by("user_id", "category", "-created_at", "-id"):
        latest[adjustment.user_id].setdefault(adjustment.category, adjustment)
    return latest


def adjustment_history(*, period: Period, user_ids: Iterable[int], limit: int = 50):
    return list(
        ForecastAdjustment.objects.filter(period=period.key, user_id__in=list(user_ids))
        .select_related("user", "adjusted_by")
        .order_by("-created_at", "-id")[:limit]
    )


# --- rows ------------------------------------------------------------------------------------
@dataclass
class ForecastRow:
    level: str
    subject_id: int | None
    label: str
    closed_won: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO
    won_count: int = 0
    open_count: int = 0
    commit_adjusted: Decimal | None = None
    best_case_adjusted: Decimal | None = None
    adjustments: dict[str, ForecastAdjustment] = field(default_factory=dict)
    target: Decimal | None = None
    depth: int = 0
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def attainment(self) -> Decimal | None:
        return attainment(self.closed_won, self.target)

    @property
    def commit_final(self) -> Decimal:
        return self.commit if self.commit_adjusted is None else self.commit_adjusted

    @property
    def best_case_final(self) -> Decimal:
        return self.best_case if self.best_case_adjusted is None else self.best_case_adjusted

    @property
    def gap(self) -> Decimal | None:
        """What is still missing to the target after closed won."""
        return None if self.target is None else max(self.target - self.closed_won, ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "subject": self.subject_id,
            "label": self.label,
            **{name: str(getattr(self, name)) for name in FIGURES},
            "won_count": self.won_count,
            "open_count": self.open_count,
            "commit_adjusted": _str_or_none(self.commit_adjusted),
            "best_case_adjusted": _str_or_none(self.best_case_adjusted),
            "target": _str_or_none(self.target),
            "attainment": _str_or_none(self.attainment),
        }


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)


def _row(level, subject_id, label, figures, target=None, depth=0) -> ForecastRow:
    return ForecastRow(
        level=level,
        subject_id=subject_id,
        label=label,
        target=target,
        depth=depth,
        **{name: figures[name] for name in (*FIGURES, *COUNTS)},
    )


def _apply_adjustment(row: ForecastRow, adjustments: dict[str, ForecastAdjustment]) -> None:
    row.adjustments = adjustments
    if ForecastCategory.COMMIT in adjustments:
        row.commit_adjusted = money(adjustments[ForecastCategory.COMMIT].amount)
    if ForecastCategory.BEST_CASE in adjustments:
        row.best_case_adjusted = money(adjustments[ForecastCategory.BEST_CASE].amount)


def _shift_by_people(row: ForecastRow, people: Iterable[ForecastRow]) -> None:
    """A group's adjusted figures: computed + what its adjusted people changed."""
    commit_delta = best_delta = ZERO
    commit_changed = best_changed = False
    for person in people:
        if person.commit_adjusted is not None:
            commit_delta += person.commit_adjusted - person.commit
            commit_changed = True
        if person.best_case_adjusted is not None:
            best_delta += person.best_case_adjusted - person.best_case
            best_changed = True
    if commit_changed:
        row.commit_adjusted = row.commit + commit_delta
    if best_changed:
        row.best_case_adjusted = row.best_case + best_delta


def _opportunity_list_url(**params) -> str:
    """Drill-down into the opportunity list (`?owner=&department=&close_from=&close_to=
    &status=open|won|lost`); empty while the list is not installed."""
    try:
        url = reverse("sales:opportunity_list")
    except NoReverseMatch:
        return ""
    return with_query(url, params)


def with_query(path: str, params: dict[str, Any]) -> str:
    """`path` with the parameters that have a value as its query string."""
    query = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def drill_urls(period: Period, **subject) -> dict[str, str]:
    dates = {"close_from": period.start.isoformat(), "close_to": period.end.isoformat()}
    return {
        "closed_won": _opportunity_list_url(**subject, **dates, status="won"),
        "pipeline": _opportunity_list_url(**subject, **dates, status="open"),
    }


@dataclass
class Forecast:
    period: Period
    level: str
    subject_id: int | None
    total: ForecastRow
    rows: list[ForecastRow]
    settings: ForecastSettings

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.key,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "level": self.level,
            "subject": self.subject_id,
            "commit_probability": self.settings.commit_probability,
            "best_case_probability": self.settings.best_case_probability,
            "total": self.total.as_dict(),
            "rows": [row.as_dict() for row in self.rows],
        }


def _people_rows(
    *, users: list[User], opportunities, period, settings, metric
) -> list[ForecastRow]:
    ids = [user.pk for user in users]
    figures = person_figures(
        opportunities=opportunities, period=period, settings=settings, user_ids=ids
    )
    targets = targets_by_subject(period=period, level=TargetLevel.USER, metric=metric, ids=ids)
    adjustments = latest_adjustments(period=period, user_ids=ids)
    rows = []
    for user in users:
        row = _row(
            TargetLevel.USER,
            user.pk,
            str(user),
            figures.get(user.pk) or _figures(None),
            targets.get(user.pk),
        )
        _apply_adjustment(row, adjustments.get(user.pk, {}))
        row.urls = drill_urls(period, owner=user.pk)
        rows.append(row)
    return rows


def forecast(
    *,
    viewer: User | None,
    period: Period | str,
    level: str,
    subject: int | None = None,
    metric: str = TargetMetric.SALES,
    subjects: Subjects | None = None,
) -> Forecast:
    """The forecast of a person (`level="user"`), a department with everything below it
    (`"department"`, with a row per person) or the company (`"company"`, with a row per
    department), inside the viewer's visible opportunities. A subject the viewer may not
    pick (`forecast_subjects`, passed in when the caller has it already) is refused: its
    targets and the people's names are not the viewer's to see."""
    if viewer is not None:
        subjects = subjects or forecast_subjects(viewer)
        if not subjects.allows(level, subject):
            raise ActionNotAllowed(_("You may not see this forecast."))
    if isinstance(period, str):
        period = parse_period(period)
    settings = ForecastSettings.current()
    opportunities = base_opportunities(viewer)
    if level == TargetLevel.USER:
        user = User.objects.filter(pk=subject).first()
        if user is None:
            raise ValidationError({"subject": _("Choose a person.")})
        (row,) = _people_rows(
            users=[user],
            opportunities=opportunities,
            period=period,
            settings=settings,
            metric=metric,
        )
        return Forecast(period, level, user.pk, row, [], settings)
    if level == TargetLevel.DEPARTMENT:
        department = Department.objects.filter(pk=subject).first()
        if department is None:
            raise ValidationError({"subject": _("Choose a department.")})
        subtree = list(Department.objects.filter(path__startswith=department.path))
        subtree_ids = [d.pk for d in subtree]
        own = department_figures(
            opportunities=opportunities.filter(department_id__in=subtree_ids),
            period=period,
            settings=settings,
        )
        totals = _summed(own.values())
        target = targets_by_subject(
            period=period, level=TargetLevel.DEPARTMENT, metric=metric, ids=[department.pk]
        ).get(department.pk)
        total = _row(TargetLevel.DEPARTMENT, department.pk, department.name, totals, target)
        total.urls = drill_urls(period, department=department.pk)
        users = list(
            User.objects.filter(department_id__in=subtree_ids, is_active=True).order_by(
                "department__path", "username"
            )
        )
        rows = _people_rows(
            users=users,
            opportunities=opportunities,
            period=period,
            settings=settings,
            metric=metric,
        )
        _shift_by_people(total, rows)
        return Forecast(period, level, department.pk, total, rows, settings)
    if level != TargetLevel.COMPANY:
        raise ValidationError({"level": _("Choose a person, a department or the company.")})
    departments = list(Department.objects.order_by("path"))
    own = department_figures(opportunities=opportunities, period=period, settings=settings)
    rolled = roll_up(departments, own)
    # The company is every department's own figures (and those of no department) added up:
    # the same deals, without reading them a second time.
    totals = _summed(own.values())
    company_target = targets_by_subject(period=period, level=TargetLevel.COMPANY, metric=metric)
    total = _row(TargetLevel.COMPANY, None, _("Company"), totals, company_target.get(None))
    total.urls = drill_urls(period)
    department_targets = targets_by_subject(
        period=period, level=TargetLevel.DEPARTMENT, metric=metric
    )
    # The adjusted people, to carry their changes into their departments and the company.
    adjustments = latest_adjustments(period=period, user_ids=None)
    adjusted_people: list[tuple[ForecastRow, str]] = []
    if adjustments:
        people = list(User.objects.filter(pk__in=list(adjustments)).select_related("department"))
        credited = person_figures(
            opportunities=opportunities,
            period=period,
            settings=settings,
            user_ids=[p.pk for p in people],
        )
        for person in people:
            row = _row(
                TargetLevel.USER, person.pk, str(person), credited.get(person.pk) or _figures(None)
            )
            _apply_adjustment(row, adjustments[person.pk])
            adjusted_people.append((row, person.department.path if person.department else ""))
    rows = []
    for department in departments:
        row = _row(
            TargetLevel.DEPARTMENT,
            department.pk,
            department.name,
            rolled[department.pk],
            department_targets.get(department.pk),
            depth=department.depth,
        )
        _shift_by_people(
            row,
            [person for person, path in adjusted_people if path.startswith(department.path)],
        )
        row.urls = drill_urls(period, department=department.pk)
        rows.append(row)
    _shift_by_people(total, [person for person, _path in adjusted_people])
    return Forecast(period, level, None, total, rows, settings)


# --- who may look at whom --------------------------------------------------------------------
@dataclass
class Subjects:
    users: list[User]
    departments: list[Department]
    company: bool

    def allows(self, level: str, subject: int | None) -> bool:
        if level == TargetLevel.COMPANY:
            return self.company
        if level == TargetLevel.USER:
            return any(user.pk == subject for user in self.users)
        if level == TargetLevel.DEPARTMENT:
            return any(department.pk == subject for department in self.departments)
        return False


def forecast_subjects(viewer: User) -> Subjects:
    """What the viewer may pick: themselves; the people below them (and those their role's
    scope covers); their department and the ones they manage (with everything below); the
    company with an all-records scope."""
    scope = scope_for(viewer, Opportunity, "view")
    if scope is None:
        return Subjects([], [], False)
    if scope == DataScope.ALL or is_administrator(viewer):
        users = list(User.objects.filter(is_active=True).order_by("username"))
        departments = list(Department.objects.order_by("path"))
        return Subjects(users, departments, True)
    user_filter = Q(pk=viewer.pk) | Q(pk__in=sorted(subordinate_ids(viewer)))
    department_ids = set(
        Department.objects.filter(manager_id=viewer.pk).values_list("pk", flat=True)
    )
    managed_paths = list(
        Department.objects.filter(manager_id=viewer.pk).values_list("path", flat=True)
    )
    department_filter = Q(pk__in=department_ids)
    for path in managed_paths:
        department_filter |= Q(path__startswith=path)
    if viewer.department_id:
        department_filter |= Q(pk=viewer.department_id)
        if scope == DataScope.SUBTREE:
            subtree = subtree_department_ids(viewer)
            department_filter |= Q(pk__in=subtree)
            user_filter |= Q(department_id__in=subtree)
        elif scope == DataScope.DEPARTMENT:
            user_filter |= Q(department_id=viewer.department_id)
    users = list(User.objects.filter(user_filter, is_active=True).order_by("username"))
    departments = list(Department.objects.filter(department_filter).order_by("path"))
    return Subjects(users, departments, False)


def default_subject(viewer: User, subjects: Subjects) -> tuple[str, int | None]:
    if subjects.company:
        return TargetLevel.COMPANY, None
    managed = [d for d in subjects.departments if d.manager_id == viewer.pk]
    if managed:
        return TargetLevel.DEPARTMENT, managed[0].pk
    return TargetLevel.USER, viewer.pk


# --- snapshots: forecast vs actual -----------------------------------------------------------
def snapshot_departments(viewer: User) -> set[int]:
    """Departments whose snapshots the viewer may read: a snapshot counts every opportunity
    of the department and the ones below it, so only the departments the viewer sees whole
    (managed subtrees, the own subtree with a subtree scope, the own department with a
    department scope when nothing hangs below it). Every one with an all-records scope."""
    scope = scope_for(viewer, Opportunity, "view")
    if scope is None:
        return set()
    departments = list(Department.objects.values_list("pk", "path", "manager_id"))
    if scope == DataScope.ALL or is_administrator(viewer):
        return {pk for pk, _path, _manager in departments}
    paths = [path for _pk, path, manager in departments if manager == viewer.pk]
    own = next((path for pk, path, _m in departments if pk == viewer.department_id), None)
    if own is not None and scope == DataScope.SUBTREE:
        paths.append(own)
    covered = {pk for pk, path, _m in departments if any(path.startswith(p) for p in paths)}
    if own is not None and scope == DataScope.DEPARTMENT:
        below = [path for _pk, path, _m in departments if path != own and path.startswith(own)]
        if not below:
            covered.add(viewer.department_id)
    return covered


def snapshot_visible(viewer: User, subjects: Subjects, level: str, subject: int | None) -> bool:
    """Whether the viewer may read the stored snapshot figures of a subject. Snapshots are
    taken over every opportunity, not the viewer's: the company to an all-records scope,
    a person to whoever may pick them (themselves, the people below, their role's scope),
    a department to whoever sees all of it (`snapshot_departments`)."""
    if not subjects.allows(level, subject):
        return False
    if level == TargetLevel.COMPANY:
        return subjects.company
    if level == TargetLevel.USER:
        return True
    return subjects.company or subject in snapshot_departments(viewer)


def snapshots_for(*, period: Period, level: str, subject: int | None) -> list[ForecastSnapshot]:
    rows = ForecastSnapshot.objects.filter(period=period.key, level=level)
    if level == TargetLevel.USER:
        rows = rows.filter(user_id=subject)
    elif level == TargetLevel.DEPARTMENT:
        rows = rows.filter(department_id=subject)
    return list(rows.order_by("taken_on"))


def forecast_vs_actual(
    *,
    viewer: User,
    period: Period,
    level: str,
    subject: int | None,
    actual: Decimal,
    subjects: Subjects | None = None,
) -> list[dict[str, Any]] | None:
    """Past snapshots of the subject for the period next to what actually closed won; None
    when the viewer may not read the subject's snapshots (see `snapshot_visible`)."""
    subjects = subjects if subjects is not None else forecast_subjects(viewer)
    if not snapshot_visible(viewer, subjects, level, subject):
        return None
    result = []
    for snapshot in snapshots_for(period=period, level=level, subject=subject):
        result.append(
            {
                "taken_on": snapshot.taken_on,
                "closed_won": snapshot.closed_won,
                "commit": snapshot.commit,
                "best_case": snapshot.best_case,
                "weighted": snapshot.weighted,
                "pipeline": snapshot.pipeline,
                # What the subject was expected to close: already won + commit, then.
                "forecast": snapshot.closed_won + snapshot.commit,
                "actual": actual,
                "difference": actual - snapshot.closed_won - snapshot.commit,
            }
        )
    return result


# --- who may set which targets ----------------------------------------------------------------
def can_manage_targets(user: User) -> bool:
    """Administrators, and sales managers: roles that may change targets with a department
    subtree or wider data scope."""
    if not user.is_authenticated:
        return False
    if is_administrator(user):
        return True
    return can(user, SalesTarget, "change") and scope_for(user, SalesTarget, "change") in (
        DataScope.SUBTREE,
        DataScope.ALL,
    )


def target_reach(actor: User) -> tuple[bool, Q, Q]:
    """(company?, departments filter, users filter) the actor may set targets for:
    everything for administrators and all-scope managers; otherwise the departments they
    manage (with everything below) and the people below them."""
    if not can_manage_targets(actor):
        return False, Q(pk__in=[]), Q(pk__in=[])
    if is_administrator(actor) or scope_for(actor, SalesTarget, "change") == DataScope.ALL:
        return True, Q(), Q()
    paths = list(Department.objects.filter(manager_id=actor.pk).values_list("path", flat=True))
    departments = Q(pk__in=[])
    for path in paths:
        departments |= Q(path__startswith=path)
    return False, departments, Q(pk__in=sorted(subordinate_ids(actor)))


def targets_in_reach_q(actor: User) -> Q:
    """The targets the actor may set (see `target_reach`)."""
    company, departments, users = target_reach(actor)
    reach = Q(level=TargetLevel.DEPARTMENT, department__in=Department.objects.filter(departments))
    reach |= Q(level=TargetLevel.USER, user__in=User.objects.filter(users))
    if company:
        reach |= Q(level=TargetLevel.COMPANY)
    return reach


def visible_targets(user: User):
    """Targets of the subjects the user may pick in the forecast, or may set."""
    subjects = forecast_subjects(user)
    department_ids = [department.pk for department in subjects.departments]
    visible = Q(level=TargetLevel.DEPARTMENT, department_id__in=department_ids)
    visible |= Q(level=TargetLevel.USER, user_id__in=[u.pk for u in subjects.users])
    if subjects.company:
        visible |= Q(level=TargetLevel.COMPANY)
    return SalesTarget.objects.filter(visible | targets_in_reach_q(user))
