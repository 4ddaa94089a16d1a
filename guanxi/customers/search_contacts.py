"""Contacts in the global search: the name read as a personal name (pinyin, initials), every
phone (from ContactPhone) and every e-mail. The contact services refresh the entry after the
phones or e-mails change."""

from __future__ import annotations

from guanxi.core.search.registry import register_search
from guanxi.customers.models import Contact

MAX_POINTS = 5  # phones / e-mails of one contact that the index reads


def _phones(contact: Contact, *, refresh: bool = False) -> list[str]:
    if refresh or not hasattr(contact, "_search_phones"):
        contact._search_phones = list(
            contact.phones.order_by("-is_primary", "id").values_list("number", flat=True)[
                :MAX_POINTS
            ]
        )
    return contact._search_phones


def _emails(contact: Contact, *, refresh: bool = False) -> list[str]:
    if refresh or not hasattr(contact, "_search_emails"):
        contact._search_emails = list(
            contact.emails.order_by("-is_primary", "id").values_list("address", flat=True)[
                :MAX_POINTS
            ]
        )
    return contact._search_emails


def _nth(reader, position: int):
    # The first source of each kind reads the database again, so a refreshed entry never
    # shows the phones of an earlier index call on the same instance.
    def source(contact: Contact) -> str:
        values = reader(contact, refresh=position == 0)
        return values[position] if position < len(values) else ""

    return source


def _subtitle(contact: Contact) -> str:
    # The job title only: a phone or e-mail here would bypass the masking of contact details.
    return contact.title


register_search(
    Contact,
    title="name",
    person_fields=["name"],
    fields=["title", "wechat"],
    phone_fields=[_nth(_phones, position) for position in range(MAX_POINTS)],
    email_fields=[_nth(_emails, position) for position in range(MAX_POINTS)],
    subtitle=_subtitle,
)
