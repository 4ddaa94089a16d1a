"""Masking of phone numbers and e-mails in templates (see ``guanxi.core.masking``).

{% load masking %}
{{ account.phone|mask_phone:request.user }}      real value or 138****5678
{{ contact.email|mask_email:request.user }}
{% masked_value account.phone "phone" reveal_url %}  masked, with a reveal button
"""

from __future__ import annotations

from typing import Any

from django import template

from guanxi.core.masking import EMAIL, PHONE, contact_details_visible, mask

register = template.Library()


@register.filter
def mask_phone(value: Any, user: Any = None) -> Any:
    """The phone as the user may see it; without a user, always masked."""
    if user is not None and contact_details_visible(user):
        return value
    return mask(PHONE, value)


@register.filter
def mask_email(value: Any, user: Any = None) -> Any:
    if user is not None and contact_details_visible(user):
        return value
    return mask(EMAIL, value)


@register.filter
def details_visible(user: Any) -> bool:
    return contact_details_visible(user)


@register.inclusion_tag("core/masking/masked_value.html", takes_context=True)
def masked_value(context, value: Any, kind: str = PHONE, reveal_url: str = "") -> dict:
    """The value for users who may see it; otherwise the masked value and, when there is a
    reveal URL, a button that POSTs to it (htmx) and shows the real value in its place."""
    request = context.get("request")
    user = getattr(request, "user", None)
    visible = contact_details_visible(user)
    return {
        "value": value,
        "kind": kind,
        "masked": value if visible else mask(kind, value),
        "is_masked": bool(value) and not visible,
        "reveal_url": reveal_url,
    }
