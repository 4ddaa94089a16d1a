import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Activity, ActivitySettings, ActivityStatus, FollowUp
from guanxi.activities.tests.factories import make_activity
from guanxi.core.exceptions import NotVisible, VersionConflict
from guanxi.core.models import ChangeRecord, Notification, TimelineEntry
from guanxi.customers.models import Contact
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db


def _account(org, owner=None):
    owner = owner or org.rep1
    return make_account(owner=owner, label="华为技术", actor=owner)


def test_activity_create_sets_due_reminder_and_account_timeline(org):
    account = _account(org)
    start = timezone.now() + datetime.timedelta(days=2)
    activity = services.activity_create(
        actor=org.rep1,
        data={
            "kind": "meeting",
            "subject": "方案交流",
            "start_at": start,
            "end_at": start + datetime.timedelta(hours=1),
        },
        regarding=account,
        assignee_ids=[org.rep2.pk],
    )
    assert activity.account_id == account.pk
    assert activity.due_at == start + datetime.timedelta(hours=1)
    assert activity.reminder_at == start - datetime.timedelta(minutes=15)
    assert list(activity.assignees.all()) == [org.rep2]
    assert TimelineEntry.objects.filter(account_id=account.pk, kind="activity_created").exists()
    assert Notification.objects.filter(recipient=org.rep2, kind="activity_assigned").exists()
    # The assignee sees and may change it; a peer may not see it.
    assert Activity.objects.visible_to(org.rep2).filter(pk=activity.pk).exists()
    assert Activity.objects.editable_by(org.rep2).filter(pk=activity.pk).exists()
    assert not Activity.objects.deletable_by(org.rep2).filter(pk=activity.pk).exists()
    assert not Activity.objects.visible_to(org.rep3).filter(pk=activity.pk).exists()


def test_activity_on_invisible_record_is_refused(org):
    account = _account(org, owner=org.rep3)
    with pytest.raises(NotVisible):
        services.activity_create(
            actor=org.rep1,
            data={"subject": "x", "start_at": timezone.now()},
            regarding=account,
        )


def test_activity_validation_messages(org):
    with pytest.raises(ValidationError) as error:
        services.activity_create(
            actor=org.rep1, data={"subject": "x", "kind": "nonsense", "start_at": timezone.now()}
        )
    assert "kind" in error.value.message_dict
    start = timezone.now()
    with pytest.raises(ValidationError) as error:
        services.activity_create(
            actor=org.rep1,
            data={"subject": "x", "start_at": start, "end_at": start - datetime.timedelta(hours=1)},
        )
    assert "end_at" in error.value.message_dict


def test_weekly_recurrence_until_a_date(org):
    start = timezone.make_aware(datetime.datetime(2026, 1, 5, 9, 0))
    first = services.activity_create(
        actor=org.rep1,
        data={"subject": "周会", "kind": "meeting", "start_at": start},
        recurrence={"frequency": "weekly", "interval": 1, "until": datetime.date(2026, 2, 1)},
    )
    occurrences = Activity.objects.filter(series=first.series).order_by("start_at")
    assert [timezone.localtime(a.start_at).date().isoformat() for a in occurrences] == [
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
    ]


def test_monthly_recurrence_keeps_month_end(org):
    start = timezone.make_aware(datetime.datetime(2026, 1, 31, 9, 0))
    first = services.activity_create(
        actor=org.rep1,
        data={"subject": "月报", "start_at": start},
        recurrence={"frequency": "monthly", "count": 3},
    )
    days = [
        timezone.localtime(a.start_at).date().isoformat()
        for a in Activity.objects.filter(series=first.series).order_by("start_at")
    ]
    assert days == ["2026-01-31", "2026-02-28", "2026-03-31"]


def test_reschedule_keeps_duration_moves_reminder_and_checks_version(org):
    start = timezone.now() + datetime.timedelta(days=1)
    activity = make_activity(
        owner=org.rep1,
        label="visit",
        actor=org.rep1,
        end_at=start + datetime.timedelta(hours=2),
        start_at=start,
    )
    new_start = start + datetime.timedelta(days=3)
    services.activity_reschedule(
        activity=activity, actor=org.rep1, start_at=new_start, version=activity.version
    )
    activity.refresh_from_db()
    assert activity.end_at == new_start + datetime.timedelta(hours=2)
    assert activity.reminder_at == new_start - datetime.timedelta(minutes=15)
    assert ChangeRecord.objects.filter(object_id=activity.pk, action="update").exists()
    with pytest.raises(VersionConflict):
        services.activity_reschedule(activity=activity, actor=org.rep1, start_at=start, version=1)


def test_complete_and_reassign(org):
    activity = make_activity(owner=org.rep1, label="call back", actor=org.rep1)
    services.activity_reassign(activity=activity, actor=org.manager, owner=org.rep2, reason="休假")
    activity.refresh_from_db()
    assert activity.owner == org.rep2
    assert Notification.objects.filter(recipient=org.rep2, kind="activity_assigned").exists()
    services.activity_complete(activity=activity, actor=org.rep2, outcome="客户同意")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE and activity.completed_by == org.rep2
    with pytest.raises(ValidationError):
        services.activity_complete(activity=activity, actor=org.rep2)


def test_follow_up_creates_next_task_reminder_and_keeps_dates(org):
    account = _account(org)
    next_time = timezone.now() + datetime.timedelta(days=3)
    follow_up = services.follow_up_create(
        actor=org.rep1,
        regarding=account,
        channel="phone",
        content="客户对报价有兴趣",
        reaction="interested",
        next_follow_up_at=next_time,
    )
    task = follow_up.next_activity
    assert task.start_at == next_time and task.reminder_at is not None
    assert task.account_id == account.pk and task.owner == org.rep1
    account.refresh_from_db()
    assert account.last_followed_up_at == follow_up.followed_up_at
    assert account.next_follow_up_at == next_time
    assert TimelineEntry.objects.filter(account_id=account.pk, kind="follow_up").exists()


def test_follow_up_on_contact_updates_its_account(org):
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import AccountContact

    account = _account(org)
    contact = record_create(model=Contact, data={"name": "李雷"}, actor=org.rep1)
    record_create(
        model=AccountContact, data={"account": account, "contact": contact}, actor=org.rep1
    )
    services.follow_up_create(
        actor=org.rep1, regarding=contact, channel="wechat", content="聊了需求"
    )
    account.refresh_from_db()
    contact.refresh_from_db()
    assert account.last_followed_up_at is not None and contact.last_followed_up_at is not None


def test_follow_up_visible_to_whoever_sees_the_customer(org):
    account = _account(org)
    follow_up = services.follow_up_create(
        actor=org.rep1, regarding=account, channel="wechat", content="note"
    )
    # The account passes to rep2: rep2 now sees rep1's follow-up; rep3 never does.
    from guanxi.core.services.records import record_assign

    record_assign(instance=account, owner=org.rep2, actor=org.manager)
    assert FollowUp.objects.visible_to(org.rep2).filter(pk=follow_up.pk).exists()
    assert not FollowUp.objects.visible_to(org.rep3).filter(pk=follow_up.pk).exists()


def test_next_follow_up_closes_previous_task(org):
    account = _account(org)
    first = services.follow_up_create(
        actor=org.rep1,
        regarding=account,
        channel="wechat",
        content="first",
        followed_up_at=timezone.now() - datetime.timedelta(days=2),
        next_follow_up_at=timezone.now() - datetime.timedelta(hours=1),
    )
    services.follow_up_create(actor=org.rep1, regarding=account, channel="wechat", content="second")
    first.next_activity.refresh_from_db()
    assert first.next_activity.status == ActivityStatus.DONE


def test_weekly_call_limit_is_enforced_with_a_clear_message(org):
    settings_row = ActivitySettings.current()
    settings_row.call_limit_per_week = 2
    settings_row.save()
    account = _account(org)
    services.follow_up_create(actor=org.rep1, regarding=account, channel="phone", content="1")
    services.activity_create(
        actor=org.rep1,
        data={"kind": "call", "subject": "2", "start_at": timezone.now()},
        regarding=account,
    )
    with pytest.raises(ValidationError) as error:
        services.follow_up_create(actor=org.rep1, regarding=account, channel="phone", content="3")
    assert "limit is 2 per week" in error.value.messages[0]
    # Other channels are not calls.
    services.follow_up_create(actor=org.rep1, regarding=account, channel="wechat", content="4")


def test_appointment_outcomes(org):
    activity = make_activity(
        owner=org.rep1, label="到店", actor=org.rep1, kind="visit", is_appointment=True
    )
    services.appointment_set_outcome(activity=activity, actor=org.rep1, outcome="came")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE and activity.appointment_outcome == "came"
    other = make_activity(owner=org.rep1, label="到店2", actor=org.rep1, is_appointment=True)
    services.appointment_set_outcome(activity=other, actor=org.rep1, outcome="no_show")
    other.refresh_from_db()
    assert other.status == ActivityStatus.CANCELLED
    with pytest.raises(ValidationError):
        services.appointment_set_outcome(activity=other, actor=org.rep1, outcome="maybe")


def test_bulk_create_reports_refusals_and_keeps_the_rest(org):
    settings_row = ActivitySettings.current()
    settings_row.call_limit_per_week = 1
    settings_row.save()
    a1, a2 = _account(org), _account(org)
    services.follow_up_create(actor=org.rep1, regarding=a2, channel="phone", content="called")
    created, refused = services.activities_bulk_create(
        actor=org.rep1,
        records=[a1, a2],
        data={"kind": "call", "subject": "回访", "start_at": timezone.now()},
    )
    assert [a.account_id for a in created] == [a1.pk]
    assert refused[0][0] == a2 and "limit" in refused[0][1]


def test_calendar_feed_revoke_changes_token(org):
    feed = services.calendar_feed_get_or_create(user=org.rep1)
    old = feed.token
    assert services.calendar_feed_revoke(user=org.rep1).token != old


def test_reopen_refuses_an_open_activity_and_check_in_is_version_checked(org):
    activity = make_activity(owner=org.rep1, label="拜访", actor=org.rep1, kind="visit")
    with pytest.raises(ValidationError):
        services.activity_reopen(activity=activity, actor=org.rep1)
    with pytest.raises(VersionConflict):
        services.activity_check_in(activity=activity, actor=org.rep1, place="客户前台", version=99)
    services.activity_check_in(
        activity=activity, actor=org.rep1, place="客户前台", version=activity.version
    )
    activity.refresh_from_db()
    assert activity.check_in_place == "客户前台"
