"""Public pools (公海): putting records in, claiming them (one winner among concurrent
claimers), releasing them with a reason, and the recycle job that takes back what the
rules say, with its dry run and the owners' warnings. Every claim, release and recycle is
a pool event, a timeline entry and an audit record.

Which pool an owned record belongs to, and its clock: see `guanxi.leads.selectors.pools`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.urls import NoReverseMatch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeAction, Notification, User
from guanxi.core.scope import can, is_administrator
from guanxi.core.services.notifications import notification_send
from guanxi.core.services.records import audit_record, timeline_add
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
from guanxi.leads.selectors.pools import (
    DAY,
    Due,
    _Pools,
    claims_today,
    is_pool_member,
    local_midnight,
    owned_count,
    owns_at_least,
    pool_kind_of,
    records_due,
    recycle_countdown,
)

__all__ = [
    "pool_claim",
    "pool_create",
    "pool_put",
    "pool_release",
    "pool_update",
    "recycle_countdown",
    "recycle_rule_create",
    "recycle_rule_delete",
    "recycle_rule_update",
    "recycle_run",
    "recycle_warnings_send",
]

POOL_FIELDS = [
    "name",
    "kind",
    "department",
    "provinces",
    "claims_per_day",
    "max_owned",
    "cooldown_days",
    "warning_days",
    "is_active",
]
RULE_FIELDS = [
    "customer_level",
    "not_followed_up_days",
    "no_deal_days",
    "after_contract_days",
    "exclude_open_opportunity",
    "is_active",
]


def _require_admin(actor: User) -> None:
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can configure the pools."))


def _config_snapshot(instance: models.Model, names: list[str]) -> dict[str, Any]:
    data = {}
    for name in names:
        field = instance._meta.get_field(name)
        data[name] = getattr(instance, field.attname)
    return data


# --- configuration ---------------------------------------------------------------------------
@transaction.atomic
def pool_create(
    *,
    actor: User,
    data: dict[str, Any],
    members: list[User] | None = None,
    member_departments: list | None = None,
) -> Pool:
    _require_admin(actor)
    pool = Pool(**data)
    pool.full_clean()
    pool.save()
    pool.members.set(members or [])
    pool.member_departments.set(member_departments or [])
    audit_record(
        instance=pool,
        action=ChangeAction.CREATE,
        actor=actor,
        after=_config_snapshot(pool, POOL_FIELDS),
    )
    return pool


@transaction.atomic
def pool_update(
    *,
    pool: Pool,
    actor: User,
    data: dict[str, Any],
    members: list[User] | None = None,
    member_departments: list | None = None,
) -> Pool:
    _require_admin(actor)
    before = _config_snapshot(pool, POOL_FIELDS)
    if "kind" in data and data["kind"] != pool.kind and pool.entries.exists():
        raise ValidationError(
            {"kind": [_("A pool with records in it cannot change what it holds.")]}
        )
    for name, value in data.items():
        setattr(pool, name, value)
    pool.full_clean()
    pool.save()
    if members is not None:
        pool.members.set(members)
    if member_departments is not None:
        pool.member_departments.set(member_departments)
    after = _config_snapshot(pool, POOL_FIELDS)
    changed = [key for key in after if before[key] != after[key]]
    audit_record(
        instance=pool,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    return pool


def _clean_rule(rule: RecycleRule) -> None:
    if not (rule.not_followed_up_days or rule.no_deal_days or rule.after_contract_days):
        raise ValidationError(_("Give the rule at least one condition (a number of days)."))
    if rule.pool.kind == PoolKind.LEADS:
        if rule.customer_level_id:
            raise ValidationError(
                {"customer_level": [_("Customer levels only apply to account pools.")]}
            )
        if rule.after_contract_days:
            raise ValidationError(
                {"after_contract_days": [_("Leads have no contracts; leave this empty.")]}
            )
    rule.full_clean()


@transaction.atomic
def recycle_rule_create(*, pool: Pool, actor: User, data: dict[str, Any]) -> RecycleRule:
    _require_admin(actor)
    rule = RecycleRule(pool=pool, **data)
    _clean_rule(rule)
    rule.save()
    audit_record(
        instance=pool,
        action=ChangeAction.UPDATE,
        actor=actor,
        after={"recycle_rule": rule.pk, **_config_snapshot(rule, RULE_FIELDS)},
        message=_("Recycle rule added."),
    )
    return rule


@transaction.atomic
def recycle_rule_update(*, rule: RecycleRule, actor: User, data: dict[str, Any]) -> RecycleRule:
    _require_admin(actor)
    before = _config_snapshot(rule, RULE_FIELDS)
    for name, value in data.items():
        setattr(rule, name, value)
    _clean_rule(rule)
    rule.save()
    audit_record(
        instance=rule.pool,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"recycle_rule": rule.pk, **before},
        after={"recycle_rule": rule.pk, **_config_snapshot(rule, RULE_FIELDS)},
        message=_("Recycle rule changed."),
    )
    return rule


@transaction.atomic
def recycle_rule_delete(*, rule: RecycleRule, actor: User) -> None:
    _require_admin(actor)
    audit_record(
        instance=rule.pool,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"recycle_rule": rule.pk, **_config_snapshot(rule, RULE_FIELDS)},
        message=_("Recycle rule removed."),
    )
    rule.delete()


# --- into the pool ---------------------------------------------------------------------------
def _content_type(record: models.Model) -> ContentType:
    return ContentType.objects.get_for_model(type(record))


def _check_kind(record: models.Model, pool: Pool) -> None:
    if pool_kind_of(record) != pool.kind:
        raise ValidationError(_("This pool holds %(kind)s.") % {"kind": pool.get_kind_display()})


def _event_text(kind: str, pool: Pool, reason: str) -> str:
    texts = {
        PoolEventKind.ENTER: _("Put into the pool %(pool)s."),
        PoolEventKind.RELEASE: _("Released to the pool %(pool)s."),
        PoolEventKind.RECYCLE: _("Returned to the pool %(pool)s by its recycle rules."),
    }
    text = texts[kind] % {"pool": pool.name}
    if reason:
        text = f"{text} {_('Reason')}: {reason}"
    return text


@transaction.atomic
def pool_put(
    *,
    record: models.Model,
    pool: Pool,
    actor: User | None,
    reason: str = "",
    event: str = PoolEventKind.ENTER,
) -> bool:
    """Put an owned (or new, unowned) record into the pool: it loses its owner. Answers
    False when the record changed owner in the meantime (someone else moved it first)."""
    _check_kind(record, pool)
    model = type(record)
    previous_owner_id = record.owner_id
    values: dict[str, Any] = {
        "owner": None,
        "version": F("version") + 1,
        "updated_at": timezone.now(),
    }
    if model is Lead and event != PoolEventKind.ENTER and record.status != LeadStatus.CONVERTED:
        values["status"] = LeadStatus.RECYCLED
    moved = model.all_objects.filter(
        pk=record.pk, owner_id=previous_owner_id, is_deleted=False
    ).update(**values)
    if not moved:
        return False
    content_type = _content_type(record)
    PoolEntry.objects.filter(content_type=content_type, object_id=record.pk).delete()
    PoolEntry.objects.create(
        pool=pool,
        content_type=content_type,
        object_id=record.pk,
        previous_owner_id=previous_owner_id,
        reason=reason[:255],
    )
    PoolEvent.objects.create(
        pool=pool,
        content_type=content_type,
        object_id=record.pk,
        kind=event,
        user=actor if actor and actor.pk else None,
        reason=reason[:255],
    )
    before = {"owner": previous_owner_id}
    after: dict[str, Any] = {"owner": None}
    if "status" in values and record.status != values["status"]:
        before["status"], after["status"] = record.status, values["status"]
        record.status = values["status"]
    text = _event_text(event, pool, reason)
    audit_record(
        instance=record,
        action=ChangeAction.ASSIGN,
        actor=actor,
        before=before,
        after=after,
        message=text,
    )
    timeline_add(
        record=record,
        kind=f"pool_{event}",
        text=text,
        actor=actor,
        data={"pool": pool.pk, "from": previous_owner_id, "reason": reason},
    )
    record.owner = None
    record.owner_id = None
    record.version += 1
    return True


# --- claim -----------------------------------------------------------------------------------
def already_claimed() -> str:
    return _("This record was already claimed by someone else.")


def _date(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d")


def _check_limits(*, actor: User, pool: Pool, entry: PoolEntry, now: datetime.datetime) -> None:
    taken_today = claims_today(user=actor, pool=pool, now=now)
    if pool.claims_per_day and taken_today >= pool.claims_per_day:
        raise ValidationError(
            _(
                "Daily claim limit reached: you have claimed %(count)s of %(limit)s records "
                "from %(pool)s today. Try again tomorrow."
            )
            % {"count": taken_today, "limit": pool.claims_per_day, "pool": pool.name}
        )
    # Counted only up to the limit (was it reached?); in full only for the refusal's text.
    if pool.max_owned and owns_at_least(user=actor, kind=pool.kind, limit=pool.max_owned):
        raise ValidationError(
            _(
                "Ownership limit reached: you own %(count)s %(kind)s and %(pool)s allows "
                "at most %(limit)s. Release some before claiming more."
            )
            % {
                "count": owned_count(user=actor, kind=pool.kind),
                "kind": pool.get_kind_display().lower(),
                "pool": pool.name,
                "limit": pool.max_owned,
            }
        )
    if pool.cooldown_days and entry.previous_owner_id == actor.pk:
        free_at = entry.entered_at + pool.cooldown_days * DAY
        if now < free_at:
            raise ValidationError(
                _(
                    "Cooldown: you owned this record until %(left)s; as its former owner you "
                    "may claim it again after %(free)s (%(days)s days)."
                )
                % {
                    "left": _date(entry.entered_at),
                    "free": _date(free_at),
                    "days": pool.cooldown_days,
                }
            )


@transaction.atomic
def pool_claim(
    *, record: models.Model, actor: User, now: datetime.datetime | None = None
) -> models.Model:
    """Take a record out of its pool. Of two concurrent claimers exactly one wins: the
    owner is set with a conditional UPDATE (only while it is still unowned); the other gets
    "already claimed by someone else". Limits: claims per day in this pool, records of the
    kind owned, and the former owner's cooldown."""
    now = now or timezone.now()
    model = type(record)
    content_type = _content_type(record)
    entry = (
        PoolEntry.objects.select_related("pool")
        .filter(content_type=content_type, object_id=record.pk)
        .first()
    )
    if entry is None:
        owned = model.all_objects.filter(pk=record.pk, owner__isnull=False).exists()
        raise ValidationError(already_claimed() if owned else _("This record is not in a pool."))
    pool = entry.pool
    if not can(actor, model, "change"):
        raise ActionNotAllowed(_("Your role does not allow you to claim records."))
    if not is_pool_member(actor, pool):
        raise ActionNotAllowed(
            _("You are not a member of the pool %(pool)s.") % {"pool": pool.name}
        )
    if not pool.is_active:
        raise ValidationError(_("The pool %(pool)s is closed.") % {"pool": pool.name})
    # One claim at a time per user (PostgreSQL): the limits count committed claims.
    list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
    _check_limits(actor=actor, pool=pool, entry=entry, now=now)
    values: dict[str, Any] = {
        "owner": actor,
        "department_id": actor.department_id,
        "version": F("version") + 1,
        "updated_at": now,
    }
    if model is Lead:
        values["assigned_at"] = now
    won = model.all_objects.filter(pk=record.pk, owner__isnull=True, is_deleted=False).update(
        **values
    )
    if not won:
        raise ValidationError(already_claimed())
    deleted, _rows = PoolEntry.objects.filter(pk=entry.pk).delete()
    if not deleted:
        # Released and claimed again in between by someone else's transaction.
        raise ValidationError(already_claimed())
    PoolEvent.objects.create(
        pool=pool,
        content_type=content_type,
        object_id=record.pk,
        kind=PoolEventKind.CLAIM,
        user=actor,
    )
    record.refresh_from_db()
    text = _("Claimed from the pool %(pool)s.") % {"pool": pool.name}
    audit_record(
        instance=record,
        action=ChangeAction.ASSIGN,
        actor=actor,
        before={"owner": None},
        after={"owner": actor.pk, "department": actor.department_id},
        message=text,
    )
    timeline_add(
        record=record,
        kind="pool_claim",
        text=text,
        actor=actor,
        data={"pool": pool.pk, "to": actor.pk},
    )
    return record


@dataclass
class ClaimResult:
    id: int
    ok: bool
    error: str = ""


def pool_claim_many(
    *, pool: Pool, model: type[models.Model], ids: list[int], actor: User
) -> list[ClaimResult]:
    """Claim several records of the pool, each in its own transaction (a refusal stops
    nothing but itself). Ids the user cannot see in this pool answer "not found"."""
    from guanxi.leads.selectors.pools import pool_records

    records = pool_records(pool=pool, user=actor).in_bulk(ids)
    content_type = ContentType.objects.get_for_model(model)
    results = []
    for pk in ids:
        record = records.get(pk)
        if record is None:
            # Claimed from this pool by someone else (a member saw it there): say so.
            claimed = PoolEvent.objects.filter(
                pool=pool, content_type=content_type, object_id=pk, kind=PoolEventKind.CLAIM
            ).exists()
            message = already_claimed() if claimed else _("Not found in this pool.")
            results.append(ClaimResult(id=pk, ok=False, error=message))
            continue
        try:
            pool_claim(record=record, actor=actor)
        except (ValidationError, ActionNotAllowed) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            results.append(ClaimResult(id=pk, ok=False, error=text))
        else:
            results.append(ClaimResult(id=pk, ok=True))
    return results


# --- release ---------------------------------------------------------------------------------
def pool_for_record(record: models.Model) -> Pool | None:
    """The pool an owned record belongs to (department, else region)."""
    return _Pools(pool_kind_of(record)).pool_for(
        record.department_id, getattr(record, "province", "")
    )


@transaction.atomic
def pool_release(
    *, record: models.Model, actor: User, reason: str, pool: Pool | None = None
) -> Pool:
    """Give an owned record back to its pool (or the pool chosen), with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you release this record.")]})
    model = type(record)
    if record.owner_id is None:
        raise ValidationError(_("This record has no owner; it is already in a pool."))
    if not can(actor, model, "change") or not (
        model.objects.editable_by(actor).filter(pk=record.pk).exists()
    ):
        raise ActionNotAllowed(_("You may not release this record."))
    if model is Lead and record.status == LeadStatus.CONVERTED:
        raise ValidationError(_("A converted lead cannot go back to a pool."))
    pool = pool or pool_for_record(record)
    if pool is None:
        raise ValidationError(_("No pool takes this record; choose one."))
    if not pool.is_active:
        raise ValidationError(_("The pool %(pool)s is closed.") % {"pool": pool.name})
    if not pool_put(
        record=record, pool=pool, actor=actor, reason=reason, event=PoolEventKind.RELEASE
    ):
        raise ValidationError(_("Someone else changed this record's owner; reload it."))
    return pool


# --- the recycle job -------------------------------------------------------------------------
def recycle_run(*, now: datetime.datetime | None = None, dry_run: bool = False) -> list[tuple]:
    """Apply every active pool's rules: each owned record whose due date has passed goes
    back to its pool. Answers [(record, pool, reason)]; a dry run changes nothing. Each
    record moves in its own transaction, so one failure loses no other."""
    now = now or timezone.now()
    found: list[tuple] = []
    for kind in (PoolKind.LEADS, PoolKind.ACCOUNTS):
        for due in records_due(kind=kind, now=now):
            if dry_run:
                found.append((due.record, due.pool, due.reason))
                continue
            with transaction.atomic():
                if pool_put(
                    record=due.record,
                    pool=due.pool,
                    actor=None,
                    reason=due.reason,
                    event=PoolEventKind.RECYCLE,
                ):
                    found.append((due.record, due.pool, due.reason))
    return found


def _record_url(record: models.Model) -> str:
    from guanxi.core.views.registry import get_registration

    registration = get_registration(type(record))
    if registration is None:
        return ""
    try:
        return registration.url("detail", record.pk)
    except NoReverseMatch:
        return ""


WARNING_KIND = "pool_warning"


def recycle_warnings_send(*, now: datetime.datetime | None = None) -> int:
    """Tell owners which of their records return to the pool within the pool's warning
    days; once per record per day (a second run the same day sends nothing)."""
    now = now or timezone.now()
    due_soon: list[Due] = []
    for kind in (PoolKind.LEADS, PoolKind.ACCOUNTS):
        horizon = max(
            (pool.warning_days for pool in Pool.objects.filter(kind=kind, is_active=True)),
            default=0,
        )
        if not horizon:
            continue
        for due in records_due(kind=kind, now=now, horizon_days=horizon):
            if now < due.due_at <= now + due.pool.warning_days * DAY:
                due_soon.append(due)
    if not due_soon:
        return 0
    urls = {id(due): _record_url(due.record) or f"#{due.record.pk}" for due in due_soon}
    already = set(
        Notification.objects.filter(
            kind=WARNING_KIND,
            created_at__gte=local_midnight(now),
            url__in=set(urls.values()),
        ).values_list("recipient_id", "url")
    )
    owners = User.objects.in_bulk({due.record.owner_id for due in due_soon})
    sent = 0
    for due in due_soon:
        owner = owners.get(due.record.owner_id)
        url = urls[id(due)]
        if owner is None or (owner.pk, url) in already:
            continue
        with translation.override(owner.language or None):
            text = _("%(record)s returns to the pool %(pool)s in %(days)s days: %(reason)s") % {
                "record": due.record,
                "pool": due.pool.name,
                "days": due.days_left(now),
                "reason": due.reason,
            }
        notification_send(recipient=owner, kind=WARNING_KIND, text=text, url=url)
        already.add((owner.pk, url))
        sent += 1
    return sent
