"""Dynamic groups: a saved filter of and/or conditions, turned into one SQL filter.

A condition is {"field": ..., "op": ..., "value": ...}. Fields are account columns, picklist
fields (compared by option value), tags, custom fields ("custom.<key>"), and whatever
higher apps register with `register_group_condition` (e.g. "has had an activity since").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from guanxi.core.models import TaggedItem

TEXT_FIELDS = {"name", "province", "city", "district", "address", "phone", "email", "tax_number"}
CHOICE_FIELDS = {"kind", "lifecycle_stage"}
PICKLIST_FIELDS = {"industry", "source", "status", "credit_rating", "level"}
NUMBER_FIELDS = {"annual_revenue", "employees", "points"}
DATE_FIELDS = {"created_at", "updated_at"}
USER_FIELDS = {"owner", "account_manager"}

TEXT_OPS = {"eq", "ne", "contains", "startswith", "isnull"}
NUMBER_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "isnull"}
CHOICE_OPS = {"eq", "ne", "in", "isnull"}
TAG_OPS = {"has", "has_not"}

ConditionBuilder = Callable[[str, Any], Q]
_extra_conditions: dict[str, tuple[Any, set[str], ConditionBuilder]] = {}


def register_group_condition(
    name: str, label: Any, ops: set[str], builder: ConditionBuilder
) -> None:
    """Let a higher app offer a condition, e.g. "activity" with ops {"since", "not_since"}."""
    _extra_conditions[name] = (label, ops, builder)


def extra_conditions() -> dict[str, tuple[Any, set[str], ConditionBuilder]]:
    return dict(_extra_conditions)


def _ops_for(field: str) -> set[str] | None:
    if field in TEXT_FIELDS:
        return TEXT_OPS
    if field in NUMBER_FIELDS or field in DATE_FIELDS:
        return NUMBER_OPS
    if field in CHOICE_FIELDS or field in PICKLIST_FIELDS or field in USER_FIELDS:
        return CHOICE_OPS
    if field == "tag":
        return TAG_OPS
    if field.startswith("custom."):
        return TEXT_OPS | NUMBER_OPS | {"in"}
    if field in _extra_conditions:
        return _extra_conditions[field][1]
    return None


def conditions_validate(conditions: dict) -> None:
    if not isinstance(conditions, dict):
        raise ValidationError({"conditions": [_("Conditions must be an object.")]})
    if conditions.get("match", "all") not in ("all", "any"):
        raise ValidationError({"conditions": [_('"match" must be "all" or "any".')]})
    items = conditions.get("conditions")
    if not isinstance(items, list) or not items:
        raise ValidationError({"conditions": [_("Add at least one condition.")]})
    errors = []
    for position, item in enumerate(items, start=1):
        field, op = item.get("field", ""), item.get("op", "")
        ops = _ops_for(field)
        if ops is None:
            errors.append(
                _("Condition %(n)s: unknown field %(field)s.") % {"n": position, "field": field}
            )
        elif op not in ops:
            errors.append(
                _("Condition %(n)s: %(op)s cannot be used with %(field)s.")
                % {"n": position, "op": op, "field": field}
            )
    if errors:
        raise ValidationError({"conditions": errors})


def _compare(lookup_base: str, op: str, value: Any) -> Q:
    if op == "isnull":
        return Q(**{f"{lookup_base}__isnull": bool(value)})
    if op == "ne":
        return ~Q(**{lookup_base: value})
    if op == "in":
        values = value if isinstance(value, list) else [value]
        return Q(**{f"{lookup_base}__in": values})
    suffix = {"eq": "", "contains": "__icontains", "startswith": "__startswith"}.get(op, f"__{op}")
    return Q(**{f"{lookup_base}{suffix}": value})


def condition_q(item: dict) -> Q:
    from guanxi.customers.models import Account

    field, op, value = item["field"], item["op"], item.get("value")
    if field in PICKLIST_FIELDS:
        return _compare(f"{field}__value", op, value)
    if field in USER_FIELDS:
        return _compare(f"{field}_id", op, value)
    if field == "tag":
        tagged = TaggedItem.objects.filter(
            content_type=ContentType.objects.get_for_model(Account),
            object_id=OuterRef("pk"),
            tag__name=value,
        )
        return Q(Exists(tagged)) if op == "has" else ~Q(Exists(tagged))
    if field.startswith("custom."):
        return _compare(f"custom_data__{field.split('.', 1)[1]}", op, value)
    if field in _extra_conditions:
        return _extra_conditions[field][2](op, value)
    return _compare(field, op, value)


def conditions_q(conditions: dict) -> Q:
    conditions_validate(conditions)
    parts = [condition_q(item) for item in conditions["conditions"]]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if conditions.get("match") == "any" else combined & part
    return combined
