"""The calendar page, drag / resize (reschedule) and quick create."""

import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import Activity
from guanxi.activities.tests.factories import make_activity
from guanxi.core.models import ChangeRecord, TimelineEntry
from guanxi.core.services.organisation import user_create
from guanxi.core.tests.factories import role

pytestmark = pytest.mark.django_db

START = timezone.make_aware(datetime.datetime(2030, 3, 4, 10, 0))


def _meeting(owner, subject="Review", **data):
    return make_activity(
        owner=owner,
        label=subject,
        actor=owner,
        kind="meeting",
        start_at=START,
        end_at=START + datetime.timedelta(hours=1),
        **data,
    )


def _reschedule(client, activity, **fields):
    return client.post(reverse("activities:calendar_reschedule", args=[activity.pk]), fields)


# --- the page ----------------------------------------------------------------------------------
def test_calendar_page_lists_the_people_i_may_overlay(org, client):
    client.force_login(org.manager)
    response = client.get(reverse("activities:calendar"), {"users": f"{org.rep1.pk},{org.rep3.pk}"})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="person-{org.rep1.pk}"' in page
    assert f'id="person-{org.rep3.pk}"' not in page
    config = response.context["config"]
    assert config["selected"] == [org.rep1.pk]  # rep3 is not the manager's to see
    assert config["eventsUrl"] == "/api/v1/activities/calendar/"
    assert "vendor/fullcalendar/multimonth/index.global.min.js" in page
    assert "vendor/fullcalendar/core/locales/zh-cn.global.min.js" in page
    script = Path(settings.BASE_DIR) / "static" / "activities" / "calendar.js"
    assert "multiMonthYear" in script.read_text(encoding="utf-8")


def test_calendar_is_in_the_menu(org, client):
    client.force_login(org.rep1)
    page = client.get(reverse("activities:calendar")).content.decode()
    assert f'href="{reverse("activities:calendar")}"' in page


def test_page_queries_do_not_grow_with_people(org, client, django_assert_max_num_queries):
    client.force_login(org.admin)
    url = reverse("activities:calendar")
    client.get(url)

    def measure():
        with django_assert_max_num_queries(30) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    few = measure()
    for index in range(15):
        user_create(
            username=f"extra{index}",
            password="pw",
            actor=None,
            roles=[role("sales_rep")],
            department=org.east,
        )
    many = measure()
    assert many <= few


# --- drag and resize ---------------------------------------------------------------------------
def test_drag_saves_through_the_service_with_audit(org, client):
    activity = _meeting(org.rep1)
    client.force_login(org.rep1)
    moved = START + datetime.timedelta(days=1, hours=2)
    response = _reschedule(
        client,
        activity,
        start=moved.isoformat(),
        end=(moved + datetime.timedelta(minutes=90)).isoformat(),
        all_day="false",
        version=activity.version,
    )
    assert response.status_code == 200, response.content
    event = response.json()["event"]
    activity.refresh_from_db()
    assert activity.start_at == moved
    assert activity.end_at == moved + datetime.timedelta(minutes=90)
    assert event["version"] == activity.version == 2
    assert datetime.datetime.fromisoformat(event["start"]) == moved
    change = ChangeRecord.objects.filter(object_id=activity.pk, action="update").latest("id")
    assert change.actor == org.rep1
    assert "start_at" in change.after
    assert TimelineEntry.objects.filter(kind="activity_rescheduled", object_id=activity.pk).exists()


def test_stale_version_answers_409_and_changes_nothing(org, client):
    activity = _meeting(org.rep1)
    client.force_login(org.rep1)
    response = _reschedule(
        client,
        activity,
        start=(START + datetime.timedelta(days=1)).isoformat(),
        all_day="false",
        version=activity.version + 5,
    )
    assert response.status_code == 409
    body = response.json()
    assert "changed by someone else" in body["detail"]
    assert body["current_version"] == activity.version
    activity.refresh_from_db()
    assert activity.start_at == START


def test_drag_into_the_all_day_row_and_back(org, client):
    activity = _meeting(org.rep1)
    client.force_login(org.rep1)
    response = _reschedule(
        client, activity, start="2030-03-06", end="", all_day="true", version=activity.version
    )
    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.all_day is True
    assert activity.end_at - activity.start_at == datetime.timedelta(days=1)
    assert response.json()["event"]["start"] == "2030-03-06"
    back = START + datetime.timedelta(days=3)
    response = _reschedule(
        client, activity, start=back.isoformat(), all_day="false", version=activity.version
    )
    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.all_day is False
    assert activity.end_at - activity.start_at == datetime.timedelta(hours=1)


def test_invalid_move_answers_400_with_the_message(org, client):
    activity = _meeting(org.rep1)
    client.force_login(org.rep1)
    response = _reschedule(
        client,
        activity,
        start=START.isoformat(),
        end=(START - datetime.timedelta(hours=1)).isoformat(),
        all_day="false",
        version=activity.version,
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The end cannot be before the start."
    assert _reschedule(client, activity, start="later", version=1).status_code == 400


def test_reschedule_obeys_the_scope(org, client):
    activity = _meeting(org.rep1)
    client.force_login(org.rep3)
    assert _reschedule(client, activity, start=START.isoformat()).status_code == 404
    client.force_login(org.finance)  # sees everything, changes nothing
    response = _reschedule(client, activity, start=START.isoformat())
    assert response.status_code == 403
    client.force_login(org.manager)  # rep1's manager
    moved = START + datetime.timedelta(hours=3)
    response = _reschedule(client, activity, start=moved.isoformat(), version=1)
    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.start_at == moved
    assert activity.end_at == moved + datetime.timedelta(hours=1)  # duration kept


def test_reschedule_needs_post_and_sign_in(org, client):
    activity = _meeting(org.rep1)
    url = reverse("activities:calendar_reschedule", args=[activity.pk])
    assert client.post(url, {"start": START.isoformat()}).status_code == 302
    client.force_login(org.rep1)
    assert client.get(url).status_code == 405


# --- quick create ------------------------------------------------------------------------------
def test_quick_create_from_an_empty_slot(org, client):
    client.force_login(org.rep2)
    response = client.post(
        reverse("activities:calendar_create"),
        {
            "subject": "电话回访",
            "kind": "call",
            "start": START.isoformat(),
            "end": (START + datetime.timedelta(minutes=30)).isoformat(),
            "all_day": "false",
        },
    )
    assert response.status_code == 201, response.content
    event = response.json()["event"]
    activity = Activity.objects.get(pk=event["id"])
    assert (activity.subject, activity.kind, activity.owner) == ("电话回访", "call", org.rep2)
    assert activity.start_at == START
    assert event["title"] == "电话回访"
    assert event["user"] == org.rep2.pk
    assert event["editable"] is True
    assert ChangeRecord.objects.filter(object_id=activity.pk, action="create").exists()


def test_quick_create_all_day(org, client):
    client.force_login(org.rep2)
    response = client.post(
        reverse("activities:calendar_create"),
        {"subject": "Holiday", "kind": "task", "start": "2030-03-06", "end": "2030-03-07"},
    )
    assert response.status_code == 201
    event = response.json()["event"]
    assert (event["allDay"], event["start"], event["end"]) == (True, "2030-03-06", "2030-03-07")


def test_quick_create_errors(org, client):
    client.force_login(org.rep2)
    url = reverse("activities:calendar_create")
    response = client.post(url, {"subject": "", "kind": "task", "start": START.isoformat()})
    assert response.status_code == 400
    assert "subject" in response.json()["errors"]
    response = client.post(url, {"subject": "x", "kind": "nonsense", "start": START.isoformat()})
    assert response.status_code == 400
    assert response.json()["errors"]["kind"] == ["Choose a valid activity type."]
    response = client.post(url, {"subject": "x", "kind": "task"})
    assert response.status_code == 400
    client.force_login(org.read_only)
    response = client.post(url, {"subject": "x", "kind": "task", "start": START.isoformat()})
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_page_config_is_valid_json(org, client):
    client.force_login(org.rep1)
    page = client.get(reverse("activities:calendar")).content.decode()
    start = page.index('id="calendar-config"')
    body = page[page.index(">", start) + 1 : page.index("</script>", start)]
    config = json.loads(body)
    assert config["texts"]["year"] == "Year"
    assert config["canCreate"] is True
    assert {t["value"] for t in config["types"]} >= {"task", "call", "meeting"}
