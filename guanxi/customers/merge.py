"""Merging duplicate accounts (and contacts) into one survivor, as one audited transaction.

Everything that points at a merged record moves to the survivor: contact links, group
memberships, tags, attachments, shares, team seats, timeline entries, points, child
accounts, and whatever higher apps register with `register_merge_hook` (opportunities,
orders, tickets ...). The merged records go to the recycle bin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from guanxi.core.exceptions import NotVisible
from guanxi.core.models import (
    Attachment,
    ChangeAction,
    RecordShare,
    TaggedItem,
    TeamMember,
    TimelineEntry,
    User,
)
from guanxi.core.services.records import audit_record, record_delete, record_update, timeline_add
from guanxi.customers.duplicates import duplicate_keys_refresh
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactRelation,
    GroupMember,
    PointsEntry,
)

MergeHook = Callable[..., None]  # (*, survivor, merged, actor) -> None
_merge_hooks: dict[str, list[MergeHook]] = {}

# Fields a user may pick per record in the merge screen.
ACCOUNT_MERGE_FIELDS = [
    "name",
    "kind",
    "industry",
    "source",
    "status",
    "lifecycle_stage",
    "credit_rating",
    "level",
    "owner",
    "account_manager",
    "parent",
    "phone",
    "email",
    "website",
    "province",
    "city",
    "district",
    "address",
    "postcode",
    "tax_number",
    "invoice_title",
    "annual_revenue",
    "employees",
    "notes",
]
CONTACT_MERGE_FIELDS = [
    "name",
    "gender",
    "title",
    "birthday",
    "wechat",
    "address",
    "notes",
    "owner",
]


def register_merge_hook(model: type[models.Model], hook: MergeHook) -> None:
    """Let a higher app move its own rows (e.g. opportunities) from merged to survivor."""
    _merge_hooks.setdefault(model._meta.label_lower, []).append(hook)


def _move_generic(model: type[models.Model], survivor, merged_ids: list[int]) -> None:
    content_type = ContentType.objects.get_for_model(model)
    same_type = {"content_type": content_type, "object_id__in": merged_ids}
    # Tags and team seats are unique per record: drop the ones the survivor already has.
    survivor_tags = TaggedItem.objects.filter(
        content_type=content_type, object_id=survivor.pk
    ).values_list("tag_id", flat=True)
    TaggedItem.objects.filter(**same_type, tag_id__in=list(survivor_tags)).delete()
    TaggedItem.objects.filter(**same_type).update(object_id=survivor.pk)
    survivor_team = TeamMember.objects.filter(
        content_type=content_type, object_id=survivor.pk
    ).values_list("user_id", flat=True)
    TeamMember.objects.filter(**same_type, user_id__in=list(survivor_team)).delete()
    TeamMember.objects.filter(**same_type).update(object_id=survivor.pk)
    for related in (Attachment, RecordShare, TimelineEntry):
        related.objects.filter(**same_type).update(object_id=survivor.pk)


def _chosen_values(
    *, survivor, records: dict[int, Any], choices: dict[str, int], allowed: list[str]
) -> dict[str, Any]:
    data = {}
    for field_name, source_pk in choices.items():
        if field_name not in allowed:
            raise ValidationError({field_name: [_("This field cannot be merged.")]})
        if source_pk not in records:
            raise ValidationError({field_name: [_("Choose a value from the merged records.")]})
        if source_pk != survivor.pk:
            data[field_name] = getattr(records[source_pk], field_name)
    return data


def _load_editable(model, ids: list[int], actor: User) -> dict[int, Any]:
    records = {
        record.pk: record
        for record in model.objects.editable_by(actor).select_for_update().filter(pk__in=ids)
    }
    if len(records) != len(set(ids)):
        raise NotVisible(_("You may only merge records you can edit."))
    return records


@transaction.atomic
def account_merge(
    *,
    survivor_id: int,
    merged_ids: list[int],
    actor: User,
    choices: dict[str, int] | None = None,
) -> Account:
    """Merge `merged_ids` into `survivor_id`, taking each field in `choices` from the
    record it names (field -> account id)."""
    merged_ids = [pk for pk in dict.fromkeys(merged_ids) if pk != survivor_id]
    if not merged_ids:
        raise ValidationError(_("Choose at least two different accounts to merge."))
    records = _load_editable(Account, [survivor_id, *merged_ids], actor)
    survivor = records[survivor_id]
    data = _chosen_values(
        survivor=survivor, records=records, choices=choices or {}, allowed=ACCOUNT_MERGE_FIELDS
    )
    if data.get("parent") is not None and data["parent"].pk in merged_ids:
        data["parent"] = None
    if data:
        from guanxi.customers.services import account_update

        # Through the account service, so the phone's digits and the e-mail are normalised.
        account_update(account=survivor, data=data, actor=actor)

    # Contact links: one per contact at the survivor.
    linked = set(
        AccountContact.objects.filter(account=survivor).values_list("contact_id", flat=True)
    )
    for link in AccountContact.objects.filter(account_id__in=merged_ids):
        if link.contact_id in linked:
            record_delete(instance=link, actor=actor)
        else:
            AccountContact.all_objects.filter(pk=link.pk).update(
                account=survivor, owner=survivor.owner, department=survivor.department
            )
            linked.add(link.contact_id)
    members = set(GroupMember.objects.filter(account=survivor).values_list("group_id", flat=True))
    GroupMember.objects.filter(account_id__in=merged_ids, group_id__in=list(members)).delete()
    GroupMember.objects.filter(account_id__in=merged_ids).update(account=survivor)
    PointsEntry.objects.filter(account_id__in=merged_ids).update(account=survivor)
    Account.all_objects.filter(parent_id__in=merged_ids).exclude(pk=survivor.pk).update(
        parent=survivor
    )
    TimelineEntry.objects.filter(account_id__in=merged_ids).update(account_id=survivor.pk)
    _move_generic(Account, survivor, merged_ids)
    merged_records = [records[pk] for pk in merged_ids]
    for hook in _merge_hooks.get(Account._meta.label_lower, []):
        hook(survivor=survivor, merged=merged_records, actor=actor)

    for record in merged_records:
        record.refresh_from_db()
        record_delete(instance=record, actor=actor)
        duplicate_keys_refresh(record)
    from guanxi.customers.services import _recompute_membership

    _recompute_membership(survivor)
    survivor.refresh_from_db()
    names = ", ".join(record.name for record in merged_records)
    audit_record(
        instance=survivor,
        action=ChangeAction.UPDATE,
        actor=actor,
        after={"merged": merged_ids},
        message=_("Merged %(names)s into this account.") % {"names": names},
    )
    timeline_add(
        record=survivor,
        kind="merged",
        text=_("Merged %(names)s into this account.") % {"names": names},
        actor=actor,
        account_id=survivor.pk,
        data={"merged": merged_ids},
    )
    duplicate_keys_refresh(survivor)
    return survivor


@transaction.atomic
def contact_merge(
    *,
    survivor_id: int,
    merged_ids: list[int],
    actor: User,
    choices: dict[str, int] | None = None,
) -> Contact:
    merged_ids = [pk for pk in dict.fromkeys(merged_ids) if pk != survivor_id]
    if not merged_ids:
        raise ValidationError(_("Choose at least two different contacts to merge."))
    records = _load_editable(Contact, [survivor_id, *merged_ids], actor)
    survivor = records[survivor_id]
    data = _chosen_values(
        survivor=survivor, records=records, choices=choices or {}, allowed=CONTACT_MERGE_FIELDS
    )
    if data:
        record_update(instance=survivor, data=data, actor=actor)
    digits = set(survivor.phones.values_list("digits", flat=True))
    for phone in ContactPhone.objects.filter(contact_id__in=merged_ids):
        if phone.digits in digits:
            phone.delete()
        else:
            digits.add(phone.digits)
            ContactPhone.objects.filter(pk=phone.pk).update(contact=survivor, is_primary=False)
    addresses = {a.lower() for a in survivor.emails.values_list("address", flat=True)}
    for email in ContactEmail.objects.filter(contact_id__in=merged_ids):
        if email.address.lower() in addresses:
            email.delete()
        else:
            addresses.add(email.address.lower())
            ContactEmail.objects.filter(pk=email.pk).update(contact=survivor, is_primary=False)
    linked = set(
        AccountContact.objects.filter(contact=survivor).values_list("account_id", flat=True)
    )
    for link in AccountContact.objects.filter(contact_id__in=merged_ids):
        if link.account_id in linked:
            record_delete(instance=link, actor=actor)
        else:
            AccountContact.all_objects.filter(pk=link.pk).update(contact=survivor)
            linked.add(link.account_id)
    for relation in ContactRelation.objects.filter(
        models.Q(from_contact_id__in=merged_ids) | models.Q(to_contact_id__in=merged_ids)
    ):
        source = survivor.pk if relation.from_contact_id in merged_ids else relation.from_contact_id
        target = survivor.pk if relation.to_contact_id in merged_ids else relation.to_contact_id
        exists = ContactRelation.objects.filter(
            from_contact_id=source, to_contact_id=target, kind=relation.kind
        ).exists()
        if source == target or exists:
            relation.delete()
        else:
            ContactRelation.objects.filter(pk=relation.pk).update(
                from_contact_id=source, to_contact_id=target
            )
    Account.all_objects.filter(person_id__in=merged_ids).update(person=survivor)
    _move_generic(Contact, survivor, merged_ids)
    merged_records = [records[pk] for pk in merged_ids]
    for hook in _merge_hooks.get(Contact._meta.label_lower, []):
        hook(survivor=survivor, merged=merged_records, actor=actor)
    for record in merged_records:
        record.refresh_from_db()
        record_delete(instance=record, actor=actor)
        duplicate_keys_refresh(record)
    names = ", ".join(record.name for record in merged_records)
    audit_record(
        instance=survivor,
        action=ChangeAction.UPDATE,
        actor=actor,
        after={"merged": merged_ids},
        message=_("Merged %(names)s into this contact.") % {"names": names},
    )
    duplicate_keys_refresh(survivor)
    return survivor
