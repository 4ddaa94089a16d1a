"""Template helpers of the generic record views."""

from __future__ import annotations

from typing import Any

from django import template

from guanxi.core.models import CustomFieldType

register = template.Library()


def custom_value_display(custom_field, value: Any, users: dict[int, Any] | None = None) -> Any:
    """A custom field's stored value as what a reader should see (labels, names)."""
    from guanxi.core.forms.generic import custom_choices, custom_initial

    if value is None or value == "" or value == []:
        return None
    kind = custom_field.field_type
    if kind in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE):
        labels = dict(custom_choices(custom_field))
        if isinstance(value, list):
            return [labels.get(str(item), str(item)) for item in value]
        return labels.get(str(value), str(value))
    if kind == CustomFieldType.USER:
        if users is not None:
            return users.get(value, value)
        from guanxi.core.models import User

        return User.objects.filter(pk=value).first() or value
    if kind == CustomFieldType.BOOLEAN:
        return bool(value)
    if kind in (CustomFieldType.DATE, CustomFieldType.DATETIME):
        return custom_initial(custom_field, value) or value
    return value


@register.filter
def display(value: Any) -> str:
    """Format any value for reading: "—" when empty, Yes/No, local dates, lists."""
    from guanxi.core.views.registry import format_value

    return format_value(value)


@register.filter
def cell(record, column) -> Any:
    return column.value(record)


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def add_class(bound_field, css: str):
    return bound_field.as_widget(attrs={"class": css})


@register.simple_tag
def url_for(registration, kind: str, *args: Any) -> str:
    return registration.url(kind, *args)
