"""Writes to activities and follow-up records. Every change goes through the core record
helpers, so it is validated, version-checked, audited, indexed and on the timeline."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import (
    ACTIVITY_TYPE_PICKLIST,
    FOLLOW_UP_CHANNEL_PICKLIST,
    Activity,
    ActivityAssignee,
    ActivityKind,
    ActivityPreference,
    ActivitySeries,
    ActivitySettings,
    ActivityStatus,
    AppointmentOutcome,
    FollowUp,
    Frequency,
)
from guanxi.activities.regarding import regarding_require
from guanxi.core.exceptions import NotVisible
from guanxi.core.models import ChangeAction, PicklistOption, User
from guanxi.core.services.notifications import notification_send
from guanxi.core.services.records import (
    record_assign,
    record_create,
    record_delete,
    record_update,
    require_permission,
    timeline_add,
)

# The longest an activity may last: the calendar reads a range from this far back only.
MAX_DURATION = datetime.timedelta(days=31)
# A recurring series never creates more occurrences than this in one go.
MAX_OCCURRENCES = 366
# Follow-up channels that count as a call against the weekly call limit.
CALL_CHANNELS = {"phone"}
UNSET = object()


# --- helpers ---------------------------------------------------------------------------------
def active_option_values(picklist_code: str) -> set[str]:
    return set(
        PicklistOption.objects.filter(picklist__code=picklist_code, is_active=True).values_list(
            "value", flat=True
        )
    )


def _validate_kind(kind: str) -> None:
    if kind not in active_option_values(ACTIVITY_TYPE_PICKLIST):
        raise ValidationError({"kind": _("Choose a valid activity type.")})


def _validate_times(start_at, end_at) -> None:
    if start_at is None:
        raise ValidationError({"start_at": _("Give the activity a start or due time.")})
    if end_at is not None and end_at < start_at:
        raise ValidationError({"end_at": _("The end cannot be before the start.")})
    if end_at is not None and end_at - start_at > MAX_DURATION:
        raise ValidationError(
            {"end_at": _("An activity can last at most 31 days; split longer ones up.")}
        )


def reminder_minutes_for(user: User | None) -> int:
    """The user's own default reminder, else the company's."""
    if user is not None and user.pk:
        minutes = (
            ActivityPreference.objects.filter(user_id=user.pk)
            .values_list("reminder_minutes", flat=True)
            .first()
        )
        if minutes is not None:
            return minutes
    return ActivitySettings.current().default_reminder_minutes


def _default_reminder(kind: str, start_at, owner: User | None):
    if kind == ActivityKind.NOTE or start_at is None:
        return None
    return start_at - datetime.timedelta(minutes=reminder_minutes_for(owner))


def _regarding_data(regarding: models.Model | None, actor: User) -> dict[str, Any]:
    """The regarding columns for a record, after checking the actor may see it."""
    if regarding is None:
        return {}
    kind = regarding_require(regarding)
    model = type(regarding)
    manager = getattr(model, "objects", None)
    if (
        hasattr(manager, "visible_to")
        and not manager.visible_to(actor).filter(pk=regarding.pk).exists()
    ):
        raise NotVisible
    return {
        "regarding_type": ContentType.objects.get_for_model(model),
        "regarding_id": regarding.pk,
        "account_id": kind.account_id(regarding),
        "contact_id": kind.contact_id(regarding),
    }


def week_bounds(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 to the next Monday 00:00 of the week holding `moment`, local time."""
    local = timezone.localtime(moment)
    monday = (local - datetime.timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday, monday + datetime.timedelta(days=7)


def calls_in_week(*, account_id: int, moment: datetime.datetime, exclude_activity=None) -> int:
    """Follow-up calls a customer had (or has planned) in the week of `moment`."""
    start, end = week_bounds(moment)
    calls = Activity.objects.filter(
        account_id=account_id, kind=ActivityKind.CALL, start_at__gte=start, start_at__lt=end
    ).exclude(status=ActivityStatus.CANCELLED)
    if exclude_activity is not None:
        calls = calls.exclude(pk=exclude_activity.pk)
    logged = FollowUp.objects.filter(
        account_id=account_id,
        channel__in=CALL_CHANNELS,
        followed_up_at__gte=start,
        followed_up_at__lt=end,
    )
    return calls.count() + logged.count()


def check_call_limit(*, account_id: int | None, moment, exclude_activity=None) -> None:
    """Refuse one more follow-up call to a customer who has had the week's allowance."""
    if account_id is None or moment is None:
        return
    limit = ActivitySettings.current().call_limit_per_week
    if not limit:
        return
    made = calls_in_week(account_id=account_id, moment=moment, exclude_activity=exclude_activity)
    if made >= limit:
        start, _end = week_bounds(moment)
        raise ValidationError(
            _(
                "This customer has already had %(made)s follow-up calls in the week of "
                "%(week)s; the limit is %(limit)s per week. Choose another week or another "
                "channel."
            )
            % {"made": made, "limit": limit, "week": start.date().isoformat()}
        )


def _set_assignees(activity: Activity, assignee_ids) -> list[int]:
    """Replace the assignees; answers the ids that were newly added."""
    wanted = {int(pk) for pk in assignee_ids or []}
    current = set(activity.assignments.values_list("user_id", flat=True))
    activity.assignments.filter(user_id__in=current - wanted).delete()
    added = sorted(wanted - current)
    ActivityAssignee.objects.bulk_create(
        [
            ActivityAssignee(activity=activity, user_id=pk, start_at=activity.start_at)
            for pk in added
        ]
    )
    return added


def _notify_assigned(activity: Activity, user_ids, actor: User) -> None:
    for user in User.objects.filter(pk__in=user_ids, is_active=True).exclude(pk=actor.pk):
        notification_send(
            recipient=user,
            actor=actor,
            kind="activity_assigned",
            text=_("%(actor)s assigned you: %(subject)s") % {"actor": actor, "subject": activity},
            url=activity_url(activity),
        )


def activity_url(activity: Activity) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("activities:activity_detail", args=[activity.pk])
    except NoReverseMatch:
        return ""


def _timeline(activity: Activity, *, kind: str, text: str, actor: User) -> None:
    record = activity.regarding if activity.regarding_id else activity
    timeline_add(
        record=record,
        kind=kind,
        text=text,
        actor=actor,
        account_id=activity.account_id,
        data={"activity": activity.pk, "type": activity.kind},
    )


def _occurrence_starts(start_at, *, frequency: str, interval: int, until, count) -> list:
    """The start times of a series: the first is `start_at` itself."""
    if not until and not count:
        raise ValidationError(_("A repeating activity needs an end date or a number of times."))
    interval = max(1, int(interval or 1))
    limit = min(int(count), MAX_OCCURRENCES) if count else MAX_OCCURRENCES
    local = timezone.localtime(start_at)
    starts = []
    index = 0
    while len(starts) < limit:
        if frequency == Frequency.DAILY:
            moment = local + datetime.timedelta(days=index * interval)
        elif frequency == Frequency.WEEKLY:
            moment = local + datetime.timedelta(weeks=index * interval)
        elif frequency == Frequency.MONTHLY:
            # The 31st repeats on the last day of shorter months.
            moment = local + relativedelta(months=index * interval)
            last_day = calendar.monthrange(moment.year, moment.month)[1]
            moment = moment.replace(day=min(local.day, last_day))
        else:
            raise ValidationError(_("Choose how often the activity repeats."))
        if until and moment.date() > until:
            break
        starts.append(moment)
        index += 1
    return starts


# --- activities ------------------------------------------------------------------------------
@transaction.atomic
def activity_create(
    *,
    actor: User,
    data: dict[str, Any],
    regarding: models.Model | None = None,
    assignee_ids=(),
    recurrence: dict | None = None,
    custom_data: dict | None = None,
    check_limit: bool = True,
) -> Activity:
    """Create an activity (and, with `recurrence` {frequency, interval, until, count}, the
    rest of its series). A reminder defaults from the owner's settings unless `data` gives
    `reminder_at` (None: no reminder)."""
    require_permission(actor=actor, model=Activity, action="add")
    data = dict(data)
    kind = data.setdefault("kind", ActivityKind.TASK)
    _validate_kind(kind)
    start_at, end_at = data.get("start_at"), data.get("end_at")
    _validate_times(start_at, end_at)
    data.update(_regarding_data(regarding, actor))
    data["due_at"] = end_at or start_at
    owner = data.get("owner") or actor
    if "reminder_at" not in data:
        data["reminder_at"] = _default_reminder(kind, start_at, owner)
    if check_limit and kind == ActivityKind.CALL:
        check_call_limit(account_id=data.get("account_id"), moment=start_at)

    starts = [start_at]
    series = None
    if recurrence and recurrence.get("frequency"):
        starts = _occurrence_starts(
            start_at,
            frequency=recurrence["frequency"],
            interval=recurrence.get("interval") or 1,
            until=recurrence.get("until"),
            count=recurrence.get("count"),
        )
        series = ActivitySeries.objects.create(
            frequency=recurrence["frequency"],
            interval=max(1, int(recurrence.get("interval") or 1)),
            until=recurrence.get("until"),
            count=recurrence.get("count"),
            created_by=actor,
        )
    first = None
    for moment in starts:
        shift = moment - start_at
        occurrence = {
            **data,
            "start_at": moment,
            "end_at": end_at + shift if end_at else None,
            "due_at": data["due_at"] + shift,
            "reminder_at": data["reminder_at"] + shift if data["reminder_at"] else None,
        }
        if series is not None:
            occurrence["series"] = series
        activity = record_create(
            model=Activity, data=occurrence, actor=actor, custom_data=custom_data
        )
        _set_assignees(activity, assignee_ids)
        if first is None:
            first = activity
    _notify_assigned(first, assignee_ids, actor)
    _timeline(
        first,
        kind="activity_created",
        text=_("%(type)s planned: %(subject)s") % {"type": kind_label(kind), "subject": first},
        actor=actor,
    )
    return first


def kind_label(kind: str) -> str:
    option = PicklistOption.objects.filter(
        picklist__code=ACTIVITY_TYPE_PICKLIST, value=kind
    ).first()
    return option.label if option else kind


@transaction.atomic
def activity_update(
    *,
    activity: Activity,
    actor: User,
    data: dict[str, Any],
    version: int | None = None,
    assignee_ids=None,
    regarding: Any = UNSET,
    custom_data: dict | None = None,
) -> Activity:
    data = dict(data)
    if "kind" in data and data["kind"] != activity.kind:
        _validate_kind(data["kind"])
    start_at = data.get("start_at", activity.start_at)
    end_at = data.get("end_at", activity.end_at)
    _validate_times(start_at, end_at)
    data["due_at"] = end_at or start_at
    if regarding is not UNSET:
        data.update(
            _regarding_data(regarding, actor)
            if regarding is not None
            else {"regarding_type": None, "regarding_id": None}
        )
    if "reminder_at" in data and data["reminder_at"] != activity.reminder_at:
        data["reminder_sent_at"] = None
    if data["due_at"] != activity.due_at:
        # A new due time may be missed again: it earns its own overdue notice.
        data["overdue_notified_at"] = None
        data["escalated_at"] = None
    kind = data.get("kind", activity.kind)
    moved = start_at != activity.start_at
    if kind == ActivityKind.CALL and (moved or kind != activity.kind):
        check_call_limit(
            account_id=data.get("account_id", activity.account_id),
            moment=start_at,
            exclude_activity=activity,
        )
    record_update(
        instance=activity, data=data, actor=actor, version=version, custom_data=custom_data
    )
    if moved:
        activity.assignments.update(start_at=activity.start_at)
    if assignee_ids is not None:
        added = _set_assignees(activity, assignee_ids)
        _notify_assigned(activity, added, actor)
    return activity


@transaction.atomic
def activity_reschedule(
    *,
    activity: Activity,
    actor: User,
    start_at: datetime.datetime,
    end_at: datetime.datetime | None = None,
    all_day: bool | None = None,
    version: int | None = None,
) -> Activity:
    """Move an activity (calendar drag, resize or the reschedule button). Without an end, the
    duration is kept; the reminder moves with it."""
    if activity.status != ActivityStatus.OPEN:
        raise ValidationError(_("Only open activities can be rescheduled."))
    if end_at is None and activity.end_at is not None:
        end_at = start_at + (activity.end_at - activity.start_at)
    data: dict[str, Any] = {"start_at": start_at, "end_at": end_at}
    if all_day is not None:
        data["all_day"] = all_day
    if activity.reminder_at is not None:
        data["reminder_at"] = activity.reminder_at + (start_at - activity.start_at)
    old = activity.start_at
    activity_update(activity=activity, actor=actor, data=data, version=version)
    _timeline(
        activity,
        kind="activity_rescheduled",
        text=_("Rescheduled %(subject)s from %(old)s to %(new)s")
        % {
            "subject": activity,
            "old": timezone.localtime(old).strftime("%Y-%m-%d %H:%M"),
            "new": timezone.localtime(start_at).strftime("%Y-%m-%d %H:%M"),
        },
        actor=actor,
    )
    return activity


@transaction.atomic
def activity_complete(
    *, activity: Activity, actor: User, outcome: str = "", version: int | None = None
) -> Activity:
    if activity.status == ActivityStatus.DONE:
        raise ValidationError(_("This activity is already done."))
    data: dict[str, Any] = {
        "status": ActivityStatus.DONE,
        "completed_at": timezone.now(),
        "completed_by": actor,
    }
    if outcome:
        data["outcome"] = outcome
    record_update(instance=activity, data=data, actor=actor, version=version)
    _timeline(
        activity,
        kind="activity_done",
        text=_("Done: %(subject)s") % {"subject": activity} + (f" — {outcome}" if outcome else ""),
        actor=actor,
    )
    return activity


@transaction.atomic
def activity_cancel(
    *, activity: Activity, actor: User, reason: str = "", version: int | None = None
) -> Activity:
    if activity.status != ActivityStatus.OPEN:
        raise ValidationError(_("Only open activities can be cancelled."))
    record_update(
        instance=activity,
        data={"status": ActivityStatus.CANCELLED},
        actor=actor,
        version=version,
        message=reason,
    )
    return activity


@transaction.atomic
def activity_reopen(*, activity: Activity, actor: User, version: int | None = None) -> Activity:
    if activity.status == ActivityStatus.OPEN:
        raise ValidationError(_("This activity is already open."))
    record_update(
        instance=activity,
        data={"status": ActivityStatus.OPEN, "completed_at": None, "completed_by": None},
        actor=actor,
        version=version,
    )
    return activity


@transaction.atomic
def activity_reassign(
    *,
    activity: Activity,
    actor: User,
    owner: User,
    reason: str = "",
    version: int | None = None,
) -> Activity:
    require_permission(actor=actor, model=Activity, action="change")
    if not owner.is_active:
        raise ValidationError(_("Activities can only be given to active users."))
    record_assign(instance=activity, owner=owner, actor=actor, reason=reason, version=version)
    _notify_assigned(activity, [owner.pk], actor)
    return activity


def activity_delete(*, activity: Activity, actor: User, version: int | None = None) -> None:
    require_permission(actor=actor, model=Activity, action="delete")
    record_delete(instance=activity, actor=actor, version=version)


@transaction.atomic
def activity_check_in(
    *,
    activity: Activity,
    actor: User,
    place: str,
    at: datetime.datetime | None = None,
    version: int | None = None,
) -> Activity:
    """A visit's check-in: when and where the rep arrived."""
    if not place.strip():
        raise ValidationError({"check_in_place": _("Say where you checked in.")})
    record_update(
        instance=activity,
        data={"check_in_at": at or timezone.now(), "check_in_place": place.strip()},
        actor=actor,
        version=version,
    )
    _timeline(
        activity,
        kind="visit_check_in",
        text=_("Checked in at %(place)s") % {"place": place.strip()},
        actor=actor,
    )
    return activity


@transaction.atomic
def appointment_set_outcome(
    *, activity: Activity, actor: User, outcome: str, version: int | None = None, note: str = ""
) -> Activity:
    """Record how an appointment went: came (done), no-show, rescheduled or cancelled."""
    if outcome not in {choice for choice, _label in AppointmentOutcome.choices if choice}:
        raise ValidationError({"appointment_outcome": _("Choose what happened.")})
    data: dict[str, Any] = {"is_appointment": True, "appointment_outcome": outcome}
    if outcome == AppointmentOutcome.CAME:
        data.update(status=ActivityStatus.DONE, completed_at=timezone.now(), completed_by=actor)
    elif outcome in (AppointmentOutcome.NO_SHOW, AppointmentOutcome.CANCELLED):
        data["status"] = ActivityStatus.CANCELLED
    if note:
        data["outcome"] = note
    record_update(instance=activity, data=data, actor=actor, version=version)
    _timeline(
        activity,
        kind="appointment_outcome",
        text=_("Appointment %(subject)s: %(outcome)s")
        % {"subject": activity, "outcome": AppointmentOutcome(outcome).label},
        actor=actor,
    )
    return activity


def activities_bulk_create(
    *, actor: User, records: list[models.Model], data: dict[str, Any]
) -> tuple[list[Activity], list[tuple[models.Model, str]]]:
    """The same activity for many customers: one per record. Records the limits refuse are
    reported (record, reason) and the others are kept."""
    created, refused = [], []
    for record in records:
        try:
            created.append(activity_create(actor=actor, data=data, regarding=record))
        except ValidationError as error:
            refused.append((record, "; ".join(error.messages)))
        except NotVisible:
            refused.append((record, _("You cannot see this record.")))
    return created, refused


# --- follow-up records -----------------------------------------------------------------------
def _keep_follow_up_dates(follow_up: FollowUp, regarding: models.Model) -> None:
    """Move the customer's last / next follow-up dates, on the record and its customer."""
    from guanxi.customers.models import Account, Contact

    targets: list[tuple[type[models.Model], int]] = []
    kind = regarding_require(regarding)
    if kind.tracks_follow_up:
        targets.append((type(regarding), regarding.pk))
    if follow_up.account_id and not isinstance(regarding, Account):
        targets.append((Account, follow_up.account_id))
    if follow_up.contact_id and not isinstance(regarding, Contact):
        targets.append((Contact, follow_up.contact_id))
    for model, pk in targets:
        # Bookkeeping columns, not an edit: no version bump, so nobody's open form conflicts.
        model.all_objects.filter(pk=pk).filter(
            Q(last_followed_up_at__isnull=True)
            | Q(last_followed_up_at__lte=follow_up.followed_up_at)
        ).update(
            last_followed_up_at=follow_up.followed_up_at,
            next_follow_up_at=follow_up.next_follow_up_at,
        )


def _close_due_follow_up_tasks(follow_up: FollowUp, actor: User) -> None:
    """Logging a follow-up does the open follow-up tasks earlier records planned for it."""
    due = Activity.objects.filter(
        follow_up_source__regarding_type_id=follow_up.regarding_type_id,
        follow_up_source__regarding_id=follow_up.regarding_id,
        status=ActivityStatus.OPEN,
        start_at__lte=follow_up.followed_up_at + datetime.timedelta(days=1),
    ).exclude(follow_up_source=follow_up)
    for task in due:
        activity_complete(activity=task, actor=actor, outcome=follow_up.content[:200])


@transaction.atomic
def follow_up_create(
    *,
    actor: User,
    regarding: models.Model,
    channel: str,
    content: str,
    reaction: str = "",
    reaction_note: str = "",
    followed_up_at: datetime.datetime | None = None,
    next_follow_up_at: datetime.datetime | None = None,
    next_subject: str = "",
) -> FollowUp:
    """Log a follow-up (跟进记录). With a next follow-up time, the next task (with its
    reminder) is created for the actor and the customer's next follow-up date is set."""
    require_permission(actor=actor, model=FollowUp, action="add")
    if channel not in active_option_values(FOLLOW_UP_CHANNEL_PICKLIST):
        raise ValidationError({"channel": _("Choose how you followed up.")})
    if not (content or "").strip():
        raise ValidationError({"content": _("Say what was discussed.")})
    followed_up_at = followed_up_at or timezone.now()
    if followed_up_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"followed_up_at": _("A follow-up cannot be logged in the future.")})
    if next_follow_up_at is not None and next_follow_up_at <= followed_up_at:
        raise ValidationError(
            {"next_follow_up_at": _("The next follow-up must be after this one.")}
        )
    regarding_columns = _regarding_data(regarding, actor)
    if channel in CALL_CHANNELS:
        check_call_limit(account_id=regarding_columns.get("account_id"), moment=followed_up_at)
    follow_up = record_create(
        model=FollowUp,
        data={
            **regarding_columns,
            "channel": channel,
            "content": content.strip(),
            "reaction": reaction,
            "reaction_note": reaction_note,
            "followed_up_at": followed_up_at,
            "next_follow_up_at": next_follow_up_at,
        },
        actor=actor,
    )
    if next_follow_up_at is not None:
        task = activity_create(
            actor=actor,
            data={
                "kind": ActivityKind.TASK,
                "subject": next_subject or _("Follow up with %(name)s") % {"name": regarding},
                "start_at": next_follow_up_at,
                "priority": "normal",
            },
            regarding=regarding,
            check_limit=False,
        )
        FollowUp.all_objects.filter(pk=follow_up.pk).update(next_activity=task)
        follow_up.next_activity = task
    _close_due_follow_up_tasks(follow_up, actor)
    _keep_follow_up_dates(follow_up, regarding)
    timeline_add(
        record=regarding,
        kind="follow_up",
        text=follow_up.content,
        actor=actor,
        account_id=follow_up.account_id,
        data={
            "follow_up": follow_up.pk,
            "channel": channel,
            "reaction": reaction,
            "next": next_follow_up_at.isoformat() if next_follow_up_at else None,
        },
    )
    return follow_up


@transaction.atomic
def follow_up_update(
    *, follow_up: FollowUp, actor: User, data: dict[str, Any], version: int | None = None
) -> FollowUp:
    data = {
        k: v for k, v in data.items() if k in {"channel", "content", "reaction", "reaction_note"}
    }
    if "channel" in data and data["channel"] not in active_option_values(
        FOLLOW_UP_CHANNEL_PICKLIST
    ):
        raise ValidationError({"channel": _("Choose how you followed up.")})
    return record_update(instance=follow_up, data=data, actor=actor, version=version)


def follow_up_delete(*, follow_up: FollowUp, actor: User, version: int | None = None) -> None:
    require_permission(actor=actor, model=FollowUp, action="delete")
    record_delete(instance=follow_up, actor=actor, version=version)


# --- calendar feed and preferences -----------------------------------------------------------
def calendar_feed_get_or_create(*, user: User):
    from guanxi.activities.models import CalendarFeed

    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_revoke(*, user: User):
    """Replace the secret: the old subscription URL stops working at once."""
    from guanxi.activities.models import CalendarFeed, new_feed_token

    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    feed.token = new_feed_token()
    feed.save(update_fields=["token", "created_at"])
    return feed


def preference_set(*, user: User, reminder_minutes=UNSET, calendar_color=UNSET):
    preference, _created = ActivityPreference.objects.get_or_create(user=user)
    if reminder_minutes is not UNSET:
        preference.reminder_minutes = reminder_minutes
    if calendar_color is not UNSET:
        preference.calendar_color = calendar_color or ""
    preference.full_clean()
    preference.save()
    return preference


def activity_settings_update(*, actor: User, data: dict[str, Any]) -> ActivitySettings:
    from guanxi.core.exceptions import ActionNotAllowed
    from guanxi.core.scope import is_administrator
    from guanxi.core.services.records import audit_record, snapshot

    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change the activity settings."))
    row = ActivitySettings.current()
    before = snapshot(row)
    for name, value in data.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit_record(
        instance=row, action=ChangeAction.UPDATE, actor=actor, before=before, after=snapshot(row)
    )
    return row
