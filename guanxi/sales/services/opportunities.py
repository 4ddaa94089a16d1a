"""Opportunities (商机): create, edit, move between stages (exit criteria enforced), win,
lose, reopen, and their product lines. Every write goes through the core record helpers and
leaves a stage-history row and a timeline entry where a report or a person would look."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import PicklistOption, User
from guanxi.core.services.records import (
    record_create,
    record_delete,
    record_update,
    require_permission,
    timeline_add,
)
from guanxi.sales.models import (
    COMPANY_CURRENCY,
    LOST_REASON_PICKLIST,
    Attitude,
    Competitor,
    CompetitorStatus,
    ExchangeRate,
    Influence,
    Opportunity,
    OpportunityCompetitor,
    OpportunityContact,
    OpportunityLine,
    OpportunitySplit,
    Pipeline,
    PriceBook,
    PriceBookEntry,
    Product,
    Stage,
    StageHistory,
    StageKind,
)

CENT = Decimal("0.01")

# Exit criteria that are not plain fields: what must exist for the opportunity.
RELATED_CRITERIA = {
    "contacts": ("contact_roles", gettext_lazy("at least one contact with a role")),
    "lines": ("lines", gettext_lazy("at least one product line")),
    "competitors": ("competitor_entries", gettext_lazy("at least one competitor")),
}


# --- money -----------------------------------------------------------------------------------
def exchange_rate(currency: str, on: datetime.date | None = None) -> Decimal:
    """Units of the company currency one unit of `currency` was worth on a date."""
    if currency == COMPANY_CURRENCY:
        return Decimal("1")
    on = on or timezone.localdate()
    rate = (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ValidationError(
            {
                "currency": _(
                    "There is no exchange rate for %(currency)s on %(date)s; an administrator "
                    "can add one under exchange rates."
                )
                % {"currency": currency, "date": on.isoformat()}
            }
        )
    return rate


def to_company_currency(amount: Decimal, currency: str, on: datetime.date | None = None):
    return (Decimal(amount or 0) * exchange_rate(currency, on)).quantize(CENT, ROUND_HALF_UP)


def price_for(*, product: Product, price_book: PriceBook | None, quantity: Decimal) -> Decimal:
    """The unit price of the highest tier the quantity reaches in the price book."""
    if price_book is None:
        raise ValidationError({"unit_price": _("Give a unit price or choose a price book.")})
    price = (
        PriceBookEntry.objects.filter(
            price_book=price_book, product=product, min_quantity__lte=quantity
        )
        .order_by("-min_quantity")
        .values_list("unit_price", flat=True)
        .first()
    )
    if price is None:
        raise ValidationError(
            {
                "unit_price": _("%(product)s has no price in %(book)s.")
                % {"product": product, "book": price_book}
            }
        )
    return price


# The fields of a product line and of a credit split, as the row errors name them.
LINE_FIELDS = {
    "product": gettext_lazy("product"),
    "quantity": gettext_lazy("quantity"),
    "unit_price": gettext_lazy("unit price"),
    "discount_percent": gettext_lazy("discount %"),
}
SPLIT_FIELDS = {"user": gettext_lazy("user"), "percent": gettext_lazy("share %")}


def row_error(*, line: int, field: str | None, reason: str, labels: dict) -> ValidationError:
    """One row's problem, "Line 2, quantity: The quantity must be above zero.", carrying
    `line` (1-based, in the order the rows were given), `field` and `reason` so that an
    editor can show it next to the row's field."""
    if field:
        message = _("Line %(line)d, %(field)s: %(reason)s") % {
            "line": line,
            "field": labels.get(field, field),
            "reason": reason,
        }
    else:
        message = _("Line %(line)d: %(reason)s") % {"line": line, "reason": reason}
    error = ValidationError(message, code="row")
    error.line, error.field, error.reason = line, field, reason
    return error


def _row_errors(error: ValidationError, *, line: int, labels: dict) -> list[ValidationError]:
    if hasattr(error, "error_dict"):
        return [
            row_error(line=line, field=field, reason=reason, labels=labels)
            for field, errors in error.error_dict.items()
            for item in errors
            for reason in item.messages
        ]
    return [row_error(line=line, field=None, reason=reason, labels=labels) for reason in error]


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    gross = Decimal(quantity) * Decimal(unit_price)
    return (gross * (Decimal(100) - Decimal(discount_percent)) / Decimal(100)).quantize(
        CENT, ROUND_HALF_UP
    )


# --- stages ----------------------------------------------------------------------------------
def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("sort_order", "id").first()
    if stage is None:
        raise ValidationError(_("This sales process has no open stage."))
    return stage


def closing_stage(pipeline: Pipeline, kind: str) -> Stage:
    stage = pipeline.stages.filter(kind=kind).order_by("sort_order", "id").first()
    if stage is None:
        raise ValidationError(
            _("This sales process has no %(kind)s stage.") % {"kind": StageKind(kind).label}
        )
    return stage


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_active=True).order_by("-is_default", "sort_order").first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("Set up a sales process first.")})
    return pipeline


def missing_exit_criteria(opportunity: Opportunity) -> list[str]:
    """What must still be filled in before the opportunity may leave its stage."""
    missing = []
    for name in opportunity.stage.required_fields or []:
        if name in RELATED_CRITERIA:
            relation, label = RELATED_CRITERIA[name]
            if not getattr(opportunity, relation).exists():
                missing.append(str(label))
            continue
        try:
            field = Opportunity._meta.get_field(name)
        except Exception:  # a criterion naming a removed field cannot hold anyone back
            continue
        value = getattr(opportunity, field.attname, None)
        if value in (None, "") or (name == "amount" and not value):
            missing.append(str(field.verbose_name))
    return missing


def _history_close(opportunity: Opportunity, now) -> None:
    StageHistory.objects.filter(opportunity=opportunity, left_at__isnull=True).update(left_at=now)


def _history_open(opportunity: Opportunity, actor: User, now) -> None:
    StageHistory.objects.create(
        opportunity=opportunity,
        stage=opportunity.stage,
        entered_at=now,
        amount_company=opportunity.amount_company,
        probability=opportunity.probability,
        changed_by=actor if actor and actor.pk else None,
    )
    _keep_furthest_stage(opportunity)


def _keep_furthest_stage(opportunity: Opportunity) -> None:
    """The stage just entered becomes the furthest one when it lies further along the
    process than the furthest so far (or that one is of another process). Lost stages
    never do (see Opportunity.furthest_stage)."""
    stage = opportunity.stage
    if stage.kind == StageKind.LOST:
        return
    furthest = (
        Stage.objects.filter(pk=opportunity.furthest_stage_id).first()
        if opportunity.furthest_stage_id
        else None
    )
    if (
        furthest is not None
        and furthest.pipeline_id == stage.pipeline_id
        and furthest.kind != StageKind.LOST
        and furthest.sort_order >= stage.sort_order
    ):
        return
    opportunity.furthest_stage = stage
    Opportunity.all_objects.filter(pk=opportunity.pk).update(furthest_stage=stage)


def _timeline(opportunity: Opportunity, *, kind: str, text: str, actor: User, **data) -> None:
    timeline_add(
        record=opportunity,
        kind=kind,
        text=text,
        actor=actor,
        account_id=opportunity.account_id,
        data=data,
    )


# --- create / update -------------------------------------------------------------------------
def _money_fields(data: dict[str, Any], *, on=None) -> dict[str, Any]:
    amount = data.get("amount") or Decimal("0")
    currency = data.get("currency") or COMPANY_CURRENCY
    data["amount_company"] = to_company_currency(amount, currency, on)
    return data


@transaction.atomic
def opportunity_create(
    *, actor: User, data: dict[str, Any], custom_data: dict | None = None
) -> Opportunity:
    """Create an opportunity in its pipeline's first open stage (or the stage given),
    with the stage's probability unless one is given."""
    require_permission(actor=actor, model=Opportunity, action="add")
    data = dict(data)
    pipeline = data.get("pipeline") or default_pipeline()
    data["pipeline"] = pipeline
    stage = data.get("stage") or first_open_stage(pipeline)
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("The stage belongs to another sales process.")})
    if stage.kind != StageKind.OPEN:
        raise ValidationError({"stage": _("A new opportunity starts in an open stage.")})
    data["stage"] = stage
    data.setdefault("probability", stage.probability)
    data.setdefault(
        "price_book",
        PriceBook.objects.filter(
            currency=data.get("currency") or COMPANY_CURRENCY, is_default=True, is_active=True
        ).first(),
    )
    _money_fields(data)
    now = timezone.now()
    data["stage_entered_at"] = now
    opportunity = record_create(model=Opportunity, data=data, actor=actor, custom_data=custom_data)
    from guanxi.sales.services.catalogue import opportunity_territory_assign

    opportunity_territory_assign(opportunity=opportunity)
    _history_open(opportunity, actor, now)
    _timeline(
        opportunity,
        kind="opportunity_created",
        text=_("Opportunity %(name)s created in stage %(stage)s.")
        % {"name": opportunity, "stage": stage},
        actor=actor,
    )
    return opportunity


TRACKED_CHANGES = ("amount", "currency", "expected_close_date", "probability")


@transaction.atomic
def opportunity_update(
    *,
    opportunity: Opportunity,
    actor: User,
    data: dict[str, Any],
    version: int | None = None,
    custom_data: dict | None = None,
) -> Opportunity:
    """Edit an open opportunity. Stage changes go through `opportunity_move`; closing
    through win / lose."""
    data = dict(data)
    if opportunity.is_closed and set(data) - {"next_step"}:
        raise ValidationError(_("A closed opportunity cannot be edited; reopen it first."))
    stage = data.pop("stage", None)
    if "pipeline" in data and data["pipeline"] != opportunity.pipeline and stage is None:
        raise ValidationError({"stage": _("Choose a stage of the new sales process.")})
    if opportunity.amount_from_lines:
        data.pop("amount", None)
    before = {name: getattr(opportunity, name) for name in TRACKED_CHANGES}
    if {"amount", "currency"} & set(data):
        merged = {
            "amount": data.get("amount", opportunity.amount),
            "currency": data.get("currency", opportunity.currency),
        }
        data["amount_company"] = _money_fields(merged)["amount_company"]
    record_update(
        instance=opportunity, data=data, actor=actor, version=version, custom_data=custom_data
    )
    changes = [
        f"{Opportunity._meta.get_field(name).verbose_name}: {before[name] or '—'} → "
        f"{getattr(opportunity, name) or '—'}"
        for name in TRACKED_CHANGES
        if getattr(opportunity, name) != before[name]
    ]
    if changes:
        _timeline(opportunity, kind="opportunity_changed", text="; ".join(changes), actor=actor)
    if stage is not None and stage != opportunity.stage:
        opportunity_move(opportunity=opportunity, actor=actor, stage=stage)
    return opportunity


# --- moving and closing ----------------------------------------------------------------------
@transaction.atomic
def opportunity_move(
    *, opportunity: Opportunity, actor: User, stage: Stage, version: int | None = None
) -> Opportunity:
    """Move an open opportunity to another open stage of its process (board drag, form).
    Moving forward requires the current stage's exit criteria."""
    if opportunity.is_closed:
        raise ValidationError(_("This opportunity is closed; reopen it to move it."))
    if stage.kind == StageKind.WON:
        return opportunity_win(opportunity=opportunity, actor=actor, version=version)
    if stage.kind == StageKind.LOST:
        raise ValidationError(_("To lose an opportunity, say why: use “Mark as lost”."))
    if stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": _("The stage belongs to another sales process.")})
    old = opportunity.stage
    if stage == old:
        return opportunity
    moving_forward = stage.sort_order > old.sort_order
    if moving_forward:
        missing = missing_exit_criteria(opportunity)
        if missing:
            raise ValidationError(
                _("Before leaving %(stage)s, fill in: %(missing)s.")
                % {"stage": old, "missing": ", ".join(missing)}
            )
    now = timezone.now()
    record_update(
        instance=opportunity,
        data={"stage": stage, "probability": stage.probability, "stage_entered_at": now},
        actor=actor,
        version=version,
    )
    _history_close(opportunity, now)
    _history_open(opportunity, actor, now)
    _timeline(
        opportunity,
        kind="opportunity_stage",
        text=_("Stage changed from %(old)s to %(new)s.") % {"old": old, "new": stage},
        actor=actor,
        old=old.pk,
        new=stage.pk,
    )
    return opportunity


def _close(opportunity, *, actor, stage, won: bool, version, extra: dict, text: str):
    if opportunity.is_closed:
        raise ValidationError(_("This opportunity is already closed."))
    now = timezone.now()
    record_update(
        instance=opportunity,
        data={
            "stage": stage,
            "probability": 100 if won else 0,
            "stage_entered_at": now,
            "is_closed": True,
            "is_won": won,
            "closed_at": now,
            "close_date": timezone.localdate(now),
            "closed_from_stage": opportunity.stage,
            **extra,
        },
        actor=actor,
        version=version,
    )
    _history_close(opportunity, now)
    _history_open(opportunity, actor, now)
    _timeline(
        opportunity, kind="opportunity_won" if won else "opportunity_lost", text=text, actor=actor
    )
    return opportunity


@transaction.atomic
def opportunity_win(
    *, opportunity: Opportunity, actor: User, note: str = "", version: int | None = None
) -> Opportunity:
    missing = missing_exit_criteria(opportunity)
    if missing:
        raise ValidationError(
            _("Before leaving %(stage)s, fill in: %(missing)s.")
            % {"stage": opportunity.stage, "missing": ", ".join(missing)}
        )
    stage = closing_stage(opportunity.pipeline, StageKind.WON)
    opportunity.competitor_entries.filter(status=CompetitorStatus.ACTIVE).update(
        status=CompetitorStatus.ELIMINATED
    )
    return _close(
        opportunity,
        actor=actor,
        stage=stage,
        won=True,
        version=version,
        extra={"close_note": note, "lost_reason": None, "winner": None},
        text=_("Won %(name)s (%(amount)s %(currency)s).")
        % {"name": opportunity, "amount": opportunity.amount, "currency": opportunity.currency}
        + (f" {note}" if note else ""),
    )


@transaction.atomic
def opportunity_lose(
    *,
    opportunity: Opportunity,
    actor: User,
    reason: PicklistOption | None,
    note: str = "",
    winner: Competitor | None = None,
    version: int | None = None,
) -> Opportunity:
    if reason is None or reason.picklist.code != LOST_REASON_PICKLIST:
        raise ValidationError({"lost_reason": _("Say why the opportunity was lost.")})
    stage = closing_stage(opportunity.pipeline, StageKind.LOST)
    if winner is not None:
        entry, _created = opportunity.competitor_entries.get_or_create(competitor=winner)
        opportunity.competitor_entries.exclude(pk=entry.pk).filter(
            status=CompetitorStatus.WON
        ).update(status=CompetitorStatus.ELIMINATED)
        entry.status = CompetitorStatus.WON
        entry.save(update_fields=["status"])
    lost_at = opportunity.stage
    return _close(
        opportunity,
        actor=actor,
        stage=stage,
        won=False,
        version=version,
        extra={"close_note": note, "lost_reason": reason, "winner": winner},
        text=_("Lost %(name)s at stage %(stage)s: %(reason)s.")
        % {"name": opportunity, "stage": lost_at, "reason": reason.label}
        + (f" {note}" if note else ""),
    )


@transaction.atomic
def opportunity_reopen(
    *, opportunity: Opportunity, actor: User, version: int | None = None
) -> Opportunity:
    """Back to the open stage it was in before closing."""
    if not opportunity.is_closed:
        raise ValidationError(_("This opportunity is not closed."))
    stage = opportunity.closed_from_stage or first_open_stage(opportunity.pipeline)
    now = timezone.now()
    record_update(
        instance=opportunity,
        data={
            "stage": stage,
            "probability": stage.probability,
            "stage_entered_at": now,
            "is_closed": False,
            "is_won": False,
            "closed_at": None,
            "close_date": None,
            "lost_reason": None,
            "winner": None,
            "closed_from_stage": None,
        },
        actor=actor,
        version=version,
    )
    _history_close(opportunity, now)
    _history_open(opportunity, actor, now)
    _timeline(
        opportunity,
        kind="opportunity_reopened",
        text=_("Reopened in stage %(stage)s.") % {"stage": stage},
        actor=actor,
    )
    return opportunity


def opportunity_delete(*, opportunity: Opportunity, actor: User, version: int | None = None):
    require_permission(actor=actor, model=Opportunity, action="delete")
    record_delete(instance=opportunity, actor=actor, version=version)


# --- product lines ---------------------------------------------------------------------------
@transaction.atomic
def opportunity_lines_set(
    *,
    opportunity: Opportunity,
    actor: User,
    lines: Iterable[dict[str, Any]],
    version: int | None = None,
) -> list[OpportunityLine]:
    """Replace the product lines ({product, quantity, unit_price?, discount_percent?}); a
    missing unit price comes from the opportunity's price book (tiered by quantity). The
    amount becomes the lines' sum and follows them from now on. Every line's problems are
    reported at once, under "lines", each naming its line and field (`row_error`)."""
    if opportunity.is_closed:
        raise ValidationError(_("A closed opportunity cannot be edited; reopen it first."))
    built, errors = [], []
    for position, line in enumerate(lines):
        product = line.get("product")
        try:
            if product is None:
                raise ValidationError({"product": _("Choose a product.")})
            quantity = line.get("quantity")
            quantity = Decimal(1 if quantity in (None, "") else quantity)
            discount = Decimal(line.get("discount_percent") or 0)
            if quantity <= 0:
                raise ValidationError({"quantity": _("The quantity must be above zero.")})
            if not 0 <= discount <= 100:
                raise ValidationError({"discount_percent": _("A discount is 0 to 100%.")})
            unit_price = line.get("unit_price")
            if unit_price in (None, ""):
                unit_price = price_for(
                    product=product, price_book=opportunity.price_book, quantity=quantity
                )
        except ValidationError as error:
            errors.extend(_row_errors(error, line=position + 1, labels=LINE_FIELDS))
            continue
        built.append(
            OpportunityLine(
                opportunity=opportunity,
                product=product,
                quantity=quantity,
                unit_price=Decimal(unit_price),
                discount_percent=discount,
                total=line_total(quantity, Decimal(unit_price), discount),
                sort_order=position,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    opportunity.lines.all().delete()
    OpportunityLine.objects.bulk_create(built)
    amount = sum((line.total for line in built), Decimal("0"))
    opportunity_update(
        opportunity=opportunity, actor=actor, version=version, data={"amount_from_lines": True}
    )
    # The amount follows the lines: set it past opportunity_update's guard.
    record_update(
        instance=opportunity,
        data={
            "amount": amount,
            "amount_company": to_company_currency(amount, opportunity.currency),
        },
        actor=actor,
    )
    return built


# --- contacts, competitors, team -------------------------------------------------------------
def _opportunity_contact_ok(opportunity: Opportunity, contact) -> None:
    from guanxi.customers.models import AccountContact

    if not AccountContact.objects.filter(
        account_id=opportunity.account_id, contact_id=contact.pk, is_deleted=False
    ).exists():
        raise ValidationError({"contact": _("Choose one of the account's contacts.")})


@transaction.atomic
def opportunity_contact_set(
    *,
    opportunity: Opportunity,
    actor: User,
    contact,
    role: PicklistOption | None = None,
    attitude: str = Attitude.NEUTRAL,
    influence: str = Influence.MEDIUM,
    is_primary: bool = False,
) -> OpportunityContact:
    """Add a contact of the account to the deal (or change their role, attitude and
    influence). One primary contact at most."""
    _opportunity_contact_ok(opportunity, contact)
    if attitude not in Attitude.values:
        raise ValidationError({"attitude": _("Choose supporter, neutral or opponent.")})
    if influence not in Influence.values:
        raise ValidationError({"influence": _("Choose low, medium or high.")})
    if role is not None and role.picklist.code != "contact_role":
        raise ValidationError({"role": _("Choose a contact role.")})
    if not opportunity.contact_roles.exists():
        is_primary = True
    if is_primary:
        opportunity.contact_roles.exclude(contact=contact).update(is_primary=False)
    entry, created = OpportunityContact.objects.update_or_create(
        opportunity=opportunity,
        contact=contact,
        defaults={
            "role": role,
            "attitude": attitude,
            "influence": influence,
            "is_primary": is_primary,
        },
    )
    if created:
        _timeline(
            opportunity,
            kind="opportunity_contact",
            text=_("%(contact)s joined the deal (%(attitude)s).")
            % {"contact": contact, "attitude": Attitude(attitude).label},
            actor=actor,
            contact=contact.pk,
        )
    return entry


@transaction.atomic
def opportunity_contact_remove(*, opportunity: Opportunity, actor: User, contact_id: int) -> None:
    entry = opportunity.contact_roles.filter(contact_id=contact_id).select_related("contact")
    entry = entry.first()
    if entry is None:
        return
    was_primary = entry.is_primary
    entry.delete()
    if was_primary:
        successor = opportunity.contact_roles.order_by("id").first()
        if successor is not None:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])
    _timeline(
        opportunity,
        kind="opportunity_contact",
        text=_("%(contact)s left the deal.") % {"contact": entry.contact},
        actor=actor,
        contact=contact_id,
    )


@transaction.atomic
def opportunity_competitor_set(
    *,
    opportunity: Opportunity,
    actor: User,
    competitor: Competitor,
    status: str = CompetitorStatus.ACTIVE,
    notes: str = "",
) -> OpportunityCompetitor:
    if status not in CompetitorStatus.values:
        raise ValidationError({"status": _("Choose a competitor status.")})
    if status == CompetitorStatus.WON and not (opportunity.is_closed and not opportunity.is_won):
        raise ValidationError(
            {"status": _("A competitor wins the deal when it is marked as lost.")}
        )
    entry, created = OpportunityCompetitor.objects.update_or_create(
        opportunity=opportunity,
        competitor=competitor,
        defaults={"status": status, "notes": notes},
    )
    if created:
        _timeline(
            opportunity,
            kind="opportunity_competitor",
            text=_("Competitor %(competitor)s added.") % {"competitor": competitor},
            actor=actor,
            competitor=competitor.pk,
        )
    return entry


@transaction.atomic
def opportunity_competitor_remove(
    *, opportunity: Opportunity, actor: User, competitor_id: int
) -> None:
    if opportunity.winner_id == competitor_id:
        raise ValidationError(_("This competitor won the deal; reopen it first."))
    opportunity.competitor_entries.filter(competitor_id=competitor_id).delete()


@transaction.atomic
def opportunity_splits_set(
    *,
    opportunity: Opportunity,
    actor: User,
    splits: Iterable[dict[str, Any]],
    version: int | None = None,
) -> list[OpportunitySplit]:
    """Replace the credit splits ({user, percent}); the shares must add up to 100 (or be
    none at all). Everybody with a share joins the record's team so they can see it."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.core.models import ShareAccess, TeamMember

    rows, seen, errors = [], set(), []
    for position, split in enumerate(splits):
        user = split.get("user")
        percent = Decimal(str(split.get("percent") or 0))
        problem = None
        if user is None:
            problem = ("user", _("Choose a user."))
        elif user.pk in seen:
            problem = ("user", _("%(user)s has two shares; give one.") % {"user": user})
        elif not Decimal(0) < percent <= Decimal(100):
            problem = ("percent", _("A share is above 0 and at most 100%."))
        if problem is not None:
            field, reason = problem
            errors.append(
                row_error(line=position + 1, field=field, reason=reason, labels=SPLIT_FIELDS)
            )
            continue
        seen.add(user.pk)
        rows.append(OpportunitySplit(opportunity=opportunity, user=user, percent=percent))
    if errors:
        raise ValidationError({"splits": errors})
    total = sum((row.percent for row in rows), Decimal(0))
    if rows and total != Decimal(100):
        raise ValidationError(
            _("The shares add up to %(total)s%%; they must add up to 100%%.")
            % {"total": format(total.normalize(), "f")}
        )
    # Bumps the version (and refuses a stale one): the team changed.
    record_update(instance=opportunity, data={}, actor=actor, version=version)
    opportunity.splits.all().delete()
    OpportunitySplit.objects.bulk_create(rows)
    content_type = ContentType.objects.get_for_model(Opportunity)
    existing = set(
        TeamMember.objects.filter(content_type=content_type, object_id=opportunity.pk).values_list(
            "user_id", flat=True
        )
    )
    TeamMember.objects.bulk_create(
        [
            TeamMember(
                content_type=content_type,
                object_id=opportunity.pk,
                user=row.user,
                access=ShareAccess.READ,
                role="split",
            )
            for row in rows
            if row.user.pk not in existing and row.user.pk != opportunity.owner_id
        ]
    )
    _timeline(
        opportunity,
        kind="opportunity_splits",
        text=_("Credit split: %(splits)s.")
        % {
            "splits": ", ".join(
                f"{row.user} {format(row.percent.normalize(), 'f')}%" for row in rows
            )
            or _("none")
        },
        actor=actor,
    )
    return rows


# --- competitors (the list) ------------------------------------------------------------------
def _require_admin(actor: User) -> None:
    from guanxi.core.scope import is_administrator

    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change this."))


@transaction.atomic
def competitor_save(
    *, actor: User, data: dict[str, Any], competitor: Competitor | None = None
) -> Competitor:
    _require_admin(actor)
    competitor = competitor or Competitor()
    for name, value in data.items():
        setattr(competitor, name, value)
    competitor.full_clean()
    competitor.save()
    return competitor
