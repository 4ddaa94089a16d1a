"""What an activity or follow-up can be *regarding*: accounts and contacts here; leads,
opportunities, tickets and campaigns register themselves when their apps land.

``register_regarding(Model, account_id=fn, contact_id=fn)`` where each ``fn(record)``
answers the id of the account / contact the record concerns (or None), so activities on a
lead or a deal also show on the customer's pages. A model with ``last_followed_up_at`` and
``next_follow_up_at`` columns has them kept by the follow-up service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RegardingType:
    model: type[models.Model]
    account_id: Callable[[models.Model], int | None]
    contact_id: Callable[[models.Model], int | None]

    @property
    def tracks_follow_up(self) -> bool:
        names = {field.name for field in self.model._meta.get_fields()}
        return {"last_followed_up_at", "next_follow_up_at"} <= names


_types: dict[str, RegardingType] = {}


def _none(record: models.Model) -> None:
    return None


def register_regarding(
    model: type[models.Model],
    *,
    account_id: Callable[[models.Model], int | None] = _none,
    contact_id: Callable[[models.Model], int | None] = _none,
) -> None:
    _types[model._meta.label_lower] = RegardingType(
        model=model, account_id=account_id, contact_id=contact_id
    )


def regarding_type(model_or_record) -> RegardingType | None:
    return _types.get(model_or_record._meta.label_lower)


def regarding_types() -> list[RegardingType]:
    return list(_types.values())


def regarding_require(record: models.Model) -> RegardingType:
    found = regarding_type(record)
    if found is None:
        raise ValidationError(_("Activities cannot be linked to this kind of record."))
    return found


def _account_of_account(account) -> int:
    return account.pk


def _account_of_contact(contact) -> int | None:
    from guanxi.customers.models import AccountContact

    return (
        AccountContact.objects.filter(contact_id=contact.pk)
        .order_by("-is_primary", "id")
        .values_list("account_id", flat=True)
        .first()
    )


def _contact_of_account(account) -> int | None:
    # An individual customer is one person: their activities are the contact's too.
    return account.person_id


def _contact_of_contact(contact) -> int:
    return contact.pk


def register_customer_types() -> None:
    from guanxi.customers.models import Account, Contact

    register_regarding(Account, account_id=_account_of_account, contact_id=_contact_of_account)
    register_regarding(Contact, account_id=_account_of_contact, contact_id=_contact_of_contact)
