"""Activities (活动), follow-up records (跟进记录), recurring series, calendar feeds and the
activity settings."""

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel

# The picklist whose options are the activity types; its built-in values are ActivityKind.
ACTIVITY_TYPE_PICKLIST = "activity_type"
FOLLOW_UP_CHANNEL_PICKLIST = "follow_up_channel"


class ActivityKind(models.TextChoices):
    """The built-in activity types. Businesses may add their own picklist options; those
    behave like tasks."""

    TASK = "task", _("Task")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    NOTE = "note", _("Note")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class AppointmentOutcome(models.TextChoices):
    PENDING = "", _("Pending")
    CAME = "came", _("Came")
    NO_SHOW = "no_show", _("No-show")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ActivitySeries(models.Model):
    """The rule a recurring activity was created from; its occurrences point back here."""

    frequency = models.CharField(_("repeats"), max_length=10, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(_("every"), default=1)
    until = models.DateField(_("until"), null=True, blank=True)
    count = models.PositiveSmallIntegerField(_("occurrences"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recurring series")
        verbose_name_plural = _("recurring series")


class Activity(OwnedModel):
    kind = models.CharField(_("type"), max_length=50, default=ActivityKind.TASK, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # A task's due time is its start; meetings and visits also have an end.
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"), null=True, blank=True)
    all_day = models.BooleanField(_("all day"), default=False)
    # end_at or start_at, kept by the services: what "overdue" and "due today" compare.
    due_at = models.DateTimeField(_("due"), editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignees"),
        through="ActivityAssignee",
        blank=True,
        related_name="assigned_activities",
    )
    location = models.CharField(_("location"), max_length=255, blank=True)
    check_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_place = models.CharField(_("check-in place"), max_length=255, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    is_private = models.BooleanField(
        _("private"), default=False, help_text=_("Others see this time only as busy.")
    )
    # What the activity is about (account, contact, lead, opportunity, ticket, campaign...).
    regarding_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    regarding_id = models.PositiveBigIntegerField(null=True, blank=True)
    regarding = GenericForeignKey("regarding_type", "regarding_id")
    # The customer it concerns, so the account's and contact's pages list it directly.
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    series = models.ForeignKey(
        ActivitySeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
        editable=False,
    )
    is_appointment = models.BooleanField(_("appointment"), default=False)
    appointment_outcome = models.CharField(
        _("appointment outcome"),
        max_length=12,
        choices=AppointmentOutcome.choices,
        blank=True,
        default=AppointmentOutcome.PENDING,
    )
    reminder_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    # Each notification is sent once: the job claims a row by setting these from NULL.
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-start_at", "-id"]
        indexes = [
            # The calendar's month reads only this index (SQLite and PostgreSQL alike): due_at
            # decides the "started before the range, still running" part without reading a
            # month of rows, and the columns after it are what an event shows.
            models.Index(
                fields=[
                    "owner",
                    "start_at",
                    "due_at",
                    "status",
                    "is_deleted",
                    "end_at",
                    "all_day",
                    "is_private",
                    "version",
                    "kind",
                    "subject",
                ],
                name="activity_calendar",
            ),
            models.Index(fields=["owner", "status", "due_at"]),
            models.Index(fields=["department", "start_at"]),
            models.Index(fields=["start_at"]),
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["account", "start_at"]),
            models.Index(fields=["contact", "start_at"]),
            models.Index(fields=["regarding_type", "regarding_id", "start_at"]),
            models.Index(
                fields=["reminder_at"],
                condition=models.Q(reminder_sent_at__isnull=True, status="open"),
                name="activity_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class ActivityAssignee(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_assignments"
    )
    # The activity's start, copied by the services so a calendar reads one index range per
    # person instead of every assignment they ever had.
    start_at = models.DateTimeField(_("start"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("assignee")
        verbose_name_plural = _("assignees")
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="activity_assignee_once")
        ]
        indexes = [
            models.Index(fields=["user", "activity"]),
            models.Index(fields=["user", "start_at"], name="activity_assignee_user_start"),
        ]


class Reaction(models.TextChoices):
    INTERESTED = "interested", _("Interested")
    NEUTRAL = "neutral", _("Neutral")
    HESITANT = "hesitant", _("Hesitant")
    NOT_INTERESTED = "not_interested", _("Not interested")
    COMPLAINED = "complained", _("Complained")


class FollowUp(OwnedModel):
    """A follow-up record (跟进记录): what was said to the customer, how, and how they took it.

    Visible to everyone who sees the customer it concerns, so nothing is lost when a rep
    leaves (see the scope rule in registrations)."""

    regarding_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    regarding_id = models.PositiveBigIntegerField()
    regarding = GenericForeignKey("regarding_type", "regarding_id")
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    channel = models.CharField(_("channel"), max_length=50)
    content = models.TextField(_("what was said"))
    reaction = models.CharField(
        _("customer's reaction"), max_length=20, choices=Reaction.choices, blank=True
    )
    reaction_note = models.CharField(_("reaction details"), max_length=255, blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"))
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    next_activity = models.OneToOneField(
        Activity,
        verbose_name=_("next task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up_source",
        editable=False,
    )

    class Meta:
        verbose_name = _("follow-up record")
        verbose_name_plural = _("follow-up records")
        ordering = ["-followed_up_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "followed_up_at"]),
            models.Index(fields=["department", "followed_up_at"]),
            models.Index(fields=["account", "followed_up_at"]),
            models.Index(fields=["regarding_type", "regarding_id", "followed_up_at"]),
        ]

    def __str__(self) -> str:
        return self.content[:60]


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's secret iCalendar subscription URL; revoking replaces the token."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")


class ActivityPreference(models.Model):
    """A user's own defaults for activities."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_preference"
    )
    reminder_minutes = models.PositiveIntegerField(
        _("remind me this many minutes before"), null=True, blank=True
    )
    calendar_color = models.CharField(_("calendar colour"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("activity preference")
        verbose_name_plural = _("activity preferences")


class ActivitySettings(models.Model):
    """Company-wide activity rules (one row, edited by an administrator)."""

    default_reminder_minutes = models.PositiveIntegerField(
        _("default reminder (minutes before)"), default=15
    )
    call_limit_per_week = models.PositiveIntegerField(
        _("follow-up calls per customer per week"),
        default=0,
        help_text=_("0 means no limit."),
    )
    escalation_delay_hours = models.PositiveIntegerField(
        _("escalate overdue activities to the manager after (hours)"), default=24
    )

    class Meta:
        verbose_name = _("activity settings")
        verbose_name_plural = _("activity settings")

    @classmethod
    def current(cls) -> "ActivitySettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row
