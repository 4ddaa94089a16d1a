"""Database expressions Django does not ship."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Field, FloatField, ForeignObject, Func, Value
from django.db.models.lookups import In


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


def RowCount(filter=None) -> Count:  # noqa: N802 - reads like the expressions beside it
    """COUNT(1), optionally filtered: the number of rows (Django refuses COUNT(*) with a
    filter).

    Equal to counting the primary key, but PostgreSQL can answer it from an index alone:
    an index does not hold the row's id there, so COUNT(id) has to visit every row. The
    board's column sums read 220,000 open deals in 156 ms with COUNT(id) and 54 ms with
    COUNT(1) from the covering index on PostgreSQL (dataset L)."""
    return Count(Value(1), filter=filter)


def json_array(values: list, db_type: str) -> tuple[str, list]:
    """PostgreSQL SQL and parameter for an array of plain numbers or texts, sent as one JSON
    text that PostgreSQL takes apart once. psycopg writes a list parameter's items one by
    one in Python (7 ms for 2,000 names, 0.26 ms as JSON), and a placeholder per value
    makes it split the statement again on every run of one too long to cache."""
    return (
        f"ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))::{db_type}[]",
        [json.dumps(values, ensure_ascii=False)],
    )


def with_names(template: str, connection, **names: str) -> str:
    """`template` with each `{key}` of `names` replaced by that table or column name, quoted
    for `connection`; other text is left alone. For the few reads that every request makes,
    written as SQL because building them through the ORM cost more than running them."""
    for key, name in names.items():
        template = template.replace("{" + key + "}", connection.ops.quote_name(name))
    return template


def sql_rows(model, template: str, params: Sequence = (), **names: str) -> list[tuple]:
    """The rows of `template` (see `with_names` for its `{key}` names) run with `params` on
    the database `model` is read from."""
    connection = connections[model.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(with_names(template, connection, **names), params)
        return cursor.fetchall()


# Field types whose values reach the database as they are (plain numbers and text).
PLAIN_VALUE_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
    }
)


class InArray(In):
    """`field__in_array=values`: the `in` lookup, sent to PostgreSQL as one parameter
    (`json_array`; an import batch's 38,000 candidate ids cost psycopg a second as
    placeholders). `= ANY(ARRAY(...))` is read by the same index scan as `IN (...)`. Other
    values (dates, ...) take the plain `in`."""

    lookup_name = "in_array"

    def as_postgresql(self, compiler, connection):
        field = self.lhs.output_field
        if field.get_internal_type() == "ForeignKey":
            field = field.target_field
        if not self.rhs_is_direct_value() or field.get_internal_type() not in PLAIN_VALUE_TYPES:
            return self.as_sql(compiler, connection)
        values = [value for value in dict.fromkeys(self.rhs) if value is not None]
        if not values:
            raise EmptyResultSet
        if not all(type(value) in (int, str) for value in values):
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array, params = json_array(values, self.lhs.output_field.cast_db_type(connection))
        return f"{lhs} = ANY({array})", (*lhs_params, *params)


Field.register_lookup(InArray)


class InIds(In):
    """`field__in_ids=ids`: the `in` lookup for integer ids the application read from the
    database itself (a manager's subordinates, a department subtree, granted records),
    written into the statement as numbers instead of one placeholder each.

    The data scope adds such a list to nearly every statement of a request (95 ids for a
    regional manager, in about twenty statements of a customer's page). As placeholders,
    Django prepared every value and psycopg split the statement at each of them on every
    run: 17 ms of that page. The database sees the same constants, so the plans stay as
    they were. Anything but whole numbers is refused, so no text reaches the SQL."""

    lookup_name = "in_ids"

    def get_prep_lookup(self):
        if not self.rhs_is_direct_value():
            return super().get_prep_lookup()
        values = set()
        for value in self.rhs:
            if value is None:
                continue
            if type(value) is not int:
                raise TypeError(f"in_ids takes whole numbers, not {type(value).__name__}")
            values.add(value)
        return sorted(values)

    def as_sql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(map(str, self.rhs))})", lhs_params


Field.register_lookup(InIds)
ForeignObject.register_lookup(InIds)  # owner_id__in_ids: foreign keys keep their own lookups
