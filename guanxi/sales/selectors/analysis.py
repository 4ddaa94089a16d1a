"""Sales analysis: win rate, average deal size, sales cycle, the composition of won revenue,
comparisons with the previous period and the same period last year, and the lost-deal
analysis (丢单分析). Everything is a grouped SQL aggregate over the viewer's visible
opportunities (`Opportunity.objects.visible_to`), in the company currency.

Definitions:
- win rate: won / (won + lost), of the opportunities closed in the period;
- average deal size: the won amount / the number won;
- sales cycle: the average days from creation to closing, of the deals won in the period;
- composition: won deals by product (their lines, converted at the deal's rate), region
  (the account's province), industry (the account's), rep (the owner; splits are a forecast
  matter) and source;
- stage where lost: the open stage the deal was in when it was lost
  (`Opportunity.closed_from_stage`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import NullIf
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.core.expressions import DayNumber, RowCount
from guanxi.core.models import Department, PicklistOption, User
from guanxi.sales.models import (
    CLOSED,
    Competitor,
    Opportunity,
    Product,
    Stage,
    TargetLevel,
)
from guanxi.sales.selectors.forecast import (
    Period,
    _opportunity_list_url,
    money,
    period_of,
    with_query,
)

ONE_DECIMAL = Decimal("0.1")


def opportunities_of(*, viewer: User, level: str, subject: int | None) -> QuerySet:
    """The viewer's visible opportunities of a person (owned), a department (and below) or
    the company."""
    opportunities = Opportunity.objects.visible_to(viewer)
    if level == TargetLevel.USER:
        return opportunities.filter(owner_id=subject)
    if level == TargetLevel.DEPARTMENT:
        path = Department.objects.filter(pk=subject).values_list("path", flat=True).first() or "-"
        return opportunities.filter(department__path__startswith=path)
    return opportunities


def _closed_in(period: Period, prefix: str = "") -> Q:
    # `is_closed IN (true)`: see sales.models.CLOSED.
    return Q(**{f"{prefix}is_closed__in": [True], f"{prefix}close_date__gte": period.start}) & Q(
        **{f"{prefix}close_date__lte": period.end}
    )


def _won(period: Period) -> Q:
    return _closed_in(period) & Q(is_won=True)


def _lost(period: Period) -> Q:
    return _closed_in(period) & Q(is_won=False)


# --- headline figures ------------------------------------------------------------------------
@dataclass
class Kpis:
    period: Period
    won_count: int = 0
    lost_count: int = 0
    won_amount: Decimal = Decimal(0)
    lost_amount: Decimal = Decimal(0)
    cycle_days: Decimal | None = None

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won_count + self.lost_count
        if not closed:
            return None
        return (Decimal(self.won_count) * 100 / closed).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    @property
    def average_deal(self) -> Decimal | None:
        if not self.won_count:
            return None
        return money(self.won_amount / self.won_count)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.key,
            "won_count": self.won_count,
            "lost_count": self.lost_count,
            "won_amount": str(self.won_amount),
            "lost_amount": str(self.lost_amount),
            "win_rate": None if self.win_rate is None else str(self.win_rate),
            "average_deal": None if self.average_deal is None else str(self.average_deal),
            "cycle_days": None if self.cycle_days is None else str(self.cycle_days),
        }


def kpis(opportunities: QuerySet, periods: list[Period]) -> list[Kpis]:
    """Headline figures of several periods in one aggregate query (a period asked twice, as
    a year's previous period and the same period last year, is summed once)."""
    distinct = list(dict.fromkeys(periods))
    figures = dict(zip(distinct, _kpis_of_distinct(opportunities, distinct), strict=True))
    return [figures[period] for period in periods]


def _kpis_of_distinct(opportunities: QuerySet, periods: list[Period]) -> list[Kpis]:
    aggregates: dict[str, Any] = {}
    for index, period in enumerate(periods):
        aggregates[f"won_count_{index}"] = RowCount(filter=_won(period))
        aggregates[f"lost_count_{index}"] = RowCount(filter=_lost(period))
        aggregates[f"won_amount_{index}"] = Sum("amount_company", filter=_won(period))
        aggregates[f"lost_amount_{index}"] = Sum("amount_company", filter=_lost(period))
        # The average cycle as avg(closed) - avg(created) of the same deals (see DayNumber).
        timed = _won(period) & Q(closed_at__isnull=False)
        aggregates[f"closed_day_{index}"] = Avg(DayNumber("closed_at"), filter=timed)
        aggregates[f"created_day_{index}"] = Avg(DayNumber("created_at"), filter=timed)
    closed_any = Q()
    for period in periods:
        closed_any |= _closed_in(period)
    row = opportunities.filter(closed_any).aggregate(**aggregates) if periods else {}
    result = []
    for index, period in enumerate(periods):
        closed_day, created_day = row.get(f"closed_day_{index}"), row.get(f"created_day_{index}")
        result.append(
            Kpis(
                period=period,
                won_count=row.get(f"won_count_{index}") or 0,
                lost_count=row.get(f"lost_count_{index}") or 0,
                won_amount=money(row.get(f"won_amount_{index}")),
                lost_amount=money(row.get(f"lost_amount_{index}")),
                cycle_days=_days(closed_day, created_day),
            )
        )
    return result


def _days(end_day, start_day) -> Decimal | None:
    if end_day is None or start_day is None:
        return None
    return (Decimal(str(end_day)) - Decimal(str(start_day))).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def _change(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or not before:
        return None
    return ((now - before) * 100 / before).quantize(ONE_DECIMAL, ROUND_HALF_UP)


# --- breakdowns ------------------------------------------------------------------------------
@dataclass
class Slice:
    key: Any
    label: str
    count: int
    amount: Decimal
    share: Decimal | None = None
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "amount": str(self.amount),
            "share": None if self.share is None else str(self.share),
        }


def _with_shares(slices: list[Slice]) -> list[Slice]:
    total = sum((s.amount for s in slices), Decimal(0))
    for item in slices:
        item.share = (
            (item.amount * 100 / total).quantize(ONE_DECIMAL, ROUND_HALF_UP) if total else None
        )
    slices.sort(key=lambda s: (-s.amount, -s.count, str(s.label)))
    return slices


@dataclass
class Links:
    """Drill-down links into the opportunity list, narrowed to the page's person or
    department (`whose`) and a period. The list's address is looked up once: a year of the
    company has ~1,000 links, and a reverse() each was a third of the page's Python time."""

    period: Period
    whose: dict = field(default_factory=dict)
    path: str = field(default_factory=_opportunity_list_url)

    def to(self, status: str, period: Period | None = None, **params) -> str:
        if not self.path:
            return ""
        period = period or self.period
        query = {
            **self.whose,
            **params,
            "close_from": period.start.isoformat(),
            "close_to": period.end.isoformat(),
            "status": status,
        }
        return with_query(self.path, query)


def by_product(won: QuerySet) -> list[Slice]:
    # A line's share of the deal in the company currency: total × amount_company / amount.
    converted = ExpressionWrapper(
        F("lines__total") * F("amount_company") / NullIf(F("amount"), 0),
        output_field=DecimalField(max_digits=30, decimal_places=6),
    )
    # Read from the deals' side, joined to their lines: `lines IN (the deals' ids)` read
    # every deal twice (the subquery, then the join for its amounts).
    rows = (
        won.filter(lines__isnull=False)
        .order_by()
        .values("lines__product_id")
        .annotate(count=Count("pk", distinct=True), amount=Sum(converted))
    )
    rows = list(rows)
    products = Product.objects.only("code", "name").in_bulk(
        [row["lines__product_id"] for row in rows]
    )
    return _with_shares(
        [
            Slice(
                row["lines__product_id"],
                _product_label(products.get(row["lines__product_id"])),
                row["count"],
                money(row["amount"]),
            )
            for row in rows
        ]
    )


def largest_with_others(slices: list[Slice], keep: int) -> tuple[list[Slice], int]:
    """The first `keep` slices (they come largest first) and one slice summing the rest;
    how many the last one sums (0: nothing summed; never an "others" of a single slice)."""
    if len(slices) <= keep + 1:
        return slices, 0
    rest = slices[keep:]
    shares = [s.share for s in rest]
    others = Slice(
        key=None,
        label=ngettext("%(count)s other", "%(count)s others", len(rest)) % {"count": len(rest)},
        count=sum(s.count for s in rest),
        amount=sum((s.amount for s in rest), Decimal(0)),
        share=None if None in shares else sum(shares, Decimal(0)),
    )
    return [*slices[:keep], others], len(rest)


def _product_label(product: Product | None) -> str:
    return f"{product.code} {product.name}" if product else ""


def _grouped(qs: QuerySet, *keys: str) -> list[dict]:
    """`qs` counted and summed per combination of `keys`, read once for several breakdowns
    (each then rolls the rows up by its own key): the period's deals are read, and joined to
    their accounts, once instead of once per breakdown."""
    return list(
        qs.order_by().values(*keys).annotate(count=RowCount(), amount=Sum("amount_company"))
    )


def _rolled_up(rows: list[dict], key: str) -> list[tuple[Any, int, Decimal]]:
    """(value of `key`, count, amount) per value of `key` in grouped rows."""
    totals: dict[Any, list] = {}
    for row in rows:
        total = totals.setdefault(row[key], [0, Decimal(0)])
        total[0] += row["count"]
        total[1] += Decimal(row["amount"] or 0)
    return [(value, count, amount) for value, (count, amount) in totals.items()]


def _option_labels(ids) -> dict[int, str]:
    options = PicklistOption.objects.filter(pk__in=[pk for pk in ids if pk]).only(
        "label_zh", "label_en"
    )
    return {option.pk: option.label for option in options}


def _option_slices(rows: list[dict], key: str) -> list[Slice]:
    totals = _rolled_up(rows, key)
    labels = _option_labels(value for value, _count, _amount in totals)
    return _with_shares(
        [
            Slice(value, labels.get(value) or _("(not set)"), count, money(amount))
            for value, count, amount in totals
        ]
    )


def by_region(won_by_account: list[dict]) -> list[Slice]:
    return _with_shares(
        [
            Slice(province, province or _("(no region)"), count, money(amount))
            for province, count, amount in _rolled_up(won_by_account, "account__province")
        ]
    )


def by_industry(won_by_account: list[dict]) -> list[Slice]:
    return _option_slices(won_by_account, "account__industry_id")


def by_source(won_by_owner: list[dict]) -> list[Slice]:
    return _option_slices(won_by_owner, "source_id")


def by_rep(by_owner: list[dict], links: Links, status: str) -> list[Slice]:
    totals = _rolled_up(by_owner, "owner_id")
    owners = User.objects.filter(pk__in=[pk for pk, _count, _amount in totals if pk]).only(
        "display_name", "first_name", "last_name", "username"
    )
    names = {owner.pk: str(owner) for owner in owners}
    return _with_shares(
        [
            Slice(
                pk,
                names.get(pk) or _("(nobody)"),
                count,
                money(amount),
                url=links.to(status, owner=pk),
            )
            for pk, count, amount in totals
        ]
    )


def lost_by_reason(lost_rows: list[dict], links: Links) -> list[Slice]:
    slices = _option_slices(lost_rows, "lost_reason_id")
    for item in slices:
        item.url = links.to("lost", lost_reason=item.key)
    return slices


def lost_by_competitor(lost_rows: list[dict], links: Links) -> list[Slice]:
    totals = _rolled_up(lost_rows, "winner_id")
    names = dict(
        Competitor.objects.filter(pk__in=[pk for pk, _count, _amount in totals if pk]).values_list(
            "pk", "name"
        )
    )
    return _with_shares(
        [
            Slice(
                pk,
                names.get(pk) or _("(no competitor named)"),
                count,
                money(amount),
                url=links.to("lost", winner=pk),
            )
            for pk, count, amount in totals
        ]
    )


def lost_by_stage(lost_rows: list[dict]) -> list[Slice]:
    rows = [
        {"lost_at": stage_id, "count": count, "amount": amount}
        for stage_id, count, amount in _rolled_up(lost_rows, "closed_from_stage_id")
    ]
    stages = {
        stage.pk: stage
        for stage in Stage.objects.filter(
            pk__in=[r["lost_at"] for r in rows if r["lost_at"]]
        ).select_related("pipeline")
    }
    several = len({s.pipeline_id for s in stages.values()}) > 1
    slices = []
    for row in rows:
        stage = stages.get(row["lost_at"])
        if stage is None:
            label = _("(unknown)")
        else:
            label = f"{stage.pipeline} · {stage}" if several else str(stage)
        item = Slice(row["lost_at"], label, row["count"], money(row["amount"]))
        item.sort_order = (
            (stage.pipeline.sort_order, stage.pipeline_id, stage.sort_order)
            if stage
            else (9999, 0, 0)
        )  # type: ignore[attr-defined]
        slices.append(item)
    _with_shares(slices)
    slices.sort(key=lambda s: s.sort_order)  # type: ignore[attr-defined]
    return slices


def monthly_trend(
    opportunities: QuerySet, end: datetime.date, links: Links, months: int = 12
) -> list[dict]:
    """Won and lost per month for the `months` months up to the one holding `end`; `whose`
    (owner / department) narrows the drill-down links like the page."""
    first = period_of(end, "month").shifted(-(months - 1))
    window = Period("trend", "month", first.year, first.months)
    start = window.start
    # Summed per day and per outcome, then per month here: grouped by the close date itself
    # the database reads its index in order, where truncating to the month is a function
    # call per deal on SQLite (a year of the company's deals: 130,000 calls).
    rows = (
        opportunities.filter(CLOSED, close_date__gte=start, close_date__lte=end)
        .order_by()
        .values("close_date", "is_won")
        .annotate(n=RowCount(), amount=Sum("amount_company"))
    )
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        day = row["close_date"]
        month = found.setdefault(
            (day.year, day.month), {"won": 0, "lost": 0, "won_amount": None, "lost_amount": None}
        )
        outcome = "won" if row["is_won"] else "lost"
        month[outcome] += row["n"]
        if row["amount"] is not None:
            month[f"{outcome}_amount"] = (month[f"{outcome}_amount"] or 0) + Decimal(row["amount"])
    result = []
    for step in range(months):
        period = first.shifted(step)
        row = found.get((period.year, period.months[0]), {})
        won, lost = row.get("won") or 0, row.get("lost") or 0
        result.append(
            {
                "month": period.key,
                "won": won,
                "lost": lost,
                "won_amount": money(row.get("won_amount")),
                "lost_amount": money(row.get("lost_amount")),
                "win_rate": (Decimal(won) * 100 / (won + lost)).quantize(ONE_DECIMAL, ROUND_HALF_UP)
                if won + lost
                else None,
                "url": links.to("lost", period=period),
            }
        )
    return result


# --- the whole page --------------------------------------------------------------------------
@dataclass
class Analysis:
    period: Period
    current: Kpis
    previous: Kpis
    last_year: Kpis
    composition: dict[str, list[Slice]] = field(default_factory=dict)
    lost: dict[str, list[Slice]] = field(default_factory=dict)
    trend: list[dict] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    def changes(self) -> dict[str, dict[str, Decimal | None]]:
        """% change of each headline figure against the previous period and last year."""
        result = {}
        for name in ("won_amount", "won_count", "win_rate", "average_deal", "cycle_days"):
            now = getattr(self.current, name)
            now = None if now is None else Decimal(now)
            result[name] = {
                "previous": _change(now, _decimal_or_none(getattr(self.previous, name))),
                "last_year": _change(now, _decimal_or_none(getattr(self.last_year, name))),
            }
        return result

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.key,
            "current": self.current.as_dict(),
            "previous": self.previous.as_dict(),
            "last_year": self.last_year.as_dict(),
            "composition": {k: [s.as_dict() for s in v] for k, v in self.composition.items()},
            "lost": {k: [s.as_dict() for s in v] for k, v in self.lost.items()},
            "trend": [
                {
                    **row,
                    "won_amount": str(row["won_amount"]),
                    "lost_amount": str(row["lost_amount"]),
                    "win_rate": None if row["win_rate"] is None else str(row["win_rate"]),
                }
                for row in self.trend
            ],
        }


def _decimal_or_none(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def sales_analysis(
    *, viewer: User, period: Period, level: str = TargetLevel.COMPANY, subject: int | None = None
) -> Analysis:
    opportunities = opportunities_of(viewer=viewer, level=level, subject=subject)
    current, previous, last_year = kpis(
        opportunities, [period, period.previous(), period.same_last_year()]
    )
    won = opportunities.filter(_won(period))
    won_by_account = _grouped(won, "account__province", "account__industry_id")
    won_by_owner = _grouped(won, "owner_id", "source_id")
    lost = opportunities.filter(_lost(period))
    lost_rows = _grouped(lost, "lost_reason_id", "winner_id", "closed_from_stage_id")
    lost_by_owner = _grouped(lost, "owner_id")
    owner = subject if level == TargetLevel.USER else None
    department = subject if level == TargetLevel.DEPARTMENT else None
    # The drill-down links open the list narrowed to the same person or department.
    links = Links(period, whose={"owner": owner, "department": department})
    return Analysis(
        period=period,
        current=current,
        previous=previous,
        last_year=last_year,
        composition={
            "product": by_product(won),
            "region": by_region(won_by_account),
            "industry": by_industry(won_by_account),
            "rep": by_rep(won_by_owner, links, "won"),
            "source": by_source(won_by_owner),
        },
        lost={
            "reason": lost_by_reason(lost_rows, links),
            "competitor": lost_by_competitor(lost_rows, links),
            "stage": lost_by_stage(lost_rows),
            "rep": by_rep(lost_by_owner, links, "lost"),
        },
        trend=monthly_trend(opportunities, period.end, links),
        urls={
            "won": links.to("won"),
            "lost": links.to("lost"),
        },
    )
