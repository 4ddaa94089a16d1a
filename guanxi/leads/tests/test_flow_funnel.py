"""The lead funnel report: counts by source and status, the step rates and average times,
always within the user's data scope and the period."""

import datetime

import pytest
from django.utils import timezone

from guanxi.core.models import PicklistOption
from guanxi.leads.models import Lead
from guanxi.leads.selectors.flow import lead_funnel
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


def _period():
    now = timezone.now()
    return now - datetime.timedelta(days=30), now + datetime.timedelta(minutes=1)


def test_funnel_counts_rates_and_times(org):
    sources = list(PicklistOption.objects.filter(picklist__code="lead_source").order_by("pk")[:2])
    now = timezone.now()
    created = now - datetime.timedelta(days=10)
    leads = [
        make_lead(owner=org.rep1, label=f"l{n}", actor=org.admin, source=sources[n % 2])
        for n in range(4)
    ]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(created_at=created)
    # Two reached MQL after 2 days; one of them SQL 3 days later, then converted a day later.
    Lead.objects.filter(pk__in=[leads[0].pk, leads[1].pk]).update(
        mql_at=created + datetime.timedelta(days=2)
    )
    Lead.objects.filter(pk=leads[0].pk).update(
        sql_at=created + datetime.timedelta(days=5),
        converted_at=created + datetime.timedelta(days=6),
        status="converted",
    )
    make_lead(owner=org.rep3, label="north", actor=org.admin)  # outside rep1's scope
    start, end = _period()
    report = lead_funnel(user=org.rep1, start=start, end=end)
    assert report.total == 4
    assert [(s.key, s.count) for s in report.steps] == [
        ("lead", 4),
        ("mql", 2),
        ("sql", 1),
        ("converted", 1),
    ]
    assert [s.rate for s in report.steps] == [None, 50.0, 50.0, 100.0]
    assert report.steps[3].overall == 25.0
    times = {d["key"]: d["value"] for d in report.durations}
    assert times["to_mql"] == datetime.timedelta(days=2)
    assert times["to_sql"] == datetime.timedelta(days=3)
    assert times["to_converted"] == datetime.timedelta(days=1)
    assert {row["source_id"]: row["count"] for row in report.by_source} == {
        sources[0].pk: 2,
        sources[1].pk: 2,
    }
    converted_source = next(r for r in report.by_source if r["source_id"] == sources[0].pk)
    assert (
        converted_source["converted"] == 1 and f"source={sources[0].pk}" in converted_source["url"]
    )
    statuses = {row["status"]: row["count"] for row in report.by_status}
    assert statuses["new"] == 3 and statuses["converted"] == 1
    assert next(r for r in report.by_status if r["status"] == "converted")["url"].endswith(
        "?status=converted"
    )
    # The administrator sees every lead; an old period holds none.
    assert lead_funnel(user=org.admin, start=start, end=end).total == 5
    old = lead_funnel(user=org.admin, start=start - datetime.timedelta(days=90), end=start)
    assert old.total == 0 and old.steps[1].rate is None


def test_funnel_is_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    for n in range(20):
        make_lead(owner=org.rep1, label=f"l{n}", actor=org.admin)
    start, end = _period()
    user = type(org.admin).objects.get(pk=org.admin.pk)
    with django_assert_max_num_queries(6):
        lead_funnel(user=user, start=start, end=end)
