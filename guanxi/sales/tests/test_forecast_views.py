"""The forecast page, the adjustment form, the targets grid and the forecast API."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.api.testing import api_client
from guanxi.core.services.organisation import user_create
from guanxi.core.tests.factories import role
from guanxi.sales.models import ForecastAdjustment, ForecastSnapshot, SalesTarget
from guanxi.sales.services.forecast import forecast_snapshot_take
from guanxi.sales.tests.test_forecast_selectors import build_deals, build_targets, deal

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def fixture(org):
    build_deals(org)
    build_targets(org)
    return org


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("sales:forecast"), params)


def test_company_page_shows_the_hand_computed_figures(client, fixture):
    org = fixture
    response = page(client, org.admin, period="2026-Q3", who="company")
    assert response.status_code == 200
    total = response.context["result"].total
    assert (total.closed_won, total.commit, total.target) == (D("175000"), D("180000"), D("600000"))
    html = response.content.decode()
    assert 'data-figure="attainment">29.2%' in html
    assert "华东销售部" in html and "华北销售部" in html
    chart = response.context["chart"]
    assert chart["series"]["closed_won"][0] == 175000.0  # the division (whole sales centre)


def test_department_page_drills_down_and_offers_adjustments(client, fixture):
    org = fixture
    response = page(client, org.manager, period="2026-Q3", who=f"department:{org.east.pk}")
    assert response.status_code == 200
    assert response.context["adjustable"] == {org.rep1.pk, org.rep2.pk}
    html = response.content.decode()
    assert f'id="adjust-{org.rep2.pk}"' in html and f'id="adjust-{org.manager.pk}"' not in html
    rep1 = next(r for r in response.context["rows"] if r.subject_id == org.rep1.pk)
    if rep1.urls["closed_won"]:  # the opportunity list is installed
        assert f"owner={org.rep1.pk}" in rep1.urls["closed_won"]
        assert (
            "close_from=2026-07-01" in rep1.urls["closed_won"]
            and "status=won" in rep1.urls["closed_won"]
        )


def test_manager_adjusts_and_the_page_shows_both_figures_and_history(client, fixture):
    org = fixture
    client.force_login(org.manager)
    response = client.post(
        reverse("sales:forecast_adjust"),
        {
            "user": org.rep2.pk,
            "period": "2026-Q3",
            "category": "commit",
            "amount": "15000",
            "reason": "PO promised",
            "who": f"department:{org.east.pk}",
        },
    )
    assert response.status_code == 302
    assert ForecastAdjustment.objects.get().adjusted_by == org.manager
    response = client.get(
        reverse("sales:forecast"), {"period": "2026-Q3", "who": f"user:{org.rep2.pk}"}
    )
    total = response.context["result"].total
    assert total.commit == D("0") and total.commit_adjusted == D("15000")
    assert "PO promised" in response.content.decode()


def test_reps_cannot_adjust_or_look_at_others(client, fixture):
    org = fixture
    client.force_login(org.rep1)
    response = client.post(
        reverse("sales:forecast_adjust"),
        {
            "user": org.rep2.pk,
            "period": "2026-Q3",
            "category": "commit",
            "amount": "1",
            "reason": "x",
        },
    )
    assert response.status_code == 404
    assert page(client, org.rep1, period="2026-Q3", who=f"user:{org.rep2.pk}").status_code == 404
    assert page(client, org.rep1, period="2026-Q3", who="company").status_code == 404
    assert (
        page(client, org.manager, period="2026-Q3", who=f"department:{org.north.pk}").status_code
        == 404
    )
    # Their own forecast is the default.
    response = page(client, org.rep1, period="2026-Q3")
    assert response.context["result"].total.subject_id == org.rep1.pk
    assert not ForecastAdjustment.objects.exists()


def test_forecast_vs_actual_lists_the_snapshots(client, fixture):
    org = fixture
    forecast_snapshot_take(taken_on=datetime.date(2026, 7, 6))
    response = page(client, org.admin, period="2026-Q3", who="company")
    (row,) = response.context["comparison"]
    assert (
        row["forecast"]
        == ForecastSnapshot.objects.get(
            period="2026-Q3", level="company", taken_on="2026-07-06"
        ).closed_won
        + row["commit"]
    )
    assert row["actual"] == D("175000")
    assert 'id="forecast-vs-actual"' in response.content.decode()


def test_page_queries_do_not_grow_with_deals_or_people(client, fixture):
    org = fixture
    client.force_login(org.admin)
    url = reverse("sales:forecast")
    params = {"period": "2026-Q3", "who": f"department:{org.east.pk}"}
    client.get(url, params)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url, params).status_code == 200
    for number in range(3):
        person = user_create(
            username=f"extra{number}",
            password="pw",
            actor=None,
            roles=[role("sales_rep")],
            department=org.east,
        )
        deal(person, f"X{number}", 1000, expected=datetime.date(2026, 8, 1), probability=80)
        deal(person, f"Y{number}", 1000, won=datetime.date(2026, 8, 1))
    with CaptureQueriesContext(connection) as after:
        assert client.get(url, params).status_code == 200
    assert len(after) == len(before)
    assert len(after) < 40


def test_targets_grid_saves_and_copies(client, org):
    client.force_login(org.admin)
    url = reverse("sales:targets")
    response = client.get(url, {"year": 2026})
    assert response.status_code == 200
    names = [cell["name"] for row in response.context["rows"] for cell in row["cells"]]
    assert "t-company-0-0" in names and f"t-user-{org.rep1.pk}-7" in names
    response = client.post(
        url,
        {
            "year": 2026,
            "metric": "sales",
            "t-company-0-0": "2400000",
            f"t-user-{org.rep1.pk}-7": "50000",
            f"t-department-{org.east.pk}-3": "",
        },
    )
    assert response.status_code == 302
    assert SalesTarget.objects.get(level="company").amount == D("2400000")
    assert SalesTarget.objects.get(level="user", user=org.rep1, month=7).amount == D("50000")
    response = client.post(reverse("sales:targets_copy"), {"year": 2027, "metric": "sales"})
    assert response.status_code == 302
    assert SalesTarget.objects.filter(year=2027).count() == 2
    cash = client.get(url, {"year": 2026, "metric": "cash"})
    assert cash.context["is_cash"] and "—" in cash.content.decode()


def test_targets_grid_is_for_administrators_and_managers(client, org):
    client.force_login(org.rep1)
    assert client.get(reverse("sales:targets")).status_code == 403
    client.force_login(org.manager)
    response = client.get(reverse("sales:targets"), {"year": 2026})
    assert response.status_code == 200
    levels = {(row["level"], row["subject"]) for row in response.context["rows"]}
    assert ("company", None) not in levels and ("department", org.north.pk) not in levels
    assert ("department", org.east.pk) in levels and ("user", org.rep2.pk) in levels
    response = client.post(reverse("sales:targets"), {"year": 2026, "t-company-0-0": "5"})
    assert not SalesTarget.objects.exists()


def test_navigation_lists_the_pages(client, org):
    client.force_login(org.admin)
    html = client.get(reverse("sales:forecast")).content.decode()
    assert reverse("sales:analysis") in html and reverse("sales:targets") in html


# --- the API ---------------------------------------------------------------------------------
def test_api_forecast(fixture):
    org = fixture
    response = api_client(org.admin).get(
        "/api/v1/forecast/", {"period": "2026-Q3", "level": "company"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["total"]["closed_won"] == "175000.00" and data["total"]["target"] == "600000.00"
    assert data["total"]["attainment"] == "29.2"
    response = api_client(org.rep1).get(
        "/api/v1/forecast/", {"period": "2026-Q3", "level": "user", "subject": org.rep2.pk}
    )
    assert response.status_code == 404
    response = api_client(org.rep1).get("/api/v1/forecast/", {"period": "2026-Q9"})
    assert response.status_code == 400


def test_api_adjustments_and_targets(fixture):
    org = fixture
    manager = api_client(org.manager)
    response = manager.post(
        "/api/v1/forecast/adjustments/",
        {
            "user": org.rep2.pk,
            "period": "2026-Q3",
            "category": "best_case",
            "amount": "25000",
            "reason": "F grows",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    response = api_client(org.rep1).post(
        "/api/v1/forecast/adjustments/",
        {
            "user": org.rep1.pk,
            "period": "2026-Q3",
            "category": "commit",
            "amount": "1",
            "reason": "me",
        },
        format="json",
    )
    assert response.status_code == 403
    listed = manager.get("/api/v1/sales-targets/", {"year": 2026}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {(r["level"], r["user"], r["department"]) for r in rows} == {
        ("user", org.rep1.pk, None),
        ("user", org.rep2.pk, None),
        ("department", None, org.east.pk),
    }
    response = manager.post(
        "/api/v1/sales-targets/",
        {"year": 2026, "month": 0, "level": "user", "user": org.rep2.pk, "amount": "300000"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert SalesTarget.objects.get(year=2026, month=0, user=org.rep2).amount == D("300000")
    response = manager.post(
        "/api/v1/sales-targets/",
        {"year": 2026, "month": 0, "level": "company", "amount": "1"},
        format="json",
    )
    assert response.status_code == 403
    rep_rows = api_client(org.rep1).get("/api/v1/sales-targets/").json()
    rep_rows = rep_rows["results"] if isinstance(rep_rows, dict) else rep_rows
    assert {r["user"] for r in rep_rows if r["level"] == "user"} == {org.rep1.pk}
    target = SalesTarget.objects.get(year=2026, month=0, user=org.rep2)
    assert api_client(org.rep1).delete(f"/api/v1/sales-targets/{target.pk}/").status_code == 404
    assert manager.delete(f"/api/v1/sales-targets/{target.pk}/").status_code == 204
    assert not SalesTarget.objects.filter(pk=target.pk).exists()
