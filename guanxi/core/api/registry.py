"""Where apps register their API viewsets, so core's router never imports a higher app.

An app's `api.py` calls `register_viewset("accounts", AccountViewSet, "account")` at import
time; the app's `registrations.py` (imported from its AppConfig.ready) imports `api.py`.
`guanxi.core.api.urls` builds the router from everything registered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Registration:
    prefix: str
    viewset: type
    basename: str


_registrations: dict[str, Registration] = {}


def register_viewset(prefix: str, viewset: type, basename: str) -> None:
    """Serve `viewset` at /api/v1/<prefix>/. Registering a prefix again replaces it."""
    _registrations[prefix] = Registration(prefix=prefix, viewset=viewset, basename=basename)


def registered_viewsets() -> list[Registration]:
    return list(_registrations.values())
