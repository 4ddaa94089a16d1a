"""/api/v1/opportunities/: CRUD through the services, the business actions, 409 on a stale
version, 404 outside the scope, filters, bounded queries."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from guanxi.core.models import PicklistOption
from guanxi.customers.services import contact_create
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import Competitor, Opportunity, Pipeline, Product
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db

URL = "/api/v1/opportunities/"


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _stages():
    return {stage.name_en: stage for stage in Pipeline.objects.get(is_default=True).stages.all()}


def test_create_update_delete_through_the_services(org):
    account = make_account(owner=org.rep1, label="接口客户", actor=org.rep1)
    client = _client(org.rep1)
    response = client.post(
        URL, {"name": "接口商机", "account": account.pk, "amount": "5000.00"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stage_name"] and body["probability"] == 10 and body["amount_company"] == "5000.00"
    pk, version = body["id"], body["version"]

    response = client.patch(f"{URL}{pk}/", {"amount": "7000", "version": version}, format="json")
    assert response.status_code == 200 and response.json()["amount"] == "7000.00"
    stale = client.patch(f"{URL}{pk}/", {"amount": "1", "version": version}, format="json")
    assert stale.status_code == 409 and stale.json()["current_version"] == version + 1

    other = make_account(owner=org.rep3, label="看不见", actor=org.rep3)
    response = client.post(URL, {"name": "越权", "account": other.pk}, format="json")
    assert response.status_code == 400 and "account" in response.json()["errors"]

    response = client.delete(f"{URL}{pk}/")
    assert response.status_code == 204
    assert not Opportunity.objects.filter(pk=pk).exists()


def test_actions_move_win_lose_reopen(org):
    deal = make_opportunity(owner=org.rep1, label="动作", actor=org.rep1)
    stages = _stages()
    client = _client(org.rep1)
    response = client.post(f"{URL}{deal.pk}/move/", {"stage": stages["Proposal"].pk}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == stages["Proposal"].pk
    version = response.json()["version"]
    # Proposal asks for contacts before leaving.
    response = client.post(
        f"{URL}{deal.pk}/move/",
        {"stage": stages["Negotiation"].pk, "version": version},
        format="json",
    )
    assert response.status_code == 400
    assert "Before leaving" in response.json()["detail"]
    response = client.post(
        f"{URL}{deal.pk}/move/", {"stage": stages["Qualification"].pk, "version": 1}, format="json"
    )
    assert response.status_code == 409

    reason = PicklistOption.objects.get(picklist__code="lost_reason", value="no_budget")
    rival = Competitor.objects.create(name="对手")
    response = client.post(
        f"{URL}{deal.pk}/lose/", {"reason": reason.pk, "winner": rival.pk}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["is_closed"] and not body["is_won"] and body["winner"] == rival.pk
    response = client.post(f"{URL}{deal.pk}/reopen/", {}, format="json")
    assert response.status_code == 200 and not response.json()["is_closed"]
    assert response.json()["stage"] == stages["Proposal"].pk
    contact = contact_create(actor=org.rep1, data={"name": "孙总"}, account=deal.account)
    response = client.post(
        f"{URL}{deal.pk}/contacts/",
        {"contact": contact.pk, "attitude": "supporter", "influence": "high"},
        format="json",
    )
    assert response.status_code == 200 and response.json()[0]["is_primary"]
    response = client.post(f"{URL}{deal.pk}/win/", {"note": "签约"}, format="json")
    assert response.status_code == 200 and response.json()["is_won"]


def test_lines_competitors_splits(org):
    deal = make_opportunity(owner=org.rep1, label="明细", actor=org.rep1)
    product = Product.objects.create(code="P-9", name="软件许可")
    rival = Competitor.objects.create(name="竞品")
    client = _client(org.rep1)
    response = client.put(
        f"{URL}{deal.pk}/lines/",
        {"lines": [{"product": product.pk, "quantity": "3", "unit_price": "100"}]},
        format="json",
    )
    assert response.status_code == 200 and response.json()[0]["total"] == "300.00"
    assert client.get(f"{URL}{deal.pk}/").json()["amount"] == "300.00"
    response = client.put(
        f"{URL}{deal.pk}/lines/", {"lines": [{"product": product.pk}]}, format="json"
    )
    assert response.status_code == 400  # no price given and none in the price book

    response = client.post(
        f"{URL}{deal.pk}/competitors/", {"competitor": rival.pk, "notes": "强"}, format="json"
    )
    assert response.status_code == 200 and response.json()[0]["competitor_name"] == "竞品"
    response = client.delete(
        f"{URL}{deal.pk}/competitors/", {"competitor": rival.pk}, format="json"
    )
    assert response.status_code == 200 and response.json() == []

    response = client.put(
        f"{URL}{deal.pk}/splits/",
        {
            "splits": [
                {"user": org.rep1.pk, "percent": "50"},
                {"user": org.rep3.pk, "percent": "40"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    response = client.put(
        f"{URL}{deal.pk}/splits/",
        {
            "splits": [
                {"user": org.rep1.pk, "percent": "50"},
                {"user": org.rep3.pk, "percent": "50"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200 and len(response.json()) == 2
    # rep3 joined the team and now sees the deal.
    assert _client(org.rep3).get(f"{URL}{deal.pk}/").status_code == 200


def test_scope_filters_and_query_count(org, django_assert_max_num_queries):
    deal = make_opportunity(owner=org.rep1, label="可见", actor=org.rep1, amount=Decimal("900"))
    for number in range(20):
        make_opportunity(owner=org.rep1, label=f"批{number}", actor=org.rep1)
    hidden = make_opportunity(owner=org.rep3, label="不可见", actor=org.rep3)
    client = _client(org.rep1)
    assert client.get(f"{URL}{hidden.pk}/").status_code == 404
    assert client.post(f"{URL}{hidden.pk}/win/", {}, format="json").status_code == 404
    assert client.put(f"{URL}{hidden.pk}/lines/", {"lines": []}, format="json").status_code == 404
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"page_size": 50})
    ids = {row["id"] for row in response.json()["results"]}
    assert deal.pk in ids and hidden.pk not in ids and len(ids) == 21
    assert "count" not in response.json()
    response = client.get(URL, {"amount_max": "1000"})
    assert [row["id"] for row in response.json()["results"]] == [deal.pk]
    response = client.get(URL, {"status": "open", "name": "可"})
    assert [row["id"] for row in response.json()["results"]] == [deal.pk]
    read_only = _client(org.read_only)
    assert read_only.post(f"{URL}{deal.pk}/win/", {}, format="json").status_code == 403


def test_contacts_of_the_deal_only_visible_ones_and_removal(org):
    deal = make_opportunity(owner=org.rep1, label="联系人", actor=org.rep1)
    mine = contact_create(actor=org.rep1, data={"name": "周经理"}, account=deal.account)
    # The account's contact too, but owned in another department: rep1 may not pick it.
    hidden = contact_create(actor=org.rep3, data={"name": "北方联系人"}, account=deal.account)
    client = _client(org.rep1)
    response = client.post(f"{URL}{deal.pk}/contacts/", {"contact": hidden.pk}, format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["errors"]["contact"][0]
    assert not deal.contact_roles.exists()
    response = client.post(f"{URL}{deal.pk}/contacts/", {"contact": mine.pk}, format="json")
    assert response.status_code == 200
    assert [row["contact"] for row in response.json()] == [mine.pk]
    assert client.get(f"{URL}{deal.pk}/contacts/").json()[0]["contact_name"] == "周经理"
    response = client.delete(f"{URL}{deal.pk}/contacts/", {"contact": mine.pk}, format="json")
    assert response.status_code == 200 and response.json() == []
    assert not deal.contact_roles.exists()


def test_open_deals_by_close_date_walk_the_close_date_index(org):
    """The board's "open deals by close date" read: only open ones, soonest first, asked as
    `is_closed IN (false)`, which SQLite can answer from the (is_closed, expected_close_date)
    index; `NOT is_closed` is no index equality to it."""
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.sales.services.opportunities import opportunity_win

    today = datetime.date(2031, 5, 1)
    later = make_opportunity(owner=org.rep1, label="晚", actor=org.rep1)
    sooner = make_opportunity(owner=org.rep1, label="早", actor=org.rep1)
    won = make_opportunity(owner=org.rep1, label="赢", actor=org.rep1, amount=Decimal("10"))
    for deal, days in ((later, 30), (sooner, 3), (won, 1)):
        Opportunity.objects.filter(pk=deal.pk).update(
            expected_close_date=today + datetime.timedelta(days=days)
        )
    won.refresh_from_db()
    opportunity_win(opportunity=won, actor=org.rep1)
    pipeline = Pipeline.objects.get(is_default=True)
    query = {"pipeline": pipeline.pk, "status": "open", "ordering": "expected_close_date"}
    with CaptureQueriesContext(connection) as captured:
        response = _client(org.admin).get(URL, query)
    ids = [row["id"] for row in response.json()["results"]]
    assert ids.index(sooner.pk) < ids.index(later.pk) and won.pk not in ids
    page_sql = next(
        q["sql"] for q in captured.captured_queries if 'FROM "sales_opportunity"' in q["sql"]
    )
    # The plan depends on the table's statistics (on a few rows any plan is cheap): on the
    # L dataset this form takes 1 ms where `NOT is_closed` sorted 250,000 rows (1.2 s).
    assert '"sales_opportunity"."is_closed" IN (' in page_sql
