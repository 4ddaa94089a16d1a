"""Database session settings the application relies on."""

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="a PostgreSQL setting; the PostgreSQL run of scripts/test.sh covers it",
)
@pytest.mark.django_db
def test_postgresql_sessions_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
