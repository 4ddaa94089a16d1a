"""Filters every list gets for the model's custom fields (values live in `custom_data`)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CustomField, CustomFieldType

YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _choices(field: CustomField) -> list[tuple[str, str]]:
    from guanxi.core.forms.generic import custom_choices

    return custom_choices(field)


def custom_field_filter(field: CustomField) -> django_filters.Filter | None:
    """A filter on `custom_data__<key>`: exact for numbers, dates, choices and yes/no; a
    prefix match for text; "contains" for multiple choice."""
    name = f"custom_data__{field.key}"
    label = field.label
    kind = field.field_type
    if kind == CustomFieldType.CHOICE:
        return django_filters.ChoiceFilter(field_name=name, label=label, choices=_choices(field))
    if kind == CustomFieldType.MULTI_CHOICE:
        return django_filters.ChoiceFilter(
            field_name=name, label=label, choices=_choices(field), lookup_expr="icontains"
        )
    if kind == CustomFieldType.BOOLEAN:
        return django_filters.ChoiceFilter(
            field_name=name, label=label, choices=YES_NO, method=_filter_boolean
        )
    if kind in (CustomFieldType.INTEGER, CustomFieldType.USER):
        return django_filters.NumberFilter(field_name=name, label=label)
    if kind in (CustomFieldType.DECIMAL, CustomFieldType.MONEY):
        # Stored as a decimal string so no precision is lost: compare as text.
        return django_filters.CharFilter(field_name=name, label=label)
    if kind == CustomFieldType.DATE:
        return django_filters.CharFilter(field_name=name, label=label)
    if kind in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT, CustomFieldType.DATETIME):
        return django_filters.CharFilter(field_name=name, label=label, lookup_expr="startswith")
    return None


def _filter_boolean(queryset, name, value):
    if value in ("true", "false"):
        return queryset.filter(**{name: value == "true"})
    return queryset


def with_custom_field_filters(filterset_class, custom_fields: list[CustomField]):
    """The filterset class plus one `cf_<key>` filter per active custom field."""
    extra = {}
    for field in custom_fields:
        custom_filter = custom_field_filter(field)
        if custom_filter is not None:
            extra[f"cf_{field.key}"] = custom_filter
    if not extra:
        return filterset_class
    return type(f"{filterset_class.__name__}WithCustomFields", (filterset_class,), extra)
