"""Database expressions and lookups Django does not ship."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import User

pytestmark = pytest.mark.django_db


def test_in_array_finds_what_in_finds_with_one_parameter_on_postgresql(org):
    ids = [org.rep1.pk, org.rep3.pk, org.rep1.pk, None, 10**9]
    with CaptureQueriesContext(connection) as captured:
        found = set(User.objects.filter(pk__in_array=ids).values_list("pk", flat=True))
        names = [org.rep1.username, org.manager.username, 'O\'Brien "张" \\ %s']
        by_name = set(
            User.objects.filter(username__in_array=names).values_list("username", flat=True)
        )
    assert found == {org.rep1.pk, org.rep3.pk}
    assert by_name == {org.rep1.username, org.manager.username}
    sql = captured.captured_queries[0]["sql"]
    # Values of other types (dates here) take the plain IN.
    assert User.objects.filter(date_joined__in_array=[org.rep1.date_joined]).exists()
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and "IN (" not in sql
    else:
        assert "IN (" in sql


def test_in_array_of_nothing_finds_nothing_without_a_query(org):
    with CaptureQueriesContext(connection) as captured:
        assert list(User.objects.filter(pk__in_array=[])) == []
        assert list(User.objects.filter(pk__in_array=[None])) == []
    assert captured.captured_queries == []


def test_with_names_quotes_the_named_tables_and_leaves_the_rest():
    from guanxi.core.expressions import with_names

    sql = with_names(
        "SELECT t.{column} FROM {table} t WHERE t.id IN ({ids}) AND t.name = %s",
        connection,
        table="core_user",
        column="display_name",
    )
    quote = connection.ops.quote_name
    assert sql == (
        f"SELECT t.{quote('display_name')} FROM {quote('core_user')} t "
        "WHERE t.id IN ({ids}) AND t.name = %s"
    )


def test_sql_rows_runs_the_statement_on_the_models_database(org):
    from guanxi.core.expressions import sql_rows

    rows = sql_rows(
        User,
        "SELECT u.{name} FROM {table} u WHERE u.id IN (%s, %s) ORDER BY u.{name}",
        [org.rep1.pk, org.rep3.pk],
        table=User._meta.db_table,
        name="username",
    )
    assert rows == [("rep1",), ("rep3",)]


def _compiled(queryset):
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def test_in_ids_writes_the_ids_into_the_statement_and_finds_what_in_finds(org):
    ids = [org.rep3.pk, org.rep1.pk, org.rep1.pk, None, 10**9]
    queryset = User.objects.filter(pk__in_ids=ids).values_list("pk", flat=True)
    sql, params = _compiled(queryset)
    assert params == ()
    assert f"IN ({', '.join(map(str, sorted({org.rep1.pk, org.rep3.pk, 10**9})))})" in sql
    assert set(queryset) == set(User.objects.filter(pk__in=ids).values_list("pk", flat=True))
    assert set(queryset) == {org.rep1.pk, org.rep3.pk}
    # Beside other conditions, their parameters stay parameters.
    named = User.objects.filter(pk__in_ids=ids, username=org.rep1.username)
    sql, params = _compiled(named)
    assert params == (org.rep1.username,)
    assert list(named) == [org.rep1]


def test_in_ids_refuses_anything_but_whole_numbers(org):
    for wrong in (["1); DROP TABLE core_user; --"], [1.5], [True], [str(org.rep1.pk)]):
        with pytest.raises(TypeError):
            User.objects.filter(pk__in_ids=wrong)


def test_in_ids_of_nothing_finds_nothing_without_a_query(org):
    with CaptureQueriesContext(connection) as captured:
        assert list(User.objects.filter(pk__in_ids=[])) == []
        assert list(User.objects.filter(pk__in_ids=[None])) == []
    assert captured.captured_queries == []
    # Negated, an empty list excludes nothing.
    assert User.objects.exclude(pk__in_ids=[]).count() == User.objects.count()


def test_in_ids_works_on_foreign_keys(org):
    queryset = User.objects.filter(department_id__in_ids=[org.rep1.department_id])
    sql, params = _compiled(queryset)
    assert params == ()
    assert org.rep1 in queryset
    assert set(queryset) == set(User.objects.filter(department_id=org.rep1.department_id))
