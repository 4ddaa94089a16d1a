"""Forms of the customers app (thin: validation lives in the services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms.generic import RecordForm
from guanxi.customers.models import Account


class AccountForm(RecordForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Account
        fields = ["name", "kind", "industry", "phone", "email", "website", "address", "notes"]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "address": forms.TextInput(),
        }
