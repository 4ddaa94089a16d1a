"""Reminders, overdue notices and escalation: each sent once, at the right time, to the right
people, also when two jobs run at the same time."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities import reminders, tasks
from guanxi.activities.models import Activity, ActivitySettings, ActivityStatus
from guanxi.activities.services import (
    activity_complete,
    activity_delete,
    activity_reschedule,
    activity_url,
)
from guanxi.activities.tests.factories import make_activity
from guanxi.core.models import Notification

NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))


def _activity(org, *, owner=None, start=None, reminder=None, assignees=(), **data):
    owner = owner or org.rep1
    start = start or NOW + datetime.timedelta(minutes=10)
    activity = make_activity(
        owner=owner,
        label=data.pop("subject", "Call Huawei"),
        actor=owner,
        start_at=start,
        reminder_at=reminder if reminder is not None else start - datetime.timedelta(minutes=15),
        **data,
    )
    if assignees:
        from guanxi.activities.services import _set_assignees

        _set_assignees(activity, [user.pk for user in assignees])
    return activity


def _notices(kind=reminders.KIND_REMINDER, **filters):
    return Notification.objects.filter(kind=kind, **filters)


# --- reminders ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_reminder_goes_to_owner_and_assignees_once(org):
    activity = _activity(org, assignees=[org.rep2, org.rep1])
    assert reminders.send_due_reminders(now=NOW) == 2
    sent = _notices()
    assert sorted(n.recipient.username for n in sent) == ["rep1", "rep2"]
    assert all("Call Huawei" in n.text and "09:10" in n.text for n in sent)
    assert {n.url for n in sent} == {activity_url(activity)}
    activity.refresh_from_db()
    assert activity.reminder_sent_at == NOW
    # The next run sends nothing more.
    assert reminders.send_due_reminders(now=NOW + datetime.timedelta(minutes=1)) == 0
    assert _notices().count() == 2


@pytest.mark.django_db
def test_no_reminder_before_its_time_nor_for_done_cancelled_or_deleted(org):
    future = _activity(org, reminder=NOW + datetime.timedelta(minutes=1))
    done = _activity(org, subject="done")
    activity_complete(activity=done, actor=org.rep1)
    deleted = _activity(org, subject="deleted")
    activity_delete(activity=deleted, actor=org.rep1)
    assert reminders.send_due_reminders(now=NOW) == 0
    assert not _notices().exists()
    # Its time comes.
    assert reminders.send_due_reminders(now=NOW + datetime.timedelta(minutes=1)) == 1
    assert _notices().get().recipient == org.rep1
    future.refresh_from_db()
    assert future.reminder_sent_at is not None


@pytest.mark.django_db
def test_an_activity_without_reminder_is_not_reminded(org):
    activity = _activity(org)
    Activity.objects.filter(pk=activity.pk).update(reminder_at=None)
    assert reminders.send_due_reminders(now=NOW) == 0


@pytest.mark.django_db
def test_rescheduling_arms_the_reminder_again(org):
    activity = _activity(org)
    reminders.send_due_reminders(now=NOW)
    activity.refresh_from_db()
    activity_reschedule(
        activity=activity, actor=org.rep1, start_at=NOW + datetime.timedelta(days=1, minutes=10)
    )
    assert reminders.send_due_reminders(now=NOW + datetime.timedelta(days=1)) == 1
    assert _notices().count() == 2


@pytest.mark.django_db
def test_stale_reminder_of_an_overdue_activity_is_left_to_the_overdue_notice(org):
    _activity(org, start=NOW - datetime.timedelta(hours=2))
    assert reminders.send_due_reminders(now=NOW) == 0
    assert reminders.notify_overdue(now=NOW) == 1


@pytest.mark.django_db
def test_reminder_time_in_the_recipients_time_zone(org):
    org.rep2.time_zone = "Europe/Berlin"
    org.rep2.save()
    _activity(org, owner=org.rep2, subject="拜访华为")
    reminders.send_due_reminders(now=NOW)
    text = _notices().get().text
    # 09:10 in Shanghai is 02:10 in Berlin (winter time).
    assert "拜访华为" in text and "02:10" in text


@pytest.mark.django_db
def test_reminder_batches_do_not_grow_queries_with_rows(org):
    def run(count, minute):
        start = NOW + datetime.timedelta(days=minute, minutes=10)
        for n in range(count):
            _activity(org, start=start, subject=f"a{minute}-{n}", assignees=[org.rep2])
        with CaptureQueriesContext(connection) as captured:
            sent = reminders.send_due_reminders(now=start - datetime.timedelta(minutes=5))
        assert sent == 2 * count
        return len(captured)

    assert run(3, 1) == run(30, 2)


@pytest.mark.django_db
def test_contended_batch_falls_back_to_row_by_row_claims(org):
    first = _activity(org, subject="first")
    second = _activity(org, subject="second")
    # Another job already claimed the first one.
    Activity.objects.filter(pk=first.pk).update(reminder_sent_at=NOW)
    assert reminders.claim("reminder_sent_at", [first.pk, second.pk], NOW) == [second.pk]
    assert reminders.claim("reminder_sent_at", [first.pk, second.pk], NOW) == []


# --- e-mail ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_one_mail_per_reminder_when_email_is_configured(
    org, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_HOST = "smtp.example.com"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org.rep1.email, org.rep2.email = "rep1@example.com", "rep2@example.com"
    org.rep1.save()
    org.rep2.save()
    _activity(org, subject="one", assignees=[org.rep2])
    _activity(org, subject="two")
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_due_reminders(now=NOW) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_due_reminders(now=NOW) == 0
    assert sorted(
        (m.to[0], m.subject.split(":")[1].split(" at")[0].strip()) for m in mail.outbox
    ) == [
        ("rep1@example.com", "one"),
        ("rep1@example.com", "two"),
        ("rep2@example.com", "one"),
    ]


@pytest.mark.django_db
def test_no_mail_without_email_configuration(org, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_HOST = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org.rep1.email = "rep1@example.com"
    org.rep1.save()
    _activity(org)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_due_reminders(now=NOW) == 1
    assert mail.outbox == []


# --- overdue and escalation -----------------------------------------------------------------
@pytest.mark.django_db
def test_overdue_notice_once_to_the_owner_only(org):
    activity = _activity(org, start=NOW - datetime.timedelta(minutes=30), assignees=[org.rep2])
    _activity(org, subject="not yet due", start=NOW + datetime.timedelta(minutes=30))
    done = _activity(org, subject="done", start=NOW - datetime.timedelta(hours=1))
    activity_complete(activity=done, actor=org.rep1)
    assert reminders.notify_overdue(now=NOW) == 1
    notice = _notices(reminders.KIND_OVERDUE).get()
    assert notice.recipient == org.rep1 and "Call Huawei" in notice.text
    assert reminders.notify_overdue(now=NOW + datetime.timedelta(minutes=10)) == 0
    activity.refresh_from_db()
    assert activity.overdue_notified_at == NOW


@pytest.mark.django_db
def test_escalation_to_the_department_manager_after_the_delay(org):
    ActivitySettings.objects.update_or_create(pk=1, defaults={"escalation_delay_hours": 4})
    activity = _activity(org, start=NOW - datetime.timedelta(hours=3))
    assert reminders.escalate_overdue(now=NOW) == 0  # 3 hours: not yet
    later = NOW + datetime.timedelta(hours=2)
    assert reminders.escalate_overdue(now=later) == 1
    notice = _notices(reminders.KIND_ESCALATED).get()
    assert notice.recipient == org.manager
    assert "Call Huawei" in notice.text and "rep1" in notice.text
    assert reminders.escalate_overdue(now=later + datetime.timedelta(hours=5)) == 0
    activity.refresh_from_db()
    assert activity.escalated_at == later


@pytest.mark.django_db
def test_escalation_prefers_the_users_own_manager_and_skips_done(org):
    org.rep3.manager = org.admin
    org.rep3.save()
    _activity(org, owner=org.rep3, start=NOW - datetime.timedelta(days=3))
    done = _activity(org, owner=org.rep3, subject="done", start=NOW - datetime.timedelta(days=3))
    activity_complete(activity=done, actor=org.rep3)
    assert reminders.escalate_overdue(now=NOW) == 1
    assert _notices(reminders.KIND_ESCALATED).get().recipient == org.admin


@pytest.mark.django_db
def test_a_managers_own_overdue_work_goes_up_the_tree(org):
    org.division.manager = org.admin
    org.division.save()
    _activity(org, owner=org.manager, start=NOW - datetime.timedelta(days=3))
    assert reminders.escalate_overdue(now=NOW) == 1
    assert _notices(reminders.KIND_ESCALATED).get().recipient == org.admin


@pytest.mark.django_db
def test_nobody_to_escalate_to_and_zero_delay_turns_escalation_off(org):
    # rep3's department (north) has no manager, nor has the division.
    activity = _activity(org, owner=org.rep3, start=NOW - datetime.timedelta(days=3))
    assert reminders.escalate_overdue(now=NOW) == 0
    activity.refresh_from_db()
    assert activity.escalated_at == NOW  # not looked at again
    ActivitySettings.objects.update_or_create(pk=1, defaults={"escalation_delay_hours": 0})
    _activity(org, start=NOW - datetime.timedelta(days=3))
    assert reminders.escalate_overdue(now=NOW) == 0
    assert not _notices(reminders.KIND_ESCALATED).exists()


@pytest.mark.django_db
def test_private_activity_is_escalated_without_its_subject(org):
    _activity(org, subject="Doctor", is_private=True, start=NOW - datetime.timedelta(days=3))
    reminders.escalate_overdue(now=NOW)
    text = _notices(reminders.KIND_ESCALATED).get().text
    assert "Doctor" not in text and "private" in text


# --- the periodic jobs ----------------------------------------------------------------------
@pytest.mark.django_db
def test_periodic_tasks_send_what_is_due_now(org):
    start = timezone.now() + datetime.timedelta(minutes=5)
    _activity(org, start=start, reminder=timezone.now() - datetime.timedelta(minutes=1))
    _activity(org, subject="late", start=timezone.now() - datetime.timedelta(days=2))
    tasks.activity_reminders_task()
    tasks.activity_overdue_task()
    tasks.activity_escalation_task()
    assert _notices().count() == 1
    assert _notices(reminders.KIND_OVERDUE).count() == 1
    assert _notices(reminders.KIND_ESCALATED).get().recipient == org.manager


def _run_concurrently(job, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=30)
            results.append(job())
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_send_each_reminder_exactly_once(seeded, org):
    subjects = [f"call-{n:03}" for n in range(40)]
    for subject in subjects:
        _activity(org, subject=subject, assignees=[org.rep2])
    results = _run_concurrently(lambda: reminders.send_due_reminders(now=NOW, batch_size=7))
    assert sum(results) == 80
    for subject in subjects:
        for user in (org.rep1, org.rep2):
            got = _notices(recipient=user, text__startswith=f"Reminder: {subject} at").count()
            assert got == 1, (subject, user.username, got)
    assert Activity.objects.filter(reminder_sent_at__isnull=True).count() == 0
    assert Activity.objects.filter(status=ActivityStatus.OPEN).count() == 40


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_send_each_overdue_notice_and_escalation_once(seeded, org):
    for n in range(15):
        _activity(org, subject=f"late {n}", start=NOW - datetime.timedelta(days=2))

    def both():
        return reminders.notify_overdue(now=NOW, batch_size=4) + reminders.escalate_overdue(
            now=NOW, batch_size=4
        )

    assert sum(_run_concurrently(both)) == 30
    assert _notices(reminders.KIND_OVERDUE, recipient=org.rep1).count() == 15
    assert _notices(reminders.KIND_ESCALATED, recipient=org.manager).count() == 15
