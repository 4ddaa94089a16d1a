"""The demo activities and follow-ups: made through the services, consistent (due times,
customers, follow-up dates), covering what the pages show, and loaded only once."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone

from guanxi.activities.models import Activity, ActivityAssignee, ActivityStatus, FollowUp
from guanxi.core.demo import load_demo
from guanxi.core.models import ChangeRecord, SearchEntry, TimelineEntry
from guanxi.customers.models import Account, AccountContact, Contact

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_db(django_db_setup, django_db_blocker):
    """Load the demo once for the module (it takes a few seconds) and remove it afterwards."""
    with django_db_blocker.unblock():
        from django.db import transaction

        class _Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                demo = load_demo(verbosity=0, accounts=20)
                yield demo
                raise _Rollback
        except _Rollback:
            pass


@pytest.fixture
def demo(demo_db, db):
    return demo_db


def test_activities_cover_the_kinds_statuses_and_time_range(demo):
    now = timezone.now()
    activities = Activity.objects.all()
    owners = {account.owner_id for account in demo.accounts}
    assert set(activities.values_list("owner_id", flat=True)) >= owners
    assert activities.count() >= 40
    assert {"call", "meeting", "visit", "task"} <= set(activities.values_list("kind", flat=True))
    # Some done in the past, some overdue, some ahead; nothing beyond the month ahead.
    assert activities.filter(status=ActivityStatus.DONE, due_at__lt=now).exists()
    assert activities.filter(status=ActivityStatus.OPEN, due_at__lt=now).exists()
    assert activities.filter(status=ActivityStatus.OPEN, due_at__gt=now).exists()
    earliest = now - datetime.timedelta(days=92)
    latest = now + datetime.timedelta(days=32)
    assert not activities.filter(start_at__lt=earliest).exists()
    assert not activities.filter(start_at__gt=latest).exists()
    # Work done is dated when it was done, never in the future or "not at all".
    done = activities.filter(status=ActivityStatus.DONE)
    assert not done.filter(completed_at=None).exists()
    assert not done.filter(completed_at__gt=now).exists()
    assert ActivityAssignee.objects.exists()


def test_every_activity_is_consistent_with_what_the_services_keep(demo):
    account_type = ContentType.objects.get_for_model(Account)
    contact_type = ContentType.objects.get_for_model(Contact)
    for activity in Activity.objects.all():
        assert activity.due_at == (activity.end_at or activity.start_at)
        assert activity.department_id == activity.owner.department_id
        if activity.regarding_type_id == account_type.pk:
            assert activity.account_id == activity.regarding_id
        elif activity.regarding_type_id == contact_type.pk:
            assert activity.contact_id == activity.regarding_id
            linked = AccountContact.objects.filter(contact_id=activity.regarding_id)
            assert activity.account_id in set(linked.values_list("account_id", flat=True))
    # Created through the services: history and search entries exist for them.
    activity_type = ContentType.objects.get_for_model(Activity)
    created = ChangeRecord.objects.filter(content_type=activity_type, action="create").count()
    assert created == Activity.objects.count()
    assert SearchEntry.objects.filter(content_type=activity_type).count() == created
    assert TimelineEntry.objects.filter(kind="activity_created").exists()


def test_appointments_recurring_meetings_and_check_ins(demo):
    now = timezone.now()
    series_ids = set(
        Activity.objects.exclude(series=None).values_list("series_id", flat=True).distinct()
    )
    assert series_ids
    for series_id in series_ids:
        starts = list(
            Activity.objects.filter(series_id=series_id)
            .order_by("start_at")
            .values_list("start_at", flat=True)
        )
        assert len(starts) >= 15
        days = [timezone.localtime(moment).date() for moment in starts]
        assert all((b - a).days == 7 for a, b in zip(days, days[1:], strict=False))
        meetings = Activity.objects.filter(series_id=series_id)
        assert not meetings.filter(due_at__lt=now).exclude(status=ActivityStatus.DONE).exists()
        assert ActivityAssignee.objects.filter(activity__series_id=series_id).exists()
    appointments = Activity.objects.filter(is_appointment=True)
    assert appointments.exists()
    for activity in appointments.filter(due_at__lt=now):
        assert activity.appointment_outcome, activity
    came = appointments.filter(appointment_outcome="came")
    assert not came.exclude(status=ActivityStatus.DONE).exists()
    assert Activity.objects.filter(kind="visit").exclude(check_in_at=None).exists() or (
        not Activity.objects.filter(kind="visit", status=ActivityStatus.DONE).exists()
    )


def test_follow_ups_keep_the_customers_last_and_next_dates(demo):
    follow_ups = FollowUp.objects.all()
    assert 20 <= follow_ups.count() <= 40
    assert follow_ups.exclude(next_activity=None).exists()
    # The next follow-up made a task for that date.
    for follow_up in follow_ups.exclude(next_activity=None).select_related("next_activity"):
        assert follow_up.next_activity.start_at == follow_up.next_follow_up_at
        assert follow_up.next_activity.kind == "task"
    # Each followed-up account carries its latest follow-up's date and next date.
    latest = follow_ups.values("account_id").annotate(last=Max("followed_up_at"))
    assert latest
    for row in latest:
        account = Account.objects.get(pk=row["account_id"])
        newest = follow_ups.filter(account_id=account.pk).order_by("-followed_up_at").first()
        assert account.last_followed_up_at == row["last"]
        assert account.next_follow_up_at == newest.next_follow_up_at
    untouched = Account.objects.exclude(pk__in=[row["account_id"] for row in latest])
    assert not untouched.exclude(last_followed_up_at=None).exists()
    # A later follow-up did the task an earlier one planned.
    assert Activity.objects.filter(
        follow_up_source__isnull=False, status=ActivityStatus.DONE
    ).exists()


def test_loading_again_adds_nothing(demo):
    before = (
        Activity.all_objects.count(),
        FollowUp.all_objects.count(),
        ChangeRecord.objects.count(),
    )
    load_demo(verbosity=0, accounts=20)
    after = (
        Activity.all_objects.count(),
        FollowUp.all_objects.count(),
        ChangeRecord.objects.count(),
    )
    assert after == before
