"""Services of the opportunity screens: the team's credit split, the deal's contacts and
competitors, the competitor list, and the lead-conversion factory."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.models import PicklistOption, TeamMember
from guanxi.customers.services import contact_create
from guanxi.customers.tests.factories import make_account
from guanxi.leads.models import Lead
from guanxi.leads.services import conversion
from guanxi.leads.tests.factories import make_lead
from guanxi.sales.models import Competitor, CompetitorStatus, Opportunity, OpportunitySplit
from guanxi.sales.services import opportunities as services
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(org):
    return make_opportunity(owner=org.rep1, label="ERP 项目", actor=org.rep1)


def test_splits_must_add_up_to_100_and_join_the_team(org, deal):
    with pytest.raises(ValidationError) as error:
        services.opportunity_splits_set(
            opportunity=deal,
            actor=org.rep1,
            splits=[{"user": org.rep1, "percent": 60}, {"user": org.rep3, "percent": 30}],
        )
    assert "add up to 90%" in str(error.value)
    assert not OpportunitySplit.objects.filter(opportunity=deal).exists()

    with pytest.raises(ValidationError):
        services.opportunity_splits_set(
            opportunity=deal,
            actor=org.rep1,
            splits=[{"user": org.rep3, "percent": 50}, {"user": org.rep3, "percent": 50}],
        )

    services.opportunity_splits_set(
        opportunity=deal,
        actor=org.rep1,
        splits=[{"user": org.rep1, "percent": 60}, {"user": org.rep3, "percent": "40"}],
        version=deal.version,
    )
    assert {(s.user_id, s.percent) for s in deal.splits.all()} == {
        (org.rep1.pk, Decimal("60")),
        (org.rep3.pk, Decimal("40")),
    }
    # rep3 (another department) now sees the deal through the team; the owner is no member.
    members = TeamMember.objects.filter(
        content_type=ContentType.objects.get_for_model(Opportunity), object_id=deal.pk
    )
    assert set(members.values_list("user_id", flat=True)) == {org.rep3.pk}
    assert Opportunity.objects.visible_to(org.rep3).filter(pk=deal.pk).exists()

    # A stale version is refused; no split at all is allowed.
    with pytest.raises(VersionConflict):
        services.opportunity_splits_set(opportunity=deal, actor=org.rep1, splits=[], version=1)
    services.opportunity_splits_set(opportunity=deal, actor=org.rep1, splits=[])
    assert not deal.splits.exists()


def test_only_contacts_of_the_account_join_the_deal(org, deal):
    inside = contact_create(actor=org.rep1, data={"name": "王总"}, account=deal.account)
    boss = contact_create(actor=org.rep1, data={"name": "李董"}, account=deal.account)
    outsider = contact_create(actor=org.rep1, data={"name": "外人"})
    with pytest.raises(ValidationError) as error:
        services.opportunity_contact_set(opportunity=deal, actor=org.rep1, contact=outsider)
    assert "account's contacts" in str(error.value)

    first = services.opportunity_contact_set(
        opportunity=deal, actor=org.rep1, contact=inside, attitude="supporter", influence="high"
    )
    assert first.is_primary  # the first contact is the primary one
    services.opportunity_contact_set(
        opportunity=deal, actor=org.rep1, contact=boss, attitude="opponent", is_primary=True
    )
    first.refresh_from_db()
    assert not first.is_primary
    with pytest.raises(ValidationError):
        services.opportunity_contact_set(
            opportunity=deal, actor=org.rep1, contact=inside, attitude="hostile"
        )
    services.opportunity_contact_remove(opportunity=deal, actor=org.rep1, contact_id=boss.pk)
    first.refresh_from_db()
    assert first.is_primary and deal.contact_roles.count() == 1


def test_competitors_on_a_deal_and_the_winner(org, deal):
    rival = Competitor.objects.create(name="竞品甲", strengths="价格低")
    entry = services.opportunity_competitor_set(
        opportunity=deal, actor=org.rep1, competitor=rival, notes="报价更低"
    )
    assert entry.status == CompetitorStatus.ACTIVE
    with pytest.raises(ValidationError):  # winning is what "lose" records
        services.opportunity_competitor_set(
            opportunity=deal, actor=org.rep1, competitor=rival, status="won"
        )
    reason = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
    services.opportunity_lose(opportunity=deal, actor=org.rep1, reason=reason, winner=rival)
    with pytest.raises(ValidationError):
        services.opportunity_competitor_remove(
            opportunity=deal, actor=org.rep1, competitor_id=rival.pk
        )


def test_only_administrators_edit_the_competitor_list(org):
    with pytest.raises(ActionNotAllowed):
        services.competitor_save(actor=org.rep1, data={"name": "竞品乙"})
    rival = services.competitor_save(actor=org.admin, data={"name": "竞品乙", "weaknesses": "慢"})
    assert Competitor.objects.get(pk=rival.pk).weaknesses == "慢"


def test_lead_conversion_makes_an_opportunity_with_the_lead_and_its_source(org):
    source = PicklistOption.objects.filter(picklist__code="lead_source").first()
    lead = make_lead(
        owner=org.rep1, label="张三", actor=org.rep1, company="星辰科技", source=source
    )
    result = conversion.lead_convert(
        lead=lead,
        actor=org.rep1,
        create_opportunity=True,
        opportunity_data={"amount": Decimal("50000")},
    )
    opportunity = Opportunity.objects.get(pk=result.opportunity_id)
    assert opportunity.account == result.account and opportunity.lead_id == lead.pk
    assert opportunity.source == source and opportunity.owner == org.rep1
    assert opportunity.name == "星辰科技" and opportunity.amount == Decimal("50000")
    primary = opportunity.contact_roles.get()
    assert primary.contact == result.contact and primary.is_primary
    assert Lead.objects.get(pk=lead.pk).converted_opportunity_id == opportunity.pk


def test_account_figures_sum_won_deals(org):
    from guanxi.sales.selectors import opportunities as selectors

    account = make_account(owner=org.rep1, label="客户", actor=org.rep1)
    assert selectors.lifetime_revenue(account) is None  # shown as "—"
    won = make_opportunity(owner=org.rep1, label="赢", actor=org.rep1, account=account)
    other = make_opportunity(owner=org.rep1, label="又赢", actor=org.rep1, account=account)
    make_opportunity(owner=org.rep1, label="开", actor=org.rep1, account=account)
    services.opportunity_win(opportunity=won, actor=org.rep1)
    services.opportunity_win(opportunity=other, actor=org.rep1)
    assert selectors.lifetime_revenue(account) == Decimal("20000.00")
    assert selectors.last_purchase(account) == won.close_date
    # (The account page shows them through register_account_figure in hooks/opportunities.)
