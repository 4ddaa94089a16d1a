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
    # Place and type, not the phone: roles that see contact details masked read results too.
    subtitle=lambda account: " · ".join(
        part for part in (account.province, account.city, account.get_kind_display()) if part
    ),
)
from guanxi.customers import api_contacts as _api_contacts  # noqa: E402, F401  (contact API)
from guanxi.customers import api_duplicates as _api_duplicates  # noqa: E402, F401  (merge, duplicates API)
from guanxi.customers import duplicate_sources as _duplicate_sources  # noqa: E402, F401
from guanxi.customers import import_duplicates as _import_duplicates  # noqa: E402, F401
from guanxi.customers import resources as _resources  # noqa: E402, F401  (imports/exports)
from guanxi.customers import resources_contacts as _resources_contacts  # noqa: E402, F401  (contacts, links)
from guanxi.customers import search_contacts as _search_contacts  # noqa: E402, F401  (contacts)
