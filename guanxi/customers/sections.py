"""The sections of the account 360° page, registered by the apps that own their data.

Customers registers contacts, groups, membership, shares, attachments and the timeline;
sales adds opportunities/quotes/orders/payments, service adds tickets and installed
products, marketing adds campaigns — each by calling `register_account_section`, so the
account page never needs editing when a module lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse


@dataclass(frozen=True)
class AccountSection:
    key: str
    title: Any
    template: str
    context: Callable[..., dict]  # (*, account, user) -> dict for the template
    order: int = 100
    column: str = "main"  # "main" or "side"
    # True: the account page leaves the section out of its first answer and loads it when
    # it scrolls into view (`account_section`). For sections below the first screen that
    # need reads of their own; the page is answered sooner and unread sections cost nothing.
    lazy: bool = False


_sections: dict[str, AccountSection] = {}


def register_account_section(section: AccountSection) -> None:
    _sections[section.key] = section


def account_sections(*, column: str | None = None) -> list[AccountSection]:
    sections = sorted(_sections.values(), key=lambda s: (s.order, s.key))
    return [s for s in sections if column is None or s.column == column]


def account_section(key: str) -> AccountSection | None:
    return _sections.get(key)


def section_item(section: AccountSection, *, account: models.Model, user) -> dict:
    """A section with its context, ready for the page (or its own request) to include."""
    return {
        "key": section.key,
        "title": section.title,
        "template": section.template,
        "column": section.column,
        "lazy": False,
        "context": section.context(account=account, user=user),
    }


def render_sections(*, account: models.Model, user) -> list[dict]:
    """Each section in order: eager ones with their context, lazy ones with the address
    that answers them."""
    items = []
    for section in account_sections():
        if section.lazy:
            items.append(
                {
                    "key": section.key,
                    "title": section.title,
                    "template": section.template,
                    "column": section.column,
                    "lazy": True,
                    "url": reverse("customers:account_section", args=[account.pk, section.key]),
                }
            )
        else:
            items.append(section_item(section, account=account, user=user))
    return items


# --- the contact page ------------------------------------------------------------------------
# Sections of the contact page work the same way; their `context` is called with
# (*, contact, user). The activities app adds its open activities, history and follow-ups.
_contact_sections: dict[str, AccountSection] = {}


def register_contact_section(section: AccountSection) -> None:
    _contact_sections[section.key] = section


def render_contact_sections(*, contact: models.Model, user) -> list[dict]:
    return [
        {
            "key": section.key,
            "title": section.title,
            "template": section.template,
            "column": section.column,
            "context": section.context(contact=contact, user=user),
        }
        for section in sorted(_contact_sections.values(), key=lambda s: (s.order, s.key))
    ]
