"""Template helpers of the generic record views."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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


@register.simple_tag
def record_rows(rows: list[dict], selectable: Any) -> SafeString:
    """The list table's rows (`rows` of the list view: record, url, (column, text) cells),
    written in Python: as a template loop, 50 rows of 10 cells cost more than the page's
    queries. Cell texts are escaped unless already safe, as `{{ value }}` would."""
    select_label = _("Select")
    html = []
    for row in rows:
        html.append("<tr>")
        if selectable:
            html.append(
                format_html(
                    '<td><input class="form-check-input" type="checkbox" name="pk" value="{}"'
                    ' form="bulk-form" aria-label="{}"></td>',
                    row["record"].pk,
                    select_label,
                )
            )
        for column, value in row["cells"]:
            if column.link:
                html.append(format_html('<td><a href="{}">{}</a></td>', row["url"], value))
            else:
                html.append(format_html("<td>{}</td>", value))
        html.append("</tr>")
    return mark_safe("".join(html))  # every piece above is escaped by format_html
