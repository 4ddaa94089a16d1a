"""Forms of the activity screens (thin: validation lives in the services)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import (
    Activity,
    AppointmentOutcome,
    FollowUp,
    Frequency,
    Priority,
    Reaction,
)
from guanxi.activities.selectors import activity_kinds, follow_up_channels
from guanxi.activities.services import UNSET, reminder_minutes_for
from guanxi.core.forms.generic import RecordForm, active_users, bootstrapify
from guanxi.core.forms.widgets import LookupSelect
from guanxi.customers.forms_contacts import SearchSelectWidget
from guanxi.customers.models import Account, Contact

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
MAX_REPEATS = 366


def datetime_field(label, *, required: bool = True, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_FORMATS,
        **kwargs,
    )


class ServiceData(dict):
    """The model field values for the service, plus what is not a column (assignees, what
    the activity regards, the recurrence) in `extra`, which the generic views never set on
    the instance."""

    def __init__(self, *args: Any, extra: dict | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.extra = extra or {}


# --- widgets ---------------------------------------------------------------------------------
class ScopedSearchSelect(SearchSelectWidget):
    """The customers' search select, showing the chosen record's name: the form gives the
    field a queryset already limited to what the user may see."""

    _selected_options = LookupSelect._selected_options


class UserLookupMultiple(LookupSelect):
    """Several users, chosen by typing (the page never lists every user)."""

    allow_multiple_selected = True

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        return getter(name) if getter else data.get(name)


class KindRadioSelect(forms.RadioSelect):
    """The activity types as a row of toggle buttons, each with its icon and colour."""

    def __init__(self, *args: Any, kinds=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kinds = kinds or {}

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.get("id") or f"id_{name}"
        value = "" if value is None else str(value)
        buttons = []
        for index, (option, label) in enumerate(self.choices):
            kind = self.kinds.get(option)
            buttons.append(
                format_html(
                    '<input type="radio" class="btn-check" name="{name}" id="{id}" value="{value}"'
                    '{checked} autocomplete="off"><label class="btn btn-sm btn-outline-secondary"'
                    ' for="{id}"><i class="bi {icon} me-1" style="color: {color}"></i>{label}'
                    "</label>",
                    name=name,
                    id=f"{base_id}_{index}",
                    value=option,
                    checked=" checked" if str(option) == value else "",
                    icon=kind.icon if kind else "bi-check2-square",
                    color=kind.color if kind else "inherit",
                    label=label,
                )
            )
        return format_html(
            '<div class="btn-group d-flex flex-wrap gx-kind-choice" role="group" id="{}">{}</div>',
            base_id,
            format_html_join("", "{}", ((button,) for button in buttons)),
        )


# --- what the activity regards -----------------------------------------------------------------
class RegardingFieldsMixin:
    """Two optional pickers, an account or a contact the user may see."""

    def add_regarding_fields(self, user, initial_record=None) -> None:
        accounts = Account.objects.visible_to(user) if user else Account.objects.none()
        contacts = Contact.objects.visible_to(user) if user else Contact.objects.none()
        # What an activity already regards stays choosable (an assignee may not see the
        # customer), so saving the form never drops it.
        if isinstance(initial_record, Account):
            accounts = (accounts | Account.objects.filter(pk=initial_record.pk)).distinct()
        elif isinstance(initial_record, Contact):
            contacts = (contacts | Contact.objects.filter(pk=initial_record.pk)).distinct()
        self.fields["regarding_account"] = forms.ModelChoiceField(
            label=_("account"),
            queryset=accounts,
            required=False,
            widget=ScopedSearchSelect(url_name="customers:account_choices"),
        )
        self.fields["regarding_contact"] = forms.ModelChoiceField(
            label=_("contact"),
            queryset=contacts,
            required=False,
            widget=ScopedSearchSelect(url_name="customers:contact_choices"),
            help_text=_("What the activity is about: an account or one of its people."),
        )
        if isinstance(initial_record, Account):
            self.initial.setdefault("regarding_account", initial_record.pk)
        elif isinstance(initial_record, Contact):
            self.initial.setdefault("regarding_contact", initial_record.pk)

    def chosen_regarding(self):
        account = self.cleaned_data.get("regarding_account")
        contact = self.cleaned_data.get("regarding_contact")
        return contact or account

    def clean_regarding(self) -> None:
        if self.cleaned_data.get("regarding_account") and self.cleaned_data.get(
            "regarding_contact"
        ):
            self.add_error("regarding_contact", _("Choose an account or a contact, not both."))


# --- the activity form -------------------------------------------------------------------------
class ActivityForm(RegardingFieldsMixin, RecordForm):
    """Create or edit an activity. On create it also takes a recurrence."""

    kind = forms.ChoiceField(label=_("type"))
    start_at = datetime_field(_("start / due"))
    end_at = datetime_field(_("end"), required=False)
    assignees = forms.ModelMultipleChoiceField(
        label=_("assignees"),
        queryset=active_users(),
        required=False,
        widget=UserLookupMultiple(url_name="core:lookup_users"),
        help_text=_("Colleagues who work on it with you; they see it and may complete it."),
    )
    reminder_minutes = forms.IntegerField(
        label=_("reminder (minutes before)"),
        min_value=0,
        max_value=60 * 24 * 30,
        required=False,
        help_text=_("Leave empty for no reminder."),
    )
    repeat = forms.ChoiceField(
        label=_("repeats"),
        required=False,
        choices=[("", _("Does not repeat")), *Frequency.choices],
    )
    repeat_every = forms.IntegerField(label=_("every"), min_value=1, max_value=99, initial=1)
    repeat_until = forms.DateField(
        label=_("until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    repeat_count = forms.IntegerField(
        label=_("or this many times"), min_value=1, max_value=MAX_REPEATS, required=False
    )

    RECURRENCE_FIELDS = ("repeat", "repeat_every", "repeat_until", "repeat_count")
    FIELD_ORDER = (
        "kind",
        "subject",
        "regarding_account",
        "regarding_contact",
        "start_at",
        "end_at",
        "all_day",
        "reminder_minutes",
        "priority",
        "assignees",
        "location",
        "description",
        "is_private",
        "is_appointment",
        *RECURRENCE_FIELDS,
    )

    class Meta:
        model = Activity
        fields = [
            "kind",
            "subject",
            "description",
            "start_at",
            "end_at",
            "all_day",
            "priority",
            "location",
            "is_private",
            "is_appointment",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user=None, regarding=None, **kwargs: Any):
        kwargs["with_tags"] = False
        super().__init__(*args, **kwargs)
        self.user = user
        instance = self.instance
        kinds = activity_kinds()
        choices = [(value, kind.label) for value, kind in kinds.items()]
        if instance.pk and instance.kind not in kinds:
            choices.append((instance.kind, instance.kind))  # a type since deactivated
        self.fields["kind"].choices = choices
        self.fields["kind"].widget = KindRadioSelect(kinds=kinds, attrs={"rows": 1})
        self.fields["kind"].widget.choices = choices
        self.fields["repeat_every"].required = False
        if instance.pk:
            for name in self.RECURRENCE_FIELDS:
                del self.fields[name]
            self.initial["assignees"] = [a.pk for a in instance.assignees.all()]
            if instance.reminder_at and instance.start_at:
                minutes = int((instance.start_at - instance.reminder_at).total_seconds() // 60)
                self.initial["reminder_minutes"] = max(minutes, 0)
            regarding = instance.regarding if instance.regarding_id else None
        else:
            self.initial.setdefault("kind", "task" if "task" in kinds else next(iter(kinds), ""))
            self.initial.setdefault("reminder_minutes", reminder_minutes_for(user))
            self.initial.setdefault("repeat_every", 1)
        self.original_regarding = regarding
        self.add_regarding_fields(user, regarding)
        self.order_fields(self.FIELD_ORDER)
        bootstrapify(self)

    def clean(self):
        cleaned = super().clean()
        self.clean_regarding()
        if cleaned.get("repeat") and not (
            cleaned.get("repeat_until") or cleaned.get("repeat_count")
        ):
            self.add_error("repeat_until", _("Give an end date or a number of times."))
        start, until = cleaned.get("start_at"), cleaned.get("repeat_until")
        if cleaned.get("repeat") and start and until and until < timezone.localtime(start).date():
            self.add_error("repeat_until", _("The end date is before the first occurrence."))
        return cleaned

    def model_data(self) -> ServiceData:
        names = self._meta.fields
        data = {name: self.cleaned_data.get(name) for name in names if name in self.cleaned_data}
        if data.get("description") is None:
            data["description"] = ""
        start_at = self.cleaned_data.get("start_at")
        minutes = self.cleaned_data.get("reminder_minutes")
        data["reminder_at"] = (
            start_at - datetime.timedelta(minutes=minutes)
            if start_at is not None and minutes is not None
            else None
        )
        regarding: Any = self.chosen_regarding()
        if self.instance.pk:
            original = self.original_regarding
            unchanged = (regarding is None and not isinstance(original, Account | Contact)) or (
                regarding is not None
                and original is not None
                and type(regarding) is type(original)
                and regarding.pk == original.pk
            )
            if unchanged:
                regarding = UNSET
            elif regarding is None:
                data.update(account=None, contact=None)
        recurrence = None
        if self.cleaned_data.get("repeat"):
            recurrence = {
                "frequency": self.cleaned_data["repeat"],
                "interval": self.cleaned_data.get("repeat_every") or 1,
                "until": self.cleaned_data.get("repeat_until"),
                "count": self.cleaned_data.get("repeat_count"),
            }
        assignees = self.cleaned_data.get("assignees") or []
        return ServiceData(
            data,
            extra={
                "assignee_ids": [user.pk for user in assignees],
                "regarding": regarding,
                "recurrence": recurrence,
            },
        )


# --- follow-up records -------------------------------------------------------------------------
def _channel_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("channel"), choices=())


class FollowUpForm(RegardingFieldsMixin, RecordForm):
    """The full follow-up form (the list's "New" button and "Edit"). Once logged, only what
    was said and how it was taken can change."""

    EDITABLE = ("channel", "content", "reaction", "reaction_note")

    channel = _channel_field()
    followed_up_at = datetime_field(_("followed up at"), required=False)
    next_follow_up_at = datetime_field(_("next follow-up"), required=False)
    next_subject = forms.CharField(
        label=_("next task"),
        max_length=200,
        required=False,
        help_text=_("With a next follow-up time, a task with a reminder is created."),
    )

    class Meta:
        model = FollowUp
        fields = [
            "channel",
            "content",
            "reaction",
            "reaction_note",
            "followed_up_at",
            "next_follow_up_at",
        ]
        widgets = {"content": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user=None, regarding=None, **kwargs: Any):
        kwargs["with_tags"] = False
        super().__init__(*args, **kwargs)
        self.user = user
        channels = follow_up_channels()
        if self.instance.pk and self.instance.channel not in dict(channels):
            channels.append((self.instance.channel, self.instance.channel))
        self.fields["channel"].choices = channels
        self.fields["reaction"].choices = [("", "---------"), *Reaction.choices]
        if self.instance.pk:
            for name in ("followed_up_at", "next_follow_up_at", "next_subject"):
                del self.fields[name]
        else:
            self.initial.setdefault(
                "followed_up_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.add_regarding_fields(user, regarding)
            self.fields["regarding_account"].help_text = ""
        bootstrapify(self)

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            self.clean_regarding()
            if not self.chosen_regarding() and not self.has_error("regarding_contact"):
                self.add_error("regarding_account", _("Choose the account or contact."))
        return cleaned

    def model_data(self) -> ServiceData:
        if self.instance.pk:
            return ServiceData({name: self.cleaned_data.get(name) for name in self.EDITABLE})
        data = {name: self.cleaned_data.get(name) for name in self._meta.fields}
        return ServiceData(
            {name: value for name, value in data.items() if name in self.EDITABLE},
            extra={
                "regarding": self.chosen_regarding(),
                "followed_up_at": data.get("followed_up_at"),
                "next_follow_up_at": data.get("next_follow_up_at"),
                "next_subject": self.cleaned_data.get("next_subject") or "",
            },
        )


class QuickFollowUpForm(forms.Form):
    """The quick follow-up form on a customer's page."""

    channel = _channel_field()
    content = forms.CharField(
        label=_("what was said"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    reaction = forms.ChoiceField(
        label=_("customer's reaction"),
        required=False,
        choices=[("", "---------"), *Reaction.choices],
    )
    reaction_note = forms.CharField(label=_("reaction details"), max_length=255, required=False)
    next_follow_up_at = datetime_field(_("next follow-up"), required=False)
    next_subject = forms.CharField(
        label=_("next task"),
        max_length=200,
        required=False,
        help_text=_("Optional; the next follow-up time creates the task."),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "fu_%s")
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = follow_up_channels()
        bootstrapify(self)


# --- in-place actions --------------------------------------------------------------------------
class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class CompleteForm(VersionedForm):
    outcome = forms.CharField(label=_("outcome"), max_length=2000, required=False)


class RescheduleForm(VersionedForm):
    start_at = datetime_field(_("new time"))


class ReassignForm(VersionedForm):
    owner = forms.ModelChoiceField(
        label=_("new owner"),
        queryset=active_users(),
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)


class CancelForm(VersionedForm):
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)


class CheckInForm(VersionedForm):
    place = forms.CharField(label=_("where"), max_length=255)


class AppointmentOutcomeForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("what happened"),
        choices=[(value, label) for value, label in AppointmentOutcome.choices if value],
    )
    note = forms.CharField(label=_("note"), max_length=2000, required=False)


# --- batch creation ------------------------------------------------------------------------------
class BulkActivityForm(forms.Form):
    """One activity for each selected account."""

    kind = forms.ChoiceField(label=_("type"))
    subject = forms.CharField(label=_("subject"), max_length=200)
    start_at = datetime_field(_("due"))
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices, initial="normal")
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        kinds = activity_kinds()
        self.fields["kind"].choices = [(value, kind.label) for value, kind in kinds.items()]
        self.fields["kind"].initial = "task"
        bootstrapify(self)

    def service_data(self) -> dict[str, Any]:
        return {
            "kind": self.cleaned_data["kind"],
            "subject": self.cleaned_data["subject"],
            "start_at": self.cleaned_data["start_at"],
            "priority": self.cleaned_data["priority"],
            "description": self.cleaned_data.get("description") or "",
        }


def validation_text(error: ValidationError) -> str:
    return "; ".join(error.messages)
