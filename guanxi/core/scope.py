"""The data scope: which records a user may see or edit, as one SQL filter.

A user sees a record when any of these holds:
- its owner is in the user's role scope (own / department / department subtree / all);
- it is shared with the user or the user's department (and the share has not expired);
- the user is a member of its team;
- its owner is the user's subordinate (manager chain and managed department subtrees).

Unowned (pool) records are only visible through the pool rules other apps register with
`register_pool_rule`. An app may also widen a model's scope with `register_scope_rule` (an
activity is visible to its assignees; a follow-up record to whoever sees its customer).
Everything here builds a `Q`; no row is ever filtered in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FullResultSet
from django.db import connections, models
from django.db.models import BooleanField, ExpressionWrapper, Q, signals
from django.utils import timezone

from guanxi.core.expressions import sql_rows, with_names
from guanxi.core.request_context import current_request_id

if TYPE_CHECKING:
    from guanxi.core.models import User

PoolRule = Callable[["User", type[models.Model]], Q]
_pool_rules: dict[str, PoolRule] = {}


def register_pool_rule(model_label: str, rule: PoolRule) -> None:
    """Let an app (leads, customers) say which unowned records a user may see in its pools."""
    _pool_rules[model_label] = rule


ScopeRule = Callable[["User", type[models.Model], str], Q | None]
_scope_rules: dict[str, list[ScopeRule]] = {}


def register_scope_rule(model_label: str, rule: ScopeRule) -> None:
    """Add a way to see (or edit) a model's records: `rule(user, model, action)` answers a Q
    OR-ed into the scope, or None when it grants nothing for that action. It only applies
    when the user's roles allow the action at all."""
    rules = _scope_rules.setdefault(model_label, [])
    if rule not in rules:
        rules.append(rule)


def model_label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _roles(user: User):
    """The user's roles, read once per user object.

    A raw query: the related manager's join, built through the ORM, was most of the 1.9 ms
    this read took on every request (dataset L, PostgreSQL)."""
    cached = getattr(user, "_guanxi_roles", None)
    if cached is None:
        cached = list(_roles_of(user.pk))
        user._guanxi_roles = cached
    return cached


def _roles_of(user_id: int):
    from guanxi.core.models import Role, User

    links = User.roles.through._meta
    sql = with_names(
        "SELECT r.* FROM {role} r JOIN {links} l ON l.{role_id} = r.id "
        "WHERE l.{user_id} = %s ORDER BY r.code",
        connections[Role.objects.db],
        role=Role._meta.db_table,
        links=links.db_table,
        role_id=links.get_field("role").column,
        user_id=links.get_field("user").column,
    )
    return Role.objects.raw(sql, [user_id])


def is_administrator(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or any(role.is_admin for role in _roles(user))


def can(user: User, model: type[models.Model] | str, action: str) -> bool:
    """Whether any of the user's roles allows `action` on `model`."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    label = model if isinstance(model, str) else model_label(model)
    return any(role.allows(label, action) for role in _roles(user))


def scope_for(user: User, model: type[models.Model], action: str = "view") -> str | None:
    """The widest data scope among the user's roles that allow `action`, or None."""
    from guanxi.core.models import SCOPE_WIDTH, DataScope

    if user.is_superuser:
        return DataScope.ALL
    label = model_label(model)
    scopes = [role.data_scope for role in _roles(user) if role.allows(label, action)]
    if not scopes:
        return None
    return max(scopes, key=lambda scope: SCOPE_WIDTH[DataScope(scope)])


# The users directly below any of a set of bosses: those whose manager is one of them, and
# everybody in a department one of them manages or in a department below it. A path prefix
# is compared with substr, which needs no escaping of LIKE's wildcards.
_REPORTS_SQL = """
SELECT u.id FROM {user} u
WHERE u.manager_id IN ({bosses})
   OR u.department_id IN (
       SELECT below_d.id
       FROM {department} d
       JOIN {department} below_d ON substr(below_d.path, 1, length(d.path)) = d.path
       WHERE d.manager_id IN ({bosses})
   )
"""


def subordinate_ids(user: User) -> set[int]:
    """Ids of everybody below the user: explicit manager chains and managed departments.

    Organisation-sized (hundreds of users), computed once per user object, one query per
    level of the tree (one for a rep). Written as SQL with the ids inline (they are
    integers read from the database): through the ORM, building the two queries of each
    level took most of a regional manager's 11.6 ms here (dataset L), a fifth of their list
    page. A recursive query does it in one statement, but PostgreSQL takes 2.5 ms to plan
    it, more than a rep's whole walk.
    """
    cached = getattr(user, "_guanxi_subordinates", None)
    if cached is not None:
        return cached
    from guanxi.core.models import Department, User

    found: set[int] = set()
    frontier = {user.pk}
    while frontier:
        bosses = ", ".join(str(int(pk)) for pk in sorted(frontier))
        rows = sql_rows(
            User,
            _REPORTS_SQL.replace("{bosses}", bosses),
            user=User._meta.db_table,
            department=Department._meta.db_table,
        )
        frontier = {pk for (pk,) in rows} - found - {user.pk}
        found |= frontier
    user._guanxi_subordinates = found
    return found


def subtree_department_ids(user: User) -> list[int]:
    """Ids of the user's department and every department below it, computed once per user
    object (a page asks for every model it shows) and per department the user is in."""
    from guanxi.core.models import Department

    if user.department_id is None:
        return []
    cached = getattr(user, "_guanxi_subtree", None)
    if cached is not None and cached[0] == user.department_id:
        return list(cached[1])
    path = Department.objects.filter(pk=user.department_id).values_list("path", flat=True).first()
    ids = list(Department.objects.filter(path__startswith=path).values_list("pk", flat=True))
    user._guanxi_subtree = (user.department_id, tuple(ids))
    return ids


def _role_scope_q(user: User, model: type[models.Model], action: str) -> Q:
    from guanxi.core.models import DataScope

    scope = scope_for(user, model, action)
    if scope == DataScope.ALL:
        return Q()
    if scope == DataScope.SUBTREE and user.department_id:
        return Q(owner__isnull=False, department_id__in_ids=subtree_department_ids(user))
    if scope == DataScope.DEPARTMENT and user.department_id:
        return Q(owner__isnull=False, department_id=user.department_id)
    return Q(owner_id=user.pk)


# Above this many granted records, the grants stay a subquery in the page's statement.
GRANT_INLINE_LIMIT = 1000
_grants_version = 0


def _grants_changed(**kwargs) -> None:
    """A share or team seat was written or removed: granted ids read before are stale."""
    global _grants_version
    _grants_version += 1


for _model in ("core.RecordShare", "core.TeamMember"):
    signals.post_save.connect(_grants_changed, sender=_model, weak=False)
    signals.post_delete.connect(_grants_changed, sender=_model, weak=False)


def _grant_q(user: User, model: type[models.Model], write: bool, inline: bool = False) -> Q | None:
    """Records shared with the user (or their department) or where they sit on the team.

    Written as `pk IN (ids)` rather than EXISTS per row, so the database looks the few
    granted ids up by index instead of probing the share table for every record it scans.

    The granted ids are read first (one small query per user object for every model, cached
    on the user like the roles): None when the user has none of this model, so no scope
    carries share and team subqueries for the models nothing is shared of. With `inline`
    (own scope) they are written into the filter as a list, so an own-scope page is a plain
    `owner_id = me` that reads the (owner, created_at) index in order; wider scopes keep the
    subqueries, which leave their plans as they were. More than
    GRANT_INLINE_LIMIT ids fall back to the subqueries.
    """
    from guanxi.core.models import RecordShare, ShareAccess, TeamMember

    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    audience = Q(user_id=user.pk)
    if user.department_id:
        audience |= Q(department_id=user.department_id)
    # Read once per user object (one request) for every model at once, like the roles;
    # a share or team change in this process forgets what was read (_grants_changed).
    cache = getattr(user, "_guanxi_grants", None)
    if cache is None or cache.get("version") != _grants_version:
        cache = user._guanxi_grants = {"version": _grants_version}
    if "all" not in cache:
        cache["all"] = _all_grants(user, now)
    granted = cache["all"]
    if granted is not None:
        ids = granted.get((content_type.pk, write), [])
        if not ids:
            return None
        if inline and len(ids) <= GRANT_INLINE_LIMIT:
            return Q(pk__in_ids=ids)
    shares = RecordShare.objects.filter(
        audience,
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        content_type=content_type,
    )
    team = TeamMember.objects.filter(content_type=content_type, user_id=user.pk)
    if write:
        shares = shares.filter(access=ShareAccess.WRITE)
        team = team.filter(access=ShareAccess.WRITE)
    if inline and granted is None:  # too many grants to read them all: this model's
        key = (content_type.pk, write)
        ids = cache.get(key)
        if ids is None:
            granted_ids = (
                shares.order_by()
                .values_list("object_id", flat=True)
                .union(team.order_by().values_list("object_id", flat=True))
            )
            ids = cache[key] = sorted(granted_ids[: GRANT_INLINE_LIMIT + 1])
        if not ids:
            return None
        if len(ids) <= GRANT_INLINE_LIMIT:
            return Q(pk__in_ids=ids)
    return Q(pk__in=shares.values("object_id")) | Q(pk__in=team.values("object_id"))


# Above this many grants in all, each model's are read separately (and may stay subqueries).
ALL_GRANTS_LIMIT = 5000


# Every grant of a user (shares with them or their department that have not expired, and
# team seats), of every model.
_ALL_GRANTS_SQL = """
SELECT s.content_type_id, s.object_id, s.access FROM {share} s
WHERE (s.user_id = %s OR s.department_id = %s)
  AND (s.expires_at IS NULL OR s.expires_at > %s)
UNION ALL
SELECT t.content_type_id, t.object_id, t.access FROM {team} t WHERE t.user_id = %s
LIMIT %s
"""


def _all_grants(user: User, now) -> dict[tuple[int, bool], list[int]] | None:
    """Every record shared with the user (or their department) or where they sit on the
    team, of every model, in one query: {(content type id, write?): sorted ids}. None when
    there are more than ALL_GRANTS_LIMIT.

    Written as SQL: built through the ORM, the union of the two reads took 2.5 ms of every
    scoped request (dataset L, PostgreSQL), several times the statement itself."""
    from guanxi.core.models import RecordShare, ShareAccess, TeamMember

    connection = connections[RecordShare.objects.db]
    params = [
        user.pk,
        user.department_id,
        connection.ops.adapt_datetimefield_value(now),
        user.pk,
        ALL_GRANTS_LIMIT + 1,
    ]
    rows = sql_rows(
        RecordShare,
        _ALL_GRANTS_SQL,
        params,
        share=RecordShare._meta.db_table,
        team=TeamMember._meta.db_table,
    )
    if len(rows) > ALL_GRANTS_LIMIT:
        return None
    granted: dict[tuple[int, bool], set[int]] = {}
    for content_type_id, object_id, access in rows:
        granted.setdefault((content_type_id, False), set()).add(object_id)
        if access == ShareAccess.WRITE:
            granted.setdefault((content_type_id, True), set()).add(object_id)
    return {key: sorted(ids) for key, ids in granted.items()}


def scope_q(user: User, model: type[models.Model], action: str = "view") -> Q:
    """The whole rule for one user, model and action, as a single Q.

    Inside a request it is built once per model and action: a customer's page asks for it
    once for each of its sections (about twenty times). It is kept on the request's user
    object, for that request only and until a share or team seat changes, so nothing read
    here outlives the request that read it."""
    request_id = current_request_id()
    if not request_id:
        return _scope_q(user, model, action)
    stamp = (request_id, _grants_version)
    cache = getattr(user, "_guanxi_scope_q", None)
    if cache is None or cache[0] != stamp:
        cache = user._guanxi_scope_q = (stamp, {})
    key = (model, action)
    found = cache[1].get(key)
    if found is None:
        found = cache[1][key] = _scope_q(user, model, action)
    return found


def _scope_q(user: User, model: type[models.Model], action: str) -> Q:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    if scope_for(user, model, action) is None:
        # A share or a team seat never lends an action the user's roles do not allow.
        return Q(pk__in=[])
    parts = scope_parts(user, model, action)
    if parts is None:  # scope "all"
        return Q()
    return _any_of(parts)


def _any_of(parts: list[Q]) -> Q:
    """The OR of `parts` (at least one)."""
    rule = parts[0]
    for part in parts[1:]:
        rule |= part
    return rule


def scope_parts(
    user: User, model: type[models.Model], action: str = "view", *, pool: bool = True
) -> list[Q] | None:
    """The alternatives `scope_q` ORs together (the role scope or own records, grants,
    subordinates' records, pool records unless `pool` is False, registered rules), each
    index-friendly on its own; None when the rule is not a union of parts (nothing, or
    everything).

    A list page of a sparse scope (own records plus a few granted or assigned ones) can read
    each part's first rows in index order and merge them, where the OR of all of them makes
    the database collect and sort every matching row (see `first_rows_of_parts`)."""
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return None
    if scope_for(user, model, action) is None:
        return None
    role_q = _role_scope_q(user, model, action)
    if not role_q:  # scope "all"
        return None
    write = action != "view"
    own = Q(owner_id=user.pk)
    own_only = role_q == own
    parts = [role_q] if own_only else [role_q, own]
    grants = _grant_q(user, model, write=write, inline=own_only)
    if grants is not None:
        parts.append(grants)
    subordinates = subordinate_ids(user)
    if subordinates:
        parts.append(Q(owner_id__in_ids=subordinates))
    pool_part = _pool_part(user, model, action) if pool else None
    if pool_part is not None:
        parts.append(pool_part)
    for rule in _scope_rules.get(model_label(model), ()):
        extra = rule(user, model, action)
        if extra is not None:
            parts.append(extra)
    return parts


def _pool_part(user: User, model: type[models.Model], action: str) -> Q | None:
    """Unowned records of the user's pools: pool members see them, and change them only by
    claiming them first."""
    pool_rule = _pool_rules.get(model_label(model))
    if pool_rule is None or action != "view":
        return None
    return Q(owner__isnull=True) & pool_rule(user, model)


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ScopedQuerySet:
        return self.filter(scope_q(user, self.model, "view"))

    def editable_by(self, user: User) -> ScopedQuerySet:
        return self.filter(scope_q(user, self.model, "change"))

    def deletable_by(self, user: User) -> ScopedQuerySet:
        return self.filter(scope_q(user, self.model, "delete"))


def record_editable_by(record: models.Model, user: User) -> bool:
    """Whether the data scope lets `user` change `record` (the role's actions aside).

    Remembered on the instance: the sections of a record page each ask about the same
    record, one query apiece (five on the account page). For pages, not for services that
    change the record's owner and then ask again."""
    memo = record.__dict__.setdefault("_gx_editable_by", {})
    if user.pk not in memo:
        memo[user.pk] = type(record).objects.editable_by(user).filter(pk=record.pk).exists()
    return memo[user.pk]


# --- first rows of a union of parts --------------------------------------------------------------
class ScopeFilter(ExpressionWrapper):
    """The scope's OR of parts as one WHERE term, written as the plain OR, except in the
    statements that read one part of it (`PartedQuerySetMixin`): a part implies the OR, and
    there the OR only costs. On PostgreSQL it made every part's read hash the user's whole
    pool (see `visible_in_parts`)."""

    def __init__(self, rule: Q):
        super().__init__(rule, output_field=BooleanField())

    def as_sql(self, compiler, connection):
        if getattr(compiler.query, "gx_scope_implied", False):
            raise FullResultSet  # the term is left out of the WHERE clause
        return super().as_sql(compiler, connection)


def _scope_implied(queryset: models.QuerySet) -> models.QuerySet:
    """`queryset` for a statement whose other terms imply the scope rule (a part of it, or
    ids read through it): written without the rule."""
    clone = queryset._chain()
    clone.query.gx_scope_implied = True
    return clone


class PartedQuerySetMixin:
    """A queryset known to be the union of `parts` (every row matches at least one of them),
    whose slices are read part by part.

    `qs[a:b]` first reads the ids of each part's first `b` rows in the queryset's order (each
    part an index-ordered, limited read), then the slice of the rows with those ids. The first
    `b` rows of a union are among the first `b` of its parts, so the answer is the same as the
    plain slice; the database sorts at most `b` x parts rows instead of every matching row
    (SQLite answers `a OR b ORDER BY x LIMIT n` with a MULTI-INDEX OR and a temporary B-tree
    over all rows of a and b). Costs one query per part. Filters and orderings added later
    keep the parts (they only narrow the rows); `|` and set operations drop them."""

    _gx_parts: tuple[Q, ...] = ()

    def _clone(self):
        clone = super()._clone()
        clone._gx_parts = self._gx_parts
        return clone

    def _without_parts(self):
        clone = self._chain()
        clone._gx_parts = ()
        return clone

    def __or__(self, other):
        return models.QuerySet.__or__(self._without_parts(), other)

    def __xor__(self, other):
        return models.QuerySet.__xor__(self._without_parts(), other)

    def _combinator_query(self, combinator, *other_qs, all=False):
        return super(PartedQuerySetMixin, self._without_parts())._combinator_query(
            combinator, *other_qs, all=all
        )

    def __getitem__(self, k):
        if (
            not isinstance(k, slice)
            or not self._gx_parts
            or self._result_cache is not None
            or self.query.combinator
            or self.query.is_sliced
            or self._fields is not None
            or not self.ordered
            or k.step is not None
            or not isinstance(k.stop, int)
            or k.stop <= 0
            or (k.start is not None and not isinstance(k.start, int))
        ):
            return super().__getitem__(k)
        plain = self._without_parts()
        ids: set[int] = set()
        for part in self._gx_parts:
            first = plain.filter(part).prefetch_related(None).values_list("pk", flat=True)
            ids.update(_scope_implied(first)[: k.stop])
        return self._rows_with_ids(plain, sorted(ids))[k]

    def _rows_with_ids(self, plain, ids: list):
        """The rows with these ids, as `plain` loads and orders them. The ids were read
        through every filter, so when nothing else shapes the statement (annotations, extra,
        distinct) the filters are left out: the planner then reads the ids by primary key
        instead of being tempted by an index of the filters' OR."""
        query = plain.query
        if query.annotations or query.extra or query.distinct or query.combinator:
            return _scope_implied(plain.filter(pk__in=ids))
        rows = type(plain)(model=self.model, using=plain._db, hints=plain._hints)
        rows._gx_parts = ()
        rows.query.select_related = query.select_related
        rows.query.deferred_loading = query.deferred_loading
        rows.query.default_ordering = query.default_ordering
        rows.query.order_by = query.order_by
        rows._prefetch_related_lookups = plain._prefetch_related_lookups
        return rows.filter(pk__in=ids)


_parted_classes: dict[type, type] = {}


def disjoint_parts(queryset: models.QuerySet) -> list[models.QuerySet]:
    """`queryset` as querysets that share no row and together hold all of its rows: its
    parts (see `with_parts`), each without the rows of the parts before it; itself alone
    when it has none. For aggregates: summed part by part, a rep's own deals are read from
    an index that begins with the owner, where the OR of the parts reads every row."""
    parts = getattr(queryset, "_gx_parts", ())
    if not parts:
        return [queryset]
    plain = queryset._without_parts()
    found, before = [], Q()
    for part in parts:
        narrowed = plain.filter(part).exclude(before) if before else plain.filter(part)
        found.append(_scope_implied(narrowed))
        before |= part
    return found


def _empty(q: Q) -> bool:
    """Whether `q` is an AND with an `... __in=[]` term: it matches no row."""
    if q.negated or q.connector != Q.AND:
        return False
    for child in q.children:
        if isinstance(child, Q):
            if _empty(child):
                return True
        elif (
            isinstance(child, tuple)  # not an expression (the pool rule's EXISTS)
            and child[0].endswith(("__in", "__in_ids"))
            and isinstance(child[1], list | tuple | set)
            and not child[1]
        ):
            return True
    return False


def visible_in_parts(
    queryset: models.QuerySet, user: User, action: str = "view"
) -> models.QuerySet:
    """`queryset` narrowed to the records the user may see (`action` "view", as
    `visible_to`) or act on, read part by part (`with_parts`) when the user's roles give them
    their own records only: their scope is then "mine OR shared with me OR assigned to me OR
    in my pools", whose OR makes the database collect and sort every matching row for each
    page. The parts are computed once, for the filter and the reads.

    Wider scopes (a department, a subtree) read the list's index in order and filter, which
    stays cheap, except for the pool rule: inside an OR, PostgreSQL answers its EXISTS by
    hashing every entry of the user's pools (150,000 leads' entries: 50 ms a page) rather
    than probing the few rows of the page. Their pool records are read as a part of their
    own; the rest of the scope is the other part. Users without pools (and administrators)
    get the plain filter."""
    from guanxi.core.models import DataScope

    model = queryset.model
    parts = None
    if user.is_authenticated and user.is_active and not is_administrator(user):
        scope = scope_for(user, model, action)
        if scope == DataScope.OWN:
            # A part that matches nothing (a pool rule of a user in no pool) is not read.
            parts = [part for part in scope_parts(user, model, action) or () if not _empty(part)]
        elif scope is not None:
            parts = _rest_and_pool_parts(user, model, action)
    if not parts:
        return queryset.filter(scope_q(user, model, action))
    return with_parts(queryset.filter(ScopeFilter(_any_of(parts))), parts)


def _rest_and_pool_parts(user: User, model: type[models.Model], action: str) -> list[Q] | None:
    """[the scope but its pool rule, the pool rule], or None when the user's scope has no
    pool records to add (no pool rule, no pools, or a scope that already sees everything)."""
    pool_part = _pool_part(user, model, action)
    if pool_part is None or _empty(pool_part):
        return None
    rest = scope_parts(user, model, action, pool=False)
    if not rest:
        return None
    return [_any_of(rest), pool_part]


def with_parts(queryset: models.QuerySet, parts) -> models.QuerySet:
    """`queryset`, read slice by slice as the union of `parts` (see PartedQuerySetMixin).
    The caller guarantees that every row of `queryset` matches one of the parts."""
    parts = tuple(part for part in parts if part is not None)
    if len(parts) < 2:
        return queryset
    base = type(queryset)
    if issubclass(base, PartedQuerySetMixin):
        base = next(c for c in base.__mro__[1:] if not issubclass(c, PartedQuerySetMixin))
    parted = _parted_classes.get(base)
    if parted is None:
        parted = _parted_classes[base] = type(
            f"Parted{base.__name__}", (PartedQuerySetMixin, base), {}
        )
    clone = queryset._chain()
    clone.__class__ = parted
    clone._gx_parts = parts
    return clone
