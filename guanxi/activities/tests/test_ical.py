"""The iCalendar feed and importing .ics files."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from guanxi.activities import services
from guanxi.activities.ical import MAX_OCCURRENCES, ical_import
from guanxi.activities.models import Activity, ActivityStatus, CalendarFeed
from guanxi.activities.tests.factories import make_activity

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2030, 3, 4, 12, 0))


def ics(*events: str) -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Test//EN", *events, "END:VCALENDAR"]
    )
    return (body + "\r\n").encode()


def vevent(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VEVENT", *lines, "END:VEVENT"])


# --- the feed ----------------------------------------------------------------------------------
def _feed_events(response) -> dict[str, object]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(event["summary"]): event for event in calendar.walk("VEVENT")}


def test_feed_holds_my_own_and_assigned_activities(org, client):
    soon = timezone.now() + datetime.timedelta(days=2)
    mine = make_activity(
        owner=org.rep1,
        label="客户拜访",
        actor=org.rep1,
        kind="visit",
        start_at=soon,
        end_at=soon + datetime.timedelta(hours=2),
        location="上海",
        description="带上合同",
    )
    services.activity_create(
        actor=org.rep2,
        data={"kind": "meeting", "subject": "Invited", "start_at": soon},
        assignee_ids=[org.rep1.pk],
    )
    make_activity(owner=org.rep2, label="Not mine", actor=org.rep2, start_at=soon)
    make_activity(
        owner=org.rep1,
        label="Long ago",
        actor=org.rep1,
        start_at=timezone.now() - datetime.timedelta(days=200),
    )
    cancelled = make_activity(owner=org.rep1, label="Cancelled", actor=org.rep1, start_at=soon)
    services.activity_cancel(activity=cancelled, actor=org.rep1)
    make_activity(
        owner=org.rep1,
        label="Whole day",
        actor=org.rep1,
        start_at=timezone.localtime(soon).replace(hour=0, minute=0, second=0, microsecond=0),
        all_day=True,
    )

    feed = services.calendar_feed_get_or_create(user=org.rep1)
    events = _feed_events(client.get(reverse("activities:ical_feed", args=[feed.token])))
    assert set(events) == {"客户拜访", "Invited", "Whole day"}
    visit = events["客户拜访"]
    assert visit.decoded("dtstart") == mine.start_at.replace(microsecond=0)
    assert visit.decoded("dtend") == mine.end_at.replace(microsecond=0)
    assert str(visit["location"]) == "上海"
    assert str(visit["description"]) == "带上合同"
    assert str(visit["uid"]).startswith(f"activity-{mine.pk}@")
    whole_day = events["Whole day"]
    start = whole_day.decoded("dtstart")
    assert isinstance(start, datetime.date) and not isinstance(start, datetime.datetime)
    assert whole_day.decoded("dtend") == start + datetime.timedelta(days=1)


def test_unknown_and_revoked_tokens_answer_404(org, client):
    assert client.get(reverse("activities:ical_feed", args=["nope"])).status_code == 404
    old = services.calendar_feed_get_or_create(user=org.rep1).token
    assert client.get(reverse("activities:ical_feed", args=[old])).status_code == 200
    client.force_login(org.rep1)
    response = client.post(reverse("activities:calendar_feed_revoke"))
    assert response.status_code == 302
    new = CalendarFeed.objects.get(user=org.rep1).token
    assert new != old
    client.logout()
    assert client.get(reverse("activities:ical_feed", args=[old])).status_code == 404
    assert client.get(reverse("activities:ical_feed", args=[new])).status_code == 200


def test_feed_link_is_created_from_the_calendar_page(org, client):
    client.force_login(org.rep1)
    page = client.get(reverse("activities:calendar"))
    assert reverse("activities:calendar_feed_create") in page.content.decode()
    assert not CalendarFeed.objects.filter(user=org.rep1).exists()
    assert client.get(reverse("activities:calendar_feed_create")).status_code == 405
    client.post(reverse("activities:calendar_feed_create"))
    token = CalendarFeed.objects.get(user=org.rep1).token
    page = client.get(reverse("activities:calendar")).content.decode()
    assert reverse("activities:ical_feed", args=[token]) in page
    assert reverse("activities:calendar_feed_revoke") in page


# --- import ------------------------------------------------------------------------------------
GOOD = ics(
    vevent(
        "UID:meeting-1@example.com",
        "SUMMARY:Quarterly review",
        "DESCRIPTION:Numbers and plans",
        "LOCATION:Room 3",
        "DTSTART;TZID=Asia/Shanghai:20300310T100000",
        "DTEND;TZID=Asia/Shanghai:20300310T113000",
        "CLASS:PRIVATE",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER:-PT30M",
        "END:VALARM",
    ),
    vevent(
        "UID:holiday@example.com",
        "SUMMARY:Qingming",
        "DTSTART;VALUE=DATE:20300405",
        "DTEND;VALUE=DATE:20300406",
    ),
    vevent(
        "UID:weekly@example.com",
        "SUMMARY:Standup",
        "DTSTART:20300304T010000Z",
        "DURATION:PT15M",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE:20300311T010000Z",
    ),
    vevent(
        "UID:past@example.com",
        "SUMMARY:Last year's kickoff",
        "DTSTART:20290110T020000Z",
        "DTEND:20290110T030000Z",
    ),
    vevent("UID:broken@example.com", "SUMMARY:No start"),
    vevent(
        "UID:cancelled@example.com",
        "SUMMARY:Called off",
        "STATUS:CANCELLED",
        "DTSTART:20300312T010000Z",
    ),
)


def test_import_a_calendar(org):
    report = ical_import(actor=org.rep1, content=GOOD, now=NOW)
    # 1 meeting + 1 holiday + 3 standups (one excluded) + 1 past meeting
    assert report.created == 6
    assert report.duplicates == 0
    assert [label for label, _reason in report.errors] == ["No start"]
    assert [label for label, _reason in report.skipped][0].startswith("Called off")

    review = Activity.objects.get(subject="Quarterly review")
    assert review.owner == org.rep1
    assert review.kind == "meeting"
    assert review.description == "Numbers and plans"
    assert review.location == "Room 3"
    assert review.is_private is True
    assert timezone.localtime(review.start_at).strftime("%Y-%m-%d %H:%M") == "2030-03-10 10:00"
    assert review.end_at - review.start_at == datetime.timedelta(minutes=90)
    assert review.reminder_at == review.start_at - datetime.timedelta(minutes=30)
    assert review.status == ActivityStatus.OPEN

    holiday = Activity.objects.get(subject="Qingming")
    assert holiday.all_day is True and holiday.kind == "task"
    assert timezone.localtime(holiday.start_at).date() == datetime.date(2030, 4, 5)

    standups = Activity.objects.filter(subject="Standup").order_by("start_at")
    assert [timezone.localtime(s.start_at).day for s in standups] == [4, 18, 25]
    assert all(s.end_at - s.start_at == datetime.timedelta(minutes=15) for s in standups)

    past = Activity.objects.get(subject="Last year's kickoff")
    assert past.status == ActivityStatus.DONE
    assert past.reminder_at is None


def test_importing_the_same_file_twice_creates_nothing_new(org):
    first = ical_import(actor=org.rep1, content=GOOD, now=NOW)
    count = Activity.objects.count()
    second = ical_import(actor=org.rep1, content=GOOD, now=NOW)
    assert second.created == 0
    assert second.duplicates == first.created
    assert Activity.objects.count() == count
    # Someone else's identical event does not count as mine.
    assert ical_import(actor=org.rep2, content=GOOD, now=NOW).created == first.created


def test_open_ended_series_takes_the_coming_year_up_to_a_cap(org):
    daily = ics(
        vevent("UID:d@example.com", "SUMMARY:Daily", "DTSTART:20200101T010000Z", "RRULE:FREQ=DAILY")
    )
    report = ical_import(actor=org.rep1, content=daily, now=NOW)
    assert report.created == MAX_OCCURRENCES
    first = Activity.objects.filter(subject="Daily").order_by("start_at").first()
    assert timezone.localtime(first.start_at).date() == NOW.date()
    ended = ics(
        vevent(
            "UID:e@example.com",
            "SUMMARY:Ended",
            "DTSTART:20200101T010000Z",
            "RRULE:FREQ=WEEKLY;UNTIL=20200301T000000Z",
        )
    )
    assert ical_import(actor=org.rep1, content=ended, now=NOW).created == 1
    assert Activity.objects.get(subject="Ended").start_at.year == 2020


def test_a_moved_occurrence_replaces_the_generated_one(org):
    content = ics(
        vevent(
            "UID:s@example.com",
            "SUMMARY:Sync",
            "DTSTART:20300305T010000Z",
            "RRULE:FREQ=DAILY;COUNT=3",
        ),
        vevent(
            "UID:s@example.com",
            "RECURRENCE-ID:20300306T010000Z",
            "SUMMARY:Sync",
            "DTSTART:20300306T050000Z",
        ),
    )
    assert ical_import(actor=org.rep1, content=content, now=NOW).created == 3
    hours = sorted(
        s.start_at.astimezone(datetime.UTC).strftime("%d %H")
        for s in Activity.objects.filter(subject="Sync")
    )
    assert hours == ["05 01", "06 05", "07 01"]


@pytest.mark.parametrize(
    "content",
    [b"", b"name,phone\nZhang,138\n", b"\x89PNG\r\n\x1a\n\x00\x00", b"BEGIN:VCARD\r\nEND:VCARD"],
)
def test_non_calendar_files_are_refused(org, content):
    with pytest.raises(ValidationError) as error:
        ical_import(actor=org.rep1, content=content, now=NOW)
    assert "not an iCalendar" in error.value.messages[0]
    assert not Activity.objects.exists()


def test_import_page(org, client):
    client.force_login(org.rep1)
    url = reverse("activities:calendar_import")
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("team.ics", GOOD, content_type="text/calendar")
    response = client.post(url, {"file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "activities created" in page
    assert "No start" in page and "The event has no start." in page
    assert Activity.objects.filter(owner=org.rep1).count() >= 4
    bad = SimpleUploadedFile("notes.ics", b"hello", content_type="text/calendar")
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "not an iCalendar" in response.content.decode()


def test_read_only_users_cannot_import(org, client):
    client.force_login(org.read_only)
    upload = SimpleUploadedFile("team.ics", GOOD, content_type="text/calendar")
    response = client.post(reverse("activities:calendar_import"), {"file": upload})
    assert response.status_code == 403
    assert not Activity.objects.exists()
