"""Saved list views: a user's own named filters, sort order and columns."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from guanxi.core.models import SavedView, User

# Parameters that describe where the user is, not what they look at.
TRANSIENT_PARAMS = {"page", "view", "clear"}


def clean_query_string(query_string: str) -> str:
    params = QueryDict(query_string.lstrip("?"), mutable=True)
    for key in TRANSIENT_PARAMS:
        params.pop(key, None)
    for key in [key for key, values in params.lists() if not any(values)]:
        params.pop(key)
    return params.urlencode()


@transaction.atomic
def saved_view_save(
    *,
    user: User,
    model_label: str,
    name: str,
    query_string: str,
    columns: list[str],
    is_default: bool = False,
) -> SavedView:
    """Create the user's view, or overwrite their view of the same name."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the view a name.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("At most 100 characters.")]})
    view, _created = SavedView.objects.update_or_create(
        user=user,
        model_label=model_label,
        name=name,
        defaults={
            "query_string": clean_query_string(query_string),
            "columns": [str(column) for column in columns],
            "is_default": is_default,
        },
    )
    if is_default:
        SavedView.objects.filter(user=user, model_label=model_label).exclude(pk=view.pk).update(
            is_default=False
        )
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, user: User) -> None:
    if view.user_id != user.pk:
        raise ValidationError(_("You can only delete your own views."))
    view.delete()
