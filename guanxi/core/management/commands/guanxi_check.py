"""`guanxi check`: is this installation configured sensibly? One OK / WARN / FAIL per line."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

OK, WARN, FAIL = "OK", "WARN", "FAIL"


def check_secret_key() -> tuple[str, str]:
    if os.environ.get("GUANXI_SECRET_KEY"):
        if len(settings.SECRET_KEY) < 32:
            return WARN, "GUANXI_SECRET_KEY is short: use at least 50 random characters"
        return OK, "secret key from GUANXI_SECRET_KEY"
    key_file = Path(settings.DATA_DIR) / "secret_key"
    if key_file.exists():
        return OK, f"secret key generated and kept in {key_file}"
    return WARN, "secret key is not kept anywhere; set GUANXI_SECRET_KEY"


def check_debug() -> tuple[str, str]:
    if settings.DEBUG:
        return WARN, "GUANXI_DEBUG is on: never run like this for real users"
    return OK, "debug mode is off"


def check_allowed_hosts() -> tuple[str, str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts:
        return FAIL, "GUANXI_ALLOWED_HOSTS is empty: no request would be answered"
    if "*" in hosts:
        return WARN, "GUANXI_ALLOWED_HOSTS allows any host name"
    return OK, f"allowed hosts: {', '.join(hosts)}"


def check_database() -> tuple[str, str]:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
    except Exception as error:  # noqa: BLE001 - any failure here is the answer
        return FAIL, f"database is not reachable: {error}"
    return OK, f"database reachable ({connection.vendor}: {connection.settings_dict['NAME']})"


def check_migrations() -> tuple[str, str]:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001
        return FAIL, f"cannot read the migrations: {error}"
    if plan:
        return FAIL, f"{len(plan)} migrations not applied: run `guanxi manage migrate`"
    return OK, "all migrations applied"


def check_cache() -> tuple[str, str]:
    from django.core.cache import cache

    try:
        cache.set("guanxi-check", "1", 5)
        ok = cache.get("guanxi-check") == "1"
        cache.delete("guanxi-check")
    except Exception as error:  # noqa: BLE001
        return FAIL, f"cache does not work: {error} (run `guanxi manage createcachetable`)"
    if not ok:
        return FAIL, "cache does not keep values"
    return OK, f"cache works ({settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]})"


def check_redis() -> tuple[str, str]:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return OK, "Redis not configured: jobs queue in SQLite, cache in the database"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        return FAIL, f"Redis at {url} is not reachable: {error}"
    return OK, f"Redis reachable at {url}"


def check_email() -> tuple[str, str]:
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        return WARN, "no GUANXI_EMAIL_HOST: e-mails are printed to the console, not sent"
    return OK, f"e-mail through {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"


def check_data_dir() -> tuple[str, str]:
    data_dir = Path(settings.DATA_DIR)
    if not data_dir.is_dir():
        return FAIL, f"data folder {data_dir} does not exist"
    if not os.access(data_dir, os.W_OK):
        return FAIL, f"data folder {data_dir} is not writable"
    return OK, f"data folder {data_dir} is writable"


def check_static() -> tuple[str, str]:
    root = Path(settings.STATIC_ROOT)
    if getattr(settings, "WHITENOISE_USE_FINDERS", False):
        return OK, "static files served from the source folders"
    if not (root / "staticfiles.json").exists():
        return WARN, f"static files not collected in {root}: run `guanxi manage collectstatic`"
    from guanxi.core.management.runtime import static_is_stale

    if static_is_stale():
        return WARN, "static files are older than the sources: run `guanxi manage collectstatic`"
    return OK, f"static files collected in {root}"


def check_django() -> tuple[str, str]:
    from django.core import checks

    messages = checks.run_checks(include_deployment_checks=False)
    errors = [m for m in messages if m.level >= checks.ERROR and not m.is_silenced()]
    if errors:
        return FAIL, "Django system check: " + "; ".join(str(m) for m in errors[:3])
    return OK, "Django system check passed"


CHECKS = [
    check_secret_key,
    check_debug,
    check_allowed_hosts,
    check_data_dir,
    check_database,
    check_migrations,
    check_cache,
    check_redis,
    check_email,
    check_static,
    check_django,
]


def run_checks() -> list[tuple[str, str]]:
    return [check() for check in CHECKS]


class Command(BaseCommand):
    help = "Check the configuration: prints OK / WARN / FAIL lines; exits 1 on any FAIL."
    requires_system_checks = []

    def handle(self, *args, **options):
        results = run_checks()
        styles = {OK: self.style.SUCCESS, WARN: self.style.WARNING, FAIL: self.style.ERROR}
        for status, message in results:
            self.stdout.write(styles[status](f"{status:<4}") + f"  {message}")
        failures = sum(1 for status, _ in results if status == FAIL)
        if failures:
            self.stderr.write(f"{failures} problem(s) must be fixed.")
            raise SystemExit(1)
