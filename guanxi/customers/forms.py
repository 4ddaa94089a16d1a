"""Forms of the customers app (thin: validation lives in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms.generic import RecordForm, active_users, bootstrapify
from guanxi.core.forms.widgets import LookupSelect, use_lookup
from guanxi.core.masking import contact_details_visible
from guanxi.core.models import Department, ShareAccess, Tag
from guanxi.core.pdf import ENVELOPE_SIZES, LABEL_SHEETS
from guanxi.customers.models import Account, Group
from guanxi.customers.regions import PROVINCES

EMPTY_CHOICE = ("", "---------")


class AccountLookupSelect(forms.Select):
    """A select that renders only the chosen account (never the whole table), with a
    search box above it that loads up to 20 matching accounts the user may see (htmx)."""

    def __init__(self, *args: Any, lookup_url: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lookup_url = lookup_url

    def optgroups(self, name, value, attrs=None):
        chosen = [str(item) for item in value if item not in (None, "")]
        queryset = getattr(self.choices, "queryset", None)
        options = [(EMPTY_CHOICE[0], EMPTY_CHOICE[1])]
        if chosen and queryset is not None:
            options += [
                (str(account.pk), str(account)) for account in queryset.filter(pk__in=chosen)[:1]
            ]
        groups = []
        for index, (option_value, label) in enumerate(options):
            selected = option_value in chosen
            groups.append(
                (
                    None,
                    [self.create_option(name, option_value, label, selected, index, attrs=attrs)],
                    index,
                )
            )
        return groups

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        if not self.lookup_url:
            return select
        select_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        search = format_html(
            '<input type="search" name="account_lookup" class="form-control form-control-sm mb-1"'
            ' placeholder="{}" aria-label="{}" autocomplete="off" hx-get="{}"'
            ' hx-trigger="input changed delay:300ms" hx-target="#{}" hx-swap="innerHTML">',
            _("Search accounts…"),
            _("Search accounts"),
            self.lookup_url,
            select_id,
        )
        return search + select


def _province_choices(current: str = "") -> list[tuple[str, str]]:
    choices = [EMPTY_CHOICE, *[(name, name) for name in PROVINCES]]
    if current and current not in PROVINCES:
        choices.append((current, current))  # an imported value that is not a province name
    return choices


def _city_choices(province: str, current: str = "") -> list[tuple[str, str]]:
    cities = list(PROVINCES.get(province, ()))
    choices = [EMPTY_CHOICE, *[(name, name) for name in cities]]
    if current and current not in cities:
        choices.append((current, current))
    return choices


class AccountForm(RecordForm):
    """Every editable account field, in groups. For an individual account (kind =
    individual) the name, phone and e-mail are the person's: the service keeps the person
    in step, so one form edits both."""

    FIELDSETS = [
        (
            "basic",
            _("Basic information"),
            ["name", "kind", "phone", "email", "website", "account_manager", "parent"],
        ),
        (
            "classification",
            _("Classification"),
            ["industry", "source", "status", "lifecycle_stage", "credit_rating", "level"],
        ),
        (
            "region",
            _("Region and address"),
            ["province", "city", "district", "address", "postcode"],
        ),
        (
            "finance",
            _("Finance"),
            ["tax_number", "invoice_title", "annual_revenue", "currency", "employees"],
        ),
        ("notes", _("Notes"), ["notes"]),
    ]

    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    province = forms.ChoiceField(label=_("province"), required=False)
    city = forms.ChoiceField(label=_("city"), required=False)

    class Meta:
        model = Account
        fields = [
            "name",
            "kind",
            "phone",
            "email",
            "website",
            "account_manager",
            "parent",
            "industry",
            "source",
            "status",
            "lifecycle_stage",
            "credit_rating",
            "level",
            "province",
            "city",
            "district",
            "address",
            "postcode",
            "tax_number",
            "invoice_title",
            "annual_revenue",
            "currency",
            "employees",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "address": forms.TextInput(),
        }

    def __init__(self, *args: Any, user=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        instance = self.instance
        self.fields["kind"].widget.attrs["x-model"] = "kind"
        self.fields["account_manager"].queryset = active_users()
        use_lookup(self.fields["account_manager"], "core:lookup_users")
        parent = self.fields["parent"]
        parents = Account.objects.visible_to(user) if user is not None else Account.objects.none()
        if instance.pk is not None:
            parents = parents.exclude(pk=instance.pk)
            if instance.parent_id:  # keep the current parent even if it left the scope
                parents = parents | Account.objects.filter(pk=instance.parent_id)
        parent.queryset = parents
        parent.widget = AccountLookupSelect(
            lookup_url=reverse("customers:account_lookup"), attrs={"class": "form-select"}
        )
        parent.widget.choices = parent.choices

        province = self._value("province", instance.province)
        self.fields["province"].choices = _province_choices(instance.province)
        self.fields["city"].choices = _city_choices(province, instance.city)
        self.fields["province"].widget.attrs["data-gx-province"] = "1"
        self.fields["city"].widget.attrs["data-gx-city"] = "1"
        self.fields["currency"].widget.attrs["maxlength"] = 3
        # Left empty, these keep their defaults (CNY, prospect) rather than failing.
        self.fields["currency"].required = False
        self.fields["lifecycle_stage"].required = False

        # A role that may not see phone numbers and e-mails may not edit them either.
        self.contact_details_hidden = (
            instance.pk is not None and user is not None and not contact_details_visible(user)
        )
        if self.contact_details_hidden:
            for name in ("phone", "email"):
                self.fields.pop(name, None)
        bootstrapify(self)

    def _value(self, name: str, default: str) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix(name), "") or ""
        return default or ""

    def clean_currency(self):
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        return currency or self.instance.currency or "CNY"

    def clean_lifecycle_stage(self):
        return self.cleaned_data.get("lifecycle_stage") or self.instance.lifecycle_stage

    def clean_city(self):
        city = self.cleaned_data.get("city") or ""
        province = self.cleaned_data.get("province") or ""
        if city and city != self.instance.city and city not in PROVINCES.get(province, ()):
            raise forms.ValidationError(_("Choose a city of the chosen province."))
        return city

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is None or self.instance.pk is None:
            return parent
        seen, current = set(), parent
        while current is not None and current.pk not in seen:
            if current.pk == self.instance.pk:
                raise forms.ValidationError(_("An account cannot be its own parent."))
            seen.add(current.pk)
            current = current.parent if current.parent_id else None
        return parent

    def fieldsets(self) -> list[dict]:
        """The visible fields in their groups; custom fields and tags come last."""
        placed: set[str] = set()
        groups = []
        for key, title, names in self.FIELDSETS:
            fields = [self[name] for name in names if name in self.fields]
            placed.update(names)
            if fields:
                groups.append({"key": key, "title": title, "fields": fields})
        rest = [
            field
            for field in self.visible_fields()
            if field.name not in placed and field.name != "version"
        ]
        if rest:
            groups.append({"key": "more", "title": _("More"), "fields": rest})
        return groups


# --- Actions on one or many accounts ---------------------------------------------------------
class AccountShareActionForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=active_users(),
        label=_("User"),
        required=False,
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("path"),
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
            raise forms.ValidationError(_("Choose a user or a department to share with."))
        return cleaned


class AccountGroupActionForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.none(), label=_("Static group"))

    def __init__(self, *args: Any, user=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = (
            Group.objects.editable_by(user).filter(kind=Group.Kind.STATIC).order_by("name")
            if user is not None
            else Group.objects.none()
        )
        bootstrapify(self)


class AccountTagActionForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.order_by("name"), label=_("Tags to add")
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = Tag.objects.order_by("name")
        bootstrapify(self)


class EnvelopeForm(forms.Form):
    size = forms.ChoiceField(
        label=_("Envelope size"),
        choices=[(key, key) for key in ENVELOPE_SIZES],
        initial="DL",
        required=False,
    )
    postcode_boxes = forms.BooleanField(label=_("Postcode boxes"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)

    def clean_size(self):
        return self.cleaned_data.get("size") or "DL"


class LabelForm(forms.Form):
    sheet = forms.ChoiceField(
        label=_("Label sheet"),
        choices=[
            (key, f"{key} ({sheet.columns * sheet.rows})") for key, sheet in LABEL_SHEETS.items()
        ],
        initial="A4-3x8",
        required=False,
    )
    skip = forms.IntegerField(label=_("Skip labels"), required=False, min_value=0, initial=0)
    outlines = forms.BooleanField(label=_("Draw label outlines"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)

    def clean_sheet(self):
        return self.cleaned_data.get("sheet") or "A4-3x8"
