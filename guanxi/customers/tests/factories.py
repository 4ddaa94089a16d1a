from guanxi.core.services.records import record_create
from guanxi.core.tests.leak import register_leak_maker
from guanxi.customers.models import Account


def make_account(*, owner, label, actor, **data):
    return record_create(
        model=Account,
        data={"name": label, "owner": owner, **data},
        actor=actor,
    )


register_leak_maker(Account, make_account)


def make_contact(*, owner, label, actor, **data):
    from guanxi.customers.models import Contact

    return record_create(model=Contact, data={"name": label, "owner": owner, **data}, actor=actor)


def make_account_contact(*, owner, label, actor):
    """A link shows `label` as its job title; it reuses the owner's leak-test account and
    contact when there are (so the account and contact lists keep exactly their records)."""
    from guanxi.customers.models import AccountContact, Contact

    account = Account.all_objects.filter(owner=owner).order_by("pk").first()
    if account is None:
        account = make_account(owner=owner, label=f"{label}-account", actor=actor)
    contact = Contact.all_objects.filter(owner=owner).order_by("pk").first()
    if contact is None:
        contact = make_contact(owner=owner, label=f"{label}-contact", actor=actor)
    return record_create(
        model=AccountContact,
        data={
            "account": account,
            "contact": contact,
            "job_title": label,
            "owner": owner,
            "department": account.department,
        },
        actor=actor,
    )


def make_group(*, owner, label, actor, **data):
    from guanxi.customers.models import Group

    return record_create(model=Group, data={"name": label, "owner": owner, **data}, actor=actor)


def _register_contact_makers():
    from guanxi.customers.models import AccountContact, Contact, Group

    register_leak_maker(Contact, make_contact)
    register_leak_maker(AccountContact, make_account_contact)
    register_leak_maker(Group, make_group)


_register_contact_makers()


def classified_account(*, actor, name: str, account_manager, **data) -> Account:
    """An account with the lookups its pages and API show set: industry IT, status "deal",
    level "key" and an account manager (plus any other `data`)."""
    from guanxi.core.tests.factories import picklist_option
    from guanxi.customers.services import account_create

    return account_create(
        actor=actor,
        data={
            "name": name,
            "industry": picklist_option("industry", "it"),
            "status": picklist_option("account_status", "deal"),
            "level": picklist_option("customer_level", "key"),
            "account_manager": account_manager,
            **data,
        },
    )
