"""Every write of the customers module: accounts, contacts, their links and relations,
groups and the membership points ledger. Each builds on core's audited record helpers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from guanxi.core.models import ChangeAction, User
from guanxi.core.phones import email_normalise, phone_normalise
from guanxi.core.search import index_object
from guanxi.core.services.records import (
    audit_record,
    record_assign,
    record_bulk_create,
    record_create,
    record_delete,
    record_update,
    timeline_add,
)
from guanxi.customers.duplicates import duplicate_keys_create_many, duplicate_keys_refresh
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactRelation,
    Group,
    GroupMember,
    LifecycleStage,
    MembershipLevel,
    PointsEntry,
)

# ---------------------------------------------------------------------------------------
# Accounts

# Higher apps react to accounts being created or changed (e.g. sales gives territories):
# fn(*, accounts: list[Account], actor: User), called inside the service's transaction.
_account_saved_hooks: list = []


def register_account_saved_hook(fn) -> None:
    if fn not in _account_saved_hooks:
        _account_saved_hooks.append(fn)


def _account_saved(accounts: list[Account], actor: User) -> None:
    for hook in _account_saved_hooks:
        hook(accounts=accounts, actor=actor)


def normalise_contact_points(data: dict[str, Any]) -> dict[str, Any]:
    """`phone` shown formatted with `phone_digits` beside it, `email` lower-cased; each
    invalid one reported on its field. Shared by every record with a phone and e-mail."""
    data = dict(data)
    errors: dict[str, list[str]] = {}
    if data.get("phone"):
        try:
            phone = phone_normalise(data["phone"])
            data["phone"] = phone.display
            data["phone_digits"] = phone.digits
        except ValidationError as error:
            errors["phone"] = error.messages
    elif "phone" in data:
        data["phone_digits"] = ""
    if data.get("email"):
        try:
            data["email"] = email_normalise(data["email"])
        except ValidationError as error:
            errors["email"] = error.messages
    if errors:
        raise ValidationError(errors)
    return data


def _lifecycle_text(old: str, new: str) -> str:
    return _("Lifecycle stage changed from %(old)s to %(new)s.") % {
        "old": LifecycleStage(old).label if old else "-",
        "new": LifecycleStage(new).label,
    }


@transaction.atomic
def account_create(
    *, actor: User, data: dict[str, Any], custom_data: dict | None = None
) -> Account:
    """Create an account. An individual account gets its own contact (one person)."""
    data = normalise_contact_points(data)
    account = record_create(model=Account, data=data, actor=actor, custom_data=custom_data)
    if account.kind == Account.Kind.INDIVIDUAL:
        _individual_person_sync(account=account, actor=actor)
    duplicate_keys_refresh(account)
    _account_saved([account], actor)
    return account


@transaction.atomic
def account_bulk_create(
    *, actor: User, items: list[tuple[dict[str, Any], dict | None]]
) -> list[Account | ValidationError]:
    """Create many accounts at once (imports): the same normalisation, validation, audit
    and duplicate keys as `account_create`, written in bulk. Returns per item the account
    or the ValidationError that refused it."""
    results: list[Account | ValidationError | None] = [None] * len(items)
    bulk_positions, bulk_items = [], []
    for position, (data, custom_data) in enumerate(items):
        try:
            data = normalise_contact_points(data)
        except ValidationError as error:
            results[position] = error
            continue
        if data.get("kind") == Account.Kind.INDIVIDUAL:
            # An individual is also a contact: the one-by-one path keeps them in step.
            try:
                with transaction.atomic():
                    results[position] = account_create(
                        actor=actor, data=data, custom_data=custom_data
                    )
            except ValidationError as error:
                results[position] = error
            continue
        bulk_positions.append(position)
        bulk_items.append((data, custom_data))
    created = record_bulk_create(model=Account, items=bulk_items, actor=actor)
    for position, outcome in zip(bulk_positions, created, strict=True):
        results[position] = outcome
    duplicate_keys_create_many([r for r in created if isinstance(r, Account)])
    _account_saved([r for r in created if isinstance(r, Account)], actor)
    return results


@transaction.atomic
def account_update(
    *,
    account: Account,
    actor: User,
    data: dict[str, Any],
    version: int | None = None,
    custom_data: dict | None = None,
) -> Account:
    data = normalise_contact_points(data)
    old_stage = account.lifecycle_stage
    account = record_update(
        instance=account, data=data, actor=actor, version=version, custom_data=custom_data
    )
    if account.lifecycle_stage != old_stage:
        timeline_add(
            record=account,
            kind="lifecycle_changed",
            text=_lifecycle_text(old_stage, account.lifecycle_stage),
            actor=actor,
            account_id=account.pk,
            data={"from": old_stage, "to": account.lifecycle_stage},
        )
    if account.kind == Account.Kind.INDIVIDUAL:
        _individual_person_sync(account=account, actor=actor)
    duplicate_keys_refresh(account)
    _account_saved([account], actor)
    return account


def _individual_person_sync(*, account: Account, actor: User) -> None:
    """Keep an individual account and its own contact the same person."""
    person = account.person
    fields = {"name": account.name, "owner": account.owner, "department": account.department}
    if person is None:
        person = record_create(model=Contact, data=fields, actor=actor)
        Account.all_objects.filter(pk=account.pk).update(person=person)
        account.person = person
        account_contact_link(account=account, contact=person, actor=actor, is_primary=True)
    elif any(getattr(person, name) != value for name, value in fields.items()):
        record_update(instance=person, data=fields, actor=actor)
    if account.phone:
        contact_set_phones(
            contact=person, phones=[{"number": account.phone, "kind": "mobile"}], actor=actor
        )
    if account.email:
        contact_set_emails(
            contact=person, emails=[{"address": account.email, "kind": "home"}], actor=actor
        )


@transaction.atomic
def account_delete(*, account: Account, actor: User, version: int | None = None) -> None:
    record_delete(instance=account, actor=actor, version=version)
    for link in AccountContact.objects.filter(account=account):
        record_delete(instance=link, actor=actor)
    duplicate_keys_refresh(account)


@transaction.atomic
def account_assign(
    *,
    account: Account,
    owner: User,
    actor: User,
    reason: str = "",
    version: int | None = None,
) -> Account:
    """Transfer an account; its contact links follow so they stay in the new owner's scope."""
    if not owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    record_assign(instance=account, owner=owner, actor=actor, reason=reason, version=version)
    AccountContact.objects.filter(account=account).update(
        owner=owner, department_id=owner.department_id
    )
    return account


# ---------------------------------------------------------------------------------------
# Contacts, their phones and e-mails


def _clean_points(items: list[dict], *, key: str, normalise) -> list[dict]:
    cleaned, errors, seen = [], [], set()
    for position, item in enumerate(items, start=1):
        raw = (item.get(key) or "").strip()
        if not raw:
            continue
        try:
            value = normalise(raw)
        except ValidationError as error:
            errors.append(f"{position}: {' '.join(error.messages)}")
            continue
        marker = value.digits if hasattr(value, "digits") else value.lower()
        if marker in seen:
            continue
        seen.add(marker)
        cleaned.append({**item, key: value})
    if errors:
        raise ValidationError({f"{key}s" if key == "number" else "emails": errors})
    if cleaned and not any(item.get("is_primary") for item in cleaned):
        cleaned[0]["is_primary"] = True
    return cleaned


@transaction.atomic
def contact_set_phones(*, contact: Contact, phones: list[dict], actor: User) -> None:
    """Replace the contact's phone numbers (each: number, kind, is_primary)."""
    cleaned = _clean_points(phones, key="number", normalise=phone_normalise)
    before = sorted(contact.phones.values_list("number", flat=True))
    contact.phones.all().delete()
    ContactPhone.objects.bulk_create(
        [
            ContactPhone(
                contact=contact,
                kind=item.get("kind") or "mobile",
                number=item["number"].display,
                e164=item["number"].e164,
                digits=item["number"].digits,
                is_primary=bool(item.get("is_primary")),
            )
            for item in cleaned
        ]
    )
    after = sorted(item["number"].display for item in cleaned)
    if before != after:
        audit_record(
            instance=contact,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"phones": before},
            after={"phones": after},
        )
    index_object(contact)  # the search index reads the phones


@transaction.atomic
def contact_set_emails(*, contact: Contact, emails: list[dict], actor: User) -> None:
    cleaned = _clean_points(emails, key="address", normalise=email_normalise)
    before = sorted(contact.emails.values_list("address", flat=True))
    contact.emails.all().delete()
    ContactEmail.objects.bulk_create(
        [
            ContactEmail(
                contact=contact,
                kind=item.get("kind") or "work",
                address=item["address"],
                is_primary=bool(item.get("is_primary")),
            )
            for item in cleaned
        ]
    )
    after = sorted(item["address"] for item in cleaned)
    if before != after:
        audit_record(
            instance=contact,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"emails": before},
            after={"emails": after},
        )
    index_object(contact)  # the search index reads the e-mails


@transaction.atomic
def contact_create(
    *,
    actor: User,
    data: dict[str, Any],
    phones: list[dict] | None = None,
    emails: list[dict] | None = None,
    custom_data: dict | None = None,
    account: Account | None = None,
    role=None,
    job_title: str = "",
    is_primary: bool = False,
) -> Contact:
    contact = record_create(model=Contact, data=data, actor=actor, custom_data=custom_data)
    if phones:
        contact_set_phones(contact=contact, phones=phones, actor=actor)
    if emails:
        contact_set_emails(contact=contact, emails=emails, actor=actor)
    duplicate_keys_refresh(contact)
    if account is not None:
        account_contact_link(
            account=account,
            contact=contact,
            actor=actor,
            role=role,
            job_title=job_title or contact.title,
            is_primary=is_primary,
        )
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: User,
    data: dict[str, Any],
    version: int | None = None,
    phones: list[dict] | None = None,
    emails: list[dict] | None = None,
    custom_data: dict | None = None,
) -> Contact:
    contact = record_update(
        instance=contact, data=data, actor=actor, version=version, custom_data=custom_data
    )
    if phones is not None:
        contact_set_phones(contact=contact, phones=phones, actor=actor)
    if emails is not None:
        contact_set_emails(contact=contact, emails=emails, actor=actor)
    duplicate_keys_refresh(contact)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User, version: int | None = None) -> None:
    record_delete(instance=contact, actor=actor, version=version)
    for link in AccountContact.objects.filter(contact=contact):
        record_delete(instance=link, actor=actor)
    duplicate_keys_refresh(contact)


# ---------------------------------------------------------------------------------------
# Account-contact links and contact relations


@transaction.atomic
def account_contact_link(
    *,
    account: Account,
    contact: Contact,
    actor: User,
    role=None,
    job_title: str = "",
    is_primary: bool = False,
) -> AccountContact:
    """Put a contact at an account (with a role). The link is owned like its account."""
    if AccountContact.objects.filter(account=account, contact=contact).exists():
        raise ValidationError(_("This contact is already linked to this account."))
    link = record_create(
        model=AccountContact,
        data={
            "account": account,
            "contact": contact,
            "role": role,
            "job_title": job_title,
            "is_primary": is_primary,
            "owner": account.owner,
            "department": account.department,
        },
        actor=actor,
    )
    if is_primary:
        _only_primary(link)
    timeline_add(
        record=account,
        kind="contact_linked",
        text=_("%(contact)s linked as %(role)s.")
        % {"contact": contact, "role": role.label if role else _("contact")},
        actor=actor,
        account_id=account.pk,
    )
    return link


def _only_primary(link: AccountContact) -> None:
    AccountContact.objects.filter(account_id=link.account_id).exclude(pk=link.pk).update(
        is_primary=False
    )


@transaction.atomic
def account_contact_update(
    *, link: AccountContact, actor: User, data: dict[str, Any], version: int | None = None
) -> AccountContact:
    allowed = {"role", "job_title", "is_primary"}
    if set(data) - allowed:
        raise ValidationError(_("Only the role, job title and primary flag can be changed."))
    link = record_update(instance=link, data=data, actor=actor, version=version)
    if link.is_primary:
        _only_primary(link)
    return link


@transaction.atomic
def account_contact_unlink(
    *, link: AccountContact, actor: User, version: int | None = None
) -> None:
    record_delete(instance=link, actor=actor, version=version)


@transaction.atomic
def contact_relation_add(
    *, from_contact: Contact, to_contact: Contact, kind: str, actor: User
) -> ContactRelation:
    if from_contact.pk == to_contact.pk:
        raise ValidationError(_("A contact cannot be related to itself."))
    if kind not in ContactRelation.Kind.values:
        raise ValidationError({"kind": [_("Choose a relation.")]})
    relation, created = ContactRelation.objects.get_or_create(
        from_contact=from_contact, to_contact=to_contact, kind=kind
    )
    if created:
        audit_record(
            instance=from_contact,
            action=ChangeAction.UPDATE,
            actor=actor,
            after={"relation": str(relation)},
        )
    return relation


@transaction.atomic
def contact_relation_remove(*, relation: ContactRelation, actor: User) -> None:
    audit_record(
        instance=relation.from_contact,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"relation": str(relation)},
    )
    relation.delete()


# ---------------------------------------------------------------------------------------
# Groups


@transaction.atomic
def group_create(*, actor: User, data: dict[str, Any]) -> Group:
    from guanxi.customers.groups import conditions_validate

    if data.get("kind") == Group.Kind.DYNAMIC:
        conditions_validate(data.get("conditions") or {})
    return record_create(model=Group, data=data, actor=actor)


@transaction.atomic
def group_update(
    *, group: Group, actor: User, data: dict[str, Any], version: int | None = None
) -> Group:
    from guanxi.customers.groups import conditions_validate

    kind = data.get("kind", group.kind)
    if kind == Group.Kind.DYNAMIC:
        conditions_validate(data.get("conditions", group.conditions) or {})
    return record_update(instance=group, data=data, actor=actor, version=version)


@transaction.atomic
def group_add_accounts(*, group: Group, accounts: list[Account], actor: User) -> int:
    """Add accounts to a static group; returns how many were new."""
    if group.kind != Group.Kind.STATIC:
        raise ValidationError(_("Members of a dynamic group come from its filter."))
    existing = set(
        GroupMember.objects.filter(group=group, account__in=accounts).values_list(
            "account_id", flat=True
        )
    )
    new = [account for account in accounts if account.pk not in existing]
    GroupMember.objects.bulk_create(
        [GroupMember(group=group, account=account, added_by=actor) for account in new]
    )
    if new:
        audit_record(
            instance=group,
            action=ChangeAction.UPDATE,
            actor=actor,
            after={"members_added": [account.pk for account in new]},
        )
    return len(new)


@transaction.atomic
def group_remove_accounts(*, group: Group, accounts: list[Account], actor: User) -> int:
    removed, _details = GroupMember.objects.filter(group=group, account__in=accounts).delete()
    if removed:
        audit_record(
            instance=group,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"members_removed": [account.pk for account in accounts]},
        )
    return removed


# ---------------------------------------------------------------------------------------
# Membership points


def _recompute_membership(account: Account) -> None:
    balance = account.points_entries.aggregate(total=Sum("points"))["total"] or 0
    level = MembershipLevel.objects.filter(threshold__lte=max(balance, 0)).last()
    Account.all_objects.filter(pk=account.pk).update(points=balance, membership_level=level)
    account.points = balance
    account.membership_level = level


@transaction.atomic
def points_record(
    *, account: Account, kind: str, points: int, reason: str, actor: User | None
) -> PointsEntry:
    """Add a line to the points ledger and recompute the balance and level from it.

    `points` is given positive; redeeming and expiring subtract it. An adjustment may be
    negative.
    """
    if kind not in PointsEntry.Kind.values:
        raise ValidationError({"kind": [_("Choose earn, redeem, adjust or expire.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason.")]})
    points = int(points)
    if kind != PointsEntry.Kind.ADJUST and points <= 0:
        raise ValidationError({"points": [_("Enter a positive number of points.")]})
    signed = -points if kind in (PointsEntry.Kind.REDEEM, PointsEntry.Kind.EXPIRE) else points
    Account.all_objects.select_for_update().filter(pk=account.pk).first()
    balance = account.points_entries.aggregate(total=Sum("points"))["total"] or 0
    if kind == PointsEntry.Kind.REDEEM and balance + signed < 0:
        raise ValidationError(
            {"points": [_("Only %(balance)s points are available.") % {"balance": balance}]}
        )
    old_level = account.membership_level
    entry = PointsEntry.objects.create(
        account=account, kind=kind, points=signed, reason=reason.strip(), actor=actor
    )
    _recompute_membership(account)
    audit_record(
        instance=account,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"points": balance},
        after={"points": account.points},
        message=reason,
    )
    if account.membership_level != old_level:
        timeline_add(
            record=account,
            kind="membership_changed",
            text=_("Membership level is now %(level)s.")
            % {"level": account.membership_level or "-"},
            actor=actor,
            account_id=account.pk,
        )
    return entry


# ---------------------------------------------------------------------------------------
# Membership levels (administrators)

MEMBERSHIP_LEVEL_FIELDS = ("name_zh", "name_en", "threshold", "discount_percent")


@transaction.atomic
def membership_level_save(
    *, actor: User, data: dict[str, Any], level: MembershipLevel | None = None
) -> MembershipLevel:
    """Create or change a membership level (administrators only). Accounts move to a new
    level the next time their points change."""
    from guanxi.core.exceptions import ActionNotAllowed
    from guanxi.core.scope import is_administrator

    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change membership levels."))
    unknown = set(data) - set(MEMBERSHIP_LEVEL_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
    creating = level is None
    level = level or MembershipLevel()
    before = {name: str(getattr(level, name)) for name in data} if not creating else None
    for name, value in data.items():
        setattr(level, name, value)
    level.full_clean()
    level.save()
    audit_record(
        instance=level,
        action=ChangeAction.CREATE if creating else ChangeAction.UPDATE,
        actor=actor,
        before=before,
        after={name: str(getattr(level, name)) for name in data},
    )
    return level
