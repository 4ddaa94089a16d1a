"""Forms of the import pages (thin: the services validate)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import DuplicatePolicy


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GBK; comma, semicolon or tab) or Excel .xlsx; first row = column names."
        ),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.txt,.tsv,.xlsx"}
        ),
    )


class MappingForm(forms.Form):
    """One choice per column of the file (the field it fills, or ignore) and the policy."""

    policy = forms.ChoiceField(
        label=_("When a row matches an existing record"),
        choices=DuplicatePolicy.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, headers, specs, mapping, policy, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        choices = [("", _("— ignore this column —"))]
        choices += [(spec.key, spec.label) for spec in specs]
        self.fields["policy"].initial = policy
        for index, header in enumerate(self.headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("(no name)"),
                choices=choices,
                required=False,
                initial=mapping[index] if index < len(mapping) else "",
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{index}") or "" for index in range(len(self.headers))]
