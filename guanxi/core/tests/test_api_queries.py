"""List endpoints run a fixed number of queries, however many rows the page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.api.testing import api_client
from guanxi.core.models import Notification, Tag
from guanxi.core.services.configuration import record_tags_set
from guanxi.core.services.organisation import user_create
from guanxi.core.services.records import record_share
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def make_accounts(org, count: int, start: int = 0) -> None:
    tag, _created = Tag.objects.get_or_create(name="vip")
    accounts = Account.objects.bulk_create(
        Account(name=f"Account {start + n}", owner=owner, department=owner.department)
        for n in range(count)
        for owner in [(org.rep1, org.rep2)[n % 2]]
    )
    for record in accounts[::3]:
        record_tags_set(record=record, tags=[tag], actor=None)


def make_users(org, count: int, start: int = 0) -> None:
    for n in range(count):
        user_create(username=f"bulk{start + n}", password=None, actor=None, department=org.east)


def make_departments(org, count: int, start: int = 0) -> None:
    from guanxi.core.services.organisation import department_create

    for n in range(count):
        department_create(
            name=f"Team {start + n}", parent=org.east, manager=org.manager, actor=None
        )


def make_notifications(org, count: int) -> None:
    Notification.objects.bulk_create(
        Notification(recipient=org.rep1, actor=org.manager, kind="test", text=f"n{n}")
        for n in range(count)
    )


@pytest.mark.parametrize("who", ["rep1", "manager", "admin"])
def test_account_list_queries_do_not_grow_with_rows(org, who, django_assert_max_num_queries):
    user = getattr(org, who)
    client = api_client(user, token=True)
    url = "/api/v1/accounts/?page_size=100"
    make_accounts(org, 4)
    record_share(instance=Account.objects.get(name="Account 1"), actor=None, user=org.rep1)
    few = queries_for(client, url)
    make_accounts(org, 40, start=4)
    response_rows = len(client.get(url).json()["results"])
    assert response_rows >= 20
    many = queries_for(client, url)
    assert many == few
    # 12: one reads the public pools the caller is a member of (the pool rule), one every
    # record shared with them (read once per request, for every model).
    with django_assert_max_num_queries(12):
        client.get(url)


@pytest.mark.parametrize(
    ("url", "maker"),
    [
        ("/api/v1/users/?page_size=100", make_users),
        ("/api/v1/departments/?page_size=100", make_departments),
    ],
)
def test_organisation_lists_do_not_grow_with_rows(org, url, maker, django_assert_max_num_queries):
    client = api_client(org.rep1, token=True)
    few = queries_for(client, url)
    maker(org, 32)
    assert len(client.get(url).json()["results"]) > 32
    assert queries_for(client, url) == few
    with django_assert_max_num_queries(6):
        client.get(url)


def test_notification_list_does_not_grow_with_rows(org, django_assert_max_num_queries):
    client = api_client(org.rep1, token=True)
    url = "/api/v1/notifications/?page_size=100"
    make_notifications(org, 2)
    few = queries_for(client, url)
    make_notifications(org, 35)
    assert len(client.get(url).json()["results"]) == 37
    assert queries_for(client, url) == few
    with django_assert_max_num_queries(4):
        client.get(url)


@pytest.mark.parametrize(
    ("url", "table"),
    [("/api/v1/accounts/", "customers_account"), ("/api/v1/opportunities/", "sales_opportunity")],
)
def test_list_pages_join_only_a_few_tables(org, url, table):
    # PostgreSQL searches join orders exhaustively: the account page joined to its eight
    # lookups took 38 ms to plan and 1 ms to run on dataset L. Small lookup tables are
    # prefetched instead.
    make_accounts(org, 3)
    client = api_client(org.admin, token=True)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    pages = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith(f'SELECT "{table}"."id"') and "LIMIT" in query["sql"]
    ]
    assert pages, [query["sql"][:120] for query in captured.captured_queries]
    assert all(sql.count(" JOIN ") <= 3 for sql in pages), pages
