"""The company's activity rules (administrators) and each user's own activity preferences.
Thin: the forms check input, `activity_settings_update` and `preference_set` write."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.activities.models import ActivityPreference, ActivitySettings
from guanxi.activities.services import activity_settings_update, preference_set
from guanxi.core.forms.admin import apply_service_errors
from guanxi.core.forms.auth import BootstrapFormMixin
from guanxi.core.views.admin import administrator_required

# A week: longer reminders are a planning problem, not a reminder.
MAX_REMINDER_MINUTES = 7 * 24 * 60

# The colours offered for one's calendar (hex, as the calendar draws them).
CALENDAR_COLOURS = [
    ("", gettext_lazy("Automatic")),
    ("#0d6efd", gettext_lazy("Blue")),
    ("#6f42c1", gettext_lazy("Purple")),
    ("#d63384", gettext_lazy("Pink")),
    ("#dc3545", gettext_lazy("Red")),
    ("#fd7e14", gettext_lazy("Orange")),
    ("#ffc107", gettext_lazy("Yellow")),
    ("#198754", gettext_lazy("Green")),
    ("#20c997", gettext_lazy("Teal")),
    ("#6c757d", gettext_lazy("Grey")),
]


class ActivitySettingsForm(BootstrapFormMixin, forms.Form):
    default_reminder_minutes = forms.IntegerField(
        label=gettext_lazy("Default reminder (minutes before the start)"),
        min_value=0,
        max_value=MAX_REMINDER_MINUTES,
        help_text=gettext_lazy("Used for users who have not chosen their own. 0: at the start."),
    )
    call_limit_per_week = forms.IntegerField(
        label=gettext_lazy("Follow-up calls per customer per week"),
        min_value=0,
        max_value=100,
        help_text=gettext_lazy(
            "Planned and logged phone calls to one customer in one week; 0 means no limit."
        ),
    )
    escalation_delay_hours = forms.IntegerField(
        label=gettext_lazy("Tell the owner's manager about overdue activities after (hours)"),
        min_value=0,
        max_value=30 * 24,
        help_text=gettext_lazy("0 turns the escalation off."),
    )

    FIELDS = ("default_reminder_minutes", "call_limit_per_week", "escalation_delay_hours")


class ActivityPreferenceForm(BootstrapFormMixin, forms.Form):
    reminder_minutes = forms.IntegerField(
        label=gettext_lazy("Remind me this many minutes before an activity"),
        min_value=0,
        max_value=MAX_REMINDER_MINUTES,
        required=False,
    )
    calendar_color = forms.ChoiceField(
        label=gettext_lazy("My calendar colour"),
        choices=CALENDAR_COLOURS,
        required=False,
        help_text=gettext_lazy("How your activities show when calendars are overlaid."),
    )

    def __init__(self, *args, company_default: int, current_color: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reminder_minutes"].help_text = _(
            "Leave empty for the company default (%(minutes)s minutes)."
        ) % {"minutes": company_default}
        known = {value for value, _label in CALENDAR_COLOURS}
        if current_color and current_color not in known:
            # A colour chosen elsewhere stays selectable rather than silently lost.
            self.fields["calendar_color"].choices = [
                *CALENDAR_COLOURS,
                (current_color, current_color),
            ]


@administrator_required
def activity_settings(request):
    current = ActivitySettings.current()
    initial = {name: getattr(current, name) for name in ActivitySettingsForm.FIELDS}
    form = ActivitySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            activity_settings_update(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The activity settings were saved."))
            return redirect("activities:settings")
    return render(request, "activities/settings/settings.html", {"form": form})


@login_required
def preferences(request):
    preference = ActivityPreference.objects.filter(user=request.user).first()
    current_color = preference.calendar_color if preference else ""
    form = ActivityPreferenceForm(
        request.POST or None,
        initial={
            "reminder_minutes": preference.reminder_minutes if preference else None,
            "calendar_color": current_color,
        },
        company_default=ActivitySettings.current().default_reminder_minutes,
        current_color=current_color,
    )
    if request.method == "POST" and form.is_valid():
        try:
            preference_set(
                user=request.user,
                reminder_minutes=form.cleaned_data["reminder_minutes"],
                calendar_color=form.cleaned_data["calendar_color"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Your activity preferences were saved."))
            return redirect("activities:preferences")
    return render(request, "activities/settings/preferences.html", {"form": form})
