"""One JSON shape for every API error: `{"detail": "...", "errors": {field: [messages]}}`.

Services raise plain Django/Guanxi exceptions; this handler turns them into the right status:
400 validation (DRF's and Django's `ValidationError`), 401 not signed in, 403 not allowed
(`ActionNotAllowed`, `PermissionDenied`), 404 not visible (`Http404`, `NotVisible`, a missing
row), 409 `VersionConflict` (with `current_version`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from guanxi.core.exceptions import ActionNotAllowed, NotVisible, VersionConflict

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY  # "non_field_errors"


def django_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as {field: [messages]}; errors without a field go to
    "non_field_errors"."""
    if hasattr(error, "error_dict"):
        errors: dict[str, list[str]] = {}
        for field, messages in error.message_dict.items():
            key = NON_FIELD if field == "__all__" else field
            errors.setdefault(key, []).extend(str(message) for message in messages)
        return errors
    return {NON_FIELD: [str(message) for message in error.messages]}


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error details (nested dicts and lists) as flat {"field.sub": [messages]}."""
    errors: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                errors.setdefault(field, []).extend(messages)
    elif isinstance(data, list | tuple):
        for index, item in enumerate(data):
            if isinstance(item, dict | list | tuple):
                name = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in _flatten(item, name).items():
                    errors.setdefault(field, []).extend(messages)
            else:
                errors.setdefault(prefix or NON_FIELD, []).append(str(item))
    else:
        errors.setdefault(prefix or NON_FIELD, []).append(str(data))
    return errors


def _translate(exc: Exception) -> Exception:
    """Map service exceptions to DRF's so the rest of the handling is shared."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(django_errors(exc))
    if isinstance(exc, ActionNotAllowed):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, NotVisible | ObjectDoesNotExist | Http404):
        # Never say which model or id was asked for: invisible and missing look the same.
        return exceptions.NotFound(_("Not found."))
    return exc


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, VersionConflict):
        return Response(
            {"detail": str(exc), "errors": {}, "current_version": exc.current_version},
            status=status.HTTP_409_CONFLICT,
        )
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(response.data)
        non_field = errors.get(NON_FIELD) or []
        detail = non_field[0] if len(errors) == 1 and non_field else _("Invalid input.")
        response.data = {"detail": detail, "errors": errors}
    else:
        data = response.data
        detail = data.get("detail") if isinstance(data, dict) else None
        if detail is None:
            detail = str(getattr(exc, "detail", "") or _("Error."))
        response.data = {"detail": str(detail), "errors": {}}
    return response
