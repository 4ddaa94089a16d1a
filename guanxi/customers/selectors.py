"""Reads of the customers module; each starts from the user's data scope."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet

from guanxi.core.models import User
from guanxi.core.pdf import Address
from guanxi.customers.groups import conditions_q
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactEmail,
    ContactRelation,
    Group,
)


def account_list(*, user: User) -> QuerySet[Account]:
    return Account.objects.visible_to(user).select_related(
        "owner", "department", "industry", "status", "level"
    )


def contact_list(*, user: User) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("owner", "department")


def account_contacts(*, account: Account, user: User) -> QuerySet[AccountContact]:
    """The account's contact links the user may see, with the contact and its phones."""
    return (
        AccountContact.objects.visible_to(user)
        .filter(account=account, contact__is_deleted=False)
        .select_related("contact", "role")
        .prefetch_related("contact__phones", "contact__emails")
    )


def group_members(*, group: Group, user: User) -> QuerySet[Account]:
    """The group's accounts the user may see: a static list, or the saved filter."""
    accounts = Account.objects.visible_to(user)
    if group.kind == Group.Kind.DYNAMIC:
        return accounts.filter(conditions_q(group.conditions))
    return accounts.filter(group_members__group=group)


def account_groups(*, account: Account, user: User) -> list[Group]:
    """Static groups the account is in, plus dynamic groups whose filter matches it.

    Every dynamic group's filter is tested in one statement (a conditional count per
    group), so the account page does not run a query per group.
    """
    static = list(
        Group.objects.visible_to(user).filter(kind=Group.Kind.STATIC, members__account=account)
    )
    dynamic = list(Group.objects.visible_to(user).filter(kind=Group.Kind.DYNAMIC))
    if not dynamic:
        return static
    checks = {}
    for group in dynamic:
        try:
            checks[f"g{group.pk}"] = Count("pk", filter=conditions_q(group.conditions))
        except ValidationError:
            continue  # a group saved before a condition field went away matches nothing
    matched = Account.objects.filter(pk=account.pk).aggregate(**checks) if checks else {}
    return [*static, *(group for group in dynamic if matched.get(f"g{group.pk}"))]


def relationship_graph(*, account: Account, user: User) -> dict:
    """Nodes (the account's contacts, coloured by role) and edges (their relations)."""
    links = list(account_contacts(account=account, user=user))
    contact_ids = {link.contact_id for link in links}
    relations = ContactRelation.objects.filter(
        from_contact_id__in=contact_ids, to_contact_id__in=contact_ids
    )
    nodes = [
        {
            "id": link.contact_id,
            "name": link.contact.name,
            "title": link.job_title,
            "role": link.role.value if link.role else "",
            "role_label": link.role.label if link.role else "",
            "primary": link.is_primary,
        }
        for link in links
    ]
    edges = [
        {
            "source": relation.from_contact_id,
            "target": relation.to_contact_id,
            "kind": relation.kind,
            "label": relation.get_kind_display(),
        }
        for relation in relations
    ]
    return {"nodes": nodes, "edges": edges}


def account_email_addresses(*, user, accounts) -> list[dict]:
    """[{address, name, account}] of the accounts and their contacts the user may see,
    each address once (case-insensitive), accounts first."""
    found: dict[str, dict] = {}
    for account in accounts:
        if account.email:
            found.setdefault(
                account.email.casefold(),
                {"address": account.email, "name": account.name, "account": account.name},
            )
    links = (
        AccountContact.objects.visible_to(user)
        .filter(account__in=accounts, contact__is_deleted=False)
        .values_list("contact_id", "account__name")
    )
    account_of: dict[int, str] = {}
    for contact_id, account_name in links:
        account_of.setdefault(contact_id, account_name)
    emails = (
        ContactEmail.objects.filter(contact_id__in=list(account_of))
        .select_related("contact")
        .order_by("contact_id", "-is_primary", "id")
    )
    for email in emails:
        found.setdefault(
            email.address.casefold(),
            {
                "address": email.address,
                "name": email.contact.name,
                "account": account_of[email.contact_id],
            },
        )
    return list(found.values())


def account_addresses(*, user, accounts) -> list[Address]:
    """One postal address per account: to its primary contact (the first visible contact
    when none is primary) at the company."""
    people: dict[int, AccountContact] = {}
    for link in (
        AccountContact.objects.visible_to(user)
        .filter(account__in=accounts, contact__is_deleted=False)
        .select_related("contact")
        .order_by("account_id", "-is_primary", "id")
    ):
        people.setdefault(link.account_id, link)
    result = []
    for account in accounts:
        link = people.get(account.pk)
        individual = account.kind == Account.Kind.INDIVIDUAL
        name = link.contact.name if link else (account.name if individual else "")
        result.append(
            Address(
                name=name,
                title=(link.job_title if link and not individual else ""),
                company="" if individual else account.name,
                lines=[account.address] if account.address else [],
                postcode=account.postcode,
                province=account.province,
                city=account.city,
                district=account.district,
            )
        )
    return result
