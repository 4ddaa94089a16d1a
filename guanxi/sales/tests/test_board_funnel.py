"""The sales funnel on a hand-built fixture: counts and amounts per stage, how many reached
each stage, the stage-to-stage conversion, the scopes, the page, its JSON and the API."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.sales.models import Opportunity, Pipeline, StageHistory
from guanxi.sales.selectors import board as selectors
from guanxi.sales.services.pipelines import furthest_stages_refresh
from guanxi.sales.tests.test_board_selectors import make_opportunity, stages

pytestmark = pytest.mark.django_db

START = timezone.make_aware(datetime.datetime(2026, 1, 1))
END = timezone.make_aware(datetime.datetime(2026, 7, 1))
IN_PERIOD = timezone.make_aware(datetime.datetime(2026, 3, 1, 9))


@pytest.fixture
def pipeline():
    return Pipeline.objects.get(is_default=True)


def with_history(opportunity, path, *, created=IN_PERIOD):
    """Rewrite the opportunity's stage history to `path` (stages in the order it went
    through them) and leave it in the last one."""
    StageHistory.objects.filter(opportunity=opportunity).delete()
    for day, stage in enumerate(path):
        StageHistory.objects.create(
            opportunity=opportunity,
            stage=stage,
            entered_at=created + datetime.timedelta(days=day),
            left_at=None if day == len(path) - 1 else created + datetime.timedelta(days=day + 1),
        )
    last = path[-1]
    Opportunity.objects.filter(pk=opportunity.pk).update(
        created_at=created,
        stage=last,
        is_closed=last.kind != "open",
        is_won=last.kind == "won",
    )
    # The history was written by hand: its furthest stage from it, as after a reorder.
    furthest_stages_refresh(opportunity.pipeline)
    return opportunity


@pytest.fixture
def fixture(org, pipeline):
    """rep1, created in the period:
    o1 Q → N → P → Won (1000)        o2 Q → N → P, open (2000)
    o3 Q → Lost (700)                o4 Q → P (skipped N), open (500)
    o5 Q, open (300)
    plus rep2's Q → N, open (50); rep3's Q, open (9); rep1's Q → N from 2025 (4000)."""
    s = stages(pipeline)
    q, n, p, won, lost = (
        s["Qualification"],
        s["Needs analysis"],
        s["Proposal"],
        s["Won"],
        s["Lost"],
    )
    with_history(make_opportunity(org.rep1, "o1", amount="1000"), [q, n, p, won])
    with_history(make_opportunity(org.rep1, "o2", amount="2000"), [q, n, p])
    with_history(make_opportunity(org.rep1, "o3", amount="700"), [q, lost])
    with_history(make_opportunity(org.rep1, "o4", amount="500"), [q, p])
    with_history(make_opportunity(org.rep1, "o5", amount="300"), [q])
    with_history(make_opportunity(org.rep2, "team", amount="50"), [q, n])
    with_history(make_opportunity(org.rep3, "north", amount="9"), [q])
    with_history(
        make_opportunity(org.rep1, "old", amount="4000"),
        [q, n],
        created=timezone.make_aware(datetime.datetime(2025, 6, 1)),
    )
    return s


def steps_of(user, pipeline, scope):
    report = selectors.funnel(user, pipeline=pipeline, scope=scope, start=START, end=END)
    return report, {step.stage.name_en: step for step in report["steps"]}


def test_counts_amounts_reached_and_conversion(org, pipeline, fixture):
    report, steps = steps_of(org.rep1, pipeline, "me")
    assert [step.stage.name_en for step in report["steps"]] == [
        "Qualification",
        "Needs analysis",
        "Proposal",
        "Negotiation",
        "Won",
    ]
    assert report["total"] == 5
    current = {name: (step.count, step.amount) for name, step in steps.items()}
    assert current == {
        "Qualification": (1, Decimal("300.00")),
        "Needs analysis": (0, Decimal("0")),
        "Proposal": (2, Decimal("2500.00")),
        "Negotiation": (0, Decimal("0")),
        "Won": (1, Decimal("1000.00")),
    }
    reached = {name: step.reached for name, step in steps.items()}
    assert reached == {
        "Qualification": 5,
        "Needs analysis": 3,  # o1, o2 and o4 (which skipped it)
        "Proposal": 3,
        "Negotiation": 1,  # o1 went past it to Won
        "Won": 1,
    }
    conversion = {name: step.conversion for name, step in steps.items()}
    assert conversion == {
        "Qualification": 60.0,
        "Needs analysis": 100.0,
        "Proposal": 33.3,
        "Negotiation": 100.0,
        "Won": None,
    }


def test_scopes(org, pipeline, fixture):
    assert steps_of(org.rep1, pipeline, "team")[0]["total"] == 5  # nobody below rep1
    manager_me, _steps = steps_of(org.manager, pipeline, "me")
    assert manager_me["total"] == 0
    team, steps = steps_of(org.manager, pipeline, "team")
    assert team["total"] == 6 and steps["Needs analysis"].count == 1
    # A manager without the "all" scope asking for the company gets the team.
    company_for_manager, _steps = steps_of(org.manager, pipeline, "company")
    assert company_for_manager["scope"] == "team" and company_for_manager["total"] == 6
    company, steps = steps_of(org.admin, pipeline, "company")
    assert company["scope"] == "company" and company["total"] == 7
    assert steps["Qualification"].amount == Decimal("309.00")
    # rep3 never sees east's deals, whatever scope is asked for.
    assert steps_of(org.rep3, pipeline, "company")[0]["total"] == 1


def test_period_bounds_the_opportunities(org, pipeline, fixture):
    report = selectors.funnel(org.rep1, pipeline=pipeline, scope="me", start=None, end=None)
    assert report["total"] == 6  # with the 2025 deal


def test_funnel_page_and_json(client, org, pipeline, fixture):
    client.force_login(org.rep1)
    query = {"scope": "me", "start": "2026-01-01", "end": "2026-06-30"}
    response = client.get(reverse("sales:funnel"), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "echarts.min.js" in html and 'id="funnel-definition"' in html
    assert "60.0%" in html and "33.3%" in html and "2,500.00" in html
    data = client.get(reverse("sales:funnel"), {**query, "format": "json"}).json()
    assert data["total"] == 5 and data["scope"] == "me"
    assert [step["reached"] for step in data["steps"]] == [5, 3, 3, 1, 1]
    assert data["steps"][2]["amount"] == "2500.00"
    assert data["from"] == "2026-01-01" and data["to"] == "2026-06-30"


def test_funnel_api(client, org, pipeline, fixture):
    client.force_login(org.manager)
    response = client.get(
        "/api/v1/opportunities/funnel/",
        {"scope": "team", "start": "2026-01-01", "end": "2026-06-30"},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["total"] == 6 and data["steps"][0]["reached"] == 6


def test_funnel_company_choice_only_for_those_who_see_everything(client, org, pipeline):
    client.force_login(org.rep1)
    html = client.get(reverse("sales:funnel")).content.decode()
    assert 'value="company"' not in html
    client.force_login(org.admin)
    html = client.get(reverse("sales:funnel")).content.decode()
    assert 'value="company" selected' in html


def test_funnel_query_count_is_fixed(client, org, pipeline, fixture):
    client.force_login(org.manager)
    query = {"scope": "team", "start": "2026-01-01", "end": "2026-06-30", "format": "json"}
    client.get(reverse("sales:funnel"), query)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sales:funnel"), query)
    s = fixture
    for number in range(4):
        with_history(make_opportunity(org.rep2, f"more {number}"), [s["Qualification"]])
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("sales:funnel"), query).json()["total"] == 10
    assert len(many) == len(few)
