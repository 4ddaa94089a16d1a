"""iCalendar: a user's feed (what phones and Outlook subscribe to) and importing a `.ics`
file into the user's calendar.

Feed: the user's activities (owned or assigned; not deleted, not cancelled) from 90 days
ago to a year ahead, times in UTC, all-day activities as dates.

Import (`ical_import`): every VEVENT becomes an activity owned by the importer, through
`activity_create`:
- a timed event with an end after its start is a meeting, anything else a task;
- SUMMARY, DESCRIPTION and LOCATION become subject, description and location; CLASS
  PRIVATE/CONFIDENTIAL makes it private; a VALARM before the start sets the reminder;
- events already over are imported as done (no reminder, never overdue);
- a repeating event (RRULE, with EXDATE and RECURRENCE-ID exceptions) gives its occurrences
  from today to a year ahead, at most `MAX_OCCURRENCES` of them; a series with no occurrence
  in that window gives its first occurrence only;
- an event already in the calendar (same owner, subject and start) is skipped, so importing
  the same file twice creates nothing the second time (custom_data refuses keys that are not
  custom fields, so the VEVENT UID is not kept);
- cancelled events are skipped; an event that cannot be read or is refused by the service
  is reported with the reason, and the others are still imported.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from guanxi.activities.models import Activity, ActivityAssignee, ActivityKind, ActivityStatus
from guanxi.activities.services import activity_create
from guanxi.core.exceptions import ActionNotAllowed, NotVisible
from guanxi.core.models import User
from guanxi.core.services.records import require_permission

FEED_PAST_DAYS = 90
FEED_FUTURE_DAYS = 366
FEED_MAX_EVENTS = 10_000
PRODID = "-//Guanxi CRM//Calendar//EN"

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_EVENTS = 1000
MAX_OCCURRENCES = 100
IMPORT_WINDOW_DAYS = 366


def user_zone(user: User) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return timezone.get_default_timezone()


# --- the feed ----------------------------------------------------------------------------------
def feed_activities(user: User, *, now: datetime.datetime | None = None):
    now = now or timezone.now()
    assigned = ActivityAssignee.objects.filter(user_id=user.pk).values("activity_id")
    return (
        Activity.objects.filter(Q(owner_id=user.pk) | Q(pk__in=assigned))
        .exclude(status=ActivityStatus.CANCELLED)
        .filter(
            start_at__gte=now - datetime.timedelta(days=FEED_PAST_DAYS),
            start_at__lt=now + datetime.timedelta(days=FEED_FUTURE_DAYS),
        )
        .order_by("start_at", "pk")
        .only(
            "pk",
            "subject",
            "description",
            "location",
            "start_at",
            "end_at",
            "all_day",
            "status",
            "is_private",
            "updated_at",
            "created_at",
            "version",
        )[:FEED_MAX_EVENTS]
    )


def feed_calendar(user: User, *, url_for=None, domain: str = "guanxi") -> bytes:
    """The user's calendar as iCalendar bytes. `url_for(activity)` gives each event's link."""
    zone = user_zone(user)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Guanxi: %(name)s") % {"name": user})
    calendar.add("x-wr-timezone", str(zone))
    for activity in feed_activities(user):
        event = Event()
        event.add("uid", f"activity-{activity.pk}@{domain}")
        event.add("dtstamp", activity.updated_at or activity.created_at)
        event.add("sequence", activity.version)
        event.add("summary", activity.subject)
        if activity.all_day:
            first = activity.start_at.astimezone(zone).date()
            event.add("dtstart", first)
            event.add("dtend", _all_day_end(activity, zone, first))
        else:
            event.add("dtstart", activity.start_at.astimezone(datetime.UTC))
            if activity.end_at:
                event.add("dtend", activity.end_at.astimezone(datetime.UTC))
        if activity.description:
            event.add("description", activity.description)
        if activity.location:
            event.add("location", activity.location)
        if activity.is_private:
            event.add("class", "PRIVATE")
        event.add("status", "CONFIRMED")
        if url_for is not None:
            link = url_for(activity)
            if link:
                event.add("url", link)
        calendar.add_component(event)
    return calendar.to_ical()


def _all_day_end(activity: Activity, zone, first: datetime.date) -> datetime.date:
    if activity.end_at is None:
        return first + datetime.timedelta(days=1)
    local = activity.end_at.astimezone(zone)
    if local.time() == datetime.time(0) and local.date() > first:
        return local.date()
    return max(local.date(), first) + datetime.timedelta(days=1)


# --- import ------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False


def read_calendar(content: bytes) -> Calendar:
    """The calendar in an uploaded file; ValidationError when it is not one."""
    not_calendar = ValidationError(
        _("This is not an iCalendar (.ics) file. Export the calendar as .ics and try again.")
    )
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(size)s MB.")
            % {"size": MAX_IMPORT_BYTES // (1024 * 1024)}
        )
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "BEGIN:VCALENDAR" not in text[:4096].upper():
        raise not_calendar
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError):
        raise not_calendar from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise not_calendar
    return calendar


def _as_moment(value, zone) -> tuple[datetime.datetime, bool]:
    """An iCalendar DATE or DATE-TIME as an aware datetime, and whether it was a date."""
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            value = value.replace(tzinfo=zone)
        return value, False
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time(0), tzinfo=zone), True
    raise ValueError(value)


def _label(event: Event) -> str:
    summary = str(event.get("summary") or "").strip()
    start = event.get("dtstart")
    when = start.dt.isoformat() if start is not None and hasattr(start, "dt") else ""
    return " · ".join(part for part in (summary or _("(no title)"), when) if part)


def _reminder_offset(event: Event) -> datetime.timedelta | None:
    """How long before the start the first VALARM rings (None: no usable alarm)."""
    for alarm in event.walk("VALARM"):
        if not isinstance(alarm, Alarm):
            continue
        trigger = alarm.get("trigger")
        value = getattr(trigger, "dt", None)
        if isinstance(value, datetime.timedelta) and value <= datetime.timedelta(0):
            related = str(trigger.params.get("RELATED", "START")).upper()
            if related == "START":
                return -value
    return None


def _event_times(event: Event, zone):
    """(start, end or None, all_day) of a VEVENT; ValueError when it has no start."""
    dtstart = event.get("dtstart")
    if dtstart is None:
        raise ValueError(_("The event has no start."))
    start, all_day = _as_moment(dtstart.dt, zone)
    end = None
    if event.get("dtend") is not None:
        end, _day = _as_moment(event["dtend"].dt, zone)
    elif event.get("duration") is not None:
        end = start + event["duration"].dt
    elif all_day:
        end = start + datetime.timedelta(days=1)
    if end is not None and end < start:
        raise ValueError(_("The event ends before it starts."))
    if end is not None and end == start and not all_day:
        end = None
    return start, end, all_day


def _key(moment: datetime.datetime, all_day: bool):
    return moment.date() if all_day else moment.astimezone(datetime.UTC)


def _occurrences(event: Event, start, all_day, zone, overridden: set, now):
    """The starts to import for one VEVENT (see the module docstring)."""
    rules = event.get("rrule")
    if rules is None:
        return [start]
    rules = rules if isinstance(rules, list) else [rules]
    excluded = set(overridden)
    for value in event.exdates:
        excluded.add(_key(_as_moment(value, zone)[0], all_day))
    # dateutil works on date-times; for a DATE series a floating midnight keeps its rule
    # (UNTIL=20300301) readable.
    anchor = start.replace(tzinfo=None) if all_day else start
    starts: list[datetime.datetime] = []
    window_start = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    window_end = now + datetime.timedelta(days=IMPORT_WINDOW_DAYS)
    if all_day:
        window_start = window_start.replace(tzinfo=None)
        window_end = window_end.astimezone(zone).replace(tzinfo=None)
    for rule in rules:
        try:
            recurrence = rrulestr(rule.to_ical().decode(), dtstart=anchor)
        except (ValueError, TypeError) as error:
            raise ValueError(_("The repeat rule cannot be read.")) from error
        for moment in recurrence.xafter(window_start, count=MAX_OCCURRENCES * 2, inc=True):
            if moment >= window_end:
                break
            starts.append(moment)
    if not starts:
        starts = [anchor]
    if all_day:
        starts = [moment.replace(tzinfo=zone) for moment in starts]
    unique = sorted({_key(moment, all_day): moment for moment in starts}.items())
    return [moment for key, moment in unique if key not in excluded][:MAX_OCCURRENCES]


def _kind(start, end, all_day) -> str:
    """A meeting when it takes time (a timed event with an end, or several whole days);
    otherwise a task."""
    if end is None:
        return ActivityKind.TASK
    if all_day:
        return (
            ActivityKind.MEETING if end - start > datetime.timedelta(days=1) else ActivityKind.TASK
        )
    return ActivityKind.MEETING


def ical_import(*, actor: User, content: bytes, now: datetime.datetime | None = None):
    """Import the VEVENTs of an .ics file into the actor's calendar; answers an
    ImportReport. Raises ValidationError for a file that is not a calendar and
    ActionNotAllowed when the actor may not create activities."""
    require_permission(actor=actor, model=Activity, action="add")
    calendar = read_calendar(content)
    now = now or timezone.now()
    zone = user_zone(actor)
    report = ImportReport()
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise ValidationError(_("The file holds no events."))

    # RECURRENCE-ID events replace one occurrence of their series.
    overridden: dict[str, set] = {}
    for event in events:
        recurrence_id = event.get("recurrence-id")
        if recurrence_id is not None:
            try:
                moment, day = _as_moment(recurrence_id.dt, zone)
            except ValueError:
                continue
            overridden.setdefault(str(event.get("uid", "")), set()).add(_key(moment, day))

    planned: list[tuple[Event, datetime.datetime, datetime.datetime | None, bool]] = []
    for event in events:
        label = _label(event)
        if str(event.get("status", "")).upper() == "CANCELLED":
            report.skipped.append((label, _("It is cancelled.")))
            continue
        try:
            start, end, all_day = _event_times(event, zone)
            uid = str(event.get("uid", ""))
            own_overrides = set() if event.get("recurrence-id") else overridden.get(uid, set())
            starts = _occurrences(event, start, all_day, zone, own_overrides, now)
        except ValueError as error:
            report.errors.append((label, str(error) if error.args else _("It cannot be read.")))
            continue
        duration = end - start if end is not None else None
        for moment in starts:
            planned.append((event, moment, moment + duration if duration else None, all_day))
    if len(planned) > MAX_IMPORT_EVENTS:
        planned = planned[:MAX_IMPORT_EVENTS]
        report.truncated = True

    existing = set(
        Activity.objects.filter(
            owner_id=actor.pk, start_at__in=[moment for _e, moment, _end, _d in planned]
        ).values_list("subject", "start_at")
    )
    for event, start, end, all_day in planned:
        subject = (str(event.get("summary") or "").strip() or _("(no title)"))[:200]
        label = f"{subject} · {timezone.localtime(start, zone).strftime('%Y-%m-%d %H:%M')}"
        if (subject, start) in existing:
            report.duplicates += 1
            continue
        data = {
            "kind": _kind(start, end, all_day),
            "subject": subject,
            "description": str(event.get("description") or "").strip(),
            "location": str(event.get("location") or "").strip()[:255],
            "start_at": start,
            "end_at": end,
            "all_day": all_day,
            "is_private": str(event.get("class", "")).upper() in ("PRIVATE", "CONFIDENTIAL"),
        }
        if (end or start) < now:
            data.update(
                status=ActivityStatus.DONE,
                completed_at=end or start,
                completed_by=actor,
                reminder_at=None,
            )
        else:
            offset = _reminder_offset(event)
            if offset is not None:
                data["reminder_at"] = start - offset
        try:
            activity_create(actor=actor, data=data)
        except ValidationError as error:
            report.errors.append((label, "; ".join(error.messages)))
            continue
        except (ActionNotAllowed, NotVisible):
            report.errors.append((label, _("You are not allowed to do this.")))
            continue
        existing.add((subject, start))
        report.created += 1
    return report
