"""The activities and follow-ups API: CRUD through the services, actions with version
checks, filters, scope (404 for invisible records) and query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities.models import Activity, ActivityStatus, FollowUp
from guanxi.activities.services import _set_assignees, activity_complete, follow_up_create
from guanxi.activities.tests.factories import make_activity
from guanxi.core.api.testing import api_client
from guanxi.core.models import ChangeRecord, Notification
from guanxi.core.services.records import record_share
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"
FOLLOW_UPS = "/api/v1/follow-ups/"


def _account(owner, name="华为技术"):
    return make_account(owner=owner, label=name, actor=owner)


def _later(**delta):
    return timezone.now() + datetime.timedelta(**(delta or {"days": 1}))


def _activity(org, owner=None, **data):
    owner = owner or org.rep1
    return make_activity(owner=owner, label=data.pop("subject", "Call back"), actor=owner, **data)


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- create / read / update / delete ---------------------------------------------------------
def test_create_with_regarding_assignees_and_default_reminder(org):
    account = _account(org.rep1)
    start = _later(days=2)
    response = api_client(org.rep1).post(
        URL,
        {
            "kind": "meeting",
            "subject": "方案交流",
            "start_at": start.isoformat(),
            "end_at": (start + datetime.timedelta(hours=1)).isoformat(),
            "regarding": {"type": "customers.account", "id": account.pk},
            "assignees": [org.rep2.pk],
            "tags": ["vip"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert body["regarding"] == {"type": "customers.account", "id": account.pk}
    assert body["account"] == account.pk
    assert body["assignees"] == [org.rep2.pk]
    assert body["status"] == "open" and body["overdue"] is False
    assert body["tags"] == ["vip"]
    assert activity.owner == org.rep1
    assert activity.reminder_at == start - datetime.timedelta(minutes=15)
    assert Notification.objects.filter(recipient=org.rep2, kind="activity_assigned").exists()


def test_create_repeating_series(org):
    start = _later(days=1)
    response = api_client(org.rep1).post(
        URL,
        {
            "subject": "周报",
            "start_at": start.isoformat(),
            "recurrence": {"frequency": "weekly", "count": 3},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Activity.objects.filter(subject="周报").count() == 3
    assert response.json()["series"] is not None


def test_create_validation_comes_back_per_field(org):
    client = api_client(org.rep1)
    response = client.post(
        URL, {"subject": "x", "kind": "nonsense", "start_at": _later().isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    response = client.post(
        URL, {"subject": "x", "recurrence": {"frequency": "weekly"}}, format="json"
    )
    assert response.status_code == 400
    assert {"start_at", "recurrence.non_field_errors"} <= set(response.json()["errors"])


def test_regarding_an_invisible_or_unknown_record_is_refused(org):
    theirs = _account(org.rep3, "Theirs")
    client = api_client(org.rep1)
    for regarding in (
        {"type": "customers.account", "id": theirs.pk},
        {"type": "core.user", "id": org.rep1.pk},
        {"type": "customers.account"},
        "customers.account:1",
    ):
        response = client.post(
            URL,
            {"subject": "x", "start_at": _later().isoformat(), "regarding": regarding},
            format="json",
        )
        assert response.status_code == 400, regarding
        assert "regarding" in response.json()["errors"]
    assert not Activity.objects.exists()


def test_update_needs_the_version_and_answers_409_when_stale(org):
    activity = _activity(org)
    client = api_client(org.rep1)
    url = f"{URL}{activity.pk}/"
    assert client.patch(url, {"subject": "x"}, format="json").status_code == 400
    response = client.patch(
        url, {"subject": "New subject", "version": activity.version}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["subject"] == "New subject"
    stale = client.patch(url, {"subject": "Again", "version": activity.version}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == activity.version + 1
    assert Activity.objects.get(pk=activity.pk).subject == "New subject"


def test_update_assignees_and_regarding(org):
    activity = _activity(org)
    account = _account(org.rep1)
    response = api_client(org.rep1).patch(
        f"{URL}{activity.pk}/",
        {
            "version": activity.version,
            "assignees": [org.rep2.pk],
            "regarding": {"type": "customers.account", "id": account.pk},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    activity.refresh_from_db()
    assert list(activity.assignees.all()) == [org.rep2]
    assert activity.regarding == account
    response = api_client(org.rep1).patch(
        f"{URL}{activity.pk}/",
        {"version": activity.version, "regarding": None, "recurrence": {"frequency": "daily"}},
        format="json",
    )
    assert response.status_code == 400  # a series is chosen on create only


def test_delete_moves_to_the_recycle_bin_and_assignees_may_not_delete(org):
    activity = _activity(org)
    _set_assignees(activity, [org.rep2.pk])
    assert api_client(org.rep2).delete(f"{URL}{activity.pk}/").status_code == 403
    response = api_client(org.rep1).delete(f"{URL}{activity.pk}/?version={activity.version}")
    assert response.status_code == 204
    assert Activity.all_objects.get(pk=activity.pk).is_deleted


# --- scope --------------------------------------------------------------------------------------
def test_invisible_activities_answer_404_everywhere(org):
    theirs = _activity(org, owner=org.rep3)
    client = api_client(org.rep1)
    url = f"{URL}{theirs.pk}/"
    assert _ids(client.get(URL)) == set()
    assert client.get(url).status_code == 404
    assert client.patch(url, {"version": 1}, format="json").status_code == 404
    for action, payload in (
        ("complete", {}),
        ("reschedule", {"start_at": _later().isoformat()}),
        ("reassign", {"owner": org.rep1.pk}),
        ("cancel", {}),
        ("reopen", {}),
        ("check-in", {"place": "Shanghai"}),
        ("appointment-outcome", {"outcome": "came"}),
    ):
        response = client.post(f"{url}{action}/", {"version": 1, **payload}, format="json")
        assert response.status_code == 404, action
    theirs.refresh_from_db()
    assert theirs.status == ActivityStatus.OPEN and theirs.version == 1


def test_assignee_sees_and_works_on_the_activity(org):
    activity = _activity(org, owner=org.rep3)
    _set_assignees(activity, [org.rep1.pk])
    client = api_client(org.rep1)
    assert _ids(client.get(URL)) == {activity.pk}
    response = client.post(
        f"{URL}{activity.pk}/complete/", {"version": activity.version}, format="json"
    )
    assert response.status_code == 200, response.content


def test_read_only_role_sees_but_may_not_act(org):
    activity = _activity(org)
    client = api_client(org.read_only)
    assert client.get(f"{URL}{activity.pk}/").status_code == 200
    response = client.post(
        f"{URL}{activity.pk}/complete/", {"version": activity.version}, format="json"
    )
    assert response.status_code == 403
    assert client.post(URL, {"subject": "x", "start_at": _later().isoformat()}).status_code == 403


def test_private_activity_shows_as_busy_to_the_manager(org):
    activity = _activity(org, subject="Doctor", description="dentist", is_private=True)
    mine = api_client(org.rep1).get(f"{URL}{activity.pk}/").json()
    assert mine["subject"] == "Doctor" and mine["description"] == "dentist"
    managers = api_client(org.manager).get(f"{URL}{activity.pk}/").json()
    assert managers["subject"] == "Busy" and managers["description"] == ""


# --- actions ------------------------------------------------------------------------------------
def test_complete_with_outcome_and_stale_version(org):
    activity = _activity(org)
    client = api_client(org.rep1)
    url = f"{URL}{activity.pk}/complete/"
    assert client.post(url, {}, format="json").status_code == 400  # the version is required
    stale = client.post(url, {"version": activity.version + 5}, format="json")
    assert stale.status_code == 409
    response = client.post(url, {"version": activity.version, "outcome": "客户同意"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "done" and body["outcome"] == "客户同意"
    assert body["completed_by"] == org.rep1.pk
    again = client.post(url, {"version": body["version"]}, format="json")
    assert again.status_code == 400  # already done


def test_reschedule_keeps_duration_and_moves_the_reminder(org):
    start = _later(days=1)
    activity = _activity(org, start_at=start, end_at=start + datetime.timedelta(hours=2))
    new_start = start + datetime.timedelta(days=3)
    response = api_client(org.rep1).post(
        f"{URL}{activity.pk}/reschedule/",
        {"version": activity.version, "start_at": new_start.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    activity.refresh_from_db()
    assert activity.start_at == new_start
    assert activity.end_at == new_start + datetime.timedelta(hours=2)
    assert activity.reminder_at == new_start - datetime.timedelta(minutes=15)
    stale = api_client(org.rep1).post(
        f"{URL}{activity.pk}/reschedule/",
        {"version": 1, "start_at": start.isoformat()},
        format="json",
    )
    assert stale.status_code == 409


def test_reassign_with_reason_is_audited(org):
    activity = _activity(org)
    response = api_client(org.rep1).post(
        f"{URL}{activity.pk}/reassign/",
        {"version": activity.version, "owner": org.rep2.pk, "reason": "休假"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["owner"] == org.rep2.pk
    assert ChangeRecord.objects.filter(object_id=activity.pk, message="休假").exists()
    assert Notification.objects.filter(recipient=org.rep2, kind="activity_assigned").exists()


def test_cancel_and_reopen(org):
    activity = _activity(org)
    client = api_client(org.rep1)
    response = client.post(
        f"{URL}{activity.pk}/cancel/", {"version": activity.version, "reason": "x"}, format="json"
    )
    assert response.json()["status"] == "cancelled"
    response = client.post(
        f"{URL}{activity.pk}/reopen/", {"version": response.json()["version"]}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "open"


def test_check_in_is_version_checked(org):
    activity = _activity(org, kind="visit")
    client = api_client(org.rep1)
    url = f"{URL}{activity.pk}/check-in/"
    stale = client.post(url, {"version": activity.version + 1, "place": "上海"}, format="json")
    assert stale.status_code == 409
    assert client.post(url, {"version": activity.version, "place": ""}).status_code == 400
    response = client.post(url, {"version": activity.version, "place": "上海浦东"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["check_in_place"] == "上海浦东"
    assert response.json()["check_in_at"] is not None


def test_appointment_outcome(org):
    activity = _activity(org, kind="meeting", is_appointment=True)
    client = api_client(org.rep1)
    url = f"{URL}{activity.pk}/appointment-outcome/"
    assert client.post(url, {"version": activity.version, "outcome": "maybe"}).status_code == 400
    response = client.post(url, {"version": activity.version, "outcome": "no_show"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["appointment_outcome"] == "no_show"
    assert response.json()["status"] == "cancelled"


# --- filters ------------------------------------------------------------------------------------
def test_filters(org):
    account = _account(org.rep1)
    now = timezone.now()
    late = _activity(org, subject="late", start_at=now - datetime.timedelta(hours=3))
    call = _activity(org, subject="call", kind="call", start_at=now + datetime.timedelta(days=2))
    on_account = _activity(org, subject="on account", regarding=account)
    done = _activity(org, subject="done", start_at=now - datetime.timedelta(days=1))
    activity_complete(activity=done, actor=org.rep1)
    _set_assignees(call, [org.rep2.pk])
    client = api_client(org.rep1)
    everything = {late.pk, call.pk, on_account.pk, done.pk}
    assert _ids(client.get(URL)) == everything
    assert _ids(client.get(URL, {"overdue": "true"})) == {late.pk}
    assert _ids(client.get(URL, {"overdue": "false"})) == everything - {late.pk}
    assert _ids(client.get(URL, {"status": "done"})) == {done.pk}
    assert _ids(client.get(URL, {"kind": "call"})) == {call.pk}
    assert _ids(client.get(URL, {"account": account.pk})) == {on_account.pk}
    assert _ids(client.get(URL, {"assignee": org.rep2.pk})) == {call.pk}
    assert _ids(client.get(URL, {"owner": org.rep1.pk})) == everything
    assert _ids(client.get(URL, {"due_before": now.isoformat()})) == {late.pk, done.pk}
    assert _ids(
        client.get(URL, {"due_after": (now + datetime.timedelta(days=1, hours=12)).isoformat()})
    ) == {call.pk}
    regarding = client.get(URL, {"regarding_type": "customers.account", "regarding_id": account.pk})
    assert _ids(regarding) == {on_account.pk}
    rows = client.get(URL, {"ordering": "start_at"}).json()["results"]
    assert [row["id"] for row in rows][0] == done.pk


# --- follow-ups ---------------------------------------------------------------------------------
def test_follow_up_create_plans_the_next_task(org):
    account = _account(org.rep1)
    next_at = _later(days=3)
    response = api_client(org.rep1).post(
        FOLLOW_UPS,
        {
            "regarding": {"type": "customers.account", "id": account.pk},
            "channel": "phone",
            "content": "谈了报价",
            "reaction": "interested",
            "next_follow_up_at": next_at.isoformat(),
            "next_subject": "发送合同",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    follow_up = FollowUp.objects.get(pk=body["id"])
    assert body["account"] == account.pk and body["next_activity"] is not None
    task = follow_up.next_activity
    assert task.subject == "发送合同" and task.start_at == next_at and task.reminder_at is not None
    account.refresh_from_db()
    assert account.next_follow_up_at == next_at


def test_follow_up_validation_and_update(org):
    account = _account(org.rep1)
    client = api_client(org.rep1)
    missing = client.post(FOLLOW_UPS, {"channel": "phone", "content": "x"}, format="json")
    assert missing.status_code == 400 and "regarding" in missing.json()["errors"]
    bad = client.post(
        FOLLOW_UPS,
        {
            "regarding": {"type": "customers.account", "id": account.pk},
            "channel": "pigeon",
            "content": "x",
        },
        format="json",
    )
    assert bad.status_code == 400 and "channel" in bad.json()["errors"]
    created = client.post(
        FOLLOW_UPS,
        {
            "regarding": {"type": "customers.account", "id": account.pk},
            "channel": "wechat",
            "content": "x",
        },
        format="json",
    ).json()
    url = f"{FOLLOW_UPS}{created['id']}/"
    response = client.patch(url, {"version": created["version"], "content": "更正"}, format="json")
    assert response.status_code == 200 and response.json()["content"] == "更正"
    fixed = client.patch(
        url,
        {"version": response.json()["version"], "next_follow_up_at": _later().isoformat()},
        format="json",
    )
    assert fixed.status_code == 400 and "next_follow_up_at" in fixed.json()["errors"]
    stale = client.patch(url, {"version": created["version"], "content": "y"}, format="json")
    assert stale.status_code == 409
    deleted = client.delete(f"{url}?version={response.json()['version']}")
    assert deleted.status_code == 204
    assert FollowUp.all_objects.get(pk=created["id"]).is_deleted


def test_follow_ups_are_seen_by_whoever_sees_the_customer(org):
    account = _account(org.rep1)
    follow_up = follow_up_create(actor=org.rep1, regarding=account, channel="phone", content="x")
    # Shared with rep3: rep3 sees the customer's follow-ups; rep2 sees neither.
    record_share(instance=account, actor=org.rep1, user=org.rep3)
    assert _ids(api_client(org.rep3).get(FOLLOW_UPS)) == {follow_up.pk}
    assert _ids(api_client(org.rep2).get(FOLLOW_UPS)) == set()
    assert api_client(org.rep2).get(f"{FOLLOW_UPS}{follow_up.pk}/").status_code == 404
    filtered = api_client(org.rep1).get(FOLLOW_UPS, {"account": account.pk, "channel": "phone"})
    assert _ids(filtered) == {follow_up.pk}


# --- query counts ------------------------------------------------------------------------------
def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("who", ["rep1", "manager"])
def test_activity_list_queries_do_not_grow_with_rows(org, who, django_assert_max_num_queries):
    client = api_client(getattr(org, who), token=True)
    account = _account(org.rep1)
    url = f"{URL}?page_size=100"

    def add(count):
        for n in range(count):
            activity = _activity(org, subject=f"a{n}", regarding=account)
            _set_assignees(activity, [org.rep2.pk])

    add(3)
    few, rows = _queries(client, url)
    assert rows == 3
    add(25)
    many, rows = _queries(client, url)
    assert rows == 28
    assert many == few
    with django_assert_max_num_queries(12):
        client.get(url)


def test_follow_up_list_queries_do_not_grow_with_rows(org, django_assert_max_num_queries):
    client = api_client(org.rep1, token=True)
    account = _account(org.rep1)

    def add(count):
        for n in range(count):
            follow_up_create(actor=org.rep1, regarding=account, channel="wechat", content=f"n{n}")

    add(2)
    few, _rows = _queries(client, f"{FOLLOW_UPS}?page_size=100")
    add(20)
    many, rows = _queries(client, f"{FOLLOW_UPS}?page_size=100")
    assert rows == 22 and many == few
    with django_assert_max_num_queries(12):
        client.get(f"{FOLLOW_UPS}?page_size=100")
