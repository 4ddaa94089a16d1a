"""The activity reads, called directly."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.activities import selectors
from guanxi.activities.models import Activity, ActivityStatus
from guanxi.activities.selectors import ActivityFilters
from guanxi.activities.services import follow_up_create
from guanxi.activities.tests.factories import make_activity
from guanxi.customers.models import Account
from guanxi.customers.services import contact_create
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db


def subjects(activities):
    return [activity.subject for activity in activities]


def test_activity_kinds_come_with_icons_in_order(org):
    kinds = selectors.activity_kinds()
    assert list(kinds)[:3] == ["task", "call", "meeting"]
    assert kinds["call"].icon == "bi-telephone" and kinds["call"].label == "Call"
    unknown = selectors.kind_display("gone", kinds)
    assert unknown.label == "gone" and unknown.icon


def test_my_activities_own_assigned_and_subordinates(org):
    own = make_activity(owner=org.rep1, label="own", actor=org.rep1)
    assigned = make_activity(owner=org.rep2, label="assigned", actor=org.rep2)
    assigned.assignments.create(user=org.rep1)
    make_activity(owner=org.rep2, label="other", actor=org.rep2)
    assert set(subjects(selectors.my_activities(user=org.rep1))) == {"own", "assigned"}
    # A manager may list a subordinate's; a peer asking for someone else gets their own.
    as_manager = selectors.my_activities(
        user=org.manager, filters=ActivityFilters(owner=org.rep1.pk)
    )
    assert set(subjects(as_manager)) == {"own", "assigned"}
    as_peer = selectors.my_activities(user=org.rep3, filters=ActivityFilters(owner=org.rep1.pk))
    assert subjects(as_peer) == []
    assert org.rep1 in selectors.owners_below(org.manager)
    assert not selectors.owners_below(org.rep1).exists()
    Activity.objects.filter(pk=own.pk).update(status=ActivityStatus.DONE)
    assert subjects(selectors.my_activities(user=org.rep1)) == ["assigned"]
    any_status = selectors.my_activities(user=org.rep1, filters=ActivityFilters(status=""))
    assert subjects(any_status) == ["own", "assigned"]  # by due time


def test_periods(org):
    now = timezone.now()
    make_activity(
        owner=org.rep1, label="late", actor=org.rep1, start_at=now - datetime.timedelta(hours=30)
    )
    make_activity(
        owner=org.rep1, label="soon", actor=org.rep1, start_at=now + datetime.timedelta(minutes=1)
    )
    make_activity(
        owner=org.rep1, label="later", actor=org.rep1, start_at=now + datetime.timedelta(days=30)
    )

    def period(name):
        return subjects(
            selectors.my_activities(user=org.rep1, filters=ActivityFilters(period=name))
        )

    assert period("overdue") == ["late"]
    assert period("today") == ["soon"]
    assert "later" not in period("week") and "soon" in period("week")
    assert period("") == ["late", "soon", "later"]
    params = ActivityFilters.from_params({"period": "nonsense", "status": "bogus", "owner": "x"})
    assert params.period == "" and params.status == "" and params.owner is None


def test_customer_lists_by_account_and_contact(org):
    account = make_account(owner=org.rep1, label="Acme", actor=org.rep1)
    person = contact_create(actor=org.rep1, data={"name": "Han Meimei"}, account=account)
    on_account = make_activity(
        owner=org.rep1, label="on account", actor=org.rep1, regarding=account
    )
    make_activity(owner=org.rep1, label="on person", actor=org.rep1, regarding=person)
    done = make_activity(owner=org.rep1, label="done", actor=org.rep1, regarding=account)
    Activity.objects.filter(pk=done.pk).update(status=ActivityStatus.DONE)
    make_activity(owner=org.rep3, label="hidden", actor=org.rep3)
    # The account's lists include what concerns its people.
    assert set(subjects(selectors.open_activities(record=account, user=org.rep1))) == {
        "on account",
        "on person",
    }
    assert subjects(selectors.open_activities(record=person, user=org.rep1)) == ["on person"]
    assert subjects(selectors.activity_history(record=account, user=org.rep1)) == ["done"]
    # Decorated for the row: type, may act, overdue.
    row = selectors.open_activities(record=account, user=org.rep1)[0]
    assert row.gx_kind.label and row.gx_editable is True and row.gx_overdue is False
    # Someone who does not see the activities gets none.
    assert selectors.open_activities(record=account, user=org.rep3) == []
    assert on_account.pk not in [
        a.pk for a in selectors.activity_history(record=account, user=org.rep1)
    ]


def test_decorate_marks_others_private_activities(org):
    private = make_activity(owner=org.rep1, label="private", actor=org.rep1, is_private=True)
    mine = selectors.decorate_activities([Activity.objects.get(pk=private.pk)], user=org.rep1)
    assert mine[0].gx_hidden is False
    theirs = selectors.decorate_activities([Activity.objects.get(pk=private.pk)], user=org.manager)
    assert theirs[0].gx_hidden is True and theirs[0].gx_editable is True
    assert selectors.decorate_activities([], user=org.rep1) == []


def test_follow_ups_with_channel_labels(org):
    account = make_account(owner=org.rep1, label="Acme", actor=org.rep1)
    follow_up_create(actor=org.rep1, regarding=account, channel="wechat", content="hello")
    rows = selectors.follow_ups(record=account, user=org.rep1)
    assert [row.content for row in rows] == ["hello"]
    assert rows[0].gx_channel == "WeChat"
    assert selectors.follow_ups(record=account, user=org.rep3) == []
    assert ("phone", "Phone") in selectors.follow_up_channels()


def test_parse_since_and_the_group_condition(org):
    assert selectors.parse_since("2025-03-01") == timezone.make_aware(datetime.datetime(2025, 3, 1))
    thirty = selectors.parse_since("30")
    assert (timezone.localtime() - thirty).days in (30, 29)
    with pytest.raises(ValidationError):
        selectors.parse_since("last spring")
    active = make_account(owner=org.rep1, label="active", actor=org.rep1)
    followed = make_account(owner=org.rep1, label="followed", actor=org.rep1)
    quiet = make_account(owner=org.rep1, label="quiet", actor=org.rep1)
    old = make_account(owner=org.rep1, label="old", actor=org.rep1)
    make_activity(owner=org.rep1, label="a", actor=org.rep1, regarding=active)
    follow_up_create(actor=org.rep1, regarding=followed, channel="wechat", content="hi")
    ancient = make_activity(
        owner=org.rep1,
        label="ancient",
        actor=org.rep1,
        regarding=old,
        start_at=timezone.now() - datetime.timedelta(days=100),
    )
    deleted = make_activity(owner=org.rep1, label="deleted", actor=org.rep1, regarding=quiet)
    Activity.all_objects.filter(pk=deleted.pk).update(is_deleted=True)
    assert ancient.pk
    since = selectors.activity_condition("since", "7")
    names = set(Account.objects.filter(since).values_list("name", flat=True))
    assert names == {"active", "followed"}
    not_since = selectors.activity_condition("not_since", "7")
    assert set(Account.objects.filter(not_since).values_list("name", flat=True)) == {"quiet", "old"}


def test_my_activities_reads_each_part_without_the_other(org):
    """Each part's statement holds its own condition only: the OR of owned and assigned
    is implied there and only made the database do more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_activity(owner=org.rep1, label="own", actor=org.rep1)
    assigned = make_activity(owner=org.rep2, label="assigned", actor=org.rep2)
    assigned.assignments.create(user=org.rep1)
    with CaptureQueriesContext(connection) as captured:
        rows = list(selectors.my_activities(user=org.rep1)[:25])
    assert {row.subject for row in rows} == {"own", "assigned"}
    part_reads = [  # each part's first ids, before the page's rows are read by id
        query["sql"] for query in captured.captured_queries if 'AS "pk"' in query["sql"]
    ]
    assert len(part_reads) == 2
    for sql in part_reads:
        assert " OR " not in sql, sql
