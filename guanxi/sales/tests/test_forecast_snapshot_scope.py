"""Forecast vs actual reads stored snapshots, which were taken over every opportunity: a
viewer reads only those of the people and departments they see whole."""

import datetime

import pytest
from django.urls import reverse

from guanxi.core.services.organisation import user_create
from guanxi.core.tests.factories import role
from guanxi.sales.models import ForecastSnapshot
from guanxi.sales.selectors.forecast import snapshot_departments
from guanxi.sales.services.forecast import forecast_snapshot_take
from guanxi.sales.tests.test_forecast_selectors import build_deals, build_targets

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots(org):
    build_deals(org)
    build_targets(org)
    forecast_snapshot_take(taken_on=datetime.date(2026, 7, 6))
    return org


def page(client, user, who):
    client.force_login(user)
    return client.get(reverse("sales:forecast"), {"period": "2026-Q3", "who": who})


def stored(**subject):
    return ForecastSnapshot.objects.get(period="2026-Q3", taken_on="2026-07-06", **subject)


def test_a_peer_rep_does_not_read_the_department_snapshot(client, snapshots):
    org = snapshots
    department = stored(level="department", department=org.east)
    rep2 = stored(level="user", user=org.rep2)
    response = page(client, org.rep1, f"department:{org.east.pk}")
    assert response.status_code == 200  # the page itself shows what rep1 sees
    assert response.context["comparison"] is None
    html = response.content.decode()
    assert 'id="forecast-vs-actual-hidden"' in html and 'id="forecast-vs-actual"' not in html
    # rep2's snapshot: not even the subject is open to rep1.
    assert page(client, org.rep1, f"user:{org.rep2.pk}").status_code == 404
    assert rep2.commit or rep2.closed_won or department.commit  # there was something to leak
    # Their own snapshot they read.
    own = page(client, org.rep1, f"user:{org.rep1.pk}").context["comparison"]
    assert [row["commit"] for row in own] == [stored(level="user", user=org.rep1).commit]


def test_the_manager_reads_the_department_and_the_reps(client, snapshots):
    org = snapshots
    (row,) = page(client, org.manager, f"department:{org.east.pk}").context["comparison"]
    department = stored(level="department", department=org.east)
    assert (row["closed_won"], row["commit"]) == (department.closed_won, department.commit)
    (row,) = page(client, org.manager, f"user:{org.rep2.pk}").context["comparison"]
    assert row["commit"] == stored(level="user", user=org.rep2).commit
    html = page(client, org.manager, f"department:{org.east.pk}").content.decode()
    assert 'id="forecast-vs-actual"' in html


def test_departments_seen_whole(org):
    assert snapshot_departments(org.rep1) == set()
    assert snapshot_departments(org.manager) == {org.east.pk}
    assert snapshot_departments(org.admin) >= {org.division.pk, org.east.pk, org.north.pk}
    marketing = user_create(
        username="mkt", password="pw", actor=None, roles=[role("marketing")], department=org.north
    )
    assert snapshot_departments(marketing) == {org.north.pk}  # nothing hangs below north
    above = user_create(
        username="mkt2",
        password="pw",
        actor=None,
        roles=[role("marketing")],
        department=org.division,
    )
    assert snapshot_departments(above) == set()  # the division rolls up east and north
