"""What customers registers with core: search, generic views."""

from guanxi.core.search.registry import register_search
from guanxi.customers.models import Account


def _person_name(account: Account) -> str:
    """An individual customer's name is a personal name: read its surname as a surname."""
    return account.name if account.kind == Account.Kind.INDIVIDUAL else ""


register_search(
    Account,
    title="name",
    person_fields=[_person_name],
    phone_fields=["phone"],
    email_fields=["email"],
    subtitle=lambda account: account.phone or account.email,
)
