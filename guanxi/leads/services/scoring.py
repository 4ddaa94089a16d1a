"""Lead scoring: profile fit + engagement (with a half-life), the score history, and the
marketing-to-sales hand-over (MQL -> SQL -> accepted, or rejected back to nurturing).

Every change of a lead's score writes a LeadScoreEntry (points, score after, reason) and
moves `Lead.score` in the same transaction, with the lead's row locked, so concurrent
events add up. The score never touches the lead's `version`: an engagement event arriving
while a rep edits the lead does not make the rep's save a conflict.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeAction, User
from guanxi.core.scope import can, is_administrator
from guanxi.core.services.notifications import notification_send
from guanxi.core.services.records import audit_record, snapshot, timeline_add
from guanxi.leads.models import (
    EngagementEvent,
    Lead,
    LeadScoreEntry,
    LeadStage,
    LeadStatus,
    ScoreRuleKind,
    ScoringRule,
    ScoringSettings,
)
from guanxi.leads.services.assignment import administrators, lead_assign_by_rules, lead_url

PROFILE = "profile"
ENGAGEMENT = "engagement"
DECAY = "decay"
REJECTION = "rejection"

# The lead fields a profile rule may test, and how to read each from a lead (custom
# fields are "custom:<key>").
PROFILE_FIELDS = {
    "source": lambda lead: lead.source_id,
    "industry": lambda lead: lead.industry_id,
    "province": lambda lead: lead.province,
    "city": lambda lead: lead.city,
    "company": lambda lead: lead.company,
    "title": lambda lead: lead.title,
    "email": lambda lead: lead.email,
    "phone": lambda lead: lead.phone,
    "website": lambda lead: lead.website,
    "rating": lambda lead: lead.rating,
    "web_form": lambda lead: lead.web_form_id,
}
OPERATORS = ("eq", "ne", "in", "contains", "gte", "lte", "set")


def _require_admin(actor: User) -> None:
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change the scoring rules."))


# --- administration ------------------------------------------------------------------------


def _clean_condition(condition: dict[str, Any]) -> dict[str, Any]:
    field = condition.get("field")
    op = condition.get("op") or "eq"
    if field not in PROFILE_FIELDS and not str(field or "").startswith("custom:"):
        raise ValidationError({"condition": [_("Choose a lead field.")]})
    if op not in OPERATORS:
        raise ValidationError({"condition": [_("Choose a comparison.")]})
    value = condition.get("value")
    if op == "in" and isinstance(value, str):
        value = [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    if op != "set" and value in (None, "", []):
        raise ValidationError({"condition": [_("Enter the value to compare with.")]})
    return {"field": field, "op": op, "value": value}


@transaction.atomic
def scoring_rule_save(
    *, actor: User, data: dict[str, Any], rule: ScoringRule | None = None
) -> ScoringRule:
    _require_admin(actor)
    creating = rule is None
    rule = rule or ScoringRule()
    before = None if creating else snapshot(rule)
    for name, value in data.items():
        setattr(rule, name, value)
    if rule.kind == ScoreRuleKind.PROFILE:
        rule.condition = _clean_condition(rule.condition or {})
        rule.event = ""
        rule.half_life_days = 0
    elif rule.kind == ScoreRuleKind.ENGAGEMENT:
        if rule.event not in EngagementEvent.values:
            raise ValidationError({"event": [_("Choose the event that earns the points.")]})
        rule.condition = {}
    rule.full_clean()
    rule.save()
    audit_record(
        instance=rule,
        action=ChangeAction.CREATE if creating else ChangeAction.UPDATE,
        actor=actor,
        before=before,
        after=snapshot(rule),
    )
    return rule


@transaction.atomic
def scoring_rule_delete(*, actor: User, rule: ScoringRule) -> None:
    _require_admin(actor)
    audit_record(instance=rule, action=ChangeAction.DELETE, actor=actor, before=snapshot(rule))
    rule.delete()


@transaction.atomic
def scoring_settings_save(*, actor: User, data: dict[str, Any]) -> ScoringSettings:
    _require_admin(actor)
    settings = ScoringSettings.current()
    before = snapshot(settings)
    for name, value in data.items():
        setattr(settings, name, value)
    if settings.sql_threshold < settings.mql_threshold:
        raise ValidationError(
            {"sql_threshold": [_("The sales threshold cannot be below the marketing one.")]}
        )
    settings.full_clean()
    settings.save()
    audit_record(
        instance=settings,
        action=ChangeAction.UPDATE,
        actor=actor,
        before=before,
        after=snapshot(settings),
    )
    return settings


# --- the score ledger ----------------------------------------------------------------------


def _locked(lead: Lead) -> Lead:
    return Lead.all_objects.select_for_update().get(pk=lead.pk)


def _score_add(
    *,
    lead: Lead,
    points: int,
    kind: str,
    reason: str,
    actor: User | None,
    rule: ScoringRule | None = None,
    event: str = "",
    occurred_at: datetime.datetime | None = None,
    advance: bool = True,
) -> LeadScoreEntry:
    """Move the score by `points` and write why (the lead row is locked by the caller);
    with `advance`, crossing a threshold moves the lead's stage forward."""
    current = Lead.all_objects.filter(pk=lead.pk).values_list("score", flat=True).get()
    score_after = current + points
    Lead.all_objects.filter(pk=lead.pk).update(score=score_after)
    lead.score = score_after
    entry = LeadScoreEntry.objects.create(
        lead=lead,
        rule=rule,
        kind=kind,
        event=event,
        points=points,
        score_after=score_after,
        reason=reason[:255],
        occurred_at=occurred_at or timezone.now(),
    )
    if advance:
        _stage_after_score(lead=lead, actor=actor)
    return entry


def _set_stage(lead: Lead, *, actor: User | None, fields: dict[str, Any], text: str) -> None:
    before = {name: snapshot(lead).get(name) for name in fields}
    Lead.all_objects.filter(pk=lead.pk).update(**fields)
    for name, value in fields.items():
        setattr(lead, name, value)
    after = {name: snapshot(lead).get(name) for name in fields}
    audit_record(instance=lead, action=ChangeAction.UPDATE, actor=actor, before=before, after=after)
    timeline_add(record=lead, kind="lead_stage", text=text, actor=actor, data=after)


def _stage_after_score(*, lead: Lead, actor: User | None) -> None:
    """Crossing a threshold upwards moves the lead forward (never backwards)."""
    if lead.status == LeadStatus.CONVERTED or lead.is_deleted:
        return
    settings = ScoringSettings.current()
    now = timezone.now()
    if lead.stage == LeadStage.NURTURING and lead.score >= settings.mql_threshold:
        _set_stage(
            lead,
            actor=actor,
            fields={"stage": LeadStage.MQL, "mql_at": now},
            text=_("Marketing qualified: the score reached %(score)s (threshold %(threshold)s).")
            % {"score": lead.score, "threshold": settings.mql_threshold},
        )
    if lead.stage == LeadStage.MQL and lead.score >= settings.sql_threshold:
        _set_stage(
            lead,
            actor=actor,
            fields={"stage": LeadStage.SQL, "sql_at": now},
            text=_("Sales qualified: the score reached %(score)s (threshold %(threshold)s).")
            % {"score": lead.score, "threshold": settings.sql_threshold},
        )
        _hand_to_sales(lead=lead, actor=actor)


def _hand_to_sales(*, lead: Lead, actor: User | None) -> None:
    """Tell the owner; an unowned lead goes through the assignment rules first (the rule
    notifies whoever it picks), and administrators hear when nobody gets it."""
    if lead.owner_id is None:
        outcome = lead_assign_by_rules(lead=lead, actor=actor)
        if outcome is not None and outcome.owner is not None:
            return
        text = _("Lead %(lead)s is sales qualified and has no owner.") % {"lead": lead}
        for admin in administrators():
            notification_send(
                recipient=admin, kind="lead_sql", text=text, url=lead_url(lead), actor=actor
            )
        return
    notification_send(
        recipient=lead.owner,
        kind="lead_sql",
        text=_("Lead %(lead)s is sales qualified (score %(score)s): please follow it up.")
        % {"lead": lead, "score": lead.score},
        url=lead_url(lead),
        actor=actor,
    )


# --- profile -------------------------------------------------------------------------------


def _as_number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _read(lead: Lead, field: str) -> Any:
    if field.startswith("custom:"):
        return (lead.custom_data or {}).get(field.split(":", 1)[1])
    return PROFILE_FIELDS[field](lead)


def _same(actual: Any, expected: Any) -> bool:
    if actual is None:
        return expected in (None, "")
    return str(actual).strip().lower() == str(expected).strip().lower()


def condition_holds(condition: dict[str, Any], lead: Lead) -> bool:
    field, op, expected = condition.get("field"), condition.get("op"), condition.get("value")
    if not field or (field not in PROFILE_FIELDS and not str(field).startswith("custom:")):
        return False
    actual = _read(lead, field)
    if op == "set":
        return actual not in (None, "", [])
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return not _same(actual, expected)
    if op == "in":
        if isinstance(expected, str):
            expected = expected.replace("，", ",").split(",")
        values = expected if isinstance(expected, list) else [expected]
        return any(_same(actual, value) for value in values)
    if op == "contains":
        return bool(actual) and str(expected).lower() in str(actual).lower()
    if op in ("gte", "lte"):
        a, b = _as_number(actual), _as_number(expected)
        if a is None or b is None:
            return False
        return a >= b if op == "gte" else a <= b
    return False


def profile_points(lead: Lead) -> tuple[int, list[ScoringRule]]:
    rules = [
        rule
        for rule in ScoringRule.objects.filter(kind=ScoreRuleKind.PROFILE, is_active=True)
        if condition_holds(rule.condition or {}, lead)
    ]
    return sum(rule.points for rule in rules), rules


@transaction.atomic
def lead_score_profile(lead: Lead, actor: User | None = None) -> LeadScoreEntry | None:
    """Recompute the profile part of the score; write the difference with the rules that
    now hold as the reason. None when nothing changed."""
    locked = _locked(lead)
    total, rules = profile_points(locked)
    current = (
        LeadScoreEntry.objects.filter(lead_id=lead.pk, kind=PROFILE).aggregate(s=Sum("points"))["s"]
        or 0
    )
    if total == current:
        return None
    matched = ", ".join(f"{rule.name} ({rule.points:+d})" for rule in rules)
    reason = _("Profile: %(rules)s") % {"rules": matched} if rules else _("Profile: no rule holds")
    entry = _score_add(
        lead=locked, points=total - current, kind=PROFILE, reason=reason, actor=actor
    )
    lead.score, lead.stage = locked.score, locked.stage
    lead.mql_at, lead.sql_at = locked.mql_at, locked.sql_at
    return entry


# --- engagement and decay ------------------------------------------------------------------


@transaction.atomic
def lead_engagement_record(
    *,
    lead: Lead,
    event: str,
    occurred_at: datetime.datetime | None = None,
    actor: User | None = None,
    note: str = "",
) -> list[LeadScoreEntry]:
    """An engagement event happened: each active engagement rule for it adds its points.
    Returns the entries written (none when no rule scores the event)."""
    if event not in EngagementEvent.values:
        raise ValidationError({"event": [_("Unknown event.")]})
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"occurred_at": [_("The event cannot be in the future.")]})
    rules = list(
        ScoringRule.objects.filter(kind=ScoreRuleKind.ENGAGEMENT, event=event, is_active=True)
    )
    if not rules:
        return []
    locked = _locked(lead)
    label = EngagementEvent(event).label
    entries = []
    for rule in rules:
        reason = f"{label}: {rule.name}" + (f" ({note})" if note else "")
        entries.append(
            _score_add(
                lead=locked,
                points=rule.points,
                kind=ENGAGEMENT,
                reason=reason,
                actor=actor,
                rule=rule,
                event=event,
                occurred_at=occurred_at,
            )
        )
    lead.score, lead.stage = locked.score, locked.stage
    return entries


def decayed_value(points: int, half_life_days: int, age: datetime.timedelta) -> float:
    if not half_life_days or age.total_seconds() <= 0:
        return float(points)
    return points * math.pow(0.5, age.total_seconds() / 86400 / half_life_days)


@transaction.atomic
def _lead_decay(lead_id: int, entries: list[LeadScoreEntry], now: datetime.datetime) -> int:
    """Bring one lead's engagement points to their decayed value; the difference is a
    "decay" entry. Returns the points moved."""
    target = 0.0
    recorded = 0
    for entry in entries:
        if entry.kind == ENGAGEMENT:
            half_life = entry.rule.half_life_days if entry.rule else 0
            target += decayed_value(entry.points, half_life, now - entry.occurred_at)
            recorded += entry.points
        else:
            recorded += entry.points
    difference = round(target) - recorded
    if difference == 0:
        return 0
    lead = Lead.all_objects.select_for_update().get(pk=lead_id)
    _score_add(
        lead=lead,
        points=difference,
        kind=DECAY,
        reason=_("Engagement points decayed (half-life)."),
        actor=None,
        occurred_at=now,
    )
    return difference


def leads_score_decay(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """The daily decay: recompute every open lead's engagement points from its entries with
    each rule's half-life. Returns how many leads changed."""
    now = now or timezone.now()
    decaying = ScoringRule.objects.filter(kind=ScoreRuleKind.ENGAGEMENT, half_life_days__gt=0)
    lead_ids = list(
        LeadScoreEntry.objects.filter(kind=ENGAGEMENT, rule__in=decaying)
        .exclude(lead__status=LeadStatus.CONVERTED)
        .values_list("lead_id", flat=True)
        .distinct()
        .order_by("lead_id")
    )
    changed = 0
    for start in range(0, len(lead_ids), batch):
        chunk = lead_ids[start : start + batch]
        by_lead: dict[int, list[LeadScoreEntry]] = defaultdict(list)
        rows = LeadScoreEntry.objects.filter(
            lead_id__in=chunk, kind__in=[ENGAGEMENT, DECAY]
        ).select_related("rule")
        for entry in rows:
            by_lead[entry.lead_id].append(entry)
        for lead_id in chunk:
            if _lead_decay(lead_id, by_lead[lead_id], now):
                changed += 1
    return changed


# --- hand-over -----------------------------------------------------------------------------


def _require_change(actor: User, lead: Lead) -> None:
    if not can(actor, Lead, "change"):
        raise ActionNotAllowed(_("You are not allowed to do this."))
    if not Lead.objects.editable_by(actor).filter(pk=lead.pk).exists():
        raise ActionNotAllowed(_("You are not allowed to change this lead."))


@transaction.atomic
def lead_accept(*, lead: Lead, actor: User) -> Lead:
    """Sales accepts the lead: stage accepted (sales qualified if it was not yet); an
    unowned lead becomes the actor's."""
    _require_change(actor, lead)
    locked = _locked(lead)
    if locked.status == LeadStatus.CONVERTED:
        raise ValidationError(_("This lead is already converted."))
    if locked.stage == LeadStage.ACCEPTED:
        raise ValidationError(_("This lead is already accepted."))
    now = timezone.now()
    fields: dict[str, Any] = {
        "stage": LeadStage.ACCEPTED,
        "accepted_at": now,
        "rejected_reason": "",
    }
    if locked.sql_at is None:
        fields["sql_at"] = now
    if locked.mql_at is None:
        fields["mql_at"] = now
    _set_stage(
        locked,
        actor=actor,
        fields=fields,
        text=_("Accepted by sales (%(user)s).") % {"user": actor},
    )
    if locked.owner_id is None:
        from guanxi.leads.services.leads import lead_assign

        lead_assign(lead=locked, owner=actor, actor=actor, reason=_("Accepted by sales"))
    elif locked.owner_id != actor.pk:
        notification_send(
            recipient=locked.owner,
            kind="lead_accepted",
            text=_("%(user)s accepted lead %(lead)s.") % {"user": actor, "lead": locked},
            url=lead_url(locked),
            actor=actor,
        )
    return locked


@transaction.atomic
def lead_reject(*, lead: Lead, actor: User, reason: str) -> Lead:
    """Sales sends the lead back to marketing: the reason is kept, the rejection penalty is
    deducted, and the lead returns to nurturing."""
    _require_change(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the lead is rejected.")]})
    locked = _locked(lead)
    if locked.status == LeadStatus.CONVERTED:
        raise ValidationError(_("This lead is already converted."))
    if locked.stage == LeadStage.NURTURING:
        raise ValidationError(_("This lead is not with sales."))
    _set_stage(
        locked,
        actor=actor,
        fields={
            "stage": LeadStage.NURTURING,
            "accepted_at": None,
            "rejected_reason": reason[:255],
        },
        text=_("Rejected by sales (%(user)s): %(reason)s") % {"user": actor, "reason": reason},
    )
    penalty = ScoringSettings.current().rejection_penalty
    if penalty:
        _score_add(
            lead=locked,
            points=-int(penalty),
            kind=REJECTION,
            reason=_("Rejected by sales: %(reason)s") % {"reason": reason},
            actor=actor,
            advance=False,
        )
    return locked
