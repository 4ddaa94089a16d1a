"""Opportunity makers for tests and the data-scope leak test."""

from __future__ import annotations

from decimal import Decimal

from guanxi.core.models import User
from guanxi.core.scope import can
from guanxi.core.tests.leak import register_leak_maker
from guanxi.customers.models import Account
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import Opportunity
from guanxi.sales.services.opportunities import opportunity_create


def _owners_account(owner, label, actor):
    """The owner's first account (an opportunity is seen with its customer, so the customer
    must be the owner's too); made when the owner has none."""
    account = Account.all_objects.filter(owner=owner, is_deleted=False).order_by("pk").first()
    return account or make_account(owner=owner, label=f"{label}-account", actor=actor)


def _administrator():
    return User.objects.filter(roles__code="admin", is_active=True).order_by("pk").first()


def make_opportunity(*, owner, label, actor, account=None, **data):
    """An opportunity owned by `owner` (None: nobody's) on one of the owner's accounts.
    Roles that may not add opportunities (finance, read-only) get theirs from an
    administrator."""
    if not can(actor, Opportunity, "add"):
        actor = _administrator()
    account = account or _owners_account(owner, label, actor)
    values = {
        "name": label,
        "account": account,
        "owner": owner,
        "amount": Decimal("10000"),
        **data,
    }
    if "department" not in values and "department_id" not in values:
        values["department_id"] = owner.department_id if owner else None
    return opportunity_create(actor=actor, data=values)


register_leak_maker(Opportunity, make_opportunity)
