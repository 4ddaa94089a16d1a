"""Rendering the registered sections of the account 360° page."""

from __future__ import annotations

from django import template
from django.template.loader import get_template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_account_section(context, section: dict) -> str:
    """Render a section (an item of `render_sections`) with the page's context plus the
    section's own context (its keys become template variables)."""
    values = context.flatten()
    values.update(section.get("context") or {})
    values["section"] = section
    # The page context already holds what the context processors give (csrf_token,
    # request, ...): render without the request so they do not run again per section.
    return get_template(section["template"]).render(values)
