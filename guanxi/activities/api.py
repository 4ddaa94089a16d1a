"""Activities and follow-up records over the REST API, on core's OwnedRecordViewSet:

- `/api/v1/activities/`: CRUD (create with `assignees`, `regarding` and an optional
  `recurrence`), filters `status`, `kind`, `owner`, `assignee`, `account`, `contact`,
  `regarding_type` + `regarding_id`, `due_after` / `due_before`, `start_after` /
  `start_before`, `overdue`; actions `complete/`, `reschedule/`, `reassign/`, `cancel/`,
  `reopen/`, `check-in/` and `appointment-outcome/`, each with the `version` you read
  (stale -> 409);
- `/api/v1/follow-ups/`: list, retrieve, create (with `next_follow_up_at`, which plans the
  next task and its reminder), update (channel, content, reaction) and delete.

What a record is *regarding* is one object, `{"type": "customers.account", "id": 1}`, where
`type` is the record's model label. Thin: the activities services do the work.
"""

from __future__ import annotations

import django_filters
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from guanxi.activities import services
from guanxi.activities.models import (
    Activity,
    ActivityAssignee,
    ActivityStatus,
    AppointmentOutcome,
    FollowUp,
    Frequency,
    Priority,
    Reaction,
)
from guanxi.activities.regarding import regarding_types
from guanxi.core.api.base import (
    ROLE_ACTIONS,
    OwnedRecordFilterSet,
    OwnedRecordSerializer,
    OwnedRecordViewSet,
)
from guanxi.core.api.registry import register_viewset
from guanxi.core.models import User

# --- what a record is regarding ---------------------------------------------------------


class RegardingSerializer(serializers.Serializer):
    """The record an activity or follow-up is about."""

    type = serializers.CharField(
        help_text='The record\'s model label: "customers.account", "customers.contact" (more '
        "as modules register: leads, opportunities, tickets, campaigns)."
    )
    id = serializers.IntegerField(min_value=1)


def regarding_label(model) -> str:
    return model._meta.label_lower


@extend_schema_field(RegardingSerializer)
class RegardingField(serializers.Field):
    """`{"type": "customers.account", "id": 1}` in and out; on input the record must be one
    the caller can see (otherwise it answers like a missing one)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, record):
        if not record.regarding_type_id or not record.regarding_id:
            return None
        content_type = ContentType.objects.get_for_id(record.regarding_type_id)
        return {"type": f"{content_type.app_label}.{content_type.model}", "id": record.regarding_id}

    def to_internal_value(self, data):
        if data is None:
            return {"regarding": None}
        payload = RegardingSerializer(data=data)
        if not isinstance(data, dict) or not payload.is_valid():
            raise serializers.ValidationError(_("Give an object with a type and an id."))
        label, pk = payload.validated_data["type"].lower(), payload.validated_data["id"]
        known = {regarding_label(kind.model): kind.model for kind in regarding_types()}
        model = known.get(label)
        if model is None:
            raise serializers.ValidationError(
                _("Activities cannot be linked to this kind of record.")
            )
        request = self.context.get("request")
        user = getattr(request, "user", None)
        manager = getattr(model, "objects", model._default_manager)
        records = manager.visible_to(user) if hasattr(manager, "visible_to") else manager.all()
        record = records.filter(pk=pk).first()
        if record is None:
            raise serializers.ValidationError(_("No such record."))
        return {"regarding": record}

    # source="*": the validated value is merged into the serializer's data.
    def validate_empty_values(self, data):
        if data is None and self.allow_null:
            return (True, {"regarding": None})
        return super().validate_empty_values(data)


# --- activities -------------------------------------------------------------------------


class ActivityRecurrenceSerializer(serializers.Serializer):
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    interval = serializers.IntegerField(min_value=1, max_value=366, default=1)
    until = serializers.DateField(required=False, allow_null=True)
    count = serializers.IntegerField(min_value=1, max_value=366, required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("until") and not attrs.get("count"):
            raise serializers.ValidationError(
                _("A repeating activity needs an end date or a number of times.")
            )
        return attrs


# Fields shown to someone who sees a private activity only because of their data scope.
PRIVATE_FIELDS = ("description", "location", "outcome", "check_in_place")


class ActivitySerializer(OwnedRecordSerializer):
    """An activity (task, call, meeting, visit, e-mail, SMS, note or a custom type).

    `kind` is a value of the `activity_type` picklist. `status` changes only through the
    actions (complete, cancel, reopen, appointment-outcome). `reminder_at` defaults from the
    owner's settings when left out on create; `null` means no reminder. A private activity
    shows as "Busy" to everyone but its owner and assignees."""

    kind = serializers.CharField(max_length=50, required=False, help_text="activity_type value")
    regarding = RegardingField(required=False, allow_null=True)
    assignees = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="User ids who work on the activity with its owner.",
    )
    status = serializers.ChoiceField(choices=ActivityStatus.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    appointment_outcome = serializers.CharField(
        read_only=True,
        help_text='"" (pending), "came", "no_show", "rescheduled" or "cancelled"; set with '
        "appointment-outcome/.",
    )
    recurrence = ActivityRecurrenceSerializer(
        required=False,
        write_only=True,
        help_text="On create only: repeat daily / weekly / monthly until a date or N times.",
    )
    overdue = serializers.SerializerMethodField()

    class Meta(OwnedRecordSerializer.Meta):
        model = Activity
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "kind",
            "subject",
            "description",
            "start_at",
            "end_at",
            "all_day",
            "due_at",
            "status",
            "overdue",
            "priority",
            "assignees",
            "location",
            "check_in_at",
            "check_in_place",
            "outcome",
            "is_private",
            "regarding",
            "account",
            "contact",
            "series",
            "is_appointment",
            "appointment_outcome",
            "reminder_at",
            "completed_at",
            "completed_by",
            "recurrence",
        )
        read_only_fields = (
            "due_at",
            "check_in_at",
            "check_in_place",
            "account",
            "contact",
            "series",
            "completed_at",
            "completed_by",
        )

    def get_overdue(self, activity: Activity) -> bool:
        return activity.status == ActivityStatus.OPEN and activity.due_at < timezone.now()

    def to_representation(self, activity):
        data = super().to_representation(activity)
        if activity.is_private and not self._is_insider(activity):
            data["subject"] = _("Busy")
            for name in PRIVATE_FIELDS:
                data[name] = ""
        return data

    def _is_insider(self, activity: Activity) -> bool:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return False
        if activity.owner_id == user.pk:
            return True
        return any(assignee.pk == user.pk for assignee in activity.assignees.all())

    def validate(self, attrs):
        if self.instance is not None and "recurrence" in attrs:
            raise serializers.ValidationError(
                {"recurrence": _("A series is chosen when the activity is created.")}
            )
        return attrs


class ActivityFilter(OwnedRecordFilterSet):
    status = django_filters.ChoiceFilter(choices=ActivityStatus.choices)
    kind = django_filters.CharFilter(label="Activity type (activity_type value)")
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    assignee = django_filters.NumberFilter(method="filter_assignee", label="Assigned to user")
    account = django_filters.NumberFilter(field_name="account_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    regarding_type = django_filters.CharFilter(
        method="filter_regarding_type", label='Regarding model label, e.g. "customers.account"'
    )
    regarding_id = django_filters.NumberFilter(field_name="regarding_id")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    start_after = django_filters.IsoDateTimeFilter(field_name="start_at", lookup_expr="gte")
    start_before = django_filters.IsoDateTimeFilter(field_name="start_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Open and past its due time"
    )
    is_appointment = django_filters.BooleanFilter()

    class Meta:
        model = Activity
        fields: list[str] = []

    def filter_assignee(self, queryset, name, value):
        return queryset.filter(
            pk__in=ActivityAssignee.objects.filter(user_id=value).values("activity_id")
        )

    def filter_regarding_type(self, queryset, name, value):
        return queryset.filter(regarding_type=content_type_for_label(value))

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status=ActivityStatus.OPEN, due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


def content_type_for_label(label: str) -> ContentType | None:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return ContentType.objects.get_for_model(model)


class ActivityVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The version you read; a stale one answers 409."
    )


class ActivityCompleteSerializer(ActivityVersionSerializer):
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


class ActivityRescheduleSerializer(ActivityVersionSerializer):
    start_at = serializers.DateTimeField()
    end_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Left out: the duration is kept."
    )
    all_day = serializers.BooleanField(required=False, allow_null=True, default=None)


class ActivityReassignSerializer(ActivityVersionSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ActivityCancelSerializer(ActivityVersionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ActivityCheckInSerializer(ActivityVersionSerializer):
    place = serializers.CharField(max_length=255)


class ActivityAppointmentOutcomeSerializer(ActivityVersionSerializer):
    outcome = serializers.ChoiceField(
        choices=[choice for choice in AppointmentOutcome.choices if choice[0]]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _split_links(data: dict) -> tuple[object, list[int] | None, dict | None]:
    """Take regarding, assignees and recurrence out of validated data."""
    regarding = data.pop("regarding", services.UNSET)
    assignees = data.pop("assignees", None)
    recurrence = data.pop("recurrence", None)
    assignee_ids = None if assignees is None else [user.pk for user in assignees]
    return regarding, assignee_ids, recurrence


class ActivityViewSet(OwnedRecordViewSet):
    """Activities the caller may see (own, by data scope, shared, or assigned to them);
    assignees may change them, never delete them.

    Every action takes the `version` you read; a stale one answers 409 with
    `current_version`."""

    model = Activity
    queryset = Activity.objects.none()  # the real one starts from visible_to(user)
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    list_select_related = ("owner",)
    list_prefetch_related = ("assignees",)
    ordering_fields = ("start_at", "due_at", "priority", "created_at", "updated_at")
    ordering = ("-start_at", "-id")
    role_actions = {
        **ROLE_ACTIONS,
        "complete": "change",
        "reschedule": "change",
        "reassign": "change",
        "cancel": "change",
        "reopen": "change",
        "check_in": "change",
        "appointment_outcome": "change",
    }

    list_in_parts = True

    # --- writes through the services -----------------------------------------------------
    def perform_record_create(self, *, data, custom_data):
        regarding, assignee_ids, recurrence = _split_links(data)
        return services.activity_create(
            actor=self.request.user,
            data=data,
            regarding=None if regarding is services.UNSET else regarding,
            assignee_ids=assignee_ids or (),
            recurrence=recurrence,
            custom_data=custom_data,
        )

    def perform_record_update(self, *, record, data, custom_data, version):
        regarding, assignee_ids, _recurrence = _split_links(data)
        return services.activity_update(
            activity=record,
            actor=self.request.user,
            data=data,
            version=version,
            assignee_ids=assignee_ids,
            regarding=regarding,
            custom_data=custom_data,
        )

    def perform_record_delete(self, *, record, version):
        services.activity_delete(activity=record, actor=self.request.user, version=version)

    def perform_record_assign(self, *, record, owner, reason, version):
        return services.activity_reassign(
            activity=record, actor=self.request.user, owner=owner, reason=reason, version=version
        )

    # --- actions ---------------------------------------------------------------------------
    def _act(self, payload_class, run):
        """Load the record for a change (404 / 403), check the payload, run the service and
        answer the activity as it is now."""
        record = self.get_record("change")
        payload = payload_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        run(record, values.pop("version"), values)
        record = self.get_queryset().filter(pk=record.pk).first() or record
        return Response(self.get_serializer(record).data)

    @extend_schema(
        request=ActivityCompleteSerializer, responses={200: ActivitySerializer}, summary="Mark done"
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._act(
            ActivityCompleteSerializer,
            lambda record, version, values: services.activity_complete(
                activity=record, actor=request.user, outcome=values["outcome"], version=version
            ),
        )

    @extend_schema(
        request=ActivityRescheduleSerializer,
        responses={200: ActivitySerializer},
        summary="Move to another time (the reminder moves with it)",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        return self._act(
            ActivityRescheduleSerializer,
            lambda record, version, values: services.activity_reschedule(
                activity=record,
                actor=request.user,
                start_at=values["start_at"],
                end_at=values.get("end_at"),
                all_day=values.get("all_day"),
                version=version,
            ),
        )

    @extend_schema(
        request=ActivityReassignSerializer,
        responses={200: ActivitySerializer},
        summary="Give the activity to another owner, with a reason",
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self._act(
            ActivityReassignSerializer,
            lambda record, version, values: services.activity_reassign(
                activity=record,
                actor=request.user,
                owner=values["owner"],
                reason=values["reason"],
                version=version,
            ),
        )

    @extend_schema(
        request=ActivityCancelSerializer, responses={200: ActivitySerializer}, summary="Cancel"
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(
            ActivityCancelSerializer,
            lambda record, version, values: services.activity_cancel(
                activity=record, actor=request.user, reason=values["reason"], version=version
            ),
        )

    @extend_schema(
        request=ActivityVersionSerializer,
        responses={200: ActivitySerializer},
        summary="Open a done or cancelled activity again",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._act(
            ActivityVersionSerializer,
            lambda record, version, values: services.activity_reopen(
                activity=record, actor=request.user, version=version
            ),
        )

    @extend_schema(
        request=ActivityCheckInSerializer,
        responses={200: ActivitySerializer},
        summary="Check in at a visit: now, at this place",
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        return self._act(
            ActivityCheckInSerializer,
            lambda record, version, values: services.activity_check_in(
                activity=record, actor=request.user, place=values["place"], version=version
            ),
        )

    @extend_schema(
        request=ActivityAppointmentOutcomeSerializer,
        responses={200: ActivitySerializer},
        summary="Record how an appointment went (came / no-show / rescheduled / cancelled)",
    )
    @action(detail=True, methods=["post"], url_path="appointment-outcome")
    def appointment_outcome(self, request, pk=None):
        return self._act(
            ActivityAppointmentOutcomeSerializer,
            lambda record, version, values: services.appointment_set_outcome(
                activity=record,
                actor=request.user,
                outcome=values["outcome"],
                note=values["note"],
                version=version,
            ),
        )


register_viewset("activities", ActivityViewSet, "activity")


# --- follow-up records ------------------------------------------------------------------


class FollowUpSerializer(OwnedRecordSerializer):
    """A follow-up record (跟进记录). On create, `next_follow_up_at` plans the next task (with
    its reminder, named `next_subject` or "Follow up with ...") and moves the customer's
    next follow-up date. After that only channel, content and reaction change."""

    regarding = RegardingField(
        required=False, help_text="The customer-facing record followed up (on create)."
    )
    channel = serializers.CharField(max_length=50, help_text="follow_up_channel value")
    reaction = serializers.ChoiceField(choices=Reaction.choices, required=False, allow_blank=True)
    followed_up_at = serializers.DateTimeField(
        required=False, help_text="When it happened; now when left out."
    )
    next_follow_up_at = serializers.DateTimeField(required=False, allow_null=True)
    next_subject = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )

    class Meta(OwnedRecordSerializer.Meta):
        model = FollowUp
        fields = (
            *OwnedRecordSerializer.Meta.fields,
            "regarding",
            "account",
            "contact",
            "channel",
            "content",
            "reaction",
            "reaction_note",
            "followed_up_at",
            "next_follow_up_at",
            "next_subject",
            "next_activity",
        )
        read_only_fields = ("account", "contact", "next_activity")

    CREATE_ONLY = ("regarding", "followed_up_at", "next_follow_up_at", "next_subject")

    def validate(self, attrs):
        if self.instance is not None:
            fixed = [name for name in self.CREATE_ONLY if name in self.initial_data]
            if fixed:
                raise serializers.ValidationError(
                    {
                        name: _("This cannot be changed after the record is logged.")
                        for name in fixed
                    }
                )
        elif attrs.get("regarding") is None:
            raise serializers.ValidationError(
                {"regarding": _("Choose the record you followed up.")}
            )
        return attrs


class FollowUpFilter(OwnedRecordFilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    channel = django_filters.CharFilter()
    reaction = django_filters.ChoiceFilter(choices=Reaction.choices)
    regarding_type = django_filters.CharFilter(
        method="filter_regarding_type", label='Regarding model label, e.g. "customers.account"'
    )
    regarding_id = django_filters.NumberFilter(field_name="regarding_id")
    followed_after = django_filters.IsoDateTimeFilter(
        field_name="followed_up_at", lookup_expr="gte"
    )
    followed_before = django_filters.IsoDateTimeFilter(
        field_name="followed_up_at", lookup_expr="lt"
    )

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_regarding_type(self, queryset, name, value):
        return queryset.filter(regarding_type=content_type_for_label(value))


class FollowUpViewSet(OwnedRecordViewSet):
    """Follow-up records: visible to their owner's data scope and to everyone who sees the
    customer they concern."""

    model = FollowUp
    queryset = FollowUp.objects.none()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    ordering_fields = ("followed_up_at", "next_follow_up_at", "created_at", "updated_at")
    ordering = ("-followed_up_at", "-id")

    def perform_record_create(self, *, data, custom_data):
        return services.follow_up_create(
            actor=self.request.user,
            regarding=data["regarding"],
            channel=data["channel"],
            content=data.get("content", ""),
            reaction=data.get("reaction", ""),
            reaction_note=data.get("reaction_note", ""),
            followed_up_at=data.get("followed_up_at"),
            next_follow_up_at=data.get("next_follow_up_at"),
            next_subject=data.get("next_subject", ""),
        )

    def perform_record_update(self, *, record, data, custom_data, version):
        return services.follow_up_update(
            follow_up=record, actor=self.request.user, data=data, version=version
        )

    def perform_record_delete(self, *, record, version):
        services.follow_up_delete(follow_up=record, actor=self.request.user, version=version)


register_viewset("follow-ups", FollowUpViewSet, "follow-up")
