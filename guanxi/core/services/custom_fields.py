"""Validation of custom field values kept in a record's `custom_data` JSON column."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.core.models import CustomField, CustomFieldType, User


def custom_fields_for(model: type[models.Model]) -> list[CustomField]:
    content_type = ContentType.objects.get_for_model(model)
    return list(CustomField.objects.filter(content_type=content_type, is_active=True))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _choice_values(field: CustomField) -> set[str]:
    values = set()
    for choice in field.choices or []:
        values.add(str(choice["value"]) if isinstance(choice, dict) else str(choice))
    return values


def custom_value_clean(field: CustomField, value: Any) -> Any:
    """Return the JSON-ready value for one field, or raise ValidationError with a message."""
    kind = field.field_type
    if kind in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT):
        text = str(value).strip()
        if kind == CustomFieldType.TEXT and len(text) > 255:
            raise ValidationError(_("At most 255 characters."))
        return text
    if kind == CustomFieldType.INTEGER:
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValidationError(_("Enter a whole number.")) from None
    if kind in (CustomFieldType.DECIMAL, CustomFieldType.MONEY):
        try:
            number = decimal.Decimal(str(value).strip().replace(",", ""))
        except decimal.InvalidOperation:
            raise ValidationError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        return str(number.quantize(decimal.Decimal("0.01")) if kind == "money" else number)
    if kind == CustomFieldType.DATE:
        parsed = value if isinstance(value, datetime.date) else parse_date(str(value).strip())
        if parsed is None:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."))
        return parsed.isoformat()
    if kind == CustomFieldType.DATETIME:
        parsed = (
            value if isinstance(value, datetime.datetime) else parse_datetime(str(value).strip())
        )
        if parsed is None:
            raise ValidationError(_("Enter a date and time as YYYY-MM-DD HH:MM."))
        return parsed.isoformat()
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y", "on", "是", "真"}:
            return True
        if text in {"0", "false", "no", "n", "off", "否", "假"}:
            return False
        raise ValidationError(_("Enter yes or no."))
    if kind == CustomFieldType.CHOICE:
        if str(value) not in _choice_values(field):
            raise ValidationError(_("%(value)s is not one of the choices.") % {"value": value})
        return str(value)
    if kind == CustomFieldType.MULTI_CHOICE:
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        items = [str(item).strip() for item in items if str(item).strip()]
        unknown = [item for item in items if item not in _choice_values(field)]
        if unknown:
            raise ValidationError(
                _("%(value)s is not one of the choices.") % {"value": ", ".join(unknown)}
            )
        return items
    if kind == CustomFieldType.USER:
        user_id = value.pk if isinstance(value, User) else value
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            raise ValidationError(_("Choose a user.")) from None
        if not User.objects.filter(pk=user_id, is_active=True).exists():
            raise ValidationError(_("Choose an active user."))
        return user_id
    raise ValidationError(_("Unknown field type."))


def custom_data_clean(
    *,
    model: type[models.Model],
    data: dict[str, Any],
    fields: list[CustomField] | None = None,
) -> dict[str, Any]:
    """Validate every custom value of a record; unknown keys are refused, not dropped.

    Bulk writers pass `fields` fetched once for the whole batch.
    """
    if fields is None:
        fields = custom_fields_for(model)
    fields = {field.key: field for field in fields}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in data:
        if key not in fields:
            errors[f"custom.{key}"] = [_("There is no custom field %(key)s.") % {"key": key}]
    for key, field in fields.items():
        value = data.get(key)
        if _is_empty(value):
            if field.required:
                errors[f"custom.{key}"] = [_("This field is required.")]
            continue
        try:
            cleaned[key] = custom_value_clean(field, value)
        except ValidationError as error:
            errors[f"custom.{key}"] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned
