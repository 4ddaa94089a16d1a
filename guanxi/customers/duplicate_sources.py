"""How accounts and contacts describe themselves to the duplicate check."""

from guanxi.customers import matching
from guanxi.customers.duplicates import DuplicateSource, register_duplicate_source
from guanxi.customers.models import Account, Contact


def describe_account(account: Account) -> dict:
    kind = matching.PERSON if account.kind == Account.Kind.INDIVIDUAL else matching.COMPANY
    return {
        "name": account.name,
        "phones": [account.phone] if account.phone else [],
        "emails": [account.email] if account.email else [],
        "kind": kind,
    }


def _describe_contact(contact: Contact) -> dict:
    return {
        "name": contact.name,
        "phones": [phone.number for phone in contact.phones.all()],
        "emails": [email.address for email in contact.emails.all()],
        "kind": matching.PERSON,
    }


register_duplicate_source(
    DuplicateSource(
        model=Account,
        describe=describe_account,
        scan_fields=("id", "name", "kind", "phone", "phone_digits", "email"),
        phone_digits_field="phone_digits",
        email_field="email",
    )
)
register_duplicate_source(
    DuplicateSource(model=Contact, describe=_describe_contact, prefetch=("phones", "emails"))
)
