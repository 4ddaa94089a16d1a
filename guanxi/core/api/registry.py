"""Where apps register their API viewsets, so core's router never imports a higher app.

An app's `api.py` calls `register_viewset("accounts", AccountViewSet, "account")` at import
time. `guanxi.core.api.urls` first imports the `api` module of every Guanxi app (like the
admin's autodiscovery), then builds the router from everything registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule


@dataclass(frozen=True)
class Registration:
    prefix: str
    viewset: type
    basename: str


_registrations: dict[str, Registration] = {}
_paths: dict[str, tuple[str, object]] = {}


def register_viewset(prefix: str, viewset: type, basename: str) -> None:
    """Serve `viewset` at /api/v1/<prefix>/. Registering a prefix again replaces it."""
    _registrations[prefix] = Registration(prefix=prefix, viewset=viewset, basename=basename)


def register_api_path(route: str, view, name: str) -> None:
    """Serve a plain API view at /api/v1/<route> (e.g. "accounts/merge/"), ahead of the
    router's routes, so "accounts/merge/" is not read as the account with id "merge"."""
    _paths[route] = (name, view)


def registered_paths() -> list[tuple[str, object, str]]:
    """(route, view, name) of every registered plain view, after autodiscovery."""
    autodiscover()
    return [(route, view, name) for route, (name, view) in _paths.items()]


def registered_viewsets() -> list[Registration]:
    """Everything registered, after making sure every app's `api` module was imported."""
    autodiscover()
    return list(_registrations.values())


def autodiscover() -> None:
    """Import `<app>.api` of every installed Guanxi app, so each registers its viewsets."""
    for app_config in apps.get_app_configs():
        if app_config.name.startswith("guanxi.") and module_has_submodule(app_config.module, "api"):
            import_module(f"{app_config.name}.api")
