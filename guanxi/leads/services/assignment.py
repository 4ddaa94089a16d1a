"""Assignment rules: which owner (or pool) a new unowned lead goes to.

Rules are ordered; the first active rule whose conditions all hold decides. Its action
assigns to a person, to the next member of a round-robin group, or puts the lead into a
pool. A user at capacity (LeadCapacity: most open leads) is skipped. The round-robin turn is
advanced with a conditional UPDATE, so concurrent submissions never pick the same member
for the same turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeAction, Role, User
from guanxi.core.scope import is_administrator
from guanxi.core.services.notifications import notification_send
from guanxi.core.services.records import audit_record, snapshot, timeline_add
from guanxi.leads.models import (
    AssignmentAction,
    AssignmentRule,
    Lead,
    LeadCapacity,
    LeadStatus,
    Pool,
    PoolEntry,
    PoolEvent,
    PoolEventKind,
    PoolKind,
)
from guanxi.leads.services.leads import lead_assign

# A lead in one of these states no longer counts against its owner's capacity.
CLOSED_STATUSES = (LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED, LeadStatus.RECYCLED)
ROUND_ROBIN_ATTEMPTS = 50


def lead_url(lead: Lead) -> str:
    for name in ("leads:lead_detail",):
        try:
            return reverse(name, args=[lead.pk])
        except NoReverseMatch:
            continue
    return ""


def _require_admin(actor: User) -> None:
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change assignment rules."))


def administrators() -> list[User]:
    admin_roles = Role.objects.filter(is_admin=True)
    return list(
        User.objects.filter(Q(is_superuser=True) | Q(roles__in=admin_roles), is_active=True)
        .distinct()
        .order_by("pk")
    )


# --- rule administration ---------------------------------------------------------------


def _clean_conditions(conditions: dict[str, Any]) -> dict[str, Any]:
    def ids(value) -> list[int]:
        return sorted({int(getattr(item, "pk", item)) for item in value or []})

    provinces = conditions.get("provinces") or []
    if isinstance(provinces, str):
        provinces = provinces.replace("，", ",").split(",")
    min_score = conditions.get("min_score")
    return {
        "sources": ids(conditions.get("sources")),
        "provinces": sorted({p.strip() for p in provinces if p and p.strip()}),
        "industries": ids(conditions.get("industries")),
        "min_score": None if min_score in (None, "") else int(min_score),
        "web_forms": ids(conditions.get("web_forms")),
    }


def _validate_rule(rule: AssignmentRule, members: list[User]) -> None:
    errors: dict[str, list[str]] = {}
    if rule.action == AssignmentAction.USER and rule.user_id is None:
        errors["user"] = [_("Choose the person who gets the leads.")]
    if rule.action == AssignmentAction.ROUND_ROBIN and not members:
        errors["members"] = [_("Choose at least one member of the group.")]
    if rule.action == AssignmentAction.POOL and rule.pool_id is None:
        errors["pool"] = [_("Choose the pool the leads go to.")]
    if rule.pool_id and rule.pool.kind != PoolKind.LEADS:
        errors["pool"] = [_("Choose a pool that holds leads.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assignment_rule_save(
    *,
    actor: User,
    data: dict[str, Any],
    members: list[User] | None = None,
    rule: AssignmentRule | None = None,
) -> AssignmentRule:
    """Create (rule=None, added last) or change an assignment rule. `data` holds name,
    is_active, action, user, pool and `conditions` (sources, provinces, industries,
    min_score, web_forms)."""
    _require_admin(actor)
    creating = rule is None
    if creating:
        rule = AssignmentRule(
            sort_order=(AssignmentRule.objects.aggregate(m=Max("sort_order"))["m"] or 0) + 1
        )
        before = None
    else:
        before = snapshot(rule)
    data = dict(data)
    if "conditions" in data:
        data["conditions"] = _clean_conditions(data["conditions"])
    for name, value in data.items():
        setattr(rule, name, value)
    members = list(members if members is not None else ([] if creating else rule.members.all()))
    if rule.action != AssignmentAction.USER:
        rule.user = None
    _validate_rule(rule, members)
    rule.full_clean()
    rule.save()
    rule.members.set(members)
    audit_record(
        instance=rule,
        action=ChangeAction.CREATE if creating else ChangeAction.UPDATE,
        actor=actor,
        before=before,
        after={**snapshot(rule), "members": sorted(m.pk for m in members)},
    )
    return rule


@transaction.atomic
def assignment_rule_move(*, actor: User, rule: AssignmentRule, direction: str) -> None:
    """Move a rule one place up or down (the order decides which rule wins)."""
    _require_admin(actor)
    ordered = list(AssignmentRule.objects.select_for_update().order_by("sort_order", "id"))
    index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    assignment_rules_reorder(actor=actor, ids=[r.pk for r in ordered])


@transaction.atomic
def assignment_rules_reorder(*, actor: User, ids: list[int]) -> None:
    """Put the rules in this order (drag and drop sends every id)."""
    _require_admin(actor)
    rules = {r.pk: r for r in AssignmentRule.objects.select_for_update()}
    ordered = [rules[pk] for pk in ids if pk in rules]
    ordered += [r for pk, r in sorted(rules.items()) if pk not in set(ids)]
    for position, rule in enumerate(ordered, start=1):
        if rule.sort_order != position:
            rule.sort_order = position
            rule.save(update_fields=["sort_order"])


@transaction.atomic
def assignment_rule_delete(*, actor: User, rule: AssignmentRule) -> None:
    _require_admin(actor)
    audit_record(instance=rule, action=ChangeAction.DELETE, actor=actor, before=snapshot(rule))
    rule.delete()


@transaction.atomic
def lead_capacity_set(*, actor: User, user: User, max_open_leads: int | None) -> None:
    """Set (or with None remove) how many open leads the user may hold."""
    _require_admin(actor)
    if max_open_leads is None:
        LeadCapacity.objects.filter(user=user).delete()
        return
    if max_open_leads < 0:
        raise ValidationError({"max_open_leads": [_("Enter zero or more.")]})
    LeadCapacity.objects.update_or_create(user=user, defaults={"max_open_leads": max_open_leads})


# --- matching and capacity ---------------------------------------------------------------


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    """Every condition the rule sets must hold for the lead (an empty one means "any")."""
    conditions = rule.conditions or {}
    if conditions.get("sources") and lead.source_id not in conditions["sources"]:
        return False
    if conditions.get("industries") and lead.industry_id not in conditions["industries"]:
        return False
    if conditions.get("provinces") and lead.province not in conditions["provinces"]:
        return False
    if conditions.get("web_forms") and lead.web_form_id not in conditions["web_forms"]:
        return False
    min_score = conditions.get("min_score")
    return min_score is None or lead.score >= int(min_score)


def open_lead_count(user_id: int) -> int:
    return (
        Lead.objects.filter(owner_id=user_id, is_deleted=False)
        .exclude(status__in=CLOSED_STATUSES)
        .count()
    )


def open_lead_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Lead.objects.filter(owner_id__in=user_ids, is_deleted=False)
        .exclude(status__in=CLOSED_STATUSES)
        .values("owner_id")
        .annotate(n=models.Count("id"))
        .values_list("owner_id", "n")
    )
    return dict(rows)


def at_capacity(user: User) -> bool:
    capacity = LeadCapacity.objects.filter(user_id=user.pk).values_list("max_open_leads", flat=True)
    limit = capacity.first()
    return limit is not None and open_lead_count(user.pk) >= limit


def _available(user: User | None) -> bool:
    return user is not None and user.is_active and not at_capacity(user)


def round_robin_next(rule: AssignmentRule) -> User | None:
    """The next group member not at capacity, claiming the turn with a conditional UPDATE
    (`turn = old` -> `turn = old + steps`): of two concurrent callers reading the same turn
    only one update succeeds; the other reads the new turn and tries again."""
    members = list(rule.members.filter(is_active=True).order_by("pk"))
    if not members:
        return None
    for _attempt in range(ROUND_ROBIN_ATTEMPTS):
        turn = AssignmentRule.objects.filter(pk=rule.pk).values_list("turn", flat=True).first()
        if turn is None:
            return None
        picked, steps = None, 0
        for offset in range(len(members)):
            candidate = members[(turn + offset) % len(members)]
            if _available(candidate):
                picked, steps = candidate, offset + 1
                break
        if picked is None:
            return None
        if AssignmentRule.objects.filter(pk=rule.pk, turn=turn).update(turn=turn + steps):
            rule.turn = turn + steps
            return picked
    return None


# --- pools (until the pools service takes over) ----------------------------------------


def lead_put_in_pool(*, lead: Lead, pool: Pool, actor: User | None, reason: str) -> None:
    """Put an unowned lead into a pool: a PoolEntry plus an "enter" event, on the timeline."""
    try:  # the pools area provides the full service (with its own bookkeeping)
        from guanxi.leads.services.pools import pool_put  # type: ignore[attr-defined]
    except ImportError:
        pool_put = None
    if pool_put is not None:
        pool_put(record=lead, pool=pool, actor=actor, reason=reason)
        return
    content_type = ContentType.objects.get_for_model(Lead)
    PoolEntry.objects.update_or_create(
        content_type=content_type,
        object_id=lead.pk,
        defaults={"pool": pool, "previous_owner": None, "reason": reason[:255]},
    )
    PoolEvent.objects.create(
        pool=pool,
        content_type=content_type,
        object_id=lead.pk,
        kind=PoolEventKind.ENTER,
        user=actor if actor and actor.pk else None,
        reason=reason[:255],
    )
    timeline_add(
        record=lead,
        kind="pool_enter",
        text=_("Put into the pool %(pool)s.") % {"pool": pool},
        actor=actor,
        data={"pool": pool.pk},
    )


# --- running the rules -------------------------------------------------------------------


@dataclass
class AssignmentOutcome:
    rule: AssignmentRule | None
    owner: User | None = None
    pool: Pool | None = None


def _notify_unassigned(lead: Lead, rule: AssignmentRule, actor: User | None) -> None:
    text = _(
        "Lead %(lead)s stays unassigned: everybody in assignment rule %(rule)s is at capacity."
    ) % {"lead": lead, "rule": rule}
    for admin in administrators():
        notification_send(
            recipient=admin, kind="lead_unassigned", text=text, url=lead_url(lead), actor=actor
        )


def matching_rule(lead: Lead) -> AssignmentRule | None:
    rules = AssignmentRule.objects.filter(is_active=True).select_related("user", "pool")
    for rule in rules.order_by("sort_order", "id"):
        if rule_matches(rule, lead):
            return rule
    return None


@transaction.atomic
def lead_assign_by_rules(*, lead: Lead, actor: User | None) -> AssignmentOutcome | None:
    """Run the assignment rules for an unowned lead; None when no rule applies (or the
    lead already has an owner or a pool)."""
    if lead.owner_id is not None or lead.status == LeadStatus.CONVERTED:
        return None
    content_type = ContentType.objects.get_for_model(Lead)
    if PoolEntry.objects.filter(content_type=content_type, object_id=lead.pk).exists():
        return None
    rule = matching_rule(lead)
    if rule is None:
        return None
    owner: User | None = None
    if rule.action == AssignmentAction.USER:
        owner = rule.user if _available(rule.user) else None
    elif rule.action == AssignmentAction.ROUND_ROBIN:
        owner = round_robin_next(rule)
    reason = _("Assignment rule: %(rule)s") % {"rule": rule.name}
    if owner is not None:
        lead_assign(lead=lead, owner=owner, actor=actor or owner, reason=reason)
        notification_send(
            recipient=owner,
            kind="lead_assigned",
            text=_("Lead %(lead)s was assigned to you (%(rule)s).")
            % {"lead": lead, "rule": rule.name},
            url=lead_url(lead),
            actor=actor,
        )
        return AssignmentOutcome(rule=rule, owner=owner)
    if rule.pool_id is not None and rule.pool.is_active:
        lead_put_in_pool(lead=lead, pool=rule.pool, actor=actor, reason=reason)
        return AssignmentOutcome(rule=rule, pool=rule.pool)
    _notify_unassigned(lead, rule, actor)
    return AssignmentOutcome(rule=rule)
