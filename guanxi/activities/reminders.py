"""Reminders, overdue notices and escalations of open activities, sent by the periodic jobs
in `tasks.py`.

Each notice goes out exactly once, even when two jobs run at the same time: a job claims
rows by setting their bookkeeping column (`reminder_sent_at`, `overdue_notified_at`,
`escalated_at`) from NULL with a conditional UPDATE, and notifies only for the rows its own
UPDATE changed, in the same transaction. Rows are handled in batches: one UPDATE claims a
whole batch when nobody else got there first (and row by row when somebody did), then the
notifications of the batch are written with one INSERT. E-mails (when `EMAIL_HOST` is set)
leave over one connection after the transaction commits.
"""

from __future__ import annotations

import datetime
import logging
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.message import EmailMessage
from django.db import OperationalError, connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity, ActivitySettings, ActivityStatus
from guanxi.activities.services import activity_url
from guanxi.core.models import Department, Notification, User

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# How often a batch SQLite found locked is tried again.
LOCK_RETRIES = 200

KIND_REMINDER = "activity_reminder"
KIND_OVERDUE = "activity_overdue"
KIND_ESCALATED = "activity_escalated"


class _Contended(Exception):
    """Another job claimed part of a batch first."""


@dataclass
class Notice:
    recipient: User
    text: str
    url: str


# --- claiming ---------------------------------------------------------------------------------
def claim(column: str, ids: list[int], now: datetime.datetime) -> list[int]:
    """Set `column` to `now` on the rows of `ids` where it is still NULL, and answer the ids
    this call changed. One UPDATE for the whole batch when it changes every row; otherwise
    that UPDATE is rolled back and each row is claimed on its own (`== 1`), so a row another
    job claimed is never notified twice."""
    if not ids:
        return []
    unclaimed = {f"{column}__isnull": True}
    try:
        with transaction.atomic():
            changed = Activity.all_objects.filter(pk__in=ids, **unclaimed).update(**{column: now})
            if changed != len(ids):
                raise _Contended
    except _Contended:
        return [
            pk
            for pk in ids
            if Activity.all_objects.filter(pk=pk, **unclaimed).update(**{column: now}) == 1
        ]
    return list(ids)


def _process(
    *,
    column: str,
    candidates: QuerySet,
    notices_for: Callable[[list[Activity]], list[Notice]],
    kind: str,
    now: datetime.datetime,
    batch_size: int,
) -> int:
    """Claim and notify batch after batch until no candidate is left; answers the number of
    notifications written."""
    sent = 0
    while True:
        found, notified = _retry_when_locked(
            lambda: _one_batch(column, candidates, notices_for, kind, now, batch_size)
        )
        sent += notified
        if found < batch_size:
            return sent


def _one_batch(column, candidates, notices_for, kind, now, batch_size) -> tuple[int, int]:
    """Claim and notify one batch in one transaction: (rows found, notifications written)."""
    with transaction.atomic():
        # PostgreSQL: concurrent jobs take different rows (SQLite serialises writers).
        ids = list(
            candidates.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        claimed = claim(column, ids, now)
        if not claimed:
            return len(ids), 0
        return len(ids), _deliver(kind, notices_for(list(_load(claimed))))


def _retry_when_locked(run, attempts: int = LOCK_RETRIES):
    """SQLite answers "database is locked" when another writer held the database longer
    than its busy timeout (and at once for a shared in-memory database): the batch rolled
    back, so running it again is safe. Inside a caller's transaction nothing is retried."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except OperationalError as error:
            retry = (
                connection.vendor == "sqlite"
                and "locked" in str(error)
                and not connection.in_atomic_block
                and attempt < attempts
            )
            if not retry:
                raise
            time.sleep(min(0.01 * attempt, 0.2))
    raise AssertionError("unreachable")  # pragma: no cover


def _load(ids: list[int]) -> QuerySet:
    active = User.objects.filter(is_active=True)
    return (
        Activity.all_objects.filter(pk__in=ids)
        .select_related("owner")
        .prefetch_related(Prefetch("assignees", queryset=active, to_attr="active_assignees"))
        .order_by("pk")
    )


def _deliver(kind: str, notices: list[Notice]) -> int:
    """One INSERT for the in-app notifications; the e-mails after commit."""
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=notice.recipient, kind=kind, text=notice.text[:500], url=notice.url
            )
            for notice in notices
        ]
    )
    if settings.EMAIL_HOST:
        mails = [
            EmailMessage(
                notice.text[:120], f"{notice.text}\n\n{notice.url}", None, [notice.recipient.email]
            )
            for notice in notices
            if notice.recipient.email
        ]
        if mails:
            transaction.on_commit(lambda: _send_mails(mails))
    return len(notices)


def _send_mails(mails: list[EmailMessage]) -> None:
    """The in-app notices are saved; a mail server that is down must not undo them."""
    try:
        get_connection().send_messages(mails)
    except Exception:
        logger.exception("Could not e-mail %s activity notices", len(mails))


# --- wording in the recipient's language and time zone -----------------------------------------
def _local(moment: datetime.datetime, user: User) -> datetime.datetime:
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        zone = timezone.get_default_timezone()
    return timezone.localtime(moment, zone)


def _when(activity: Activity, moment: datetime.datetime, user: User) -> str:
    local = _local(moment, user)
    return local.strftime("%Y-%m-%d") if activity.all_day else local.strftime("%Y-%m-%d %H:%M")


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _subject_for(activity: Activity, user: User) -> str:
    """A private activity is only "a private activity" to anyone but its people."""
    insiders = {activity.owner_id, *(a.pk for a in getattr(activity, "active_assignees", []))}
    if activity.is_private and user.pk not in insiders:
        return _("a private activity")
    return activity.subject


# --- reminders ----------------------------------------------------------------------------------
def reminder_recipients(activity: Activity) -> list[User]:
    """The owner and the assignees, once each, active ones only."""
    people: dict[int, User] = {}
    if activity.owner_id and activity.owner.is_active:
        people[activity.owner_id] = activity.owner
    for user in activity.active_assignees:
        people.setdefault(user.pk, user)
    return list(people.values())


def _reminder_notices(now: datetime.datetime) -> Callable[[list[Activity]], list[Notice]]:
    def notices_for(activities: list[Activity]) -> list[Notice]:
        notices = []
        for activity in activities:
            if activity.due_at < now:
                # Past due already (the job was down): the overdue notice says it instead.
                continue
            url = activity_url(activity)
            for user in reminder_recipients(activity):
                with translation.override(_language(user)):
                    text = _("Reminder: %(subject)s at %(time)s") % {
                        "subject": _subject_for(activity, user),
                        "time": _when(activity, activity.start_at, user),
                    }
                notices.append(Notice(recipient=user, text=text, url=url))
        return notices

    return notices_for


def send_due_reminders(now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Remind the owner and assignees of every open activity whose reminder time has come,
    once. Answers the number of notifications sent."""
    now = now or timezone.now()
    candidates = Activity.objects.filter(
        status=ActivityStatus.OPEN, reminder_sent_at__isnull=True, reminder_at__lte=now
    )
    return _process(
        column="reminder_sent_at",
        candidates=candidates,
        notices_for=_reminder_notices(now),
        kind=KIND_REMINDER,
        now=now,
        batch_size=batch_size,
    )


# --- overdue ------------------------------------------------------------------------------------
def _overdue_notices(activities: list[Activity]) -> list[Notice]:
    notices = []
    for activity in activities:
        owner = activity.owner
        if owner is None or not owner.is_active:
            continue
        with translation.override(_language(owner)):
            text = _("Overdue: %(subject)s was due %(time)s") % {
                "subject": activity.subject,
                "time": _when(activity, activity.due_at, owner),
            }
        notices.append(Notice(recipient=owner, text=text, url=activity_url(activity)))
    return notices


def notify_overdue(now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Tell the owner of every open activity past its due time, once."""
    now = now or timezone.now()
    candidates = Activity.objects.filter(
        status=ActivityStatus.OPEN, overdue_notified_at__isnull=True, due_at__lt=now
    )
    return _process(
        column="overdue_notified_at",
        candidates=candidates,
        notices_for=_overdue_notices,
        kind=KIND_OVERDUE,
        now=now,
        batch_size=batch_size,
    )


# --- escalation ---------------------------------------------------------------------------------
def _department_tree() -> dict[int, tuple[int | None, int | None]]:
    """Every department's (manager id, parent id), read once per run."""
    return {
        pk: (manager_id, parent_id)
        for pk, manager_id, parent_id in Department.objects.values_list(
            "pk", "manager_id", "parent_id"
        )
    }


def manager_id_of(user: User, departments: dict[int, tuple[int | None, int | None]]) -> int | None:
    """Who `user` reports to: their own manager, else the manager of their department, else
    of the nearest department above it with a manager (never the user themselves)."""
    if user.manager_id and user.manager_id != user.pk:
        return user.manager_id
    department_id, seen = user.department_id, set()
    while department_id and department_id not in seen:
        seen.add(department_id)
        manager_id, parent_id = departments.get(department_id, (None, None))
        if manager_id and manager_id != user.pk:
            return manager_id
        department_id = parent_id
    return None


def _escalation_notices(
    departments: dict[int, tuple[int | None, int | None]], delay_hours: int
) -> Callable[[list[Activity]], list[Notice]]:
    def notices_for(activities: list[Activity]) -> list[Notice]:
        wanted = {
            activity.pk: manager_id_of(activity.owner, departments)
            for activity in activities
            if activity.owner_id
        }
        managers = User.objects.in_bulk({pk for pk in wanted.values() if pk})
        notices = []
        for activity in activities:
            manager = managers.get(wanted.get(activity.pk))
            if manager is None or not manager.is_active:
                continue
            with translation.override(_language(manager)):
                text = _(
                    "Overdue for more than %(hours)s hours: %(subject)s of %(owner)s, due %(time)s"
                ) % {
                    "hours": delay_hours,
                    "subject": _subject_for(activity, manager),
                    "owner": activity.owner,
                    "time": _when(activity, activity.due_at, manager),
                }
            notices.append(Notice(recipient=manager, text=text, url=activity_url(activity)))
        return notices

    return notices_for


def escalate_overdue(now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Tell the owner's manager, once, about every open activity overdue for longer than the
    company's escalation delay (0 hours: escalation is off)."""
    now = now or timezone.now()
    # The settings row and the department tree are read outside a batch, so they need the
    # same patience with a locked SQLite database as the batches do.
    delay_hours = _retry_when_locked(lambda: ActivitySettings.current().escalation_delay_hours)
    if not delay_hours:
        return 0
    candidates = Activity.objects.filter(
        status=ActivityStatus.OPEN,
        escalated_at__isnull=True,
        due_at__lt=now - datetime.timedelta(hours=delay_hours),
    )
    return _process(
        column="escalated_at",
        candidates=candidates,
        notices_for=_escalation_notices(_retry_when_locked(_department_tree), delay_hours),
        kind=KIND_ESCALATED,
        now=now,
        batch_size=batch_size,
    )


def run_all(now: datetime.datetime | None = None) -> dict[str, int]:
    """Every notice that is due; what the periodic job runs."""
    now = now or timezone.now()
    return {
        "reminders": send_due_reminders(now),
        "overdue": notify_overdue(now),
        "escalated": escalate_overdue(now),
    }
