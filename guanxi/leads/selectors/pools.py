"""Reads about the public pools (公海): who is a member, what is in a pool, which owned
records a pool's recycle rules will take back, and when ("returns to the pool in 3 days").

Which pool an *owned* record belongs to (the pool its recycle rules come from and the pool
it goes back to): the active pool of its kind whose department contains the record's
department (the owner's department; the deepest such pool department wins); when no pool
department matches, the first pool (by id) whose regions list the record's province. A
record that matches neither is never recycled and shows no countdown.

The clock of a record: when it was taken (a lead: `assigned_at`, set on assignment and
claim; an account: its last claim from a pool; otherwise when it was created) and when it
was last followed up (`last_followed_up_at`, never earlier than when it was taken).

The sales app fills three hooks; until it does, no account has a deal, a contract or an
open opportunity:
- `register_deal_check(fn({account_id: since}) -> {ids with a won deal since then})`
- `register_contract_end(fn(account_ids) -> {account_id: date the last contract ends})`
- `register_open_opportunity_check(fn(account_ids) -> {ids with an open opportunity})`
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.expressions import RowCount, sql_rows
from guanxi.core.models import Department, User
from guanxi.core.scope import is_administrator
from guanxi.core.selectors import bounded_count
from guanxi.customers.models import Account
from guanxi.leads.models import (
    Lead,
    LeadStatus,
    Pool,
    PoolEntry,
    PoolEvent,
    PoolEventKind,
    PoolKind,
    RecycleRule,
)

DAY = datetime.timedelta(days=1)


# --- kinds -----------------------------------------------------------------------------------
def pool_model(kind: str) -> type[models.Model]:
    return {PoolKind.LEADS: Lead, PoolKind.ACCOUNTS: Account}[PoolKind(kind)]


def pool_kind_of(model_or_record) -> str:
    model = model_or_record if isinstance(model_or_record, type) else type(model_or_record)
    if issubclass(model, Lead):
        return PoolKind.LEADS
    if issubclass(model, Account):
        return PoolKind.ACCOUNTS
    raise ValueError(f"{model} cannot be in a pool")


RECORD_TYPES = {"lead": PoolKind.LEADS, "account": PoolKind.ACCOUNTS}


def kind_for_type(record_type: str) -> str | None:
    """The API's "lead" / "account" as a pool kind (None when unknown)."""
    return RECORD_TYPES.get(record_type)


# --- hooks the sales app fills ---------------------------------------------------------------
_deal_checks: list[Callable[[dict[int, datetime.datetime]], set[int]]] = []
_contract_ends: list[Callable[[list[int]], dict[int, datetime.date]]] = []
_open_opportunity_checks: list[Callable[[list[int]], set[int]]] = []


def register_deal_check(fn: Callable[[dict[int, datetime.datetime]], set[int]]) -> None:
    if fn not in _deal_checks:
        _deal_checks.append(fn)


def register_contract_end(fn: Callable[[list[int]], dict[int, datetime.date]]) -> None:
    if fn not in _contract_ends:
        _contract_ends.append(fn)


def register_open_opportunity_check(fn: Callable[[list[int]], set[int]]) -> None:
    if fn not in _open_opportunity_checks:
        _open_opportunity_checks.append(fn)


def _deals_since(since: dict[int, datetime.datetime]) -> set[int]:
    found: set[int] = set()
    for fn in _deal_checks:
        found |= set(fn(since))
    return found


def _contract_end_dates(ids: list[int]) -> dict[int, datetime.date]:
    ends: dict[int, datetime.date] = {}
    for fn in _contract_ends:
        for pk, end in fn(ids).items():
            if end is not None and (pk not in ends or end > ends[pk]):
                ends[pk] = end
    return ends


def _open_opportunities(ids: list[int]) -> set[int]:
    found: set[int] = set()
    for fn in _open_opportunity_checks:
        found |= set(fn(ids))
    return found


# --- membership ------------------------------------------------------------------------------
# The active pools a user is a member of: directly, or through a member department that is
# theirs or above theirs (its path is a prefix of their department's path).
_MEMBER_POOLS_SQL = """
SELECT p.id, p.kind FROM {pool} p
WHERE p.is_active AND (
    p.id IN (SELECT m.{member_pool} FROM {members} m WHERE m.{member_user} = %s)
    OR p.id IN (
        SELECT md.{department_pool}
        FROM {member_departments} md
        JOIN {department} d ON d.id = md.{department_department}
        JOIN {department} mine ON substr(mine.path, 1, length(d.path)) = d.path
        WHERE mine.id = %s
    )
)
ORDER BY p.id
"""


def _member_pool_rows(user: User) -> list[tuple]:
    members = Pool.members.through._meta
    departments = Pool.member_departments.through._meta
    return sql_rows(
        Pool,
        _MEMBER_POOLS_SQL,
        [user.pk, user.department_id],
        pool=Pool._meta.db_table,
        members=members.db_table,
        member_pool=members.get_field("pool").column,
        member_user=members.get_field("user").column,
        member_departments=departments.db_table,
        department_pool=departments.get_field("pool").column,
        department_department=departments.get_field("department").column,
        department=Department._meta.db_table,
    )


def member_pool_ids(user: User, kind: str | None = None) -> list[int]:
    """Ids of the active pools the user is a member of (directly or through a member
    department containing theirs). One query, read once per user object like the roles.

    Written as SQL: built through the ORM (two many-to-many joins, DISTINCT and the
    department's path as a subquery) it took 3.7 ms of every scoped request, 0.6 ms as SQL
    (dataset L, PostgreSQL)."""
    cached = getattr(user, "_guanxi_pools", None)
    if cached is None:
        if not user.is_authenticated or not user.is_active:
            cached = []
        else:
            cached = [(pk, pool_kind) for pk, pool_kind in _member_pool_rows(user)]
        user._guanxi_pools = cached
    return [pk for pk, pool_kind in cached if kind is None or pool_kind == kind]


def forget_pool_membership(user: User) -> None:
    if hasattr(user, "_guanxi_pools"):
        del user._guanxi_pools


def is_pool_member(user: User, pool: Pool) -> bool:
    return is_administrator(user) or pool.pk in member_pool_ids(user)


def pool_visibility_rule(user: User, model: type[models.Model]) -> Q:
    """The scope's pool rule: unowned records in a pool the user is a member of.

    Asked row by row (EXISTS on the entries' (content type, object) key) rather than as
    `pk IN (every entry of the pools)`: a page reads its rows in index order and stops at
    the page's end, where the IN list made the database read the whole pool (150,000
    entries for a million leads) for every statement."""
    ids = member_pool_ids(user, pool_kind_of(model))
    if not ids:
        return Q(pk__in=[])
    entries = PoolEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id=OuterRef("pk"),
        pool_id__in_ids=ids,
    )
    return Q(Exists(entries))


def pools_for(user: User):
    """The pools a user may open: every pool for administrators, else their pools."""
    pools = Pool.objects.select_related("department").order_by("kind", "name", "pk")
    if is_administrator(user):
        return pools
    return pools.filter(pk__in=member_pool_ids(user))


def pool_get_for(*, user: User, pk) -> Pool:
    from django.http import Http404

    try:
        return pools_for(user).get(pk=pk)
    except (Pool.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def pool_records(*, pool: Pool, user: User):
    """The records in the pool, newest entry first, as the user's scope lets them see them
    (a member sees them through the pool rule, an administrator sees everything)."""
    model = pool_model(pool.kind)
    entries = PoolEntry.objects.filter(
        pool=pool, content_type=ContentType.objects.get_for_model(model)
    )
    entered = entries.filter(object_id=OuterRef("pk")).values("entered_at")[:1]
    return (
        model.objects.visible_to(user)
        .filter(owner__isnull=True, pk__in=entries.values("object_id"))
        .annotate(pool_entered_at=Subquery(entered))
        .order_by("-pool_entered_at", "-pk")
    )


def pool_records_page(*, pool: Pool, user: User, offset: int, limit: int) -> list[models.Model]:
    """`pool_records(pool=pool, user=user)[offset:offset + limit]`, each record with its
    `pool_entered_at`, read from the entries' (pool, content type, entered_at) index: the
    entries in order, a batch at a time, and which of their records the user sees (on the
    first page the records themselves, on later ones their ids, then the page's records by
    primary key). Ordering the records by their entry's time in SQL is a subquery per record
    and a sort of the whole pool for every page."""
    model = pool_model(pool.kind)
    entries = (
        PoolEntry.objects.filter(pool=pool, content_type=ContentType.objects.get_for_model(model))
        .order_by("-entered_at", "-object_id")  # = the records' order: entry time, then pk
        .values_list("object_id", "entered_at")
    )
    visible = model.objects.visible_to(user).filter(owner__isnull=True).order_by()
    wanted = offset + limit
    loaded: dict[int, models.Model] = {}
    found: list[tuple[int, datetime.datetime]] = []
    start, batch = 0, wanted + 10
    while len(found) < wanted:
        chunk = list(entries[start : start + batch])
        if not chunk:
            break
        ids = [object_id for object_id, _entered in chunk]
        if offset == 0:
            loaded.update(visible.in_bulk(ids))
            seen = set(loaded)
        else:
            seen = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        found += [(object_id, entered) for object_id, entered in chunk if object_id in seen]
        if len(chunk) < batch:
            break
        start += batch
        batch *= 2
    page = found[offset:wanted]
    if offset:
        loaded = model.objects.in_bulk([object_id for object_id, _entered in page])
    rows = []
    for object_id, entered_at in page:
        record = loaded.get(object_id)
        if record is not None:
            record.pool_entered_at = entered_at
            rows.append(record)
    return rows


def pool_entry_of(record: models.Model) -> PoolEntry | None:
    return (
        PoolEntry.objects.select_related("pool", "previous_owner")
        .filter(content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk)
        .first()
    )


def local_midnight(now: datetime.datetime | None = None) -> datetime.datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def claims_today(*, user: User, pool: Pool, now: datetime.datetime | None = None) -> int:
    return PoolEvent.objects.filter(
        user=user, pool=pool, kind=PoolEventKind.CLAIM, created_at__gte=local_midnight(now)
    ).count()


# The pool pages count a user's records up to this many (then "10,000+"): a rep holding a
# hundred thousand leads would otherwise pay for counting them on every page.
OWNED_COUNT_CAP = 10_000


def owned_records(*, user: User, kind: str) -> models.QuerySet:
    """The records of the kind the user owns (leads: not yet converted)."""
    records = pool_model(kind).objects.filter(owner=user)
    if kind == PoolKind.LEADS:
        records = records.exclude(status=LeadStatus.CONVERTED)
    return records


def owned_count(*, user: User, kind: str) -> int:
    return owned_records(user=user, kind=kind).count()


def owns_at_least(*, user: User, kind: str, limit: int) -> bool:
    """Whether the user owns `limit` records of the kind or more, counted no further."""
    count, more = bounded_count(owned_records(user=user, kind=kind), limit)
    return more or count >= limit


def _count_text(count: int, more: bool) -> str:
    return f"{count:,}+" if more else f"{count:,}"


def pool_summaries(*, user: User) -> list[dict]:
    """Each pool the user may open, with its record count, the user's claims today and the
    records of that kind they own (for the limits): a fixed number of queries."""
    pools = list(pools_for(user))
    counts = dict(
        PoolEntry.objects.filter(pool__in=pools)
        .values("pool")
        .annotate(n=RowCount())  # from the (pool, ...) index alone
        .values_list("pool", "n")
    )
    return _summaries(user, pools, counts)


def pool_summary(*, user: User, pool: Pool) -> dict:
    """What the pool's page shows of `pool_summaries`: the user's claims today, what they own
    and whether they are a member; not the pool's size (counting a pool of 150,000 leads
    took 17 ms of every page)."""
    summary = _summaries(user, [pool], {})[0]
    del summary["records"]
    return summary


def _summaries(user: User, pools: list[Pool], counts: dict[int, int]) -> list[dict]:
    today = dict(
        PoolEvent.objects.filter(
            user=user, pool__in=pools, kind=PoolEventKind.CLAIM, created_at__gte=local_midnight()
        )
        .values("pool")
        .annotate(n=RowCount())
        .values_list("pool", "n")
    )
    owned = {
        kind: bounded_count(owned_records(user=user, kind=kind), OWNED_COUNT_CAP)
        for kind in {p.kind for p in pools}
    }
    member_ids = set(member_pool_ids(user))
    return [
        {
            "pool": pool,
            "records": counts.get(pool.pk, 0),
            "claimed_today": today.get(pool.pk, 0),
            "owned": owned[pool.kind][0],
            "owned_text": _count_text(*owned[pool.kind]),
            "is_member": pool.pk in member_ids,
        }
        for pool in pools
    ]


# --- which pool an owned record belongs to ---------------------------------------------------
class _Pools:
    """The active pools of one kind with their rules, and every department's path: what
    deciding a record's pool needs, read once."""

    def __init__(self, kind: str):
        self.kind = kind
        self.pools = list(
            Pool.objects.filter(kind=kind, is_active=True)
            .select_related("department")
            .prefetch_related(
                models.Prefetch("rules", queryset=RecycleRule.objects.filter(is_active=True))
            )
            .order_by("pk")
        )
        self.paths = dict(Department.objects.values_list("pk", "path"))

    def pool_for(self, department_id: int | None, province: str) -> Pool | None:
        path = self.paths.get(department_id) if department_id else None
        best, depth = None, -1
        if path:
            for pool in self.pools:
                pool_path = pool.department.path if pool.department_id else ""
                if pool_path and path.startswith(pool_path) and len(pool_path) > depth:
                    best, depth = pool, len(pool_path)
        if best is not None:
            return best
        if province:
            for pool in self.pools:
                if province in (pool.provinces or []):
                    return pool
        return None

    def candidates_q(self) -> Q | None:
        """Owned records that may belong to some pool (a necessary condition)."""
        q = Q()
        matched = False
        for pool in self.pools:
            if pool.department_id:
                q |= Q(department__path__startswith=pool.department.path)
                matched = True
            if pool.provinces:
                q |= Q(province__in=pool.provinces)
                matched = True
        return q if matched else None

    def rules_for(self, pool: Pool, level_id: int | None) -> list[RecycleRule]:
        rules = list(pool.rules.all())
        if self.kind == PoolKind.ACCOUNTS and level_id:
            specific = [rule for rule in rules if rule.customer_level_id == level_id]
            if specific:
                return specific
        return [rule for rule in rules if rule.customer_level_id is None]


# --- the clock and the verdict ---------------------------------------------------------------
@dataclass
class Due:
    """When an owned record returns to its pool, and why."""

    record: models.Model
    pool: Pool
    due_at: datetime.datetime
    reason: str

    def days_left(self, now: datetime.datetime) -> int:
        return max(0, math.ceil((self.due_at - now) / DAY))


def _claimed_at(ids: list[int]) -> dict[int, datetime.datetime]:
    """Accounts: when each was last claimed from a pool."""
    if not ids:
        return {}
    return dict(
        PoolEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Account),
            object_id__in=ids,
            kind=PoolEventKind.CLAIM,
        )
        .values("object_id")
        .annotate(at=Max("created_at"))
        .values_list("object_id", "at")
    )


def _date_text(value: datetime.datetime | datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


def _evaluate(records: list[models.Model], pools: _Pools) -> dict[int, Due]:
    """The earliest due date of each record that belongs to a pool with a rule for it."""
    if not records:
        return {}
    kind = pools.kind
    placed: list[tuple[models.Model, Pool, datetime.datetime, datetime.datetime]] = []
    claimed = _claimed_at([r.pk for r in records]) if kind == PoolKind.ACCOUNTS else {}
    for record in records:
        if record.owner_id is None:
            continue
        if kind == PoolKind.LEADS and record.status == LeadStatus.CONVERTED:
            continue
        pool = pools.pool_for(record.department_id, record.province)
        if pool is None:
            continue
        if kind == PoolKind.LEADS:
            taken = record.assigned_at or record.created_at
        else:
            taken = claimed.get(record.pk) or record.created_at
        followed = max(record.last_followed_up_at or taken, taken)
        placed.append((record, pool, taken, followed))
    if not placed:
        return {}
    ids = [record.pk for record, *_rest in placed]
    deals: set[int] = set()
    ends: dict[int, datetime.date] = {}
    open_opportunities: set[int] = set()
    if kind == PoolKind.ACCOUNTS:
        deals = _deals_since({record.pk: taken for record, _p, taken, _f in placed})
        ends = _contract_end_dates(ids)
        open_opportunities = _open_opportunities(ids)
    result: dict[int, Due] = {}
    for record, pool, taken, followed in placed:
        level_id = getattr(record, "level_id", None)
        best: tuple[datetime.datetime, str] | None = None
        for rule in pools.rules_for(pool, level_id):
            if rule.exclude_open_opportunity and record.pk in open_opportunities:
                continue
            options: list[tuple[datetime.datetime, str]] = []
            if rule.not_followed_up_days:
                options.append(
                    (
                        followed + rule.not_followed_up_days * DAY,
                        _("Not followed up for %(days)s days (last: %(date)s).")
                        % {"days": rule.not_followed_up_days, "date": _date_text(followed)},
                    )
                )
            if rule.no_deal_days and record.pk not in deals:
                text = (
                    _("Not converted within %(days)s days of being taken (%(date)s).")
                    if kind == PoolKind.LEADS
                    else _("No deal within %(days)s days of being claimed (%(date)s).")
                )
                options.append(
                    (
                        taken + rule.no_deal_days * DAY,
                        text % {"days": rule.no_deal_days, "date": _date_text(taken)},
                    )
                )
            end = ends.get(record.pk)
            if rule.after_contract_days and end is not None:
                end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time.min))
                options.append(
                    (
                        end_at + rule.after_contract_days * DAY,
                        _("%(days)s days after the last contract ended (%(date)s).")
                        % {"days": rule.after_contract_days, "date": end.isoformat()},
                    )
                )
            for option in options:
                if best is None or option[0] < best[0]:
                    best = option
        if best is not None:
            result[record.pk] = Due(record=record, pool=pool, due_at=best[0], reason=best[1])
    return result


def recycle_due(records: Iterable[models.Model]) -> dict[int, Due]:
    """Each record's due date, in bulk (the records of one kind)."""
    records = list(records)
    if not records:
        return {}
    return _evaluate(records, _Pools(pool_kind_of(records[0])))


def recycle_countdown(
    records: Iterable[models.Model], now: datetime.datetime | None = None
) -> dict[int, int]:
    """{pk: days left before the record returns to its pool}, for records a rule applies
    to; a fixed number of queries whatever the number of records."""
    now = now or timezone.now()
    return {pk: due.days_left(now) for pk, due in recycle_due(records).items()}


def _min_days(pools: list[Pool]) -> int | None:
    days = [
        value
        for pool in pools
        for rule in pool.rules.all()
        for value in (rule.not_followed_up_days, rule.no_deal_days)
        if value
    ]
    return min(days) if days else None


def _has_contract_rules(pools: list[Pool]) -> bool:
    return bool(_contract_ends) and any(
        rule.after_contract_days for pool in pools for rule in pool.rules.all()
    )


CHUNK = 1000


def records_due(
    *, kind: str, now: datetime.datetime | None = None, horizon_days: int = 0
) -> Iterator[Due]:
    """Every owned record of the kind that returns to its pool by `now + horizon_days`,
    read in chunks. Records taken more recently than the shortest rule allows are not read
    at all (unless contract rules apply)."""
    now = now or timezone.now()
    pools = _Pools(kind)
    candidates = pools.candidates_q()
    if candidates is None:
        return
    model = pool_model(kind)
    queryset = model.objects.filter(candidates, owner__isnull=False)
    if kind == PoolKind.LEADS:
        queryset = queryset.exclude(status=LeadStatus.CONVERTED)
    min_days = _min_days(pools.pools)
    if not _has_contract_rules(pools.pools):
        if min_days is None:
            return
        cutoff = now + horizon_days * DAY - min_days * DAY
        taken = "assigned_at" if kind == PoolKind.LEADS else "created_at"
        queryset = queryset.filter(Q(**{f"{taken}__lte": cutoff}) | Q(**{f"{taken}__isnull": True}))
    last_pk = 0
    limit = now + horizon_days * DAY
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:CHUNK])
        if not chunk:
            return
        last_pk = chunk[-1].pk
        for due in sorted(_evaluate(chunk, pools).values(), key=lambda d: d.record.pk):
            if due.due_at <= limit:
                yield due


# --- sorting lists by the clock --------------------------------------------------------------
def clock_expression(model: type[models.Model]):
    """An expression a list can sort on: the moment the not-followed-up clock started
    (ascending: the records that return to their pool soonest first, when the same rule
    applies). Coalesce keeps NULLs out of GREATEST (SQLite answers NULL for any NULL)."""
    if model is Lead:
        taken = Coalesce("assigned_at", "created_at")
        return Greatest(Coalesce("last_followed_up_at", "assigned_at", "created_at"), taken)
    claims = (
        PoolEvent.objects.filter(
            # By name, not id: the expression is built when the list columns are defined.
            content_type__app_label="customers",
            content_type__model="account",
            object_id=OuterRef("pk"),
            kind=PoolEventKind.CLAIM,
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    taken = Coalesce(Subquery(claims), "created_at")
    return Greatest(Coalesce("last_followed_up_at", "created_at"), taken)


# --- pool events of a record (its page) -------------------------------------------------------
def pool_events_of(record: models.Model, limit: int = 20):
    return (
        PoolEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
        )
        .select_related("pool", "user")
        .order_by("-created_at", "-pk")[:limit]
    )
