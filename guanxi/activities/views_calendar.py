"""The calendar page and what it talks to: reschedule (drag and resize) and quick create,
answering JSON; the iCalendar feed and its subscription link; importing a .ics file.

Thin: `guanxi.activities.calendar` reads, `guanxi.activities.services` and
`guanxi.activities.ical` write. The page loads its events from the API range query
(`/api/v1/activities/calendar/`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.activities import services
from guanxi.activities.calendar import (
    calendar_event,
    calendar_people,
    parse_moment,
    parse_user_ids,
)
from guanxi.activities.ical import MAX_IMPORT_BYTES, feed_calendar, ical_import
from guanxi.activities.models import ACTIVITY_TYPE_PICKLIST, Activity, CalendarFeed
from guanxi.core.api.errors import django_errors
from guanxi.core.exceptions import ActionNotAllowed, NotVisible, VersionConflict
from guanxi.core.scope import can
from guanxi.core.selectors import picklist_options, record_get_visible

VIEWS = {"timeGridDay", "timeGridWeek", "dayGridMonth", "listWeek", "multiMonthYear"}


def _json_error(message: str, status: int, errors: dict | None = None, **extra) -> JsonResponse:
    return JsonResponse({"detail": message, "errors": errors or {}, **extra}, status=status)


def _validation_error(error: ValidationError) -> JsonResponse:
    errors = django_errors(error)
    messages_ = [message for field_messages in errors.values() for message in field_messages]
    return _json_error(messages_[0] if messages_ else _("Invalid input."), 400, errors)


def _feed_urls(request, feed: CalendarFeed | None) -> dict[str, str]:
    if feed is None:
        return {}
    url = request.build_absolute_uri(reverse("activities:ical_feed", args=[feed.token]))
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


# --- the page ----------------------------------------------------------------------------------
@login_required
@require_GET
def calendar_page(request):
    user = request.user
    people = calendar_people(user)
    visible = {person["id"] for person in people}
    try:
        wanted = parse_user_ids(request.GET.get("users")) or [user.pk]
    except ValueError:
        wanted = [user.pk]
    selected = [pk for pk in wanted if pk in visible] or [user.pk]
    types = [
        {"value": option.value, "label": option.label, "icon": option.icon, "color": option.color}
        for option in picklist_options(ACTIVITY_TYPE_PICKLIST)
    ]
    feed = CalendarFeed.objects.filter(user=user).first()
    initial_view = request.GET.get("view")
    initial_date, _day = parse_moment(request.GET.get("date"))
    config: dict[str, Any] = {
        "eventsUrl": reverse("api:activity-calendar"),
        "rescheduleUrl": reverse("activities:calendar_reschedule", args=[0]),
        "createUrl": reverse("activities:calendar_create"),
        "csrfToken": get_token(request),
        "locale": "zh-cn" if (get_language() or "").startswith("zh") else "en",
        "initialView": initial_view if initial_view in VIEWS else "timeGridWeek",
        "initialDate": timezone.localtime(initial_date).date().isoformat()
        if initial_date
        else None,
        "selected": selected,
        "people": people,
        "me": user.pk,
        "canCreate": can(user, Activity, "add"),
        "types": types,
        "texts": {
            "today": _("Today"),
            "day": _("Day"),
            "week": _("Week"),
            "month": _("Month"),
            "list": _("List"),
            "year": _("Year"),
            "allDay": _("All day"),
            "noEvents": _("Nothing in this period."),
            "saved": _("Rescheduled."),
            "created": _("Activity created."),
            "failed": _("Something went wrong. Please try again."),
            "loadFailed": _("The calendar could not be loaded."),
            "busy": _("Busy"),
            "copied": _("Copied."),
        },
    }
    return TemplateResponse(
        request,
        "activities/calendar.html",
        {
            "config": config,
            "people": people,
            "selected": selected,
            "types": types,
            "feed": feed,
            "feed_urls": _feed_urls(request, feed),
            "can_create": config["canCreate"],
        },
    )


# --- drag, resize and quick create -------------------------------------------------------------
def _times(request) -> tuple[Any, Any, bool | None, JsonResponse | None]:
    start, start_is_day = parse_moment(request.POST.get("start"))
    if start is None:
        return None, None, None, _json_error(_("Give a valid start."), 400, {"start_at": []})
    raw_end = request.POST.get("end")
    end, _day = parse_moment(raw_end)
    if raw_end and end is None:
        return None, None, None, _json_error(_("Give a valid end."), 400, {"end_at": []})
    all_day_text = request.POST.get("all_day")
    all_day = None if all_day_text is None else all_day_text.lower() in ("1", "true", "on")
    if all_day is None and start_is_day:
        all_day = True
    return start, end, all_day, None


@login_required
@require_POST
def calendar_reschedule(request, pk: int):
    """Move or resize an event: POST start, end (optional), all_day and version."""
    activity = record_get_visible(model=Activity, pk=pk, user=request.user)
    if not Activity.objects.editable_by(request.user).filter(pk=activity.pk).exists():
        return _json_error(_("You are not allowed to change this activity."), 403)
    start, end, all_day, error = _times(request)
    if error is not None:
        return error
    if end is None and all_day is not None and all_day != activity.all_day:
        # Moving between the all-day row and the hours: the old length no longer fits.
        end = start + (datetime.timedelta(days=1) if all_day else datetime.timedelta(hours=1))
    try:
        version = int(request.POST["version"]) if request.POST.get("version") else None
    except ValueError:
        return _json_error(_("Invalid input."), 400, {"version": []})
    try:
        services.activity_reschedule(
            activity=activity,
            actor=request.user,
            start_at=start,
            end_at=end,
            all_day=all_day,
            version=version,
        )
    except VersionConflict as conflict:
        return _json_error(str(conflict), 409, current_version=conflict.current_version)
    except ValidationError as invalid:
        return _validation_error(invalid)
    except ActionNotAllowed as refused:
        return _json_error(str(refused) or _("You are not allowed to do this."), 403)
    return JsonResponse({"event": calendar_event(viewer=request.user, activity_id=activity.pk)})


@login_required
@require_POST
def calendar_quick_create(request):
    """Create an activity from an empty slot: POST subject, kind, start, end, all_day."""
    start, end, all_day, error = _times(request)
    if error is not None:
        return error
    data = {
        "subject": (request.POST.get("subject") or "").strip(),
        "kind": request.POST.get("kind") or "task",
        "start_at": start,
        "end_at": end,
        "all_day": bool(all_day),
    }
    try:
        activity = services.activity_create(actor=request.user, data=data)
    except ValidationError as invalid:
        return _validation_error(invalid)
    except ActionNotAllowed as refused:
        return _json_error(str(refused) or _("You are not allowed to do this."), 403)
    except NotVisible:
        raise Http404 from None
    return JsonResponse(
        {"event": calendar_event(viewer=request.user, activity_id=activity.pk)}, status=201
    )


# --- iCalendar ---------------------------------------------------------------------------------
@require_GET
def ical_feed(request, token: str):
    """The secret subscription feed: no sign-in, the token is the key."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    base = request.build_absolute_uri("/")

    def url_for(activity):
        link = services.activity_url(activity)
        return base.rstrip("/") + link if link else ""

    body = feed_calendar(feed.user, url_for=url_for, domain=request.get_host().split(":")[0])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def calendar_feed_create(request):
    services.calendar_feed_get_or_create(user=request.user)
    messages.success(request, _("Your calendar subscription link is ready."))
    return redirect(reverse("activities:calendar") + "#calendar-feed")


@login_required
@require_POST
def calendar_feed_revoke(request):
    services.calendar_feed_revoke(user=request.user)
    messages.success(
        request,
        _("The old subscription link no longer works. Subscribe again with the new one."),
    )
    return redirect(reverse("activities:calendar") + "#calendar-feed")


@login_required
def calendar_import(request):
    """Upload a .ics file into my calendar; the page shows what was created and refused."""
    context: dict[str, Any] = {
        "max_mb": MAX_IMPORT_BYTES // (1024 * 1024),
        "can_create": can(request.user, Activity, "add"),
    }
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Choose a .ics file to import.")
            status = 400
        elif upload.size > MAX_IMPORT_BYTES:
            context["error"] = _("The file is too large: at most %(size)s MB.") % {
                "size": context["max_mb"]
            }
            status = 400
        else:
            try:
                context["report"] = ical_import(actor=request.user, content=upload.read())
            except ValidationError as invalid:
                context["error"] = " ".join(invalid.messages)
                status = 400
            except ActionNotAllowed:
                context["error"] = _("Your role does not allow creating activities.")
                status = 403
    elif request.method != "GET":
        return HttpResponse(status=405)
    return TemplateResponse(request, "activities/calendar_import.html", context, status=status)
