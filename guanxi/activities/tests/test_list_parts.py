"""Lists of own and assigned activities are read part by part (core.scope.with_parts): the
same rows and order as the plain OR, page after page, without sorting all of a person's
activities in one statement."""

import datetime

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities import selectors
from guanxi.activities.models import Activity, ActivityAssignee
from guanxi.activities.selectors import ActivityFilters
from guanxi.activities.tests.factories import make_activity
from guanxi.core.api.testing import api_client
from guanxi.core.scope import scope_parts, scope_q, with_parts

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"


@pytest.fixture
def mixed(org):
    """rep1 owns 7 activities and is assigned to 5 of rep2's, interleaved in time; rep2
    has 3 more rep1 must not see."""
    base = timezone.now() + datetime.timedelta(days=1)
    for n in range(12):
        start = base + datetime.timedelta(hours=n)
        if n % 12 in (1, 4, 6, 9, 11):
            activity = make_activity(
                owner=org.rep2, label=f"assigned {n}", actor=org.rep2, start_at=start
            )
            ActivityAssignee.objects.create(activity=activity, user=org.rep1)
        else:
            make_activity(owner=org.rep1, label=f"own {n}", actor=org.rep1, start_at=start)
    for n in range(3):
        make_activity(
            owner=org.rep2,
            label=f"other {n}",
            actor=org.rep2,
            start_at=base + datetime.timedelta(hours=n, minutes=30),
        )
    return org


def _plain(user, order):
    return list(
        Activity.objects.filter(scope_q(user, Activity, "view"))
        .order_by(*order)
        .values_list("subject", flat=True)
    )


def test_scope_parts_are_the_scope_q_alternatives(mixed):
    parts = scope_parts(mixed.rep1, Activity, "view")
    assert parts is not None and len(parts) == 2  # own, assigned (no grants, no team)
    union = set()
    for part in parts:
        union |= set(Activity.objects.filter(part).values_list("pk", flat=True))
    assert union == set(Activity.objects.visible_to(mixed.rep1).values_list("pk", flat=True))
    assert scope_parts(mixed.admin, Activity, "view") is None


@pytest.mark.parametrize(("start", "stop"), [(0, 3), (0, 5), (2, 7), (4, 9), (8, 20), (11, 12)])
def test_parted_slices_are_the_plain_slices(mixed, start, stop):
    user = mixed.rep1
    order = ("start_at", "pk")
    parted = with_parts(
        Activity.objects.visible_to(user).order_by(*order),
        scope_parts(user, Activity, "view"),
    )
    expected = _plain(user, order)[start:stop]
    with CaptureQueriesContext(connection) as captured:
        rows = [activity.subject for activity in parted[start:stop]]
    assert rows == expected
    # One read per part, then the page by primary key: no statement holds the OR of both.
    assert len(captured) == 3
    page_sql = captured[-1]["sql"]
    assert "activities_activityassignee" not in page_sql
    assert '"owner_id" =' not in page_sql


def test_parts_survive_filters_and_drop_on_or(mixed):
    user = mixed.rep1
    parted = with_parts(
        Activity.objects.visible_to(user).order_by("-start_at", "-pk"),
        scope_parts(user, Activity, "view"),
    )
    filtered = parted.filter(subject__startswith="assigned")
    assert filtered._gx_parts == parted._gx_parts
    assert [a.subject for a in filtered[:2]] == ["assigned 11", "assigned 9"]
    combined = parted | Activity.objects.filter(owner=mixed.rep2)
    assert combined._gx_parts == ()


def test_my_activities_pages_match_the_plain_order(mixed):
    user = mixed.rep1
    activities = selectors.my_activities(user=user, filters=ActivityFilters(status=""))
    assert len(activities._gx_parts) == 2
    expected = _plain(user, ("due_at", "pk"))
    got = [a.subject for a in activities[0:5]] + [a.subject for a in activities[5:20]]
    assert got == expected
    assert sum(s.startswith("assigned") for s in got) == 5
    assert not any(s.startswith("other") for s in got)


def test_api_list_pages_through_own_and_assigned(mixed, django_assert_max_num_queries):
    client = api_client(mixed.rep1, token=True)
    seen = []
    for page in (1, 2, 3):
        with django_assert_max_num_queries(14):
            response = client.get(f"{URL}?page_size=5&page={page}&ordering=start_at")
        assert response.status_code == 200, response.content
        seen += [row["subject"] for row in response.json()["results"]]
    assert seen == _plain(mixed.rep1, ("start_at", "pk"))
    assert len(seen) == 12


# --- "my activities" page: the user's own list, row decoration -----------------------------------
def test_my_own_list_leaves_the_scope_filter_out(mixed):
    with CaptureQueriesContext(connection) as captured:
        rows = list(selectors.my_activities(user=mixed.rep1, filters=ActivityFilters())[0:20])
    assert {row.subject for row in rows} == set(
        Activity.objects.visible_to(mixed.rep1)
        .filter(status="open")
        .values_list("subject", flat=True)
    )
    # The parts and the page: "owner OR assigned", never the scope's OR a second time.
    for query in captured:
        if 'FROM "activities_activity"' in query["sql"]:
            assert query["sql"].count("activities_activityassignee") <= 2


def test_someone_elses_list_stays_inside_the_scope(mixed):
    # rep2 is not below rep1: rep1 asking for rep2's list gets their own.
    filters = ActivityFilters(owner=mixed.rep2.pk, status="")
    rows = [a.subject for a in selectors.my_activities(user=mixed.rep1, filters=filters)[0:50]]
    assert rows == _plain(mixed.rep1, ("due_at", "pk"))
    # The manager may list rep2's: rep2's own and assigned, as far as the manager sees them.
    rows = [a.subject for a in selectors.my_activities(user=mixed.manager, filters=filters)[0:50]]
    expected = list(
        Activity.objects.visible_to(mixed.manager)
        .filter(
            Q(owner=mixed.rep2)
            | Q(pk__in=ActivityAssignee.objects.filter(user=mixed.rep2).values("activity_id"))
        )
        .order_by("due_at", "pk")
        .values_list("subject", flat=True)
    )
    assert rows == expected and len(rows) == 8


@pytest.mark.parametrize(
    "who", ["rep1", "rep2", "rep3", "manager", "admin", "read_only", "finance", "agent"]
)
def test_decorated_rows_are_editable_exactly_when_editable_by_says(mixed, who):
    user = getattr(mixed, who)
    make_activity(owner=mixed.rep3, label="north", actor=mixed.rep3)
    rows = list(Activity.objects.visible_to(user).prefetch_related("assignees").order_by("pk"))
    editable = set(Activity.objects.editable_by(user).values_list("pk", flat=True))
    selectors.decorate_activities(rows, user=user)
    assert {row.pk for row in rows if row.gx_editable} == editable & {row.pk for row in rows}


def test_decorated_rows_carry_their_action_urls(mixed):
    from django.urls import reverse

    rows = selectors.decorate_activities(
        list(Activity.objects.visible_to(mixed.rep1).prefetch_related("assignees")),
        user=mixed.rep1,
    )
    for row in rows:
        for key, name in selectors.ROW_URL_NAMES.items():
            assert row.gx_urls[key] == reverse(name, args=[row.pk])
        assert row.gx_urls["lookup_users"] == reverse("core:lookup_users")
