"""Customer statistics: counts by one dimension, inside the user's data scope.

Each dimension names the list filter a bar drills down to, so a click on a chart opens the
account list filtered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import User
from guanxi.customers.models import Account, LifecycleStage


@dataclass(frozen=True)
class Dimension:
    key: str
    label: object
    group_by: str  # the column grouped on
    label_field: str | None  # the column that names a group, when not group_by
    filter_param: str  # the account-list filter a bar drills down to


DIMENSIONS = {
    d.key: d
    for d in [
        Dimension("owner", _("Owner"), "owner_id", "owner__display_name", "owner"),
        Dimension("department", _("Department"), "department_id", "department__name", "department"),
        Dimension("status", _("Status"), "status_id", "status__label_zh", "status"),
        Dimension(
            "lifecycle_stage", _("Lifecycle stage"), "lifecycle_stage", None, "lifecycle_stage"
        ),
        Dimension(
            "credit_rating",
            _("Credit rating"),
            "credit_rating_id",
            "credit_rating__label_zh",
            "credit_rating",
        ),
        Dimension("level", _("Customer level"), "level_id", "level__label_zh", "level"),
        Dimension("industry", _("Industry"), "industry_id", "industry__label_zh", "industry"),
        Dimension("province", _("Province"), "province", None, "province"),
        Dimension("source", _("Source"), "source_id", "source__label_zh", "source"),
    ]
}
MAX_GROUPS = 50


def _picklist_label_field(dimension: Dimension) -> str | None:
    from django.utils.translation import get_language

    field = dimension.label_field
    english = not (get_language() or "zh").startswith("zh")
    if field and field.endswith("__label_zh") and english:
        return field.replace("__label_zh", "__label_en")
    return field


def account_counts(*, user: User, dimension: str, filters: dict | None = None) -> list[dict]:
    """[{value, label, count}] for the biggest groups of the dimension, largest first."""
    spec = DIMENSIONS[dimension]
    queryset = Account.objects.visible_to(user)
    if filters:
        queryset = queryset.filter(**filters)
    label_field = _picklist_label_field(spec)
    values = [spec.group_by] + ([label_field] if label_field else [])
    rows = (
        queryset.values(*values)
        .annotate(count=Count("id"))
        .order_by("-count", F(spec.group_by).asc(nulls_last=True))[:MAX_GROUPS]
    )
    stages = dict(LifecycleStage.choices)
    result = []
    for row in rows:
        value = row[spec.group_by]
        if label_field:
            label = row[label_field]
        elif dimension == "lifecycle_stage":
            label = stages.get(value, value)
        else:
            label = value
        result.append(
            {
                "value": value,
                "label": str(label) if label not in (None, "") else str(_("(not set)")),
                "count": row["count"],
                "filter": {spec.filter_param: "" if value is None else value},
            }
        )
    return result


def account_total(*, user: User) -> int:
    return Account.objects.visible_to(user).count()
