"""Reads behind the pipeline board (kanban) and the sales funnel.

Everything starts from `Opportunity.objects.visible_to(user)` and is summed in SQL: a
board is one aggregate query (count, total and weighted total per stage), one query for
the first cards of every column (see `first_cards`) and one for which of those the user may move,
whatever the number of opportunities. The funnel is two queries: what stands in each stage
now, and how far every opportunity of the period got (from the stage history).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from guanxi.core.expressions import RowCount
from guanxi.core.models import DataScope, Department, User
from guanxi.core.scope import (
    disjoint_parts,
    is_administrator,
    scope_for,
    subordinate_ids,
    visible_in_parts,
)
from guanxi.sales.models import (
    CLOSED,
    OPEN,
    Opportunity,
    OpportunityLine,
    Pipeline,
    Stage,
    StageKind,
)

CARDS_PER_COLUMN = 50
ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
TOTAL_FIELD = DecimalField(max_digits=30, decimal_places=2)
WEIGHT_FIELD = DecimalField(max_digits=30, decimal_places=4)

PERIODS = ("month", "quarter", "year", "custom")
OWNER_ME = "me"


# --- periods ---------------------------------------------------------------------------------
def period_bounds(
    period: str,
    *,
    today: datetime.date | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> tuple[datetime.date | None, datetime.date | None]:
    """First and last day (both included) of "this month", "this quarter", "this year" or a
    custom range; (None, None) without a period."""
    today = today or timezone.localdate()
    if period == "month":
        first = today.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        return first, following - datetime.timedelta(days=1)
    if period == "quarter":
        first_month = (today.month - 1) // 3 * 3 + 1
        first = today.replace(month=first_month, day=1)
        following = (first + datetime.timedelta(days=95)).replace(day=1)
        return first, following - datetime.timedelta(days=1)
    if period == "year":
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    if period == "custom":
        return start, end
    return None, None


def _date_range_q(name: str, start, end) -> Q:
    q = Q()
    if start:
        q &= Q(**{f"{name}__gte": start})
    if end:
        q &= Q(**{f"{name}__lte": end})
    return q


# --- the board -------------------------------------------------------------------------------
@dataclass
class BoardFilters:
    """What the board shows. `owner`: "" (everyone the user may see), "me" or a user id."""

    pipeline: Pipeline
    owner: str = ""
    department: Department | None = None
    period: str = ""
    start: datetime.date | None = None
    end: datetime.date | None = None
    product_id: int | None = None

    def closing_bounds(self, today: datetime.date | None = None):
        return period_bounds(self.period, today=today, start=self.start, end=self.end)


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = ZERO
    weighted: Decimal = ZERO
    cards: list = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.stage.kind

    @property
    def is_open(self) -> bool:
        return self.stage.kind == StageKind.OPEN

    @property
    def more(self) -> int:
        if not self.is_open:  # won and lost are drop zones: their deals are on the list
            return 0
        return max(self.count - len(self.cards), 0)


def board_stages(pipeline: Pipeline) -> list[Stage]:
    """Open stages in order, then the won and the lost stages."""
    order = Case(
        When(kind=StageKind.OPEN, then=Value(0)),
        When(kind=StageKind.WON, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(pipeline.stages.annotate(_group=order).order_by("_group", "sort_order", "id"))


def owner_choices(user: User) -> list[User]:
    """The people whose opportunities the owner filter offers: everybody for those who
    see everything, otherwise the user and the people below them."""
    people = User.objects.filter(is_active=True)
    if not sees_company(user):
        people = people.filter(pk__in=[user.pk, *subordinate_ids(user)])
    return list(people.order_by("display_name", "username"))


def active_pipelines():
    """The sales processes to choose from, the default first."""
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "sort_order", "id")


def sees_company(user: User) -> bool:
    return is_administrator(user) or scope_for(user, Opportunity, "view") == DataScope.ALL


def board_queryset(user: User, filters: BoardFilters) -> QuerySet[Opportunity]:
    """The opportunities of the pipeline the user may see, narrowed by every filter but the
    closing period (which reads another date for open and for closed deals)."""
    # A rep's scope in parts (their deals, the ones they sit on the team of): each column
    # then reads the rep's own deals of the stage from their index (see `first_cards`).
    qs = visible_in_parts(Opportunity.objects.all(), user).filter(pipeline=filters.pipeline)
    if filters.owner == OWNER_ME:
        qs = qs.filter(owner_id=user.pk)
    elif filters.owner:
        qs = qs.filter(owner_id=int(filters.owner))
    if filters.department is not None:
        qs = qs.filter(department__path__startswith=filters.department.path)
    if filters.product_id:
        qs = qs.filter(
            Exists(
                OpportunityLine.objects.filter(
                    opportunity=OuterRef("pk"), product_id=filters.product_id
                )
            )
        )
    return qs


def _on_board_parts(filters: BoardFilters, today: datetime.date | None = None) -> tuple[Q, Q]:
    """Open deals expected to close in the period (all of them without one); closed deals
    closed in the period (this month without one, so the won and lost columns stay a
    current figure rather than everything ever closed)."""
    start, end = filters.closing_bounds(today)
    if start is None and end is None:
        closed_start, closed_end = period_bounds("month", today=today)
    else:
        closed_start, closed_end = start, end
    # OPEN and CLOSED are index equalities to SQLite (opportunity_board_sums: process,
    # closed?, stage, ...), where `NOT is_closed` is not.
    open_q = OPEN & _date_range_q("expected_close_date", start, end)
    closed_q = CLOSED & _date_range_q("close_date", closed_start, closed_end)
    return open_q, closed_q


def _on_board_q(filters: BoardFilters, today: datetime.date | None = None) -> Q:
    open_q, closed_q = _on_board_parts(filters, today)
    return open_q | closed_q


def column_totals(
    user: User,
    filters: BoardFilters,
    *,
    today: datetime.date | None = None,
    base: QuerySet[Opportunity] | None = None,
) -> dict[int, dict]:
    """{stage id: {count, total, weighted}} in the company currency: one aggregate query."""
    base = board_queryset(user, filters) if base is None else base
    # Open and closed deals summed apart: an OR of the two makes the database walk every
    # deal of the process, closed ones of past years included; apart, each reads its own
    # range (the open deals; the ones closed in the period). A rep's scope is summed part
    # by part too: their own deals from opportunity_owner_board_sums, the few shared ones
    # by id.
    rows = [
        row
        for scope_part in disjoint_parts(base)
        for part in _on_board_parts(filters, today)
        for row in scope_part.filter(part)
        .order_by()
        .values("stage_id")
        .annotate(
            count=RowCount(),
            total=Coalesce(Sum("amount_company"), Value(ZERO), output_field=TOTAL_FIELD),
            weighted_raw=Coalesce(
                Sum(F("amount_company") * F("probability"), output_field=WEIGHT_FIELD),
                Value(ZERO),
                output_field=WEIGHT_FIELD,
            ),
        )
    ]
    sums: dict[int, list] = {}
    for row in rows:
        found = sums.setdefault(row["stage_id"], [0, ZERO, ZERO])
        found[0] += row["count"]
        found[1] += Decimal(row["total"])
        found[2] += Decimal(row["weighted_raw"])
    return {
        stage_id: {
            "count": count,
            "total": total.quantize(CENT),
            "weighted": (weighted / HUNDRED).quantize(CENT),
        }
        for stage_id, (count, total, weighted) in sums.items()
    }


def board(
    user: User,
    filters: BoardFilters,
    *,
    limit: int = CARDS_PER_COLUMN,
    today: datetime.date | None = None,
) -> dict:
    """The board: a column per stage with its totals and the first `limit` open cards."""
    today = today or timezone.localdate()
    stages = board_stages(filters.pipeline)
    base = board_queryset(user, filters)
    totals = column_totals(user, filters, today=today, base=base)
    columns = [Column(stage=stage, **totals.get(stage.pk, {})) for stage in stages]
    by_stage = {column.stage.pk: column for column in columns}
    start, end = filters.closing_bounds(today)
    open_cards = base.filter(is_closed=False).filter(
        _date_range_q("expected_close_date", start, end)
    )
    open_stage_ids = [column.stage.pk for column in columns if column.is_open]
    cards = first_cards(open_cards, open_stage_ids, limit)
    editable = set(
        Opportunity.objects.editable_by(user)
        .filter(pk__in=[card.pk for card in cards])
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    stage_by_id = {stage.pk: stage for stage in stages}
    for card in cards:
        column = by_stage.get(card.stage_id)
        if column is None:
            continue
        stage = stage_by_id[card.stage_id]
        entered = card.stage_entered_at or card.created_at
        card.days_in_stage = max((now - entered).days, 0) if entered else 0
        card.overdue_in_stage = bool(stage.max_days) and card.days_in_stage > stage.max_days
        card.can_move = card.pk in editable
        card.weighted = (card.amount_company * card.probability / HUNDRED).quantize(CENT)
        column.cards.append(card)
    open_columns = [column for column in columns if column.is_open]
    return {
        "columns": columns,
        "open_columns": open_columns,
        "closed_columns": [column for column in columns if not column.is_open],
        "count": sum(column.count for column in open_columns),
        "total": sum((column.total for column in open_columns), ZERO),
        "weighted": sum((column.weighted for column in open_columns), ZERO),
        "closing": (start, end),
    }


# What a card shows (and `board` computes from): a column is up to fifty of them.
CARD_FIELDS = (
    "name",
    "stage_id",
    "amount_company",
    "probability",
    "expected_close_date",
    "version",
    "stage_entered_at",
    "created_at",
    "account__name",
    "owner__username",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
)


def first_cards(open_cards: QuerySet[Opportunity], stage_ids: list[int], limit: int) -> list:
    """The first `limit` cards of each stage, soonest expected close first (those without a
    date last). Each stage's ids come from bounded walks of the (pipeline, stage,
    expected_close_date) index — dated ones, then undated ones while the dated ones leave
    room — so the board does not number every open deal of the process to keep fifty per
    column.

    The walks run as queries of their own and the cards are then read by id: written as
    one statement (`id IN (walk) OR id IN (walk) ...`), PostgreSQL cannot use an index for
    the OR of subqueries and tested every deal of the company against each walk (dataset L:
    a manager's board 890 ms)."""
    if not stage_ids or limit <= 0:
        return []
    # A scope read in parts walks each part's index: a rep's stage among their own deals,
    # not the whole company's stage for the few that are theirs.
    parts = getattr(open_cards, "_gx_parts", ()) or (Q(),)
    ids: set[int] = set()
    for stage_id in stage_ids:
        in_stage = [
            open_cards.filter(part, stage_id=stage_id).values_list("pk", flat=True)
            for part in parts
        ]
        dated: set[int] = set()
        for walk in in_stage:
            with_date = walk.filter(expected_close_date__isnull=False)
            dated.update(with_date.order_by("expected_close_date", "pk")[:limit])
        ids |= dated
        if len(dated) >= limit:
            continue  # undated cards come after the dated ones: none would be shown
        for walk in in_stage:
            # Ordered by the (empty) date too, so the walk stays on the stage's index: by id
            # alone PostgreSQL walked the primary key through every deal of the company
            # looking for the few without a date (186 ms a column on L).
            undated = walk.filter(expected_close_date__isnull=True)
            ids.update(undated.order_by("expected_close_date", "pk")[:limit])
    found = (
        Opportunity.objects.filter(pk__in=sorted(ids))
        .select_related("account", "owner")
        .only(*CARD_FIELDS)
    )
    by_stage: dict[int, list] = {stage_id: [] for stage_id in stage_ids}
    for card in sorted(found, key=_card_order):
        column = by_stage[card.stage_id]
        if len(column) < limit:
            column.append(card)
    return [card for stage_id in stage_ids for card in by_stage[stage_id]]


def _card_order(card: Opportunity) -> tuple:
    undated = card.expected_close_date is None
    return (undated, card.expected_close_date or datetime.date.min, card.pk)


# --- the funnel ------------------------------------------------------------------------------
SCOPES = ("me", "team", "company")


def funnel_scope(user: User, scope: str) -> str:
    """The scope actually used: "company" only for those who see every opportunity."""
    if scope == "company" and not sees_company(user):
        return "team"
    return scope if scope in SCOPES else "me"


def funnel_queryset(
    user: User,
    *,
    pipeline: Pipeline,
    scope: str,
    start: datetime.datetime | None,
    end: datetime.datetime | None,
) -> QuerySet[Opportunity]:
    """Opportunities of the pipeline created in [start, end) within the chosen scope."""
    qs = Opportunity.objects.visible_to(user).filter(pipeline=pipeline)
    scope = funnel_scope(user, scope)
    if scope == "me":
        qs = qs.filter(owner_id=user.pk)
    elif scope == "team":
        qs = qs.filter(owner_id__in=[user.pk, *sorted(subordinate_ids(user))])
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs


@dataclass
class FunnelStep:
    stage: Stage
    position: int
    count: int = 0  # open opportunities in the stage now (won: won deals)
    amount: Decimal = ZERO
    reached: int = 0  # opportunities that got at least this far
    conversion: float | None = None  # share of `reached` that got to the next step


def funnel(
    user: User,
    *,
    pipeline: Pipeline,
    scope: str,
    start: datetime.datetime | None,
    end: datetime.datetime | None,
) -> dict:
    """Count and amount per stage and stage-to-stage conversion.

    The steps are the pipeline's open stages in order, then the won stage. An opportunity
    *reached* a step when its stage history shows it in that step or a later one (a skipped
    stage counts as passed; a lost deal counts for the steps it reached before it was lost).
    The conversion of a step is reached(next step) / reached(this step)."""
    stages = [stage for stage in board_stages(pipeline) if stage.kind != StageKind.LOST]
    open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
    won = [stage for stage in stages if stage.kind == StageKind.WON]
    steps = [FunnelStep(stage=stage, position=i) for i, stage in enumerate(open_stages)]
    won_position = len(open_stages)
    steps += [FunnelStep(stage=stage, position=won_position) for stage in won[:1]]
    base = funnel_queryset(user, pipeline=pipeline, scope=scope, start=start, end=end)

    # One pass over the period's deals (opportunity_funnel holds every column read), grouped
    # by how far each got: its furthest stage (kept with the stage history), or the stage it
    # is in when it has none. Where the open and won deals are now is counted alongside, a
    # conditional count and sum per stage: grouped by the stage column itself, SQLite would
    # walk the (stage, created) index for its order and read every deal's row.
    now_here = Q(is_closed=False) | Q(is_won=True)
    won_ids = {stage.pk for stage in won}
    per_step: dict[str, Any] = {}
    for step in steps:
        ids = sorted(won_ids) if step.stage.kind == StageKind.WON else [step.stage.pk]
        here = now_here & Q(stage_id__in=ids)
        per_step[f"count_{step.stage.pk}"] = RowCount(filter=here)
        per_step[f"amount_{step.stage.pk}"] = Sum("amount_company", filter=here)
    rows = list(
        base.order_by()
        .annotate(reached_stage=Coalesce("furthest_stage_id", "stage_id"))
        .values("reached_stage")
        .annotate(n=RowCount(), **per_step)
    )
    for step in steps:
        step.count = sum(row[f"count_{step.stage.pk}"] for row in rows)
        step.amount = sum(
            (Decimal(row[f"amount_{step.stage.pk}"] or 0) for row in rows), ZERO
        ).quantize(CENT)

    place = {stage.pk: i for i, stage in enumerate(open_stages)}
    place.update(dict.fromkeys(won_ids, won_position))
    got_to: dict[int, int] = {}
    for row in rows:
        at = place.get(row["reached_stage"], -1)
        got_to[at] = got_to.get(at, 0) + row["n"]
    total = sum(got_to.values())
    for step in steps:
        step.reached = sum(n for position, n in got_to.items() if position >= step.position)
    for step, following in zip(steps, steps[1:], strict=False):
        if step.reached:
            step.conversion = round(following.reached * 100 / step.reached, 1)
    return {"steps": steps, "total": total, "scope": funnel_scope(user, scope)}
