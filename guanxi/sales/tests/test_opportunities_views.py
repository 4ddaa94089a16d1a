"""The opportunity pages: list with sums and filters (bounded queries), create with the
stage's probability, detail sections, the actions (lines, contacts, competitors, split,
move with exit criteria, win / lose / reopen), scope (404), the account page section."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from guanxi.core.models import PicklistOption
from guanxi.customers.models import ContactRelation
from guanxi.customers.services import contact_create
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import (
    Competitor,
    Opportunity,
    Pipeline,
    PriceBook,
    PriceBookEntry,
    Product,
)
from guanxi.sales.services import opportunities as services
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db

LIST = "/sales/opportunities/"


def _stages():
    return {stage.name_en: stage for stage in Pipeline.objects.get(is_default=True).stages.all()}


def _detail(opportunity):
    return reverse("sales:opportunity_detail", args=[opportunity.pk])


def test_index_is_the_list_with_sums_over_the_filtered_set(
    client, org, django_assert_max_num_queries
):
    big = make_opportunity(owner=org.rep1, label="大单", actor=org.rep1, amount=Decimal("80000"))
    make_opportunity(owner=org.rep1, label="小单", actor=org.rep1, amount=Decimal("20000"))
    make_opportunity(owner=org.rep3, label="北方单", actor=org.rep3, amount=Decimal("99999"))
    for number in range(30):
        make_opportunity(owner=org.rep1, label=f"批量{number}", actor=org.rep1)
    client.force_login(org.rep1)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("sales:index"), {"per_page": 25})
    html = response.content.decode()
    assert response.status_code == 200 and "北方单" not in html
    totals = response.context["totals"]
    # 32 visible deals: 80000 + 20000 + 30 × 10000, all at 10 % (qualification).
    assert totals == {
        "count": 32,
        "amount": Decimal("400000.00"),
        "weighted": Decimal("40000.00"),
    }
    assert 'id="total-amount"' in html

    services.opportunity_move(opportunity=big, actor=org.rep1, stage=_stages()["Needs analysis"])
    response = client.get(LIST, {"amount_min": "50000"})
    assert response.context["totals"]["count"] == 1
    assert response.context["totals"]["weighted"] == Decimal("20000.00")
    response = client.get(LIST, {"stage": _stages()["Needs analysis"].pk})
    assert "大单" in response.content.decode() and "小单" not in response.content.decode()
    response = client.get(LIST, {"status": "won"})
    assert response.context["totals"]["count"] == 0
    # The htmx partial refreshes the sums too.
    response = client.get(LIST, {"q": "小"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results")
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and response.context["totals"]["count"] == 1


def test_sums_of_a_list_too_long_are_not_added_up_on_every_page(client, org, monkeypatch):
    from guanxi.sales.selectors import opportunities as sales_selectors

    monkeypatch.setattr(sales_selectors, "TOTALS_LIMIT", 3)
    for number in range(4):
        make_opportunity(owner=org.rep1, label=f"批量{number}", actor=org.rep1)
    client.force_login(org.rep1)
    response = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.context["totals"] == {"over": 3}
    assert "More than 3 opportunities: narrow the filters" in html
    assert 'id="total-amount"' not in html and "批量0" in html
    # Narrowed below the limit, the sums are back.
    response = client.get(LIST, {"q": "批量1"})
    assert response.context["totals"]["count"] == 1


def test_create_takes_the_stage_probability_and_refuses_invisible_accounts(client, org):
    mine = make_account(owner=org.rep1, label="我的客户", actor=org.rep1)
    theirs = make_account(owner=org.rep3, label="别人的客户", actor=org.rep3)
    client.force_login(org.rep1)
    page = client.get(reverse("sales:opportunity_create"), {"account": mine.pk})
    assert page.status_code == 200 and "我的客户" in page.content.decode()
    data = {
        "name": "新商机",
        "account": mine.pk,
        "amount": "12000",
        "currency": "CNY",
        "expected_close_date": "2030-01-31",
        "probability": "",
    }
    response = client.post(reverse("sales:opportunity_create"), data)
    assert response.status_code == 302
    created = Opportunity.objects.get(name="新商机")
    assert created.probability == 10 and created.stage.name_en == "Qualification"
    response = client.post(reverse("sales:opportunity_create"), {**data, "account": theirs.pk})
    assert response.status_code == 200 and not Opportunity.objects.filter(account=theirs).exists()
    options = client.get(
        reverse("sales:opportunity_stage_options"), {"pipeline": created.pipeline_id}
    ).content.decode()
    assert "Qualification" in options or "初步接洽" in options
    assert "Won" not in options and "赢单" not in options


def test_detail_sections_and_query_count(client, org, django_assert_max_num_queries):
    deal = make_opportunity(owner=org.rep1, label="决策链", actor=org.rep1)
    boss = contact_create(actor=org.rep1, data={"name": "赵总"}, account=deal.account)
    staff = contact_create(actor=org.rep1, data={"name": "钱经理"}, account=deal.account)
    ContactRelation.objects.create(from_contact=staff, to_contact=boss, kind="reports_to")
    services.opportunity_contact_set(
        opportunity=deal, actor=org.rep1, contact=boss, attitude="supporter", influence="high"
    )
    services.opportunity_contact_set(
        opportunity=deal, actor=org.rep1, contact=staff, attitude="opponent"
    )
    client.force_login(org.rep1)
    with django_assert_max_num_queries(60):
        response = client.get(_detail(deal))
    html = response.content.decode()
    assert response.status_code == 200
    for anchor in ("lines", "deal-contacts", "competitors", "team", "stage-history"):
        assert f'id="{anchor}"' in html
    graph = response.context["chain_graph"]
    assert {node["name"] for node in graph["nodes"]} == {"赵总", "钱经理"}
    assert graph["edges"] == [{"source": str(staff.pk), "target": str(boss.pk)}]
    sizes = {node["name"]: node["symbolSize"] for node in graph["nodes"]}
    assert sizes["赵总"] > sizes["钱经理"]
    assert 'id="decision-chain-data"' in html and "echarts" in html
    # Over the stage's 14 days: highlighted.
    Opportunity.objects.filter(pk=deal.pk).update(
        stage_entered_at=deal.stage_entered_at - datetime.timedelta(days=20)
    )
    response = client.get(_detail(deal))
    assert response.context["ages"]["days_in_stage"] == 20
    assert response.context["ages"]["over_limit"]


def test_move_refusal_shows_the_exit_criteria(client, org):
    deal = make_opportunity(owner=org.rep1, label="推进", actor=org.rep1)
    stages = _stages()
    services.opportunity_update(
        opportunity=deal, actor=org.rep1, data={"expected_close_date": datetime.date(2030, 1, 1)}
    )
    services.opportunity_move(opportunity=deal, actor=org.rep1, stage=stages["Needs analysis"])
    services.opportunity_move(opportunity=deal, actor=org.rep1, stage=stages["Proposal"])
    deal.refresh_from_db()
    client.force_login(org.rep1)
    response = client.post(
        reverse("sales:opportunity_move", args=[deal.pk]),
        {"stage": stages["Negotiation"].pk, "version": deal.version},
        follow=True,
    )
    html = response.content.decode()
    assert "Before leaving" in html and "at least one contact with a role" in html
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]


def test_lines_competitors_split_win_lose_reopen(client, org):
    deal = make_opportunity(owner=org.rep1, label="全流程", actor=org.rep1)
    product = Product.objects.create(code="P-1", name="服务器")
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    PriceBookEntry.objects.create(price_book=book, product=product, unit_price=Decimal("1000"))
    PriceBookEntry.objects.create(
        price_book=book, product=product, min_quantity=10, unit_price=Decimal("900")
    )
    rival = Competitor.objects.create(name="对手公司")
    client.force_login(org.rep1)
    lines = {
        "version": deal.version,
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": product.pk,
        "lines-0-quantity": "10",
        "lines-0-discount_percent": "10",
        "lines-1-product": "",
    }
    client.post(reverse("sales:opportunity_lines", args=[deal.pk]), lines)
    deal.refresh_from_db()
    assert deal.amount == Decimal("8100.00") and deal.amount_from_lines  # 10 × 900 − 10 %

    client.post(
        reverse("sales:opportunity_competitor_add", args=[deal.pk]),
        {"competitor": rival.pk, "status": "active", "notes": "低价"},
    )
    assert deal.competitor_entries.filter(competitor=rival).exists()

    deal.refresh_from_db()
    response = client.post(
        reverse("sales:opportunity_splits", args=[deal.pk]),
        {
            "version": deal.version,
            "splits-TOTAL_FORMS": "2",
            "splits-INITIAL_FORMS": "0",
            "splits-0-user": org.rep1.pk,
            "splits-0-percent": "70",
            "splits-1-user": org.rep2.pk,
            "splits-1-percent": "20",
        },
        follow=True,
    )
    assert "they must add up to 100%" in response.content.decode()
    assert not deal.splits.exists()

    reason = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    deal.refresh_from_db()
    client.post(
        reverse("sales:opportunity_lose", args=[deal.pk]),
        {"reason": reason.pk, "winner": rival.pk, "note": "价格", "version": deal.version},
    )
    deal.refresh_from_db()
    assert deal.is_closed and not deal.is_won and deal.winner == rival
    html = client.get(_detail(deal)).content.decode()
    assert 'id="action-reopen"' in html and 'id="lines-form"' not in html
    client.post(reverse("sales:opportunity_reopen", args=[deal.pk]), {"version": deal.version})
    deal.refresh_from_db()
    assert not deal.is_closed
    client.post(reverse("sales:opportunity_win", args=[deal.pk]), {"version": deal.version})
    deal.refresh_from_db()
    assert deal.is_won


def test_outside_the_scope_is_404_and_read_only_is_403(client, org):
    deal = make_opportunity(owner=org.rep1, label="范围", actor=org.rep1)
    client.force_login(org.rep3)
    assert client.get(_detail(deal)).status_code == 404
    assert client.post(reverse("sales:opportunity_win", args=[deal.pk])).status_code == 404
    client.force_login(org.read_only)
    assert client.get(_detail(deal)).status_code == 200
    assert client.post(reverse("sales:opportunity_win", args=[deal.pk])).status_code == 403
    deal.refresh_from_db()
    assert not deal.is_closed


def test_account_page_lists_its_opportunities(client, org):
    account = make_account(owner=org.rep1, label="三六零", actor=org.rep1)
    make_opportunity(owner=org.rep1, label="进行中的单", actor=org.rep1, account=account)
    won = make_opportunity(owner=org.rep1, label="赢下的单", actor=org.rep1, account=account)
    services.opportunity_win(opportunity=won, actor=org.rep1)
    client.force_login(org.rep1)
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert 'id="section-opportunities"' in html
    section = reverse("customers:account_section", args=[account.pk, "opportunities"])
    assert f'hx-get="{section}"' in html
    html = client.get(section).content.decode()
    assert "进行中的单" in html and "赢下的单" in html


def test_edit_form_changes_fields_and_moves_the_stage_through_the_service(client, org):
    deal = make_opportunity(owner=org.rep1, label="编辑", actor=org.rep1)
    stages = _stages()
    client.force_login(org.rep1)
    url = reverse("sales:opportunity_edit", args=[deal.pk])
    page = client.get(url)
    assert page.status_code == 200 and "data-stage-options" in page.content.decode()
    data = {
        "name": "编辑后",
        "account": deal.account_id,
        "pipeline": deal.pipeline_id,
        "stage": stages["Proposal"].pk,
        "amount": "30000",
        "currency": "CNY",
        "expected_close_date": "",
        "probability": "",
        "version": deal.version,
    }
    # Needs analysis is skipped but Qualification has no exit criteria: the move is allowed.
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert deal.name == "编辑后" and deal.amount == Decimal("30000")
    assert deal.stage == stages["Proposal"] and deal.probability == 50
    # Stale version: the form says so.
    response = client.post(url, {**data, "name": "又改", "version": 1})
    assert response.status_code == 200 and Opportunity.objects.get(pk=deal.pk).name == "编辑后"


def test_the_amount_column_sorts_in_the_company_currency(client, org):
    make_opportunity(owner=org.rep1, label="人民币单", actor=org.rep1, amount=Decimal("5000"))
    dollars = make_opportunity(
        owner=org.rep1, label="美元单", actor=org.rep1, amount=Decimal("1000")
    )
    Opportunity.objects.filter(pk=dollars.pk).update(currency="USD", amount_company=Decimal("7000"))
    client.force_login(org.rep1)
    html = client.get(LIST, {"sort": "-amount"}).content.decode()
    assert html.index("美元单") < html.index("人民币单")
