"""Converting a lead: one atomic action that creates or matches the account and contact,
optionally makes an opportunity (through a hook the sales app fills), moves the lead's
activities, follow-ups, attachments and timeline to the new records, and marks the lead
converted with links both ways. A lead converts once: the status flips with a conditional
UPDATE first, so a double submit finds nothing left to convert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import Attachment, ChangeAction, TimelineEntry, User
from guanxi.core.scope import can
from guanxi.core.services.records import audit_record, timeline_add
from guanxi.customers.models import Account, AccountContact, Contact
from guanxi.customers.services import account_contact_link, account_create, contact_create
from guanxi.leads.models import Lead, LeadStatus

# fn(*, lead, account, contact, data, actor) -> the new opportunity's id
OpportunityFactory = Callable[..., int]
_opportunity_factory: list[OpportunityFactory] = []


def register_conversion_opportunity_factory(fn: OpportunityFactory | None) -> None:
    """The sales app makes the opportunity of a conversion (None removes the factory)."""
    _opportunity_factory.clear()
    if fn is not None:
        _opportunity_factory.append(fn)


def can_create_opportunity() -> bool:
    return bool(_opportunity_factory)


@dataclass
class ConversionResult:
    lead: Lead
    account: Account
    contact: Contact
    opportunity_id: int | None = None
    account_created: bool = False
    contact_created: bool = False


def account_data_from_lead(lead: Lead) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": lead.company or lead.name,
        "kind": Account.Kind.COMPANY if lead.company else Account.Kind.INDIVIDUAL,
        "industry": lead.industry,
        "phone": lead.phone,
        "email": lead.email,
        "website": lead.website,
        "province": lead.province,
        "city": lead.city,
        "address": lead.address,
    }
    return {key: value for key, value in data.items() if value not in (None, "")}


def contact_data_from_lead(lead: Lead) -> dict[str, Any]:
    data = {"name": lead.name, "title": lead.title, "wechat": lead.wechat}
    return {key: value for key, value in data.items() if value}


def _owner_data(lead: Lead, actor: User) -> dict[str, Any]:
    owner = lead.owner or actor
    return {"owner": owner, "department_id": owner.department_id}


def _check_allowed(actor: User, lead: Lead, *, new_account: bool, new_contact: bool) -> None:
    if not can(actor, Lead, "change"):
        raise ActionNotAllowed(_("You are not allowed to do this."))
    if not Lead.objects.editable_by(actor).filter(pk=lead.pk).exists():
        raise ActionNotAllowed(_("You are not allowed to change this lead."))
    if new_account and not can(actor, Account, "add"):
        raise ActionNotAllowed(_("You are not allowed to create accounts."))
    if new_contact and not can(actor, Contact, "add"):
        raise ActionNotAllowed(_("You are not allowed to create contacts."))


def _visible(model, record, actor: User):
    if record is None:
        return None
    found = model.objects.visible_to(actor).filter(pk=record.pk).first()
    if found is None:
        raise ValidationError(_("The chosen record does not exist."))
    return found


def _move_related(lead: Lead, account: Account, contact: Contact) -> dict[str, int]:
    """Point the lead's activities, follow-ups and timeline at the account and contact
    (they stay regarding the lead) and copy its attachments to the account."""
    from guanxi.activities.models import Activity, FollowUp

    lead_type = ContentType.objects.get_for_model(Lead)
    regarding = {"regarding_type": lead_type, "regarding_id": lead.pk}
    moved = {
        "activities": Activity.all_objects.filter(**regarding).update(
            account_id=account.pk, contact_id=contact.pk
        ),
        "follow_ups": FollowUp.all_objects.filter(**regarding).update(
            account_id=account.pk, contact_id=contact.pk
        ),
        "timeline": TimelineEntry.objects.filter(content_type=lead_type, object_id=lead.pk).update(
            account_id=account.pk
        ),
    }
    account_type = ContentType.objects.get_for_model(Account)
    copies = [
        Attachment(
            content_type=account_type,
            object_id=account.pk,
            file=attachment.file.name,
            filename=attachment.filename,
            size=attachment.size,
            mime_type=attachment.mime_type,
            uploaded_by_id=attachment.uploaded_by_id,
        )
        for attachment in Attachment.objects.filter(
            content_type=lead_type, object_id=lead.pk, is_deleted=False
        )
    ]
    Attachment.objects.bulk_create(copies)
    moved["attachments"] = len(copies)
    return moved


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    actor: User,
    account: Account | None = None,
    account_data: dict[str, Any] | None = None,
    contact: Contact | None = None,
    contact_data: dict[str, Any] | None = None,
    create_opportunity: bool = False,
    opportunity_data: dict[str, Any] | None = None,
) -> ConversionResult:
    """Convert the lead. `account` / `contact` link existing records (the duplicate
    candidates the user chose); otherwise new ones are made from the lead, overridden by
    `account_data` / `contact_data`."""
    _check_allowed(actor, lead, new_account=account is None, new_contact=contact is None)
    if create_opportunity and not _opportunity_factory:
        raise ValidationError(_("Opportunities cannot be created yet."))
    account = _visible(Account, account, actor)
    contact = _visible(Contact, contact, actor)
    now = timezone.now()
    flipped = (
        Lead.all_objects.filter(pk=lead.pk, is_deleted=False)
        .exclude(status=LeadStatus.CONVERTED)
        .update(status=LeadStatus.CONVERTED, converted_at=now, version=F("version") + 1)
    )
    if not flipped:
        raise ValidationError(_("This lead is already converted."))
    previous_status = lead.status
    lead = Lead.all_objects.select_related("owner").get(pk=lead.pk)

    account_created = contact_created = False
    if account is None:
        data = {**account_data_from_lead(lead), **_owner_data(lead, actor), **(account_data or {})}
        account = account_create(actor=actor, data=data)
        account_created = True
    if contact is None and account_created and account.person_id:
        # An individual account is its own contact.
        contact = account.person
    if contact is None:
        data = {**contact_data_from_lead(lead), **_owner_data(lead, actor), **(contact_data or {})}
        contact = contact_create(
            actor=actor,
            data=data,
            phones=[{"number": lead.phone, "kind": "mobile"}] if lead.phone else None,
            emails=[{"address": lead.email, "kind": "work"}] if lead.email else None,
            account=account,
            job_title=lead.title,
            is_primary=not AccountContact.objects.filter(account=account).exists(),
        )
        contact_created = True
    elif not AccountContact.objects.filter(account=account, contact=contact).exists():
        account_contact_link(account=account, contact=contact, actor=actor, job_title=lead.title)

    opportunity_id = None
    if create_opportunity:
        opportunity_id = _opportunity_factory[0](
            lead=lead, account=account, contact=contact, data=opportunity_data or {}, actor=actor
        )

    Lead.all_objects.filter(pk=lead.pk).update(
        converted_account=account,
        converted_contact=contact,
        converted_opportunity_id=opportunity_id,
    )
    lead.converted_account, lead.converted_contact = account, contact
    lead.converted_opportunity_id = opportunity_id
    moved = _move_related(lead, account, contact)
    audit_record(
        instance=lead,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"status": previous_status},
        after={
            "status": LeadStatus.CONVERTED,
            "converted_at": now.isoformat(),
            "converted_account": account.pk,
            "converted_contact": contact.pk,
            "converted_opportunity_id": opportunity_id,
        },
        message=_("Converted"),
    )
    timeline_add(
        record=lead,
        kind="lead_converted",
        text=_("Converted to account %(account)s and contact %(contact)s.")
        % {"account": account, "contact": contact},
        actor=actor,
        account_id=account.pk,
        data={"account": account.pk, "contact": contact.pk, "opportunity": opportunity_id},
    )
    timeline_add(
        record=account,
        kind="converted_from_lead",
        text=_("Converted from lead %(lead)s.") % {"lead": lead},
        actor=actor,
        account_id=account.pk,
        data={"lead": lead.pk, **moved},
    )
    return ConversionResult(
        lead=lead,
        account=account,
        contact=contact,
        opportunity_id=opportunity_id,
        account_created=account_created,
        contact_created=contact_created,
    )
