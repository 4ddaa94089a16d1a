import datetime
import importlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import VersionConflict
from guanxi.core.models import PicklistOption, TimelineEntry
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import (
    Competitor,
    CompetitorStatus,
    ExchangeRate,
    Opportunity,
    Pipeline,
    PriceBook,
    PriceBookEntry,
    Product,
    StageHistory,
)
from guanxi.sales.services import opportunities as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline():
    return Pipeline.objects.get(is_default=True)


def stages(pipeline):
    return {s.name_en: s for s in pipeline.stages.all()}


def _opportunity(org, **data):
    account = make_account(owner=org.rep1, label="华为", actor=org.rep1)
    return services.opportunity_create(
        actor=org.rep1, data={"name": "ERP 项目", "account": account, **data}
    )


def test_create_starts_in_first_stage_with_its_probability_and_history(org, pipeline):
    opportunity = _opportunity(org, amount=Decimal("100000"))
    assert opportunity.stage.name_en == "Qualification" and opportunity.probability == 10
    assert opportunity.amount_company == Decimal("100000.00")
    assert StageHistory.objects.filter(opportunity=opportunity, left_at__isnull=True).count() == 1
    assert TimelineEntry.objects.filter(account_id=opportunity.account_id).exists()


def test_foreign_currency_converted_with_the_rate_in_force(org):
    ExchangeRate.objects.create(
        currency="USD", rate=Decimal("7.1"), valid_from=datetime.date(2020, 1, 1)
    )
    opportunity = _opportunity(org, amount=Decimal("1000"), currency="USD")
    assert opportunity.amount_company == Decimal("7100.00")
    with pytest.raises(ValidationError) as error:
        _opportunity(org, amount=Decimal("1"), currency="EUR")
    assert "exchange rate for EUR" in str(error.value)


def test_exit_criteria_refuse_forward_moves_with_a_clear_message(org, pipeline):
    by_name = stages(pipeline)
    opportunity = _opportunity(org)
    services.opportunity_move(
        opportunity=opportunity, actor=org.rep1, stage=by_name["Needs analysis"]
    )
    with pytest.raises(ValidationError) as error:
        services.opportunity_move(
            opportunity=opportunity, actor=org.rep1, stage=by_name["Proposal"]
        )
    assert "Before leaving Needs analysis, fill in: expected close date." in error.value.messages[0]
    services.opportunity_update(
        opportunity=opportunity,
        actor=org.rep1,
        data={"expected_close_date": datetime.date(2027, 3, 1)},
    )
    services.opportunity_move(opportunity=opportunity, actor=org.rep1, stage=by_name["Proposal"])
    assert opportunity.probability == 50
    # Backwards is always allowed; history keeps every stay.
    services.opportunity_move(
        opportunity=opportunity, actor=org.rep1, stage=by_name["Qualification"]
    )
    assert StageHistory.objects.filter(opportunity=opportunity).count() == 4


def test_move_is_version_checked(org, pipeline):
    opportunity = _opportunity(org)
    with pytest.raises(VersionConflict):
        services.opportunity_move(
            opportunity=opportunity,
            actor=org.rep1,
            stage=stages(pipeline)["Needs analysis"],
            version=99,
        )


def test_win_lose_reopen(org, pipeline):
    opportunity = _opportunity(org)
    services.opportunity_win(opportunity=opportunity, actor=org.rep1, note="签约")
    assert opportunity.is_closed and opportunity.is_won and opportunity.probability == 100
    with pytest.raises(ValidationError):
        services.opportunity_win(opportunity=opportunity, actor=org.rep1)
    services.opportunity_reopen(opportunity=opportunity, actor=org.rep1)
    assert not opportunity.is_closed and opportunity.stage.name_en == "Qualification"
    rival = Competitor.objects.create(name="用友")
    with pytest.raises(ValidationError):
        services.opportunity_lose(opportunity=opportunity, actor=org.rep1, reason=None)
    price = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    services.opportunity_lose(opportunity=opportunity, actor=org.rep1, reason=price, winner=rival)
    assert opportunity.is_closed and not opportunity.is_won and opportunity.winner == rival
    assert opportunity.competitor_entries.get().status == CompetitorStatus.WON
    assert opportunity.stage.kind == "lost"


def _furthest(opportunity):
    opportunity.refresh_from_db()
    return opportunity.furthest_stage.name_en


def test_furthest_stage_follows_the_moves_forward_only(org, pipeline):
    by_name = stages(pipeline)
    opportunity = _opportunity(org, expected_close_date=datetime.date(2027, 3, 1))
    assert _furthest(opportunity) == "Qualification"
    services.opportunity_move(opportunity=opportunity, actor=org.rep1, stage=by_name["Proposal"])
    assert _furthest(opportunity) == "Proposal"
    services.opportunity_move(
        opportunity=opportunity, actor=org.rep1, stage=by_name["Needs analysis"]
    )
    assert _furthest(opportunity) == "Proposal"  # going back does not undo how far it got
    price = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    services.opportunity_lose(opportunity=opportunity, actor=org.rep1, reason=price)
    assert _furthest(opportunity) == "Proposal"  # lost is never "how far"
    services.opportunity_reopen(opportunity=opportunity, actor=org.rep1)
    services.opportunity_win(opportunity=opportunity, actor=org.rep1)
    assert _furthest(opportunity) == "Won"
    services.opportunity_reopen(opportunity=opportunity, actor=org.rep1)
    assert _furthest(opportunity) == "Won"


def test_closing_keeps_the_stage_it_was_closed_from_and_reopening_goes_back(org, pipeline):
    by_name = stages(pipeline)
    opportunity = _opportunity(org, expected_close_date=datetime.date(2027, 3, 1))
    services.opportunity_move(opportunity=opportunity, actor=org.rep1, stage=by_name["Proposal"])
    services.opportunity_move(
        opportunity=opportunity, actor=org.rep1, stage=by_name["Needs analysis"]
    )
    price = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    services.opportunity_lose(opportunity=opportunity, actor=org.rep1, reason=price)
    opportunity.refresh_from_db()
    assert opportunity.closed_from_stage == by_name["Needs analysis"]  # not the furthest
    services.opportunity_reopen(opportunity=opportunity, actor=org.rep1)
    opportunity.refresh_from_db()
    assert opportunity.stage == by_name["Needs analysis"] and opportunity.closed_from_stage is None
    services.opportunity_win(opportunity=opportunity, actor=org.rep1)
    opportunity.refresh_from_db()
    assert opportunity.closed_from_stage == by_name["Needs analysis"]


def test_migration_fills_the_stage_closed_from_out_of_the_history(org, pipeline):
    from django.apps import apps

    fill = importlib.import_module(
        "guanxi.sales.migrations.0007_opportunity_closed_from_stage"
    ).fill_closed_from_stages
    by_name = stages(pipeline)
    lost, still_open = _opportunity(org), _opportunity(org)
    services.opportunity_move(opportunity=lost, actor=org.rep1, stage=by_name["Proposal"])
    price = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    services.opportunity_lose(opportunity=lost, actor=org.rep1, reason=price)
    Opportunity.objects.update(closed_from_stage=None)
    fill(apps, None)
    assert Opportunity.objects.get(pk=lost.pk).closed_from_stage == by_name["Proposal"]
    assert Opportunity.objects.get(pk=still_open.pk).closed_from_stage is None


def test_lines_take_tiered_prices_and_set_the_amount(org):
    product = Product.objects.create(code="P1", name="软件许可")
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    PriceBookEntry.objects.create(price_book=book, product=product, unit_price=Decimal("100"))
    PriceBookEntry.objects.create(
        price_book=book, product=product, min_quantity=Decimal("10"), unit_price=Decimal("80")
    )
    opportunity = _opportunity(org)
    services.opportunity_lines_set(
        opportunity=opportunity,
        actor=org.rep1,
        lines=[
            {"product": product, "quantity": 2},
            {"product": product, "quantity": 10, "discount_percent": 10},
        ],
    )
    opportunity.refresh_from_db()
    assert [line.total for line in opportunity.lines.all()] == [
        Decimal("200.00"),
        Decimal("720.00"),
    ]
    assert opportunity.amount == Decimal("920.00") and opportunity.amount_from_lines
