"""The customer statistics page: counts per dimension inside the scope, drill-down links
that open the account list filtered the same way."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from guanxi.core.tests.factories import picklist_option as option
from guanxi.customers.services import account_create
from guanxi.customers.statistics import DIMENSIONS

pytestmark = pytest.mark.django_db

STATS = reverse("customers:account_statistics")
LIST = reverse("customers:account_list")


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


@pytest.fixture
def accounts(en):
    it = option("industry", "it")
    retail = option("industry", "retail")
    key = option("customer_level", "key")
    following = option("account_status", "following")
    made = {
        "a": account_create(
            actor=en.rep1,
            data={
                "name": "A",
                "industry": it,
                "province": "上海市",
                "level": key,
                "status": following,
                "lifecycle_stage": "active",
            },
        ),
        "b": account_create(
            actor=en.rep1, data={"name": "B", "industry": it, "province": "北京市"}
        ),
        "c": account_create(actor=en.rep2, data={"name": "C", "industry": retail}),
        "d": account_create(
            actor=en.rep3, data={"name": "D", "industry": retail, "province": "上海市"}
        ),
    }
    return made


def dimension(response, key):
    return next(item for item in response.context["dimensions"] if item["key"] == key)


def names_behind(client, url):
    return sorted(row["record"].name for row in client.get(url).context["rows"])


def test_every_dimension_is_shown_and_has_its_list_filter(client, en, accounts):
    client.force_login(en.admin)
    response = client.get(STATS)
    assert response.status_code == 200
    assert [item["key"] for item in response.context["dimensions"]] == list(DIMENSIONS)
    assert response.context["total"] == 4
    from guanxi.customers.filters import AccountFilterSet

    for spec in DIMENSIONS.values():
        assert spec.filter_param in AccountFilterSet.base_filters, spec.key
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html
    assert 'id="stat-data-industry"' in html


def test_counts_and_drill_down_obey_the_scope(client, en, accounts):
    client.force_login(en.rep1)
    response = client.get(STATS)
    assert response.context["total"] == 2
    industries = dimension(response, "industry")["rows"]
    assert [(row["label"], row["count"]) for row in industries] == [("Information technology", 2)]
    url = industries[0]["url"]
    assert urlparse(url).path == LIST
    assert parse_qs(urlparse(url).query) == {"industry": [str(option("industry", "it").pk)]}
    assert names_behind(client, url) == ["A", "B"]

    client.force_login(en.manager)  # east: rep1 and rep2
    response = client.get(STATS)
    assert response.context["total"] == 3
    rows = {row["label"]: row for row in dimension(response, "industry")["rows"]}
    assert rows["Retail"]["count"] == 1  # rep3's retail account is not counted
    assert names_behind(client, rows["Retail"]["url"]) == ["C"]
    owners = {row["label"]: row["count"] for row in dimension(response, "owner")["rows"]}
    assert owners == {"rep1": 2, "rep2": 1}


def test_drill_down_for_every_dimension_matches_the_count(client, en, accounts):
    client.force_login(en.admin)
    response = client.get(STATS)
    for item in response.context["dimensions"]:
        for row in item["rows"]:
            shown = client.get(f"{row['url']}&per_page=100").context["rows"]
            assert len(shown) == row["count"], (item["key"], row)


def test_not_set_rows_drill_down_to_the_empty_value(client, en, accounts):
    client.force_login(en.admin)
    response = client.get(STATS)
    provinces = {row["label"]: row for row in dimension(response, "province")["rows"]}
    assert provinces["(not set)"]["count"] == 1
    assert "province=null" in provinces["(not set)"]["url"]
    assert names_behind(client, provinces["(not set)"]["url"]) == ["C"]
    levels = {row["label"]: row for row in dimension(response, "level")["rows"]}
    assert names_behind(client, levels["(not set)"]["url"]) == ["B", "C", "D"]
    assert names_behind(client, levels["Key account"]["url"]) == ["A"]


def test_statistics_linked_from_the_list_and_refused_without_view(client, en):
    client.force_login(en.rep1)
    assert STATS.encode() in client.get(LIST).content
    role = en.agent.roles.get()
    role.permissions = {"customers.account": []}
    role.save()
    client.force_login(en.agent)
    assert client.get(STATS).status_code == 403


def test_statistics_query_count_is_per_dimension(
    client, en, accounts, django_assert_max_num_queries
):
    client.force_login(en.rep1)
    client.get(STATS)
    with django_assert_max_num_queries(len(DIMENSIONS) + 12):
        client.get(STATS)
