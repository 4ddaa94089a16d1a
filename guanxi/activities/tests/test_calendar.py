"""The calendar selectors: whose calendars a user may open and the events of a range."""

import datetime

import pytest
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.calendar import (
    BUSY_COLOR,
    calendar_events,
    calendar_people,
    calendar_users_visible_to,
    palette_color,
    parse_moment,
)
from guanxi.activities.models import Activity
from guanxi.activities.tests.factories import make_activity
from guanxi.core.exceptions import NotVisible
from guanxi.core.services.organisation import user_create
from guanxi.core.tests.factories import role

pytestmark = pytest.mark.django_db

MONDAY = timezone.make_aware(datetime.datetime(2030, 3, 4, 0, 0))
NEXT_MONDAY = MONDAY + datetime.timedelta(days=7)


def at(days=0, hours=9):
    return MONDAY + datetime.timedelta(days=days, hours=hours)


def meeting(owner, subject, start, hours=1, **data):
    return make_activity(
        owner=owner,
        label=subject,
        actor=owner,
        kind="meeting",
        start_at=start,
        end_at=start + datetime.timedelta(hours=hours),
        **data,
    )


def week(viewer, users=None):
    return calendar_events(viewer=viewer, start=MONDAY, end=NEXT_MONDAY, user_ids=users)


def ids(users):
    return {user.pk for user in users}


def test_a_rep_sees_only_their_own_calendar(org):
    assert ids(calendar_users_visible_to(org.rep1)) == {org.rep1.pk}


def test_a_manager_sees_everyone_below_and_not_a_peer_department(org):
    visible = ids(calendar_users_visible_to(org.manager))
    assert {org.manager.pk, org.rep1.pk, org.rep2.pk} <= visible
    assert org.rep3.pk not in visible


def test_department_scope_sees_the_department(org):
    marketer = user_create(
        username="marketer",
        password="pw",
        actor=None,
        roles=[role("marketing")],
        department=org.east,
        display_name="Marketer",
    )
    visible = ids(calendar_users_visible_to(marketer))
    assert visible == {marketer.pk, org.rep1.pk, org.rep2.pk, org.manager.pk}


def test_all_scope_and_administrators_see_everybody(org):
    everybody = {user.pk for user in org.users().values()}
    assert everybody <= ids(calendar_users_visible_to(org.admin))
    assert everybody <= ids(calendar_users_visible_to(org.finance))


def test_people_picker_colours(org):
    services.preference_set(user=org.rep1, calendar_color="#123456")
    people = {person["id"]: person for person in calendar_people(org.manager)}
    assert people[org.rep1.pk]["color"] == "#123456"
    assert people[org.rep2.pk]["color"] == palette_color(org.rep2.pk)
    assert people[org.manager.pk]["me"] is True
    assert org.rep3.pk not in people


def test_manager_overlays_a_subordinates_calendar(org):
    mine = meeting(org.rep1, "方案交流", at(1))
    theirs = meeting(org.rep2, "Demo", at(2))
    events = week(org.manager, [org.rep1.pk, org.rep2.pk])
    by_id = {event["id"]: event for event in events}
    assert set(by_id) == {mine.pk, theirs.pk}
    assert by_id[mine.pk]["title"] == "方案交流"
    assert by_id[mine.pk]["user"] == org.rep1.pk
    assert by_id[theirs.pk]["user"] == org.rep2.pk
    assert by_id[mine.pk]["color"] != by_id[theirs.pk]["color"]
    assert by_id[mine.pk]["editable"] is True  # a manager may change a subordinate's
    assert by_id[mine.pk]["version"] == mine.version
    assert by_id[mine.pk]["busy"] is False
    assert by_id[mine.pk]["url"] == services.activity_url(mine)
    assert events == sorted(events, key=lambda event: event["start"])


def test_a_peer_calendar_is_refused_or_dropped(org):
    meeting(org.rep3, "North meeting", at(1))
    own = meeting(org.rep1, "Own", at(1))
    with pytest.raises(NotVisible):
        week(org.rep1, [org.rep3.pk])
    # Asked together with one's own calendar, the peer's is silently left out.
    assert [event["id"] for event in week(org.rep1, [org.rep1.pk, org.rep3.pk])] == [own.pk]
    with pytest.raises(NotVisible):
        week(org.manager, [org.rep3.pk])


def test_private_activities_show_as_busy_to_others(org):
    secret = meeting(org.rep1, "Doctor", at(3), is_private=True)
    seen_by_manager = week(org.manager, [org.rep1.pk])[0]
    assert seen_by_manager["id"] == secret.pk
    assert seen_by_manager["busy"] is True
    assert seen_by_manager["title"] == "Busy"
    assert "Doctor" not in str(seen_by_manager)
    assert seen_by_manager["url"] == ""
    assert seen_by_manager["version"] is None
    assert seen_by_manager["editable"] is False
    assert seen_by_manager["color"] == BUSY_COLOR
    seen_by_owner = week(org.rep1)[0]
    assert seen_by_owner["title"] == "Doctor"
    assert seen_by_owner["busy"] is False


def test_assigned_activity_outside_the_viewers_scope_is_busy(org):
    """rep3 (north) invites rep1: rep1's manager sees the slot taken but not what it is."""
    invitation = services.activity_create(
        actor=org.rep3,
        data={
            "kind": "meeting",
            "subject": "North planning",
            "start_at": at(2),
            "end_at": at(2, 11),
        },
        assignee_ids=[org.rep1.pk],
    )
    for_manager = week(org.manager, [org.rep1.pk])
    assert [(e["id"], e["busy"], e["user"]) for e in for_manager] == [
        (invitation.pk, True, org.rep1.pk)
    ]
    for_rep1 = week(org.rep1)
    assert for_rep1[0]["title"] == "North planning"
    assert for_rep1[0]["editable"] is True  # assignees may reschedule


def test_range_overlap_cancelled_and_deleted(org):
    running = meeting(org.rep1, "Trade fair", at(-2), hours=24 * 3)  # Sat to Tue
    inside = meeting(org.rep1, "Inside", at(4))
    meeting(org.rep1, "Before", at(-1))
    meeting(org.rep1, "After", at(7, 1))
    cancelled = meeting(org.rep1, "Cancelled", at(1))
    services.activity_cancel(activity=cancelled, actor=org.rep1)
    deleted = meeting(org.rep1, "Deleted", at(1))
    services.activity_delete(activity=deleted, actor=org.rep1)
    assert [event["id"] for event in week(org.rep1)] == [running.pk, inside.pk]


def test_all_day_events_have_dates_and_an_exclusive_end(org):
    day = make_activity(
        owner=org.rep1, label="Holiday", actor=org.rep1, start_at=at(2, 0), all_day=True
    )
    trip = make_activity(
        owner=org.rep1,
        label="Trip",
        actor=org.rep1,
        kind="visit",
        start_at=at(3, 0),
        end_at=at(5, 0),
        all_day=True,
    )
    events = {event["id"]: event for event in week(org.rep1)}
    assert events[day.pk]["allDay"] is True
    assert (events[day.pk]["start"], events[day.pk]["end"]) == ("2030-03-06", "2030-03-07")
    assert (events[trip.pk]["start"], events[trip.pk]["end"]) == ("2030-03-07", "2030-03-09")


def test_one_query_for_the_events_however_many(org, django_assert_max_num_queries):
    for index in range(3):
        meeting(org.rep1, f"A{index}", at(index % 5, 8 + index))
    week(org.manager, [org.rep1.pk, org.rep2.pk])  # warm the per-process caches

    def measure():
        manager = type(org.manager).objects.get(pk=org.manager.pk)  # fresh per-user caches
        with django_assert_max_num_queries(16) as captured:
            events = week(manager, [org.rep1.pk, org.rep2.pk])
        return len(events), len(captured.captured_queries)

    few, few_queries = measure()
    for index in range(40):
        meeting(org.rep2 if index % 2 else org.rep1, f"B{index}", at(index % 5, 8 + index % 9))
    many, many_queries = measure()
    assert (few, many) == (3, 43)
    assert many_queries <= few_queries
    assert Activity.objects.count() == 43


def test_parse_moment():
    moment, is_day = parse_moment("2030-03-04")
    assert is_day and moment == MONDAY
    moment, is_day = parse_moment("2030-03-04T09:00:00 08:00")  # an unencoded "+"
    assert not is_day and moment.utcoffset() == datetime.timedelta(hours=8)
    assert parse_moment("soon") == (None, False)
    assert parse_moment("2030-02-30") == (None, False)


def test_an_assignee_sees_the_activity_where_it_was_moved(org):
    """The assignee rows carry the start time the calendar reads: moving the activity (or
    adding an assignee later) must keep them in step."""
    planning = services.activity_create(
        actor=org.rep3,
        data={"kind": "meeting", "subject": "Planning", "start_at": at(-10), "end_at": at(-10, 10)},
        assignee_ids=[org.rep1.pk],
    )
    assert [event["id"] for event in week(org.rep1)] == []
    services.activity_reschedule(activity=planning, actor=org.rep3, start_at=at(3))
    assert [(event["id"], event["start"]) for event in week(org.rep1)] == [
        (planning.pk, timezone.localtime(at(3)).isoformat())
    ]
    planning.refresh_from_db()
    services.activity_update(
        activity=planning,
        actor=org.rep3,
        data={},
        version=planning.version,
        assignee_ids=[org.rep1.pk, org.rep2.pk],
    )
    assert [event["id"] for event in week(org.rep2)] == [planning.pk]
    assert set(planning.assignments.values_list("start_at", flat=True)) == {at(3)}


def test_events_come_earliest_first_and_too_many_keep_the_earliest(org, monkeypatch):
    from guanxi.activities import calendar

    late = meeting(org.rep1, "Late", at(4))
    early = meeting(org.rep2, "Early", at(0, 8))
    middle = meeting(org.rep1, "Middle", at(2))
    same_time = meeting(org.rep2, "Same time", at(2))
    everyone = [org.rep1.pk, org.rep2.pk]
    expected = [early.pk, middle.pk, same_time.pk, late.pk]
    assert [event["id"] for event in week(org.manager, everyone)] == expected
    monkeypatch.setattr(calendar, "MAX_EVENTS", 2)
    assert [event["id"] for event in week(org.manager, everyone)] == expected[:2]


def test_a_department_colleagues_events_follow_the_record_scope(org):
    """Department scope covers records of the department, not owners: an activity a colleague
    keeps in another department shows as busy."""
    lead = user_create(
        username="east_marketer",
        password="pw",
        actor=None,
        roles=[role("marketing")],
        department=org.east,
    )
    home = meeting(org.rep1, "East meeting", at(1))
    away = meeting(org.rep1, "North meeting", at(2))
    Activity.all_objects.filter(pk=away.pk).update(department=org.north)
    events = {event["id"]: event for event in week(lead, [org.rep1.pk])}
    assert (events[home.pk]["busy"], events[home.pk]["title"]) == (False, "East meeting")
    assert (events[away.pk]["busy"], events[away.pk]["title"]) == (True, "Busy")
    assert events[home.pk]["editable"] is True  # marketing may change the department's
