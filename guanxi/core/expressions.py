"""Database expressions Django does not ship."""

from __future__ import annotations

from django.db.models import FloatField, Func


class DayNumber(Func):
    """A date-time as a (fractional) number of days since a fixed epoch.

    For averages of spans: avg(end) - avg(start) over the same rows is avg(end - start),
    and each side is a built-in function of the database. Subtracting date-times in the
    ORM instead calls a Python function per row on SQLite (`django_timestamp_diff`), which
    for a year of the company's deals was most of the sales analysis' time."""

    output_field = FloatField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="julianday(%(expressions)s)")

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)"
        )
