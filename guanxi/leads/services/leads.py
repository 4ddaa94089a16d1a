"""Creating, editing and deleting leads: contact points normalised like contacts, duplicate
keys kept, and every write through the core record helpers (audit, version, search)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.services.records import (
    record_assign,
    record_bulk_create,
    record_create,
    record_delete,
    record_update,
    require_permission,
    timeline_add,
)
from guanxi.customers.duplicates import duplicate_keys_create_many, duplicate_keys_refresh
from guanxi.customers.services import normalise_contact_points
from guanxi.leads.models import Lead, LeadStatus

# Called after a lead is created by any path (manual, import, API, web form), e.g. to run
# the assignment rules and the profile scoring: fn(*, lead, actor, origin) -> None.
_after_create_hooks: list[Callable[..., None]] = []


def register_lead_created_hook(fn: Callable[..., None]) -> None:
    if fn not in _after_create_hooks:
        _after_create_hooks.append(fn)


# Called after a lead is edited through `lead_update` (e.g. to rescore its profile):
# fn(*, lead, actor) -> None.
_after_update_hooks: list[Callable[..., None]] = []


def register_lead_updated_hook(fn: Callable[..., None]) -> None:
    if fn not in _after_update_hooks:
        _after_update_hooks.append(fn)


def _run_created_hooks(lead: Lead, actor: User, origin: str) -> None:
    for hook in _after_create_hooks:
        hook(lead=lead, actor=actor, origin=origin)


@transaction.atomic
def lead_create(
    *,
    actor: User,
    data: dict[str, Any],
    custom_data: dict | None = None,
    origin: str = "manual",
    run_hooks: bool = True,
) -> Lead:
    """Create a lead. `origin` (manual / import / api / web_form) is passed to the hooks;
    a lead created with an explicit owner keeps it (the assignment hook skips it)."""
    require_permission(actor=actor, model=Lead, action="add")
    data = normalise_contact_points(data)
    if data.get("status") == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted only by converting it.")})
    if data.get("owner", actor) is not None or data.get("owner_id"):
        data.setdefault("assigned_at", timezone.now())
    lead = record_create(model=Lead, data=data, actor=actor, custom_data=custom_data)
    duplicate_keys_refresh(lead)
    if run_hooks:
        _run_created_hooks(lead, actor, origin)
    return lead


@transaction.atomic
def lead_bulk_create(
    *, actor: User, items: list[tuple[dict[str, Any], dict | None]]
) -> list[Lead | ValidationError]:
    """Imports: the same normalisation, validation, audit and duplicate keys, in bulk; the
    created-hooks (assignment, scoring) run per lead afterwards."""
    results: list[Lead | ValidationError | None] = [None] * len(items)
    positions, valid_items = [], []
    for position, (data, custom_data) in enumerate(items):
        try:
            data = normalise_contact_points(data)
        except ValidationError as error:
            results[position] = error
            continue
        positions.append(position)
        valid_items.append((data, custom_data))
    created = record_bulk_create(model=Lead, items=valid_items, actor=actor)
    for position, outcome in zip(positions, created, strict=True):
        results[position] = outcome
    leads = [r for r in created if isinstance(r, Lead)]
    duplicate_keys_create_many(leads)
    for lead in leads:
        _run_created_hooks(lead, actor, "import")
    return results


@transaction.atomic
def lead_update(
    *,
    lead: Lead,
    actor: User,
    data: dict[str, Any],
    version: int | None = None,
    custom_data: dict | None = None,
) -> Lead:
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError(_("A converted lead can no longer be edited."))
    data = normalise_contact_points(data)
    if data.get("status") == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted only by converting it.")})
    old_status = lead.status
    record_update(instance=lead, data=data, actor=actor, version=version, custom_data=custom_data)
    if lead.status != old_status:
        timeline_add(
            record=lead,
            kind="lead_status",
            text=_("Status changed from %(old)s to %(new)s.")
            % {"old": LeadStatus(old_status).label, "new": lead.get_status_display()},
            actor=actor,
        )
    duplicate_keys_refresh(lead)
    for hook in _after_update_hooks:
        hook(lead=lead, actor=actor)
    return lead


@transaction.atomic
def lead_assign(
    *, lead: Lead, owner: User, actor: User, reason: str = "", version: int | None = None
) -> Lead:
    record_assign(instance=lead, owner=owner, actor=actor, reason=reason, version=version)
    type(lead).all_objects.filter(pk=lead.pk).update(assigned_at=timezone.now())
    lead.assigned_at = timezone.now()
    return lead


def lead_delete(*, lead: Lead, actor: User, version: int | None = None) -> None:
    require_permission(actor=actor, model=Lead, action="delete")
    record_delete(instance=lead, actor=actor, version=version)


def leads_share(
    *,
    leads: list[Lead],
    actor: User,
    access: str,
    user: User | None = None,
    department=None,
    expires_at=None,
) -> None:
    """Share each lead with a user or a department (all of them or none)."""
    from guanxi.core.services.records import records_share

    records_share(
        records=leads,
        actor=actor,
        user=user,
        department=department,
        access=access,
        expires_at=expires_at,
    )


def leads_tags_add(*, leads: list[Lead], tags, actor: User) -> None:
    """Add `tags` to each lead, keeping the tags it already has."""
    from guanxi.core.services.configuration import records_tags_add

    records_tags_add(records=leads, tags=tags, actor=actor)
