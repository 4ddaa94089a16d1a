"""Sales analysis: the numbers (hand-computed), comparisons, lost-deal analysis, the page,
its Excel export, data scope and query counts."""

import datetime
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import ChangeAction, ChangeRecord, PicklistOption
from guanxi.customers.models import Account
from guanxi.sales.models import Competitor, Opportunity, OpportunityLine, Pipeline, Product
from guanxi.sales.selectors.analysis import Slice, largest_with_others, sales_analysis
from guanxi.sales.selectors.forecast import parse_period
from guanxi.sales.services import opportunities as services
from guanxi.sales.tests.test_forecast_selectors import build_deals, deal

pytestmark = pytest.mark.django_db
D = Decimal


def moment(year, month, day):
    return timezone.make_aware(datetime.datetime(year, month, day))


@pytest.fixture
def fixture(org):
    """build_deals (Q3 2026: A, B, K won; I lost at Qualification for price), plus:
    L rep2 lost 40,000 on 09-10 at Needs analysis to Acme (reason competitor);
    M rep1 won 20,000 on 2025-08-01 and N rep1 lost 10,000 on 2025-07-05 (last year).
    A and B took 30 days from creation to winning, K 20 days. A's lines: X 60,000, Y 40,000.
    Provinces: A and B 广东, K 北京."""
    build_deals(org)
    stage = Pipeline.objects.get(is_default=True).stages.get(name_en="Needs analysis")
    lost = deal(org.rep2, "L", 40000)
    services.opportunity_move(opportunity=lost, actor=org.rep2, stage=stage)
    acme = Competitor.objects.create(name="Acme")
    services.opportunity_lose(
        opportunity=lost,
        actor=org.rep2,
        reason=PicklistOption.objects.get(picklist__code="lost_reason", value="competitor"),
        winner=acme,
    )
    Opportunity.objects.filter(pk=lost.pk).update(close_date=datetime.date(2026, 9, 10))
    deal(org.rep1, "M", 20000, won=datetime.date(2025, 8, 1))
    deal(org.rep1, "N", 10000, lost=datetime.date(2025, 7, 5))
    for name, created, closed in (
        ("A", moment(2026, 6, 15), moment(2026, 7, 15)),
        ("B", moment(2026, 7, 2), moment(2026, 8, 1)),
        ("K", moment(2026, 9, 10), moment(2026, 9, 30)),
    ):
        Opportunity.objects.filter(name=name).update(created_at=created, closed_at=closed)
    a = Opportunity.objects.get(name="A")
    for code, total in (("X", 60000), ("Y", 40000)):
        product = Product.objects.create(code=code, name=f"Product {code}")
        OpportunityLine.objects.create(
            opportunity=a, product=product, unit_price=total, total=total
        )
    Account.objects.filter(name__in=["A 客户", "B 客户"]).update(province="广东")
    Account.objects.filter(name="K 客户").update(province="北京")
    return org


def table(slices):
    return [(str(s.label), s.count, s.amount, s.share) for s in slices]


def test_headline_figures_and_comparisons(fixture):
    result = sales_analysis(viewer=fixture.admin, period=parse_period("2026-Q3"))
    now, before, last_year = result.current, result.previous, result.last_year
    assert (now.won_count, now.lost_count, now.won_amount, now.lost_amount) == (
        3,
        2,
        D("175000"),
        D("110000"),
    )
    assert now.win_rate == D("60.0") and now.average_deal == D("58333.33")
    assert now.cycle_days == D("26.7")  # (30 + 30 + 20) / 3
    assert (before.period.key, before.won_count, before.won_amount, before.win_rate) == (
        "2026-Q2",
        1,
        D("30000"),
        D("100.0"),
    )
    assert (last_year.period.key, last_year.won_count, last_year.win_rate) == (
        "2025-Q3",
        1,
        D("50.0"),
    )
    changes = result.changes()
    assert changes["won_amount"] == {"previous": D("483.3"), "last_year": D("775.0")}


def test_sales_cycle_keeps_hours_and_is_averaged_by_the_database(fixture):
    # K now took 20 days and 18 hours: (30 + 30 + 20.75) / 3 = 26.92
    Opportunity.objects.filter(name="K").update(
        closed_at=moment(2026, 9, 30) + datetime.timedelta(hours=18)
    )
    with CaptureQueriesContext(connection) as queries:
        result = sales_analysis(viewer=fixture.admin, period=parse_period("2026-Q3"))
    assert result.current.cycle_days == D("26.9")
    # Subtracting date-times in the ORM calls a Python function per deal on SQLite.
    assert not any("django_timestamp_diff" in q["sql"] for q in queries.captured_queries)


def test_composition_of_won_revenue(fixture):
    result = sales_analysis(viewer=fixture.admin, period=parse_period("2026-Q3"))
    assert table(result.composition["rep"]) == [
        ("rep1", 2, D("150000"), D("85.7")),
        ("rep3", 1, D("25000"), D("14.3")),
    ]
    assert table(result.composition["region"]) == [
        ("广东", 2, D("150000"), D("85.7")),
        ("北京", 1, D("25000"), D("14.3")),
    ]
    assert table(result.composition["product"]) == [
        ("X Product X", 1, D("60000"), D("60.0")),
        ("Y Product Y", 1, D("40000"), D("40.0")),
    ]
    assert [s.amount for s in result.composition["industry"]] == [D("175000")]
    assert [s.amount for s in result.composition["source"]] == [D("175000")]


def test_rep_slices_name_people_as_the_rest_of_the_site_does(fixture):
    User = type(fixture.rep1)
    User.objects.filter(pk=fixture.rep1.pk).update(
        display_name="", first_name="Lei", last_name="Li"
    )
    result = sales_analysis(viewer=fixture.admin, period=parse_period("2026-Q3"))
    expected = str(User.objects.get(pk=fixture.rep1.pk))
    assert expected != "rep1" and expected in [str(s.label) for s in result.composition["rep"]]


def test_lost_deal_analysis(fixture):
    result = sales_analysis(viewer=fixture.admin, period=parse_period("2026-Q3"))
    assert table(result.lost["reason"]) == [
        ("Price", 1, D("70000"), D("63.6")),
        ("Competitor was stronger", 1, D("40000"), D("36.4")),
    ]
    assert [(str(s.label), s.amount) for s in result.lost["competitor"]] == [
        ("(no competitor named)", D("70000")),
        ("Acme", D("40000")),
    ]
    # The last open stage before the lost stage, in pipeline order.
    assert [(str(s.label), s.count) for s in result.lost["stage"]] == [
        ("Qualification", 1),
        ("Needs analysis", 1),
    ]
    assert [(str(s.label), s.amount) for s in result.lost["rep"]] == [
        ("rep3", D("70000")),
        ("rep2", D("40000")),
    ]
    trend = {row["month"]: (row["won"], row["lost"], row["lost_amount"]) for row in result.trend}
    assert len(result.trend) == 12 and result.trend[0]["month"] == "2025-10"
    assert trend["2026-06"] == (1, 0, D("0")) and trend["2026-08"] == (1, 1, D("70000"))
    assert trend["2026-09"] == (1, 1, D("40000")) and trend["2026-01"] == (0, 0, D("0"))


def test_analysis_stays_inside_the_scope(fixture):
    org = fixture
    mine = sales_analysis(viewer=org.rep2, period=parse_period("2026-Q3"))
    assert (mine.current.won_count, mine.current.lost_count, mine.current.win_rate) == (
        0,
        1,
        D("0.0"),
    )
    assert [str(s.label) for s in mine.lost["reason"]] == ["Competitor was stronger"]
    east = sales_analysis(viewer=org.manager, period=parse_period("2026-Q3"))
    assert (east.current.won_count, east.current.lost_count) == (2, 1)
    # A department subject narrows the company's view.
    north = sales_analysis(
        viewer=org.admin, period=parse_period("2026-Q3"), level="department", subject=org.north.pk
    )
    assert (north.current.won_amount, north.current.lost_amount) == (D("25000"), D("70000"))
    # Its drill-down links open the list narrowed to the same department.
    department = f"department={org.north.pk}"
    links = [s.url for s in north.lost["reason"] + north.lost["competitor"] + north.lost["rep"]]
    links += [row["url"] for row in north.trend] + list(north.urls.values())
    assert links and all(department in link for link in links), links


def test_page_and_drill_down(client, fixture):
    client.force_login(fixture.admin)
    response = client.get(reverse("sales:analysis"), {"period": "2026-Q3", "who": "company"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme" in html and "60.0%" in html and 'id="analysis-export"' in html
    client.force_login(fixture.rep1)
    assert client.get(reverse("sales:analysis"), {"who": "company"}).status_code == 404
    response = client.get(reverse("sales:analysis"), {"period": "2026-Q3"})
    assert response.status_code == 200 and 'id="analysis-export"' not in response.content.decode()


def test_long_breakdowns_show_the_largest_and_sum_the_rest(client, fixture, monkeypatch):
    from guanxi.sales.views import analysis as views

    slices = [Slice(n, f"P{n}", 1, D(10 * n), D(n)) for n in (5, 4, 3, 2, 1)]
    shown, hidden = largest_with_others(slices[:4], 3)
    assert hidden == 0 and shown == slices[:4]  # never an "others" row of one
    shown, hidden = largest_with_others(slices, 2)
    assert hidden == 3 and shown[:2] == slices[:2]
    assert (shown[2].label, shown[2].count, shown[2].amount, shown[2].share, shown[2].url) == (
        "3 others",
        3,
        D(60),
        D(6),
        "",
    )
    monkeypatch.setattr(views, "SHOWN_SLICES", 0)
    client.force_login(fixture.admin)
    response = client.get(reverse("sales:analysis"), {"period": "2026-Q3", "who": "company"})
    html = response.content.decode()
    products = next(s for s in response.context["sections"] if s["key"] == "product")
    assert [(s.label, s.count, s.share) for s in products["slices"]] == [
        ("2 others", 2, D("100.0"))
    ]
    assert "2 more are summed in the last row" in html and "Export to Excel for every row" in html
    # The export keeps every row.
    from openpyxl import load_workbook

    exported = client.get(reverse("sales:analysis_export"), {"period": "2026-Q3", "who": "company"})
    sheet = load_workbook(BytesIO(exported.content))["Won revenue by product"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "X Product X",
        "Y Product Y",
    ]


def test_excel_export_has_a_sheet_per_table(client, fixture):
    from openpyxl import load_workbook

    client.force_login(fixture.manager)
    response = client.get(
        reverse("sales:analysis_export"),
        {"period": "2026-Q3", "who": f"department:{fixture.east.pk}"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sales-analysis-2026-Q3.xlsx"'
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == [
        "Summary",
        "Won revenue by product",
        "Won revenue by region",
        "Won revenue by industry",
        "Won revenue by rep",
        "Won revenue by source",
        "Lost by reason",
        "Lost to competitor",
        "Lost at stage",
        "Lost by rep",
        "Monthly trend",
    ]
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[1][:5] == ("2026-Q3", 2, 1, 150000, 40000)
    # North's deals (K, I) are outside the manager's scope.
    reps = [row[0] for row in book["Lost by rep"].iter_rows(min_row=2, values_only=True)]
    assert reps == ["rep2"]
    logged = ChangeRecord.objects.get(action=ChangeAction.EXPORT, actor=fixture.manager)
    assert logged.content_type.model == "opportunity" and logged.object_id == 0
    assert "Exported 3 records" in logged.message and "2026-Q3" in logged.message
    client.force_login(fixture.rep1)  # a sales rep's role does not export
    assert client.get(reverse("sales:analysis_export")).status_code == 403


def test_page_queries_do_not_grow_with_deals(client, fixture):
    client.force_login(fixture.admin)
    url, params = reverse("sales:analysis"), {"period": "2026-Q3", "who": "company"}
    client.get(url, params)
    with CaptureQueriesContext(connection) as before:
        client.get(url, params)
    for number in range(4):
        deal(fixture.rep1, f"W{number}", 1000, won=datetime.date(2026, 8, 2))
        deal(fixture.rep2, f"V{number}", 1000, lost=datetime.date(2026, 8, 3))
    with CaptureQueriesContext(connection) as after:
        client.get(url, params)
    assert len(after) == len(before) and len(after) < 40


def test_closed_deals_are_asked_as_an_index_equality(fixture):
    """Every "closed in the period" condition reads `is_closed IN (true)` (sales.models.CLOSED):
    a bare `is_closed` is no index equality to SQLite, which then read a rep's deals one by
    one to find the closed ones (1.4 s on the L dataset)."""
    org = fixture
    with CaptureQueriesContext(connection) as captured:
        sales_analysis(
            viewer=org.rep1, period=parse_period("2026-Q3"), level="user", subject=org.rep1.pk
        )
    closed_reads = [q["sql"] for q in captured.captured_queries if "close_date" in q["sql"]]
    assert closed_reads
    for sql in closed_reads:
        assert '"is_closed" IN (' in sql, sql


def _index_columns(model, name):
    index = next(index for index in model._meta.indexes if index.name == name)
    return {model._meta.get_field(field).column for field in index.fields}


def test_closed_deal_reads_are_covered_by_their_indexes(fixture):
    """Every read of closed deals names only columns of opportunity_closed_sums (and of the
    accounts, only account_region_industry's): each is answered from the index alone on
    PostgreSQL instead of visiting 41,000 deals and accounts for a company year."""
    with CaptureQueriesContext(connection) as captured:
        sales_analysis(viewer=fixture.admin, period=parse_period("2026"))
    covered = _index_columns(Opportunity, "opportunity_closed_sums") | {"id"}
    account_covered = _index_columns(Account, "account_region_industry")
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "sales_opportunity"' in q["sql"] and "close_date" in q["sql"]
    ]
    assert len(reads) >= 6
    for sql in reads:
        if '"sales_opportunityline"' in sql:
            continue  # the product lines: the deals' side is covered, the lines are read
        assert set(re.findall(r'"sales_opportunity"\."(\w+)"', sql)) <= covered, sql
        assert set(re.findall(r'"customers_account"\."(\w+)"', sql)) <= account_covered, sql
    lines = next(sql for sql in reads if '"sales_opportunityline"' in sql)
    assert set(re.findall(r'"sales_opportunity"\."(\w+)"', lines)) <= covered, lines


def test_a_year_sums_last_year_once(fixture):
    # A year's previous period is the same period last year: one set of sums serves both.
    with CaptureQueriesContext(connection) as captured:
        result = sales_analysis(viewer=fixture.admin, period=parse_period("2026"))
    headline = next(q["sql"] for q in captured.captured_queries if '"won_count_0"' in q["sql"])
    assert '"won_count_1"' in headline and '"won_count_2"' not in headline
    assert result.previous == result.last_year and result.previous.period.key == "2025"
    assert (result.previous.won_count, result.previous.lost_count) == (1, 1)
