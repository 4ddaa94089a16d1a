"""The benchmark harness: a seeded dataset generator and scenarios that print JSON.

`python -m bench generate --size S --seed 1` fills the database that DATABASE_URL /
GUANXI_DATA_DIR point at; `python -m bench run --scenario all` measures it. `bench.main(argv)`
is the entry point the `guanxi bench ...` command calls.
"""

from __future__ import annotations

import os


def setup_django() -> None:
    """Configure Django once (no-op when it is already set up, e.g. under pytest)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import main as _main

    return _main(argv)
