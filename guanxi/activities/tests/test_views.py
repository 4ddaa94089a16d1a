"""The activity and follow-up screens: forms, "my activities", the in-place actions and the
quick follow-up form on the customer pages."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import (
    Activity,
    ActivitySettings,
    ActivityStatus,
    AppointmentOutcome,
    FollowUp,
)
from guanxi.activities.tests.factories import make_activity
from guanxi.core.models import TimelineEntry
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import contact_create
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
INDEX = reverse("activities:index")
CREATE = reverse("activities:activity_create")


def local_input(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def later(days=1, hours=0) -> datetime.datetime:
    moment = timezone.now() + datetime.timedelta(days=days, hours=hours)
    return moment.replace(second=0, microsecond=0)


def account_of(user, name="华东机械"):
    return make_account(owner=user, label=name, actor=user)


def detail(activity):
    return reverse("activities:activity_detail", args=[activity.pk])


def action(name, activity):
    return reverse(f"activities:activity_{name}", args=[activity.pk])


def quick_url(record):
    return reverse("activities:follow_up_quick", args=[record._meta.label_lower, record.pk])


# --- create / edit through the form -----------------------------------------------------------
def test_create_form_is_prefilled_from_the_account(client, org):
    account = account_of(org.rep1, "Prefill Trading")
    client.force_login(org.rep1)
    response = client.get(CREATE, {"account": account.pk, "next": "/somewhere/"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["regarding_account"] == account.pk
    assert form.initial["reminder_minutes"] == 15
    html = response.content.decode()
    assert "Prefill Trading" in html  # the chosen account shows by name
    assert 'name="next" value="/somewhere/"' in html
    assert "bi-telephone" in html  # the types come with their icons


def test_create_form_does_not_prefill_an_invisible_account(client, org):
    hidden = account_of(org.rep3, "Northern Secret")
    client.force_login(org.rep1)
    response = client.get(CREATE, {"account": hidden.pk})
    assert response.status_code == 200
    assert "regarding_account" not in response.context["form"].initial
    assert "Northern Secret" not in response.content.decode()


def test_create_activity_with_assignee_reminder_and_recurrence(client, org):
    account = account_of(org.rep1)
    start = later(days=2)
    client.force_login(org.rep1)
    response = client.post(
        CREATE,
        {
            "kind": "meeting",
            "subject": "Weekly review",
            "regarding_account": account.pk,
            "start_at": local_input(start),
            "end_at": local_input(start + datetime.timedelta(hours=1)),
            "reminder_minutes": "30",
            "priority": "high",
            "assignees": [org.rep2.pk],
            "repeat": "weekly",
            "repeat_every": "1",
            "repeat_count": "3",
            "next": reverse("customers:account_detail", args=[account.pk]),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:account_detail", args=[account.pk])
    created = list(Activity.objects.filter(subject="Weekly review").order_by("start_at"))
    assert len(created) == 3
    first = created[0]
    assert first.account_id == account.pk and first.kind == "meeting"
    assert first.reminder_at == start - datetime.timedelta(minutes=30)
    assert first.priority == "high"
    assert list(first.assignees.all()) == [org.rep2]
    assert created[1].start_at == start + datetime.timedelta(weeks=1)


def test_create_without_reminder_and_validation_errors(client, org):
    client.force_login(org.rep1)
    start = later()
    response = client.post(
        CREATE,
        {
            "kind": "task",
            "subject": "Bad times",
            "start_at": local_input(start),
            "end_at": local_input(start - datetime.timedelta(hours=1)),
            "priority": "normal",
        },
    )
    assert response.status_code == 200
    assert "end_at" in response.context["form"].errors  # the service's message, on the field
    response = client.post(
        CREATE,
        {
            "kind": "task",
            "subject": "Repeat forever",
            "start_at": local_input(start),
            "priority": "normal",
            "repeat": "daily",
        },
    )
    assert "repeat_until" in response.context["form"].errors
    response = client.post(
        CREATE,
        {
            "kind": "task",
            "subject": "No reminder",
            "start_at": local_input(start),
            "priority": "normal",
            "reminder_minutes": "",
        },
    )
    assert response.status_code == 302
    assert Activity.objects.get(subject="No reminder").reminder_at is None
    assert not Activity.objects.filter(subject__in=["Bad times", "Repeat forever"]).exists()


def test_create_refuses_an_account_the_user_cannot_see(client, org):
    hidden = account_of(org.rep3, "Northern")
    client.force_login(org.rep1)
    response = client.post(
        CREATE,
        {
            "kind": "task",
            "subject": "Sneaky",
            "start_at": local_input(later()),
            "priority": "normal",
            "regarding_account": hidden.pk,
        },
    )
    assert response.status_code == 200
    assert "regarding_account" in response.context["form"].errors
    assert not Activity.objects.filter(subject="Sneaky").exists()


def test_edit_changes_assignees_and_keeps_regarding_and_checks_version(client, org):
    account = account_of(org.rep1)
    activity = make_activity(owner=org.rep1, label="Edit me", actor=org.rep1, regarding=account)
    client.force_login(org.rep1)
    edit = reverse("activities:activity_edit", args=[activity.pk])
    page = client.get(edit)
    assert page.context["form"].initial["regarding_account"] == account.pk
    data = {
        "kind": "call",
        "subject": "Edited",
        "regarding_account": account.pk,
        "start_at": local_input(activity.start_at),
        "priority": "normal",
        "reminder_minutes": "60",
        "assignees": [org.rep2.pk],
        "version": activity.version,
    }
    assert client.post(edit, data).status_code == 302
    activity.refresh_from_db()
    assert activity.subject == "Edited" and activity.kind == "call"
    assert activity.account_id == account.pk
    assert activity.reminder_at == activity.start_at - datetime.timedelta(minutes=60)
    assert list(activity.assignees.all()) == [org.rep2]
    stale = client.post(edit, {**data, "subject": "Stale"})  # the old version again
    assert stale.status_code == 200
    assert stale.context["conflict"] is True
    activity.refresh_from_db()
    assert activity.subject == "Edited"


# --- detail, 404 and 403 -----------------------------------------------------------------------
def test_detail_obeys_the_scope_and_shows_actions(client, org):
    activity = make_activity(owner=org.rep1, label="Mine", actor=org.rep1, kind="visit")
    client.force_login(org.rep3)
    assert client.get(detail(activity)).status_code == 404
    assert client.post(action("complete", activity), {}).status_code == 404
    client.force_login(org.rep1)
    html = client.get(detail(activity)).content.decode()
    assert 'id="activity-summary"' in html
    assert action("complete", activity) in html
    assert action("check_in", activity) in html  # a visit can be checked in


def test_read_only_sees_but_may_not_act(client, org):
    activity = make_activity(owner=org.rep1, label="Look only", actor=org.rep1)
    client.force_login(org.read_only)
    html = client.get(detail(activity)).content.decode()
    assert action("complete", activity) not in html
    response = client.post(action("complete", activity), {"version": activity.version})
    assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.OPEN


def test_private_activity_of_someone_else_shows_busy(client, org):
    activity = make_activity(
        owner=org.rep1, label="Doctor", actor=org.rep1, is_private=True, description="secret"
    )
    client.force_login(org.manager)
    html = client.get(detail(activity)).content.decode()
    assert "Busy (private)" in html
    assert "secret" not in html


# --- in-place actions --------------------------------------------------------------------------
def test_complete_in_place_answers_the_row(client, org):
    activity = make_activity(owner=org.rep1, label="Call back", actor=org.rep1)
    client.force_login(org.rep1)
    response = client.post(
        action("complete", activity),
        {"version": activity.version, "outcome": "Agreed to meet"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="activity-{activity.pk}"')
    assert "Agreed to meet" in html and "Done" in html
    assert json.loads(response["HX-Trigger"])["showMessage"]["level"] == "success"
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE and activity.outcome == "Agreed to meet"
    assert TimelineEntry.objects.filter(kind="activity_done", object_id=activity.pk).exists()


def test_stale_version_shows_the_conflict_and_changes_nothing(client, org):
    activity = make_activity(owner=org.rep1, label="Contested", actor=org.rep1)
    stale = activity.version
    client.force_login(org.manager)
    client.post(
        action("reschedule", activity),
        {"version": stale, "start_at": local_input(later(days=5))},
        headers=HTMX,
    )
    client.force_login(org.rep1)
    response = client.post(action("complete", activity), {"version": stale}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "changed by someone else" in html
    assert "gx-row-error" in html
    assert json.loads(response["HX-Trigger"])["showMessage"]["level"] == "danger"
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.OPEN
    assert f'name="version" value="{activity.version}"' in html  # the row is current again


def test_reschedule_in_place(client, org):
    activity = make_activity(owner=org.rep1, label="Move me", actor=org.rep1)
    new_start = later(days=4)
    client.force_login(org.rep1)
    response = client.post(
        action("reschedule", activity),
        {"version": activity.version, "start_at": local_input(new_start)},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert timezone.localtime(new_start).strftime("%Y-%m-%d %H:%M") in response.content.decode()
    activity.refresh_from_db()
    assert activity.start_at == new_start
    assert TimelineEntry.objects.filter(kind="activity_rescheduled").exists()
    bad = client.post(
        action("reschedule", activity),
        {"version": activity.version, "start_at": "soon"},
        headers=HTMX,
    )
    assert "gx-row-error" in bad.content.decode()


def test_reassign_in_place(client, org):
    activity = make_activity(owner=org.rep1, label="Hand over", actor=org.rep1)
    client.force_login(org.manager)
    response = client.post(
        action("reassign", activity),
        {"version": activity.version, "owner": org.rep2.pk, "reason": "holiday"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "rep2" in response.content.decode()
    activity.refresh_from_db()
    assert activity.owner == org.rep2
    # Given to someone the rep cannot follow: the row goes away.
    mine = make_activity(owner=org.rep1, label="Give away", actor=org.rep1)
    client.force_login(org.rep1)
    response = client.post(
        action("reassign", mine), {"version": mine.version, "owner": org.rep3.pk}, headers=HTMX
    )
    assert response.status_code == 200 and response.content == b""
    mine.refresh_from_db()
    assert mine.owner == org.rep3


def test_assignee_may_complete_but_not_delete(client, org):
    activity = make_activity(owner=org.rep1, label="Shared work", actor=org.rep1)
    activity.assignments.create(user=org.rep3)
    client.force_login(org.rep3)
    response = client.post(action("complete", activity), {"version": activity.version})
    assert response.status_code == 302  # without htmx: back to the activity
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE
    delete = reverse("activities:activity_delete", args=[activity.pk])
    assert client.post(delete, {"version": activity.version}).status_code == 403


def test_cancel_reopen_check_in_and_appointment_outcome(client, org):
    visit = make_activity(owner=org.rep1, label="Site visit", actor=org.rep1, kind="visit")
    client.force_login(org.rep1)
    client.post(action("check_in", visit), {"place": "Shanghai office"}, headers=HTMX)
    visit.refresh_from_db()
    assert visit.check_in_place == "Shanghai office" and visit.check_in_at is not None
    client.post(action("cancel", visit), {"version": visit.version}, headers=HTMX)
    visit.refresh_from_db()
    assert visit.status == ActivityStatus.CANCELLED
    response = client.post(action("reopen", visit), {"version": visit.version}, headers=HTMX)
    assert "Reopened" in json.loads(response["HX-Trigger"])["showMessage"]["message"]
    visit.refresh_from_db()
    assert visit.status == ActivityStatus.OPEN
    appointment = make_activity(
        owner=org.rep1, label="Showroom", actor=org.rep1, is_appointment=True
    )
    html = client.get(detail(appointment)).content.decode()
    assert action("outcome", appointment) in html
    client.post(
        action("outcome", appointment),
        {"version": appointment.version, "outcome": "no_show"},
        headers=HTMX,
    )
    appointment.refresh_from_db()
    assert appointment.appointment_outcome == AppointmentOutcome.NO_SHOW
    assert appointment.status == ActivityStatus.CANCELLED


# --- my activities ------------------------------------------------------------------------------
def test_my_activities_lists_own_and_assigned_with_filters(client, org):
    now = timezone.now()
    make_activity(
        owner=org.rep1,
        label="Due today",
        actor=org.rep1,
        start_at=now + datetime.timedelta(minutes=1),
    )
    make_activity(
        owner=org.rep1,
        label="Overdue call",
        actor=org.rep1,
        kind="call",
        start_at=now - datetime.timedelta(days=2),
    )
    make_activity(
        owner=org.rep1,
        label="Far future",
        actor=org.rep1,
        start_at=now + datetime.timedelta(days=40),
    )
    assigned = make_activity(owner=org.rep2, label="Assigned to me", actor=org.rep2)
    assigned.assignments.create(user=org.rep1)
    make_activity(owner=org.rep2, label="Not mine", actor=org.rep2)
    done = make_activity(owner=org.rep1, label="Finished", actor=org.rep1)
    Activity.objects.filter(pk=done.pk).update(status=ActivityStatus.DONE)
    client.force_login(org.rep1)

    def subjects(**params):
        response = client.get(INDEX, params)
        assert response.status_code == 200
        return [activity.subject for activity in response.context["activities"]]

    everything = subjects()
    assert set(everything) == {"Due today", "Overdue call", "Far future", "Assigned to me"}
    assert everything[0] == "Overdue call" and everything[-1] == "Far future"  # by due time
    assert subjects(sort="-due")[0] == "Far future"
    assert subjects(period="today") == ["Due today"]
    assert subjects(period="overdue") == ["Overdue call"]
    assert "Far future" not in subjects(period="week")
    assert subjects(status="done") == ["Finished"]
    assert subjects(kind="call") == ["Overdue call"]
    # htmx filtering answers only the results.
    partial = client.get(
        INDEX, {"period": "today"}, headers={**HTMX, "HX-Target": "activity-results"}
    )
    assert "<form" not in partial.content.decode().split("gx-activity-table")[0]


def test_manager_may_list_a_subordinates_activities_a_peer_may_not(client, org):
    make_activity(owner=org.rep1, label="Rep1 task", actor=org.rep1)
    make_activity(owner=org.rep2, label="Rep2 task", actor=org.rep2)
    client.force_login(org.manager)
    response = client.get(INDEX, {"owner": org.rep1.pk})
    assert [a.subject for a in response.context["activities"]] == ["Rep1 task"]
    assert org.rep1 in response.context["owners"]
    client.force_login(org.rep2)
    response = client.get(INDEX, {"owner": org.rep1.pk})  # not below rep2: rep2's own
    assert [a.subject for a in response.context["activities"]] == ["Rep2 task"]
    assert response.context["owners"] == []


def test_my_activities_query_count_does_not_grow(client, org, django_assert_max_num_queries):
    account = account_of(org.rep1)
    for index in range(3):
        make_activity(owner=org.rep1, label=f"A{index}", actor=org.rep1, regarding=account)
    client.force_login(org.rep1)
    client.get(INDEX)
    with django_assert_max_num_queries(40) as few:
        client.get(INDEX)
    for index in range(3, 20):
        activity = make_activity(
            owner=org.rep1,
            label=f"A{index}",
            actor=org.rep1,
            regarding=account,
            kind="visit" if index % 2 else "call",
        )
        activity.assignments.create(user=org.rep2)
    with django_assert_max_num_queries(40) as many:
        response = client.get(INDEX)
    assert len(response.context["activities"]) == 20
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_generic_lists_render(client, org):
    make_activity(owner=org.rep1, label="Listed activity", actor=org.rep1)
    client.force_login(org.rep1)
    html = client.get(reverse("activities:activity_list")).content.decode()
    assert "Listed activity" in html
    follow_up_list = client.get(reverse("activities:followup_list"))
    assert follow_up_list.status_code == 200


# --- follow-ups ---------------------------------------------------------------------------------
def test_quick_follow_up_creates_the_next_task_in_place(client, org):
    account = account_of(org.rep1, "Quick Co")
    next_time = later(days=3)
    client.force_login(org.rep1)
    response = client.post(
        quick_url(account),
        {
            "channel": "phone",
            "content": "Discussed the quote",
            "reaction": "interested",
            "next_follow_up_at": local_input(next_time),
            "next_subject": "Send the revised quote",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="gx-follow-ups"' in html and "Discussed the quote" in html
    assert 'id="gx-open-activities" hx-swap-oob="true"' in html
    assert "Send the revised quote" in html  # the next task, under open activities
    follow_up = FollowUp.objects.get(content="Discussed the quote")
    assert follow_up.next_activity.subject == "Send the revised quote"
    assert follow_up.next_activity.reminder_at is not None
    account.refresh_from_db()
    assert account.next_follow_up_at == next_time
    # Without htmx: back to the account page.
    response = client.post(quick_url(account), {"channel": "wechat", "content": "Sent photos"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:account_detail", args=[account.pk])


def test_quick_follow_up_shows_errors_and_the_call_limit(client, org):
    settings_row = ActivitySettings.current()
    settings_row.call_limit_per_week = 1
    settings_row.save()
    account = account_of(org.rep1)
    client.force_login(org.rep1)
    empty = client.post(quick_url(account), {"channel": "phone", "content": ""}, headers=HTMX)
    assert "This field is required" in empty.content.decode()
    client.post(quick_url(account), {"channel": "phone", "content": "First call"}, headers=HTMX)
    response = client.post(
        quick_url(account), {"channel": "phone", "content": "Second call"}, headers=HTMX
    )
    html = response.content.decode()
    assert "the limit is 1 per week" in html
    assert "hx-swap-oob" not in html
    assert not FollowUp.objects.filter(content="Second call").exists()
    past = client.post(
        quick_url(account),
        {"channel": "wechat", "content": "Backwards", "next_follow_up_at": "2000-01-01T10:00"},
        headers=HTMX,
    )
    assert "The next follow-up must be after this one." in past.content.decode()


def test_quick_follow_up_scope_and_permission(client, org):
    hidden = account_of(org.rep3)
    client.force_login(org.rep1)
    response = client.post(quick_url(hidden), {"channel": "phone", "content": "x"})
    assert response.status_code == 404
    assert (
        client.post(
            reverse("activities:follow_up_quick", args=["core.user", org.rep1.pk]), {}
        ).status_code
        == 404
    )
    mine = account_of(org.rep1)
    client.force_login(org.read_only)
    assert client.post(quick_url(mine), {"channel": "phone", "content": "x"}).status_code == 403
    assert not FollowUp.objects.exists()


def test_follow_up_form_create_edit_and_detail(client, org):
    account = account_of(org.rep1, "Form Co")
    client.force_login(org.rep1)
    response = client.post(
        reverse("activities:followup_create"),
        {
            "regarding_account": account.pk,
            "channel": "visit",
            "content": "Visited the plant",
            "reaction": "neutral",
            "followed_up_at": local_input(timezone.now() - datetime.timedelta(hours=1)),
        },
    )
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(content="Visited the plant")
    assert follow_up.account_id == account.pk
    page = client.get(reverse("activities:followup_detail", args=[follow_up.pk]))
    assert "Visit" in page.content.decode()  # the channel's label
    edit = reverse("activities:followup_edit", args=[follow_up.pk])
    assert "followed_up_at" not in client.get(edit).context["form"].fields
    client.post(
        edit,
        {
            "channel": "visit",
            "content": "Visited the new plant",
            "reaction": "interested",
            "version": follow_up.version,
        },
    )
    follow_up.refresh_from_db()
    assert follow_up.content == "Visited the new plant" and follow_up.reaction == "interested"
    missing = client.post(
        reverse("activities:followup_create"), {"channel": "visit", "content": "x"}
    )
    assert "regarding_account" in missing.context["form"].errors
    client.force_login(org.rep3)
    assert client.get(reverse("activities:followup_detail", args=[follow_up.pk])).status_code == 404


# --- the customer pages -------------------------------------------------------------------------
def test_account_page_shows_the_activity_sections(client, org):
    account = account_of(org.rep1, "Sections Co")
    make_activity(owner=org.rep1, label="Open one", actor=org.rep1, regarding=account)
    finished = make_activity(owner=org.rep1, label="Old one", actor=org.rep1, regarding=account)
    Activity.objects.filter(pk=finished.pk).update(status=ActivityStatus.DONE)
    client.force_login(org.rep1)
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    for key in ("follow_ups", "open_activities", "activity_history"):
        assert f'id="section-{key}"' in html
    assert "Open one" in html and "Old one" in html
    assert f"{CREATE}?account={account.pk}" in html
    assert quick_url(account) in html


def test_contact_page_shows_the_activity_sections(client, org):
    contact = contact_create(actor=org.rep1, data={"name": "Li Lei"})
    make_activity(owner=org.rep1, label="Call Li Lei", actor=org.rep1, regarding=contact)
    client.force_login(org.rep1)
    html = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert 'id="section-open_activities"' in html and "Call Li Lei" in html
    assert f"{CREATE}?contact={contact.pk}" in html
    response = client.post(
        quick_url(contact), {"channel": "wechat", "content": "Sent the brochure"}, headers=HTMX
    )
    assert "Sent the brochure" in response.content.decode()
    assert FollowUp.objects.get(content="Sent the brochure").contact_id == contact.pk
    assert Contact.objects.get(pk=contact.pk).last_followed_up_at is not None


def test_account_page_query_count_does_not_grow_with_activities(
    client, org, django_assert_max_num_queries
):
    account = account_of(org.rep1, "Busy Co")
    make_activity(owner=org.rep1, label="First", actor=org.rep1, regarding=account)
    finished = make_activity(owner=org.rep1, label="Finished", actor=org.rep1, regarding=account)
    Activity.objects.filter(pk=finished.pk).update(status=ActivityStatus.DONE)
    client.force_login(org.rep1)
    client.post(quick_url(account), {"channel": "wechat", "content": "First note"})
    url = reverse("customers:account_detail", args=[account.pk])
    client.get(url)
    with django_assert_max_num_queries(120) as few:
        client.get(url)
    for index in range(12):
        activity = make_activity(
            owner=org.rep1, label=f"Task {index}", actor=org.rep1, regarding=account
        )
        activity.assignments.create(user=org.rep2)
        if index % 3 == 0:
            Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.DONE)
        client.post(quick_url(account), {"channel": "wechat", "content": f"Note {index}"})
    with django_assert_max_num_queries(120) as many:
        response = client.get(url)
    assert "Task 11" in response.content.decode()
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_bad_prefill_and_next_are_ignored(client, org):
    client.force_login(org.rep1)
    response = client.get(CREATE, {"account": "abc", "next": "https://evil.example/"})
    assert response.status_code == 200
    assert 'value="https://evil.example/"' not in response.content.decode()
    assert response.context["cancel_url"] == reverse("activities:activity_list")
    assert Account.objects.count() == 0


def test_toast_header_carries_chinese_text():
    from django.http import HttpResponse

    from guanxi.activities.views import with_message

    response = with_message(HttpResponse(""), "已完成", "success")
    assert response["HX-Trigger"].isascii()
    assert json.loads(response["HX-Trigger"])["showMessage"]["message"] == "已完成"


def test_inline_validation_of_the_activity_form(client, org):
    client.force_login(org.rep1)
    start = later()
    response = client.post(
        reverse("activities:activity_validate"),
        {
            "kind": "task",
            "subject": "Check",
            "start_at": local_input(start),
            "end_at": local_input(start - datetime.timedelta(hours=2)),
            "priority": "normal",
        },
        headers={**HTMX, "HX-Trigger-Name": "end_at"},
    )
    assert response.status_code == 200
    assert 'id="errors-end_at"' in response.content.decode()
    assert response.context["only_field"] == "end_at"
    assert not Activity.objects.exists()


def test_assignee_editing_keeps_a_customer_they_cannot_see(client, org):
    account = account_of(org.rep1, "Rep1 Only")
    activity = make_activity(owner=org.rep1, label="Joint", actor=org.rep1, regarding=account)
    activity.assignments.create(user=org.rep3)
    client.force_login(org.rep3)
    edit = reverse("activities:activity_edit", args=[activity.pk])
    form = client.get(edit).context["form"]
    assert form.initial["regarding_account"] == account.pk
    response = client.post(
        edit,
        {
            "kind": "task",
            "subject": "Joint, renamed",
            "regarding_account": account.pk,
            "start_at": local_input(activity.start_at),
            "priority": "normal",
            "assignees": [org.rep3.pk],
            "version": activity.version,
        },
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.subject == "Joint, renamed" and activity.account_id == account.pk
