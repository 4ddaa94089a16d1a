"""The forecast, proven on a hand-computed fixture (2026-Q3, commit from 70%, best case from
40%). Every expected number below was worked out by hand from the deals in `deals`."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import PicklistOption
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import Opportunity, OpportunitySplit, SalesTarget
from guanxi.sales.selectors.forecast import (
    forecast,
    forecast_subjects,
    parse_period,
    target_for,
)
from guanxi.sales.services import opportunities as services
from guanxi.sales.services.forecast import forecast_adjust

pytestmark = pytest.mark.django_db
D = Decimal


def deal(
    owner, name, amount, *, expected=None, probability=None, commit=False, won=None, lost=None
):
    account = make_account(owner=owner, label=f"{name} 客户", actor=owner)
    data = {"name": name, "account": account, "amount": D(amount), "forecast_commit": commit}
    if expected:
        data["expected_close_date"] = expected
    if probability is not None:
        data["probability"] = probability
    opportunity = services.opportunity_create(actor=owner, data=data)
    if won:
        services.opportunity_win(opportunity=opportunity, actor=owner)
        Opportunity.objects.filter(pk=opportunity.pk).update(close_date=won)
    if lost:
        reason = PicklistOption.objects.get(picklist__code="lost_reason", value="price")
        services.opportunity_lose(opportunity=opportunity, actor=owner, reason=reason)
        Opportunity.objects.filter(pk=opportunity.pk).update(close_date=lost)
    return opportunity


def build_deals(org):
    """The fixture, with what each deal brings to 2026-Q3:

    A rep1 won 100,000 on 07-15, split rep1 60% / rep2 40%
    B rep1 won  50,000 on 08-01
    C rep2 won  30,000 on 06-30 (Q2: out)
    D rep1 open 80,000 on 09-30 at 75% (commit)
    E rep1 open 40,000 on 07-10 at 50%, flagged commit (commit)
    F rep2 open 20,000 on 08-20 at 40% (best case)
    G rep2 open 10,000 on 09-01 at 10% (pipeline only)
    H rep3 open 60,000 on 08-15 at 90% (commit; north)
    I rep3 lost 70,000 on 08-01 (nothing)
    J rep1 open  5,000 on 10-01 at 90% (Q4: out)
    K rep3 won  25,000 on 09-30 (north)
    """
    day = datetime.date
    a = deal(org.rep1, "A", 100000, won=day(2026, 7, 15))
    OpportunitySplit.objects.create(opportunity=a, user=org.rep1, percent=D("60"))
    OpportunitySplit.objects.create(opportunity=a, user=org.rep2, percent=D("40"))
    deal(org.rep1, "B", 50000, won=day(2026, 8, 1))
    deal(org.rep2, "C", 30000, won=day(2026, 6, 30))
    deal(org.rep1, "D", 80000, expected=day(2026, 9, 30), probability=75)
    deal(org.rep1, "E", 40000, expected=day(2026, 7, 10), probability=50, commit=True)
    deal(org.rep2, "F", 20000, expected=day(2026, 8, 20), probability=40)
    deal(org.rep2, "G", 10000, expected=day(2026, 9, 1), probability=10)
    deal(org.rep3, "H", 60000, expected=day(2026, 8, 15), probability=90)
    deal(org.rep3, "I", 70000, lost=day(2026, 8, 1))
    deal(org.rep1, "J", 5000, expected=day(2026, 10, 1), probability=90)
    deal(org.rep3, "K", 25000, won=day(2026, 9, 30))


def build_targets(org):
    """rep1: July 50,000, August 50,000, September 100,000 (no year row);
    rep2: the year 240,000 (no months); east: the year 1,000,000 and July 100,000;
    the company: the year 2,400,000."""
    for month, amount in ((7, 50000), (8, 50000), (9, 100000)):
        SalesTarget.objects.create(
            year=2026, month=month, level="user", user=org.rep1, amount=amount
        )
    SalesTarget.objects.create(year=2026, month=0, level="user", user=org.rep2, amount=240000)
    SalesTarget.objects.create(
        year=2026, month=0, level="department", department=org.east, amount=1000000
    )
    SalesTarget.objects.create(
        year=2026, month=7, level="department", department=org.east, amount=100000
    )
    SalesTarget.objects.create(year=2026, month=0, level="company", amount=2400000)
    # A cash target never counts as a sales target.
    SalesTarget.objects.create(year=2026, month=0, level="company", metric="cash", amount=1)


@pytest.fixture
def fixture(org):
    build_deals(org)
    build_targets(org)
    return org


def figures(row):
    return (row.closed_won, row.commit, row.best_case, row.pipeline, row.weighted)


def test_person_figures_use_splits_flags_and_thresholds(fixture):
    org = fixture
    rep1 = forecast(viewer=org.admin, period="2026-Q3", level="user", subject=org.rep1.pk).total
    # won: A 60% (60,000) + B; commit: D + E (flagged); weighted: 80,000×75% + 40,000×50%.
    assert figures(rep1) == (D("110000"), D("120000"), D("120000"), D("120000"), D("80000"))
    assert (rep1.won_count, rep1.open_count) == (2, 2)
    # Targets: the sum of the three month rows; attainment 110,000 / 200,000.
    assert rep1.target == D("200000") and rep1.attainment == D("55.0")

    rep2 = forecast(viewer=org.admin, period="2026-Q3", level="user", subject=org.rep2.pk).total
    # won: A 40%; C closed in Q2; best case F (40% reaches 40); weighted 8,000 + 1,000.
    assert figures(rep2) == (D("40000"), D("0"), D("20000"), D("30000"), D("9000"))
    # No month rows: a quarter of the year row (240,000 / 4); 40,000 / 60,000.
    assert rep2.target == D("60000") and rep2.attainment == D("66.7")


def test_department_total_and_people_rows(fixture):
    org = fixture
    result = forecast(viewer=org.admin, period="2026-Q3", level="department", subject=org.east.pk)
    # East owns A, B, D, E, F, G at 100%.
    assert figures(result.total) == (
        D("150000"),
        D("120000"),
        D("140000"),
        D("150000"),
        D("89000"),
    )
    # A month row exists in the quarter: the months win over the year row.
    assert result.total.target == D("100000") and result.total.attainment == D("150.0")
    rows = {row.subject_id: row for row in result.rows}
    assert set(rows) == {org.manager.pk, org.rep1.pk, org.rep2.pk}
    assert rows[org.rep1.pk].closed_won == D("110000")
    assert rows[org.rep2.pk].closed_won == D("40000")
    assert figures(rows[org.manager.pk]) == (D("0"),) * 5


def test_company_total_and_department_rows(fixture):
    org = fixture
    result = forecast(viewer=org.admin, period="2026-Q3", level="company")
    assert figures(result.total) == (
        D("175000"),
        D("180000"),
        D("200000"),
        D("210000"),
        D("143000"),
    )
    assert result.total.target == D("600000") and result.total.attainment == D("29.2")
    rows = {row.subject_id: row for row in result.rows}
    # The division rolls up east and north; north has H and K.
    assert figures(rows[org.division.pk]) == figures(result.total)
    assert figures(rows[org.north.pk]) == (
        D("25000"),
        D("60000"),
        D("60000"),
        D("60000"),
        D("54000"),
    )
    assert figures(rows[org.service.pk]) == (D("0"),) * 5
    assert rows[org.east.pk].target == D("100000")
    assert rows[org.north.pk].target is None and rows[org.north.pk].attainment is None


def test_latest_adjustment_overrides_and_rolls_up(fixture):
    org = fixture
    for user, period, category, amount, reason in (
        (org.rep2, "2026-Q3", "commit", "10000", "first call"),
        (org.rep2, "2026-Q3", "commit", "15000", "PO promised"),
        (org.rep1, "2026-Q3", "best_case", "100000", "E slips"),
        # Another period's adjustment changes nothing here.
        (org.rep2, "2026-Q4", "commit", "999", "later"),
    ):
        forecast_adjust(
            actor=org.manager,
            user=user,
            period=period,
            category=category,
            amount=amount,
            reason=reason,
        )

    rep2 = forecast(viewer=org.manager, period="2026-Q3", level="user", subject=org.rep2.pk).total
    assert rep2.commit == D("0") and rep2.commit_adjusted == D("15000")
    assert rep2.commit_final == D("15000") and rep2.best_case_adjusted is None
    assert rep2.adjustments["commit"].reason == "PO promised"

    east = forecast(
        viewer=org.manager, period="2026-Q3", level="department", subject=org.east.pk
    ).total
    # commit 120,000 + (15,000 − 0); best case 140,000 + (100,000 − 120,000).
    assert east.commit_adjusted == D("135000") and east.best_case_adjusted == D("120000")

    company = forecast(viewer=org.admin, period="2026-Q3", level="company")
    assert company.total.commit_adjusted == D("195000")
    north = next(row for row in company.rows if row.subject_id == org.north.pk)
    assert north.commit_adjusted is None


def test_year_and_month_periods(fixture):
    org = fixture
    year = forecast(viewer=org.admin, period="2026", level="user", subject=org.rep1.pk).total
    # The year: no year row, so the sum of the months; J (Q4, open) joins the pipeline.
    assert year.target == D("200000") and year.pipeline == D("125000")
    east_august = forecast(
        viewer=org.admin, period="2026-08", level="department", subject=org.east.pk
    ).total
    # August: B won; F open. No August row: a twelfth of the year row.
    assert east_august.closed_won == D("50000") and east_august.pipeline == D("20000")
    assert east_august.target == D("83333.33")
    east_year = forecast(
        viewer=org.admin, period="2026", level="department", subject=org.east.pk
    ).total
    assert east_year.target == D("1000000")
    # C (rep2, won 06-30) counts in the year.
    assert east_year.closed_won == D("180000")


def test_figures_stay_inside_the_viewers_scope(fixture):
    org = fixture
    # rep2 sees only their own deals (C, F, G): not A, where they hold a 40% split.
    mine = forecast(viewer=org.rep2, period="2026-Q3", level="user", subject=org.rep2.pk).total
    assert figures(mine) == (D("0"), D("0"), D("20000"), D("30000"), D("9000"))
    east = forecast(
        viewer=org.rep2, period="2026-Q3", level="department", subject=org.east.pk
    ).total
    assert east.closed_won == D("0") and east.pipeline == D("30000")
    # The manager of east may not look at the company (nor at north) at all.
    for level, subject in (("company", None), ("department", org.north.pk)):
        with pytest.raises(ActionNotAllowed):
            forecast(viewer=org.manager, period="2026-Q3", level=level, subject=subject)


def test_subjects_each_role_may_pick(org):
    rep = forecast_subjects(org.rep1)
    assert [u.pk for u in rep.users] == [org.rep1.pk] and not rep.company
    assert rep.allows("department", org.east.pk) and not rep.allows("department", org.north.pk)
    manager = forecast_subjects(org.manager)
    assert {org.rep1.pk, org.rep2.pk, org.manager.pk} <= {u.pk for u in manager.users}
    assert not manager.allows("user", org.rep3.pk) and not manager.company
    assert forecast_subjects(org.admin).company
    assert forecast_subjects(org.read_only).company  # an all-records scope


def test_periods_and_target_precedence():
    q3 = parse_period("2026-Q3")
    assert (q3.start, q3.end) == (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    assert q3.previous().key == "2026-Q2" and q3.same_last_year().key == "2025-Q3"
    assert parse_period("2026-01").previous().key == "2025-12"
    assert parse_period("2026-Q1").previous().key == "2025-Q4"
    assert parse_period("2026").end == datetime.date(2026, 12, 31)
    assert parse_period("2024-02").end == datetime.date(2024, 2, 29)
    for bad in ("2026-Q5", "2026-13", "26", "2026-7x"):
        with pytest.raises(ValidationError):
            parse_period(bad)
    assert target_for({0: D("1200")}, parse_period("2026-03")) == D("100.00")
    assert target_for({3: D("50")}, parse_period("2026-03")) == D("50.00")
    assert target_for({1: D("10"), 2: D("20")}, parse_period("2026")) == D("30.00")
    assert target_for({}, parse_period("2026-Q1")) is None
