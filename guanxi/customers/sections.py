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


@dataclass(frozen=True)
class AccountSection:
    key: str
    title: Any
    template: str
    context: Callable[..., dict]  # (*, account, user) -> dict for the template
    order: int = 100
    column: str = "main"  # "main" or "side"


_sections: dict[str, AccountSection] = {}


def register_account_section(section: AccountSection) -> None:
    _sections[section.key] = section


def account_sections(*, column: str | None = None) -> list[AccountSection]:
    sections = sorted(_sections.values(), key=lambda s: (s.order, s.key))
    return [s for s in sections if column is None or s.column == column]


def render_sections(*, account: models.Model, user) -> list[dict]:
    """Each section with its context, in order, ready for the page to include."""
    return [
        {
            "key": section.key,
            "title": section.title,
            "template": section.template,
            "column": section.column,
            "context": section.context(account=account, user=user),
        }
        for section in account_sections()
    ]


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
