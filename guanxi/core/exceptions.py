"""Errors services raise; the API and the views turn them into responses."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class VersionConflict(Exception):
    """The record changed since the caller read it."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(
            _(
                "This record was changed by someone else while you were editing it. "
                "Reload it to see their changes, then apply yours again."
            )
        )


class NotVisible(Exception):
    """The record does not exist for this user (missing, deleted or outside their scope)."""


class ActionNotAllowed(Exception):
    """The user's roles do not allow this action."""


__all__ = ["ActionNotAllowed", "NotVisible", "ValidationError", "VersionConflict"]
