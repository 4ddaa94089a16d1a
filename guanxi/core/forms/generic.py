"""Forms of the generic record views.

`RecordForm` is the base of every registered model's create/edit form: the app's ModelForm
fields, plus one typed field per active custom field (`cf_<key>`), the record's tags and,
on edit, a hidden `version`. It never writes and never validates the model itself: the
service does, and `apply_service_errors` puts the service's errors back on the fields.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import apply_limit_choices_to_to_formfield
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms.widgets import LookupSelect, lighten_select, read_choices_in_one_query
from guanxi.core.models import (
    CustomField,
    CustomFieldType,
    Department,
    PicklistOption,
    ShareAccess,
    Tag,
    User,
)

CUSTOM_PREFIX = "cf_"


def active_users():
    return User.objects.filter(is_active=True).order_by("display_name", "username")


# --- Bootstrap and htmx decoration -----------------------------------------------------------
def _decorate_widget(widget: forms.Widget) -> None:
    if isinstance(widget, forms.MultiWidget):
        for sub in widget.widgets:
            _decorate_widget(sub)
        return
    if isinstance(widget, forms.HiddenInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
        return
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    existing = widget.attrs.get("class", "")
    if css not in existing.split():
        widget.attrs["class"] = f"{existing} {css}".strip()


def bootstrapify(form: forms.BaseForm) -> forms.BaseForm:
    for bound_field in form.fields.values():
        read_choices_in_one_query(bound_field)
        lighten_select(bound_field)  # same markup, rendered without a template per option
        _decorate_widget(bound_field.widget)
    return form


def enable_inline_validation(form: forms.BaseForm, url: str, target: str = "#record-form") -> None:
    """Each field re-validates the form (without saving) when it changes.

    Only that field's error box is swapped in from the answer (`hx-select`), never the
    form: a field the user changes while the check is under way keeps its new value.
    `target` is kept for callers that name their form; the swap is per field.
    """
    for name, form_field in form.fields.items():
        widget = form_field.widget
        if isinstance(widget, forms.HiddenInput | forms.FileInput) or name == "version":
            continue
        errors_box = f"#errors-{form.add_prefix(name)}"
        widget.attrs.update(
            {
                "hx-post": url,
                "hx-trigger": "change",
                "hx-target": errors_box,
                "hx-select": errors_box,
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
            }
        )


# --- Custom fields ---------------------------------------------------------------------------
def custom_choices(custom_field: CustomField) -> list[tuple[str, str]]:
    """(value, label) pairs of a choice custom field, labels in the current language."""
    zh = (get_language() or "zh").startswith("zh")
    pairs = []
    for choice in custom_field.choices or []:
        if isinstance(choice, dict):
            value = str(choice.get("value", ""))
            label = (
                choice.get("label_zh" if zh else "label_en")
                or choice.get("label")
                or choice.get("label_zh")
                or choice.get("label_en")
                or value
            )
            pairs.append((value, str(label)))
        else:
            pairs.append((str(choice), str(choice)))
    return pairs


def custom_form_field(custom_field: CustomField) -> forms.Field:
    kind = custom_field.field_type
    common: dict[str, Any] = {"label": custom_field.label, "required": custom_field.required}
    if kind == CustomFieldType.TEXT:
        return forms.CharField(max_length=255, **common)
    if kind == CustomFieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == CustomFieldType.INTEGER:
        return forms.IntegerField(**common)
    if kind == CustomFieldType.DECIMAL:
        return forms.DecimalField(**common)
    if kind == CustomFieldType.MONEY:
        return forms.DecimalField(decimal_places=2, max_digits=18, **common)
    if kind == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomFieldType.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
            **common,
        )
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(
            choices=[("", "---------"), *custom_choices(custom_field)], **common
        )
    if kind == CustomFieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=custom_choices(custom_field), widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == CustomFieldType.USER:
        return forms.ModelChoiceField(
            queryset=active_users(), widget=LookupSelect(url_name="core:lookup_users"), **common
        )
    if kind == CustomFieldType.BOOLEAN:
        return forms.TypedChoiceField(
            choices=[("", "---------"), ("true", _("Yes")), ("false", _("No"))],
            coerce=lambda value: value == "true",
            empty_value=None,
            **common,
        )
    return forms.CharField(**common)


def custom_initial(custom_field: CustomField, value: Any) -> Any:
    """A stored JSON value as the form field's initial value."""
    if value is None:
        return None
    kind = custom_field.field_type
    if kind == CustomFieldType.DATE and isinstance(value, str):
        return parse_date(value)
    if kind == CustomFieldType.DATETIME and isinstance(value, str):
        parsed = parse_datetime(value)
        return timezone.localtime(parsed) if parsed and timezone.is_aware(parsed) else parsed
    if kind == CustomFieldType.BOOLEAN:
        return "true" if value else "false"
    return value


def custom_json(value: Any) -> Any:
    """A cleaned form value as what the service stores in custom_data (None when empty)."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, User):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


# --- The record form -------------------------------------------------------------------------
class RecordForm(forms.ModelForm):
    """Base class of registered models' forms (subclass with a normal `Meta`)."""

    def __init__(
        self,
        *args: Any,
        custom_fields: list[CustomField] | None = None,
        with_version: bool = False,
        with_tags: bool = True,
        current_tags: list[Tag] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.custom_fields = list(custom_fields or [])
        self._tune_picklists()
        for custom_field in self.custom_fields:
            name = f"{CUSTOM_PREFIX}{custom_field.key}"
            self.fields[name] = custom_form_field(custom_field)
            if self.instance.pk is not None:
                self.initial[name] = custom_initial(
                    custom_field, (self.instance.custom_data or {}).get(custom_field.key)
                )
        if with_tags:
            self.fields["tags"] = forms.ModelMultipleChoiceField(
                queryset=Tag.objects.order_by("name"),
                required=False,
                label=_("Tags"),
                widget=forms.SelectMultiple(attrs={"size": 4}),
            )
            if current_tags is not None:
                self.initial["tags"] = [tag.pk for tag in current_tags]
        if with_version:
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
            self.initial.setdefault("version", self.instance.version)
        bootstrapify(self)

    def _tune_picklists(self) -> None:
        """Picklist selects: active options by their order, localised labels; an option that
        was deactivated stays available on the records that already use it."""
        for name, form_field in self.fields.items():
            if not isinstance(form_field, forms.ModelChoiceField):
                continue
            if form_field.queryset.model is not PicklistOption:
                continue
            queryset = form_field.queryset
            current = getattr(self.instance, f"{name}_id", None)
            if current:
                queryset = queryset | PicklistOption.objects.filter(pk=current)
            form_field.queryset = queryset.distinct().order_by("sort_order", "id")
            form_field.label_from_instance = lambda option: option.label

    def _post_clean(self) -> None:
        # The model is validated by the service (record_create / record_update), not here:
        # that keeps the instance untouched until the service snapshots it for the audit.
        return None

    # What the views hand to the services.
    @property
    def custom_field_names(self) -> list[str]:
        return [f"{CUSTOM_PREFIX}{field.key}" for field in self.custom_fields]

    def model_data(self) -> dict[str, Any]:
        model_fields = {field.name for field in self._meta.model._meta.get_fields()}
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in model_fields and name not in ("tags", "version")
        }

    def custom_data(self) -> dict[str, Any]:
        return {
            field.key: custom_json(self.cleaned_data.get(f"{CUSTOM_PREFIX}{field.key}"))
            for field in self.custom_fields
        }

    def custom_data_for_create(self) -> dict[str, Any]:
        return {key: value for key, value in self.custom_data().items() if value is not None}

    def selected_tags(self) -> list[Tag] | None:
        if "tags" not in self.fields:
            return None
        return list(self.cleaned_data.get("tags") or [])


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when there is one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, errors in error.message_dict.items():
        name = key
        if key.startswith("custom."):
            name = f"{CUSTOM_PREFIX}{key.removeprefix('custom.')}"
        if name in form.fields:
            form.add_error(name, errors)
        elif key == "__all__":
            form.add_error(None, errors)
        else:
            form.add_error(None, [f"{key}: {message}" for message in errors])


# --- Small forms of the detail page and the list -------------------------------------------
class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=_("New owner"),
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()
        bootstrapify(self)


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=_("User"),
        required=False,
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(),
        label=_("Department"),
        required=False,
        widget=LookupSelect(url_name="core:lookup_departments"),
    )
    access = forms.ChoiceField(
        label=_("Access"), choices=ShareAccess.choices, initial=ShareAccess.READ
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_users()
        bootstrapify(self)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("user") and not cleaned.get("department"):
            raise ValidationError(_("Choose a user or a department to share with."))
        return cleaned


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class DeleteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    query_string = forms.CharField(required=False, widget=forms.HiddenInput)
    is_default = forms.BooleanField(label=_("Open this view by default"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class BulkForm(forms.Form):
    """The bulk action bar: which records, what to do, and the action's parameters.

    `bulk_<field>` carries the new value for the "edit one field" action; the field list
    comes from the registration.
    """

    ACTIONS = [("edit", _("Edit a field")), ("assign", _("Assign owner")), ("delete", _("Delete"))]

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    pk = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)
    field = forms.ChoiceField(label=_("Field"), required=False, choices=())
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=_("New owner"),
        required=False,
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(
        self, *args: Any, model=None, edit_fields=(), with_values: bool = True, **kwargs: Any
    ):
        """`with_values=False`: without the `bulk_<field>` value fields, for the bar as a
        list page first shows it (building them is most of the form's cost)."""
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()
        self.edit_fields = list(edit_fields)
        self.fields["field"].choices = [
            (name, model._meta.get_field(name).verbose_name) for name in self.edit_fields
        ]
        for name in self.edit_fields if with_values else ():
            model_field = model._meta.get_field(name)
            form_field = model_field.formfield(required=False)
            # A plain Form does not apply the field's limit_choices_to (a ModelForm does):
            # without it a picklist field offered and accepted every picklist's options.
            apply_limit_choices_to_to_formfield(form_field)
            if (
                isinstance(form_field, forms.ModelChoiceField)
                and form_field.queryset.model is PicklistOption
            ):
                form_field.queryset = form_field.queryset.order_by("sort_order", "id")
                form_field.label_from_instance = lambda option: option.label
            self.fields[f"bulk_{name}"] = form_field
        bootstrapify(self)

    def full_clean(self):
        # The ids are checked against the user's scope by the view, not against choices.
        if self.is_bound:
            ids = []
            for raw in self.data.getlist("pk") if hasattr(self.data, "getlist") else []:
                try:
                    ids.append(int(raw))
                except (TypeError, ValueError):
                    continue
            self.fields["pk"].choices = [(value, value) for value in ids]
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == "edit":
            name = cleaned.get("field")
            if name not in self.edit_fields:
                self.add_error("field", _("Choose the field to change."))
        if action == "assign" and not cleaned.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        return cleaned

    def edit_value(self):
        name = self.cleaned_data.get("field")
        return name, self.cleaned_data.get(f"bulk_{name}")
