"""Registry of record makers for the data-scope leak test.

Every app that has an owned model registers, in its `tests/factories.py`, a function that
creates one record of that model owned by a given user (or by nobody, for a pool record).
The leak test fails for an owned model that has no maker, so no model escapes it.
"""

from collections.abc import Callable

from django.db import models

RecordMaker = Callable[..., models.Model]  # (*, owner, label, actor) -> record

_makers: dict[str, RecordMaker] = {}


def register_leak_maker(model: type[models.Model], maker: RecordMaker) -> None:
    _makers[model._meta.label_lower] = maker


def leak_maker(model: type[models.Model]) -> RecordMaker | None:
    return _makers.get(model._meta.label_lower)


def load_all_makers() -> None:
    """Import every app's tests.factories so their makers register."""
    import importlib

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("guanxi."):
            try:
                importlib.import_module(f"{config.name}.tests.factories")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.tests.factories" and error.name != (
                    f"{config.name}.tests"
                ):
                    raise
