"""Creating an opportunity warns (never refuses) when an open deal of the same account has
a very similar name: on the page with links and "Save anyway", in the API through
`GET /api/v1/opportunities/check-duplicates/` (the customers' convention)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.api.testing import api_client
from guanxi.core.models import PicklistOption
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import Opportunity
from guanxi.sales.selectors.opportunities import opportunity_duplicates
from guanxi.sales.services import opportunities as services
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/opportunities/check-duplicates/"


@pytest.fixture
def account(org):
    return make_account(owner=org.rep1, label="海天机电", actor=org.rep1)


@pytest.fixture
def existing(org, account):
    return make_opportunity(
        owner=org.rep1, label="ERP 升级项目（二期）", actor=org.rep1, account=account
    )


def _form(account, name, **extra):
    return {
        "name": name,
        "account": account.pk,
        "amount": "10000",
        "currency": "CNY",
        "probability": "",
        **extra,
    }


def test_similar_names_of_open_deals_of_the_account(org, account, existing):
    def names(name, account_id=account.pk):
        found = opportunity_duplicates(user=org.rep1, account_id=account_id, name=name)
        return [hit.pk for hit in found]

    assert names("erp升级项目(二期)") == [existing.pk]  # width, case, spaces, brackets
    assert names("ERP 升级项目 二期 ") == [existing.pk]
    assert names("ERP升级项目（三期）")  # one character apart: still very similar
    assert names("年度维保服务") == []
    other = make_account(owner=org.rep1, label="别的客户", actor=org.rep1)
    assert names("ERP 升级项目（二期）", other.pk) == []
    reason = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    services.opportunity_lose(opportunity=existing, actor=org.rep1, reason=reason)
    assert names("ERP 升级项目（二期）") == []  # a closed deal is no duplicate


def test_the_form_warns_and_creates_when_confirmed(client, org, account, existing):
    client.force_login(org.rep1)
    url = reverse("sales:opportunity_create")
    response = client.post(url, _form(account, "erp 升级项目(二期)"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Possible duplicate opportunity (owner: rep1):" in html
    assert reverse("sales:opportunity_detail", args=[existing.pk]) in html
    assert 'name="confirm_warnings"' in html and 'value="erp 升级项目(二期)"' in html
    assert Opportunity.objects.filter(account=account).count() == 1

    response = client.post(url, _form(account, "erp 升级项目(二期)", confirm_warnings="1"))
    assert response.status_code == 302
    assert Opportunity.objects.filter(account=account).count() == 2

    # A different name goes straight through.
    assert client.post(url, _form(account, "年度维保服务")).status_code == 302


def test_a_deal_the_user_may_not_see_is_named_by_its_owner_only(client, org, account):
    theirs = make_opportunity(
        owner=org.rep3, label="智能仓储项目", actor=org.admin, account=account
    )
    assert not Opportunity.objects.visible_to(org.rep1).filter(pk=theirs.pk).exists()
    client.force_login(org.rep1)
    response = client.post(reverse("sales:opportunity_create"), _form(account, "智能仓储 项目"))
    html = response.content.decode()
    assert "with a very similar name exists, owned by rep3" in html
    assert "智能仓储项目" not in html
    assert reverse("sales:opportunity_detail", args=[theirs.pk]) not in html

    body = api_client(org.rep1).get(CHECK, {"account": account.pk, "name": "智能仓储项目"}).json()
    assert body == [
        {
            "model": "sales.opportunity",
            "exists": True,
            "owner": "rep3",
            "reasons": ["Open opportunity of the same account with a very similar name"],
        }
    ]


def test_api_check_and_create(org, account, existing):
    client = api_client(org.rep1)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHECK, {"account": account.pk, "name": "ERP升级项目(二期)"})
    assert response.status_code == 200
    (hit,) = response.json()
    assert hit["id"] == existing.pk and hit["name"] == "ERP 升级项目（二期）"
    assert hit["owner"] == "rep1" and hit["score"] >= 85 and hit["currency"] == "CNY"
    assert len(queries) <= 8
    assert client.get(CHECK, {"account": account.pk, "name": "别的"}).json() == []
    assert client.get(CHECK, {"name": "ERP"}).status_code == 400
    hidden = make_account(owner=org.rep3, label="看不见", actor=org.rep3)
    assert client.get(CHECK, {"account": hidden.pk, "name": "ERP"}).status_code == 404
    # Creating never refuses a duplicate.
    created = client.post(
        "/api/v1/opportunities/",
        {"name": "ERP 升级项目（二期）", "account": account.pk, "amount": "1", "currency": "CNY"},
        format="json",
    )
    assert created.status_code == 201, created.json()
