"""What lead records register with core, customers and activities: search (the name read as
a personal name), the duplicate check (leads compared with leads, contacts and accounts),
activities and follow-ups about leads, the list/detail pages, the API and imports."""

from guanxi.activities.regarding import register_regarding
from guanxi.core.search.registry import register_search
from guanxi.customers import matching
from guanxi.customers.duplicates import DuplicateSource, register_duplicate_source
from guanxi.leads.models import Lead


def describe_lead(lead: Lead) -> dict:
    return {
        "name": lead.name,
        "phones": [lead.phone] if lead.phone else [],
        "emails": [lead.email] if lead.email else [],
        "kind": matching.PERSON,
    }


def _converted_account(lead: Lead) -> int | None:
    return lead.converted_account_id


def _converted_contact(lead: Lead) -> int | None:
    return lead.converted_contact_id


def _subtitle(lead: Lead) -> str:
    # Company and status, never the phone: roles that see contact details masked search too.
    return " · ".join(part for part in (lead.company, lead.get_status_display()) if part)


register_duplicate_source(DuplicateSource(model=Lead, describe=describe_lead))
register_regarding(Lead, account_id=_converted_account, contact_id=_converted_contact)
register_search(
    Lead,
    title="name",
    person_fields=["name"],
    fields=["company", "title", "wechat"],
    phone_fields=["phone"],
    email_fields=["email"],
    subtitle=_subtitle,
)

# The pages, the API and the import resource register themselves when imported.
from guanxi.leads import resources as _resources  # noqa: E402, F401
from guanxi.leads.api import leads as _api  # noqa: E402, F401
from guanxi.leads.views import leads as _views  # noqa: E402, F401
