"""Field-level masking of phone numbers and e-mail addresses (SPEC §1).

A role with ``see_contact_details`` off sees ``138****5678`` and ``z***@example.com``
instead of the real values, in lists, detail pages and the API. Revealing a value is an
explicit action (a POST) and is written to the record's history with the action "reveal".

- :func:`contact_details_visible` — whether the user sees real values (any of their roles
  allows it; superusers always do);
- :func:`shown_phone` / :func:`shown_email` — the value as this user may see it;
- :func:`contact_detail_reveal` — the service behind a reveal button: audits and answers the
  real values.

Templates use the filters of ``guanxi.core.templatetags.masking`` (``{% load masking %}``:
``{{ value|mask_phone:request.user }}``, ``{{ value|mask_email:request.user }}`` and the
``{% masked_value %}`` tag that adds the reveal button).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from guanxi.core.phones import email_mask, phone_mask

PHONE = "phone"
EMAIL = "email"


def contact_details_visible(user: Any) -> bool:
    """Whether the user sees phone numbers and e-mails unmasked (cached on the user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_guanxi_contact_details", None)
    if cached is None:
        from guanxi.core.scope import _roles

        cached = any(role.see_contact_details for role in _roles(user))
        user._guanxi_contact_details = cached
    return cached


def mask(kind: str, value: Any) -> str:
    if not value:
        return ""
    return email_mask(value) if kind == EMAIL else phone_mask(value)


def shown(kind: str, value: Any, user: Any) -> Any:
    """The value itself for a user who may see it, masked otherwise."""
    if not value or contact_details_visible(user):
        return value
    return mask(kind, value)


def shown_phone(value: Any, user: Any) -> Any:
    return shown(PHONE, value, user)


def shown_email(value: Any, user: Any) -> Any:
    return shown(EMAIL, value, user)


def contact_detail_reveal(
    *, instance: models.Model, values: dict[str, Any], actor: Any
) -> dict[str, Any]:
    """Log that `actor` revealed `values` (field name -> real value) of `instance`, and
    answer them. The history names the fields, never the values."""
    from guanxi.core.models import ChangeAction
    from guanxi.core.services.records import audit_record

    fields = sorted(values)
    audit_record(
        instance=instance,
        action=ChangeAction.REVEAL,
        actor=actor,
        after={"revealed": fields},
        message=_("Revealed: %(fields)s") % {"fields": ", ".join(fields)},
    )
    return dict(values)
