"""Forms of the duplicate scan and the merge screen (thin: the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from guanxi.customers.tasks import scannable_models


class ScanStartForm(forms.Form):
    model = forms.ChoiceField(label=_("Records"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.models = {model._meta.label_lower: model for model in scannable_models()}
        self.fields["model"].choices = [
            (label, capfirst(model._meta.verbose_name_plural))
            for label, model in self.models.items()
        ]
        self.fields["model"].widget.attrs["class"] = "form-select"

    def chosen_model(self):
        return self.models[self.cleaned_data["model"]]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def default_source(records: list, field_name: str, survivor_pk: int) -> int:
    """The record whose value a field keeps by default: the survivor's when it has one,
    else the first record (in the order given) that has one, else the survivor's."""
    by_pk = {record.pk: record for record in records}
    if not is_empty(getattr(by_pk[survivor_pk], field_name)):
        return survivor_pk
    for record in records:
        if not is_empty(getattr(record, field_name)):
            return record.pk
    return survivor_pk


class MergeForm(forms.Form):
    """Which record survives, and for each mergeable field which record's value it keeps.

    Fields: `survivor` and `field_<name>` (a record id each)."""

    def __init__(self, *args: Any, records: list, field_names: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.records = records
        self.field_names = list(field_names)
        choices = [(record.pk, str(record)) for record in records]
        survivor_pk = records[0].pk
        self.fields["survivor"] = forms.TypedChoiceField(
            label=_("Keep this record"),
            choices=choices,
            coerce=int,
            widget=forms.RadioSelect,
            initial=survivor_pk,
        )
        for name in self.field_names:
            self.fields[f"field_{name}"] = forms.TypedChoiceField(
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                initial=default_source(records, name, survivor_pk),
            )

    def selected(self, name: str) -> int | None:
        """The record id currently chosen for a form field (bound value or initial)."""
        value = self[name].value()
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def survivor_id(self) -> int:
        return self.cleaned_data["survivor"]

    def merged_ids(self) -> list[int]:
        survivor = self.survivor_id()
        return [record.pk for record in self.records if record.pk != survivor]

    def choices_map(self) -> dict[str, int]:
        """{field name: record id} for the merge service."""
        return {name: self.cleaned_data[f"field_{name}"] for name in self.field_names}
