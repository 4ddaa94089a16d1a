"""Forms of the shell: sign-in, password change, personal preferences."""

import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import User

# Offered first in the time zone list: where our users mostly are.
COMMON_TIME_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
]


class BootstrapFormMixin:
    """Give every widget the Bootstrap 5 class it needs, and mark invalid fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(
                widget, forms.CheckboxSelectMultiple | forms.RadioSelect | forms.CheckboxInput
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            existing = widget.attrs.get("class", "")
            widget.attrs["class"] = f"{existing} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class LoginForm(BootstrapFormMixin, AuthenticationForm):
    """Django's sign-in form (it passes the request to authenticate, so axes counts failures)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Wrong username or password. Check both (they are case-sensitive) and try again."
        ),
        "inactive": _("This account is disabled. Ask an administrator to enable it."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class StyledPasswordChangeForm(BootstrapFormMixin, PasswordChangeForm):
    pass


def time_zone_choices() -> list[tuple[str, str]]:
    others = sorted(zoneinfo.available_timezones() - set(COMMON_TIME_ZONES))
    return [(zone, zone) for zone in COMMON_TIME_ZONES] + [(zone, zone) for zone in others]


class PreferencesForm(BootstrapFormMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=User.Language.choices)

    def clean_language(self):
        value = self.cleaned_data["language"]
        if value not in User.Language.values:
            raise ValidationError(_("Choose a supported language."))
        return value
