"""`GET /api/v1/activities/calendar/`: the calendar range query."""

import datetime

import pytest
from django.utils import timezone

from guanxi.activities.calendar import MAX_RANGE_DAYS
from guanxi.activities.tests.factories import make_activity
from guanxi.core.api.testing import api_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/calendar/"
START = timezone.make_aware(datetime.datetime(2030, 3, 1))


def _meeting(owner, subject, day, **data):
    start = START + datetime.timedelta(days=day, hours=10)
    return make_activity(
        owner=owner,
        label=subject,
        actor=owner,
        kind="meeting",
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
        **data,
    )


def _month(client, users=""):
    params = {"start": "2030-03-01", "end": "2030-04-01"}
    if users:
        params["users"] = users
    return client.get(URL, params)


def test_range_query_answers_fullcalendar_events(org):
    mine = _meeting(org.rep1, "月度复盘", 3)
    _meeting(org.rep1, "Next month", 40)
    response = _month(api_client(org.rep1))
    assert response.status_code == 200
    [event] = response.json()
    assert set(event) >= {
        "id",
        "title",
        "start",
        "end",
        "allDay",
        "user",
        "color",
        "url",
        "editable",
        "version",
        "busy",
    }
    assert event["id"] == mine.pk
    assert event["title"] == "月度复盘"
    assert event["user"] == org.rep1.pk
    assert datetime.datetime.fromisoformat(event["start"]) == mine.start_at
    assert datetime.datetime.fromisoformat(event["end"]) == mine.end_at
    assert event["editable"] is True and event["busy"] is False


def test_iso_date_times_with_offsets_are_accepted(org):
    _meeting(org.rep1, "Edge", 0)
    client = api_client(org.rep1, token=True)
    response = client.get(
        URL, {"start": "2030-03-01T00:00:00+08:00", "end": "2030-03-02T00:00:00+08:00"}
    )
    assert response.status_code == 200
    assert [event["title"] for event in response.json()] == ["Edge"]


def test_overlaid_calendars_and_scope(org):
    _meeting(org.rep1, "Rep1", 1)
    _meeting(org.rep2, "Rep2", 2, is_private=True)
    _meeting(org.rep3, "Rep3", 3)
    manager = api_client(org.manager)
    events = _month(manager, f"{org.rep1.pk},{org.rep2.pk},{org.rep3.pk}").json()
    assert [(event["title"], event["busy"]) for event in events] == [
        ("Rep1", False),
        ("Busy", True),
    ]
    # A peer's calendar alone: 404, as for any record one may not see.
    response = _month(api_client(org.rep1), str(org.rep3.pk))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2030-04-01"}, "start"),
        ({"start": "yesterday", "end": "2030-04-01"}, "start"),
        ({"start": "2030-03-01", "end": "2030-13-01"}, "end"),
        ({"start": "2030-04-01", "end": "2030-03-01"}, "end"),
        ({"start": "2030-03-01", "end": "2030-04-01", "users": "1,x"}, "users"),
    ],
)
def test_bad_ranges_answer_400_with_a_message(org, params, field):
    response = api_client(org.rep1).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][field][0]


def test_ranges_longer_than_a_year_are_refused(org):
    client = api_client(org.rep1)
    year = client.get(URL, {"start": "2030-01-01", "end": "2031-01-01"})
    assert year.status_code == 200  # the year view
    too_long = client.get(URL, {"start": "2030-01-01", "end": "2032-01-01"})
    assert too_long.status_code == 400
    assert str(MAX_RANGE_DAYS) in too_long.json()["errors"]["end"][0]


def test_sign_in_required(org):
    assert _month(api_client()).status_code in (401, 403)


def test_query_count_does_not_grow_with_events(org, django_assert_max_num_queries):
    users = f"{org.rep1.pk},{org.rep2.pk}"
    for day in range(3):
        _meeting(org.rep1, f"A{day}", day)
    client = api_client(org.manager)
    _month(client, users)

    def measure(expected):
        with django_assert_max_num_queries(25) as captured:
            response = _month(client, users)
        assert response.status_code == 200
        assert len(response.json()) == expected
        return len(captured.captured_queries)

    few = measure(3)
    for day in range(30):
        _meeting(org.rep2 if day % 2 else org.rep1, f"B{day}", day % 28)
    many = measure(33)
    assert many <= few
