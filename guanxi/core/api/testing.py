"""Helpers for API tests (every app's `tests/test_api_*.py` may use them)."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_client(user=None, *, token: bool = False) -> APIClient:
    """A client signed in as `user`: by token when asked, otherwise forced (no queries)."""
    client = APIClient()
    if user is not None:
        if token:
            key, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
        else:
            client.force_authenticate(user=user)
    return client
