"""The sales demo: a filled catalogue, territories, two pipelines, opportunities spread over
stages and time (won and lost with reasons and competitors), targets; loading twice adds
nothing."""

import datetime
import random

import pytest

from guanxi.core.demo import DemoData
from guanxi.core.models import PicklistOption
from guanxi.customers.services import contact_create
from guanxi.customers.tests.factories import make_account
from guanxi.sales import demo
from guanxi.sales.models import (
    AccountTerritory,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
    PriceBookEntry,
    Product,
    SalesTarget,
    StageHistory,
    Territory,
)

pytestmark = pytest.mark.django_db


def test_sales_demo_is_varied_and_idempotent(org, monkeypatch):
    monkeypatch.setattr(demo, "OPPORTUNITY_COUNT", 40)
    accounts = []
    industries = {o.value: o for o in PicklistOption.objects.filter(picklist__code="industry")}
    for i, (owner, industry) in enumerate(
        [(org.rep1, "it"), (org.rep2, "finance"), (org.rep3, "manufacturing"), (org.rep1, "retail")]
    ):
        account = make_account(
            owner=owner, label=f"客户{i}", actor=owner, industry=industries[industry]
        )
        contact_create(actor=owner, data={"name": f"联系人{i}", "owner": owner}, account=account)
        accounts.append(account)
    users = {"sales.rep1": org.rep1, "sales.rep2": org.rep2, "sales.rep3": org.rep3}
    data = DemoData(
        rng=random.Random(7),
        users=users,
        departments={"华东销售部": org.east, "华北销售部": org.north},
        accounts=accounts,
    )
    demo.load_demo_data(demo=data, verbosity=0)

    assert Product.objects.count() == len(demo.PRODUCTS)
    assert PriceBookEntry.objects.filter(price_book__currency="USD").count() == 3 * len(
        demo.PRODUCTS
    )
    assert Territory.objects.count() == 2
    assert AccountTerritory.objects.get(account=accounts[2]).territory.name == "制造与建筑"
    assert not AccountTerritory.objects.filter(account=accounts[3]).exists()
    assert Pipeline.objects.filter(name_zh="项目型销售").exists()
    opportunities = list(Opportunity.objects.all())
    assert len(opportunities) == 40
    assert {o.is_won for o in opportunities if o.is_closed} == {True, False}
    assert any(not o.is_closed for o in opportunities)
    lost = [o for o in opportunities if o.is_closed and not o.is_won]
    assert all(o.lost_reason_id for o in lost)
    assert any(o.winner_id for o in lost)
    assert OpportunityLine.objects.exists() and OpportunityContact.objects.exists()
    oldest = min(o.created_at for o in opportunities).date()
    assert oldest < datetime.date.today() - datetime.timedelta(days=120)
    assert len({o.stage_id for o in opportunities}) >= 5
    # Stage history follows the backdated dates.
    first = min(opportunities, key=lambda o: o.created_at)
    entries = list(StageHistory.objects.filter(opportunity=first).order_by("entered_at"))
    assert entries[0].entered_at.date() == first.created_at.date()
    year = datetime.date.today().year
    assert SalesTarget.objects.filter(year=year, level="company", month=0).count() == 1
    assert SalesTarget.objects.filter(year=year, level="user", user=org.rep1).count() == 13

    demo.load_demo_data(demo=data, verbosity=0)
    assert Opportunity.objects.count() == 40 and Product.objects.count() == len(demo.PRODUCTS)
    assert SalesTarget.objects.filter(year=year, level="company", month=0).count() == 1
