"""Activity statistics and appointment show-rates: the selectors on a known dataset, the
scope they count in, the page with its drill-down links, and the JSON."""

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.activities import services, statistics, views_insights
from guanxi.activities.statistics import PeriodKey, StatScope, period_for
from guanxi.activities.tests.factories import make_activity
from guanxi.core.models import PicklistOption
from guanxi.core.tests.factories import user_with_permissions
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db

STATS = reverse("activities:statistics")
DAY = datetime.timedelta(days=1)


def _period():
    today = timezone.localdate()
    return period_for(PeriodKey.CUSTOM, date_from=today - 10 * DAY, date_to=today + 10 * DAY)


def _make(owner, kind, offset, *, status="open", actor=None, **data):
    activity = make_activity(
        owner=owner,
        label=f"{owner.username}-{kind}-{offset}",
        actor=actor or owner,
        kind=kind,
        start_at=timezone.now() + offset,
        **data,
    )
    if status == "done":
        services.activity_complete(activity=activity, actor=actor or owner)
    elif status == "cancelled":
        services.activity_cancel(activity=activity, actor=actor or owner)
    return activity


@pytest.fixture
def dataset(org):
    """rep1: 6 in the period (1 overdue, 3 done of which 1 late, 1 open not due, 1 cancelled)
    and 1 before it; rep2: 2 (1 overdue, 1 done); rep3 (north): 1 done late."""
    made = {
        "overdue": _make(org.rep1, "task", -5 * DAY),
        "late": _make(org.rep1, "call", -3 * DAY, status="done"),
        "on_time": _make(org.rep1, "call", 2 * DAY, status="done"),
        "email": _make(org.rep1, "email", 4 * DAY, status="done"),
        "not_due": _make(org.rep1, "meeting", 3 * DAY),
        "cancelled": _make(org.rep1, "visit", -2 * DAY, status="cancelled"),
        "before": _make(org.rep1, "task", -30 * DAY),
        "rep2_overdue": _make(org.rep2, "task", -1 * DAY),
        "rep2_done": _make(org.rep2, "call", 1 * DAY, status="done"),
        "rep3_late": _make(org.rep3, "task", -4 * DAY, status="done"),
    }
    return made


def _numbers(row):
    keys = ("count", "open", "done", "cancelled", "overdue", "done_late")
    return tuple(row[key] for key in keys)


# --- periods -------------------------------------------------------------------------------
def test_periods_and_their_buckets():
    thursday = datetime.date(2026, 5, 14)
    week = period_for(PeriodKey.WEEK, today=thursday)
    assert (week.first_day, week.last_day, week.granularity) == (
        datetime.date(2026, 5, 11),
        datetime.date(2026, 5, 17),
        "day",
    )
    month = period_for(PeriodKey.MONTH, today=thursday)
    assert (month.first_day, month.last_day) == (
        datetime.date(2026, 5, 1),
        datetime.date(2026, 5, 31),
    )
    quarter = period_for(PeriodKey.QUARTER, today=thursday)
    assert (quarter.first_day, quarter.last_day, quarter.granularity) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 6, 30),
        "week",
    )
    december = period_for(PeriodKey.QUARTER, today=datetime.date(2026, 12, 31))
    assert (december.first_day, december.last_day) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 12, 31),
    )
    year = period_for(
        PeriodKey.CUSTOM, date_from=datetime.date(2026, 12, 31), date_to=datetime.date(2026, 1, 1)
    )
    assert (year.first_day, year.granularity) == (datetime.date(2026, 1, 1), "month")
    assert len(statistics._bucket_starts(year)) == 12
    assert week.end - week.start == datetime.timedelta(days=7)
    assert timezone.localtime(week.start).hour == 0


# --- selectors -----------------------------------------------------------------------------
def test_counts_and_rates_for_a_known_dataset(org, dataset):
    stats = statistics.activity_statistics(user=org.rep1, period=_period(), scope=StatScope.ME)
    totals = stats["totals"]
    assert _numbers(totals) == (6, 2, 3, 1, 1, 1)
    # done / (done + open past due) and (open past due + done late) / (done + open past due)
    assert totals["completion_rate"] == 0.75
    assert totals["overdue_rate"] == 0.5
    by_kind = {row["kind"]: row for row in stats["by_kind"]}
    assert {kind: row["count"] for kind, row in by_kind.items()} == {
        "call": 2,
        "task": 1,
        "email": 1,
        "meeting": 1,
        "visit": 1,
    }
    assert stats["by_kind"][0]["kind"] == "call"  # largest first
    assert by_kind["call"]["label"] == "Call" and by_kind["call"]["color"] == "#0d6efd"
    assert by_kind["call"]["completion_rate"] == 1.0
    assert by_kind["call"]["overdue_rate"] == 0.5
    assert by_kind["task"]["completion_rate"] == 0.0
    assert by_kind["meeting"]["completion_rate"] is None  # nothing due yet
    assert [(row["label"], row["count"]) for row in stats["by_owner"]] == [("rep1", 6)]
    assert [(row["label"], row["count"]) for row in stats["by_department"]] == [("华东销售部", 6)]
    # Every day of the 21-day period is a bucket; the counts add up and sit on their days.
    buckets = stats["by_period"]
    assert len(buckets) == 21 and stats["period"]["granularity"] == "day"
    assert sum(row["count"] for row in buckets) == 6
    overdue_day = timezone.localtime(dataset["overdue"].start_at).date().isoformat()
    assert next(row for row in buckets if row["bucket"] == overdue_day)["overdue"] >= 1
    assert all(row["from"] == row["to"] == row["bucket"] for row in buckets)


def test_scope_team_and_company(org, dataset):
    period = _period()
    team = statistics.activity_statistics(user=org.manager, period=period, scope=StatScope.TEAM)
    assert team["scope"] == StatScope.TEAM
    assert _numbers(team["totals"]) == (8, 3, 4, 1, 2, 1)
    assert {row["label"]: row["count"] for row in team["by_owner"]} == {"rep1": 6, "rep2": 2}
    company = statistics.activity_statistics(user=org.admin, period=period, scope=StatScope.COMPANY)
    assert company["totals"]["count"] == 9
    assert {row["label"]: row["count"] for row in company["by_department"]} == {
        "华东销售部": 8,
        "华北销售部": 1,
    }
    # The manager (subtree scope) is not offered the company, and asking counts only theirs.
    assert statistics.scopes_for(org.manager) == [StatScope.ME, StatScope.TEAM]
    assert statistics.scopes_for(org.admin)[-1] == StatScope.COMPANY
    assert StatScope.COMPANY in statistics.scopes_for(org.finance)
    mine = statistics.activity_statistics(user=org.manager, period=period, scope=StatScope.COMPANY)
    assert mine["scope"] == StatScope.ME and mine["totals"]["count"] == 0


def test_a_rep_only_counts_what_they_may_see(org, dataset):
    """rep1 is an assignee of rep2's activity and sees it, but "me" counts rep1's own; asking
    for the team or the company gives rep1 nothing more."""
    _make(org.rep2, "call", 2 * DAY, actor=org.rep2).assignments.create(user=org.rep1)
    assert statistics.scopes_for(org.rep1) == [StatScope.ME]
    period = _period()
    for scope in (StatScope.ME, StatScope.TEAM, StatScope.COMPANY):
        stats = statistics.activity_statistics(user=org.rep1, period=period, scope=scope)
        assert stats["totals"]["count"] == 6, scope
        assert [row["label"] for row in stats["by_owner"]] == ["rep1"]
    rep3 = statistics.activity_statistics(user=org.rep3, period=period, scope=StatScope.COMPANY)
    assert _numbers(rep3["totals"]) == (1, 0, 1, 0, 0, 1)


def test_deleted_activities_are_not_counted(org, dataset):
    services.activity_delete(activity=dataset["overdue"], actor=org.rep1)
    stats = statistics.activity_statistics(user=org.rep1, period=_period())
    assert stats["totals"]["count"] == 5 and stats["totals"]["overdue"] == 0


def _appointment(owner, account, outcome=None, offset=-DAY):
    activity = _make(owner, "visit", offset, regarding=account, is_appointment=True)
    if outcome:
        services.appointment_set_outcome(activity=activity, actor=owner, outcome=outcome)
    return activity


@pytest.fixture
def appointments(org):
    website = PicklistOption.objects.get(picklist__code="source", value="website")
    walk_in = make_account(owner=org.rep1, label="官网客户", actor=org.rep1, source=website)
    unknown = make_account(owner=org.rep2, label="无来源", actor=org.rep2)
    for outcome in ("came", "came", "came", "no_show", "rescheduled", None):
        _appointment(org.rep1, walk_in, outcome)
    for outcome in ("came", "no_show", "cancelled"):
        _appointment(org.rep2, unknown, outcome)
    _make(org.rep1, "visit", -DAY)  # not an appointment
    _appointment(org.rep1, walk_in, "came", offset=-40 * DAY)  # before the period
    return website


def test_show_rates_per_person_and_source(org, appointments):
    result = statistics.appointment_statistics(
        user=org.manager, period=_period(), scope=StatScope.TEAM
    )
    totals = result["totals"]
    assert (totals["count"], totals["came"], totals["no_show"]) == (9, 4, 2)
    assert (totals["rescheduled"], totals["cancelled"], totals["pending"]) == (1, 1, 1)
    assert totals["show_rate"] == round(4 / 6, 4)
    owners = {row["label"]: row for row in result["by_owner"]}
    assert owners["rep1"]["show_rate"] == 0.75  # 3 came / (3 came + 1 no-show)
    assert owners["rep1"]["pending"] == 1 and owners["rep1"]["count"] == 6
    assert owners["rep2"]["show_rate"] == 0.5
    sources = {row["label"]: row for row in result["by_source"]}
    assert set(sources) == {"Website", "(not set)"}
    assert sources["Website"]["source_id"] == appointments.pk
    assert sources["Website"]["show_rate"] == 0.75
    assert sources["(not set)"]["show_rate"] == 0.5
    # rep1 counts only their own appointments.
    mine = statistics.appointment_statistics(user=org.rep1, period=_period())
    assert mine["totals"]["count"] == 6
    assert [row["label"] for row in mine["by_owner"]] == ["rep1"]


def test_show_rate_without_came_or_no_show_is_none(org):
    account = make_account(owner=org.rep1, label="A", actor=org.rep1)
    _appointment(org.rep1, account, "rescheduled")
    result = statistics.appointment_statistics(user=org.rep1, period=_period())
    assert result["totals"]["count"] == 1 and result["totals"]["show_rate"] is None


# --- the page and the JSON -----------------------------------------------------------------
@pytest.fixture
def list_url(monkeypatch):
    """The activity list's URL, as `activities:index` resolves once the list is mounted."""
    real_reverse = views_insights.reverse

    def reverse_with_list(name, *args, **kwargs):
        if name == "activities:index":
            return "/activities/"
        return real_reverse(name, *args, **kwargs)

    monkeypatch.setattr(views_insights, "reverse", reverse_with_list)
    return "/activities/"


def _custom(extra=""):
    period = _period()
    return f"{STATS}?period=custom&from={period.first_day}&to={period.last_day}{extra}"


def test_page_shows_numbers_formulas_and_charts(client, org, dataset, list_url):
    client.force_login(org.rep1)
    response = client.get(_custom())
    assert response.status_code == 200
    assert response.context["stats"]["totals"]["count"] == 6
    html = response.content.decode()
    assert 'id="completion-rate">75.0%<' in html
    assert 'id="overdue-rate">50.0%<' in html
    assert "Completion rate = done ÷ (done + open past due)" in html
    assert "Show rate = came ÷ (came + no-show)" in html
    assert "vendor/echarts/echarts.min.js" in html
    for key in ("kind", "owner", "department", "period", "appointment_owner"):
        assert f'id="chart-{key}"' in html
    # Only the scopes rep1 may choose are offered.
    assert [key for key, _label in response.context["scopes"]] == [StatScope.ME]


def test_drill_down_links_filter_the_activity_list(client, org, dataset, list_url):
    client.force_login(org.manager)
    response = client.get(_custom("&scope=team"))
    stats = response.context["stats"]
    period = _period()
    call = next(row for row in stats["by_kind"] if row["kind"] == "call")
    url = urlparse(call["urls"]["count"])
    assert url.path == list_url
    assert parse_qs(url.query, keep_blank_values=True) == {
        "kind": ["call"],
        "status": [""],  # every status, not the list's default of open ones
        "from": [period.first_day.isoformat()],
        "to": [period.last_day.isoformat()],
        "scope": ["team"],
    }
    # Followed, the link lists exactly the activities the bar counted.
    listed = client.get(call["urls"]["count"]).context["activities"]
    assert len(listed) == call["count"]
    assert {activity.kind for activity in listed} == {"call"}
    rep2 = next(row for row in stats["by_owner"] if row["label"] == "rep2")
    assert parse_qs(urlparse(rep2["urls"]["overdue"]).query) == {
        "owner": [str(org.rep2.pk)],
        "status": ["open"],
        "when": ["overdue"],
        "from": [period.first_day.isoformat()],
        "to": [period.last_day.isoformat()],
        "scope": ["team"],
    }
    department = stats["by_department"][0]
    assert parse_qs(urlparse(department["urls"]["done"]).query)["department"] == [str(org.east.pk)]
    day = stats["by_period"][3]
    assert parse_qs(urlparse(day["urls"]["count"]).query) == {
        "from": [day["bucket"]],
        "to": [day["bucket"]],
        "scope": ["team"],
    }
    assert response.context["charts"]["period"]["categories"][3] == day["bucket"][5:]
    # The chart segments carry the same links, so a click opens the list.
    owner_chart = response.context["charts"]["owner"]
    done = next(series for series in owner_chart["series"] if series["name"] == "Done")
    assert done["urls"] == [row["urls"]["done"] for row in stats["by_owner"]]
    assert f'href="{call["urls"]["count"]}"'.replace("&", "&amp;") in response.content.decode()
    # "Me" narrows every link to the viewer.
    client.force_login(org.rep1)
    mine = client.get(_custom()).context["stats"]
    assert parse_qs(urlparse(mine["totals"]["urls"]["count"]).query)["owner"] == [str(org.rep1.pk)]


def test_json_gives_the_same_numbers(client, org, dataset, appointments, list_url):
    client.force_login(org.manager)
    response = client.get(_custom("&scope=team&format=json"))
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["activities"]["scope"] == "team"
    assert data["activities"]["totals"]["count"] == 8 + 10  # the appointments are visits too
    assert data["activities"]["formulas"]["completion_rate"].startswith("Completion rate")
    assert data["appointments"]["totals"]["show_rate"] == round(4 / 6, 4)
    assert {row["label"] for row in data["appointments"]["by_owner"]} == {"rep1", "rep2"}
    assert data["activities"]["by_kind"][0]["urls"]["count"].startswith(list_url)
    assert data["errors"] == []


def test_default_scope_is_the_team_for_a_manager(client, org, dataset):
    client.force_login(org.manager)
    assert client.get(STATS).context["scope"] == StatScope.TEAM
    client.force_login(org.rep1)
    assert client.get(STATS).context["scope"] == StatScope.ME


def test_bad_filters_explain_what_is_shown(client, org):
    client.force_login(org.rep1)
    response = client.get(f"{STATS}?period=custom&from=nonsense")
    assert response.status_code == 200
    assert response.context["period"].key == PeriodKey.WEEK
    assert "Give both dates of the period" in response.content.decode()
    response = client.get(f"{STATS}?scope=company")
    assert response.context["scope"] == StatScope.ME
    assert "You cannot see statistics for that scope" in response.content.decode()
    response = client.get(f"{STATS}?period=custom&from=2020-01-01&to=2026-01-01")
    assert response.context["period"].last_day == datetime.date(2021, 12, 31)
    assert "at most two years" in response.content.decode()


def test_empty_period_shows_an_empty_state(client, org):
    client.force_login(org.rep3)
    html = client.get(STATS).content.decode()
    assert 'id="statistics-empty"' in html
    assert 'id="appointments-empty"' in html


def test_users_whose_role_has_no_activities_are_refused(client, org):
    user = user_with_permissions({"customers.account": ["view"]})
    client.force_login(user)
    assert client.get(STATS).status_code == 403
    assert client.get(f"{STATS}?format=json").status_code == 403


def _more(owner, count):
    for index in range(count):
        offset = (index % 9 - 4) * DAY
        _make(owner, ("task", "call", "meeting")[index % 3], offset + datetime.timedelta(hours=1))


@pytest.mark.parametrize("fmt", ["", "&format=json"])
def test_query_count_does_not_grow_with_activities(
    client, org, dataset, appointments, django_assert_max_num_queries, fmt
):
    client.force_login(org.manager)
    url = _custom(f"&scope=team{fmt}")
    client.get(url)  # warm the per-process caches (content types)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _more(org.rep1, 30)
    _more(org.rep2, 30)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    stats = response.json()["activities"] if fmt else response.context["stats"]
    assert stats["totals"]["count"] == 8 + 10 + 60
    assert len(few) <= 25
