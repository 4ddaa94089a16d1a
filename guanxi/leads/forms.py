"""Forms of the leads app (thin: validation lives in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms.generic import RecordForm, active_users, bootstrapify
from guanxi.core.forms.widgets import use_lookup
from guanxi.core.models import PicklistOption
from guanxi.customers.regions import PROVINCES
from guanxi.leads.models import LEAD_SOURCE_PICKLIST, Lead, LeadStatus, Pool, PoolKind, WebForm

EMPTY_CHOICE = ("", "---------")


def _province_choices(current: str = "") -> list[tuple[str, str]]:
    choices = [EMPTY_CHOICE, *[(name, name) for name in PROVINCES]]
    if current and current not in PROVINCES:
        choices.append((current, current))  # an imported value that is not a province name
    return choices


class LeadForm(RecordForm):
    """Every editable lead field. Converted is not offered: only conversion converts."""

    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    province = forms.ChoiceField(label=_("province"), required=False)

    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "title",
            "phone",
            "email",
            "wechat",
            "website",
            "industry",
            "source",
            "status",
            "rating",
            "province",
            "city",
            "address",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4}), "address": forms.TextInput()}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = _province_choices(self.instance.province)
        status = self.fields["status"]
        status.choices = [
            (value, label)
            for value, label in status.choices
            if value != LeadStatus.CONVERTED or self.instance.status == LeadStatus.CONVERTED
        ]
        status.required = False
        bootstrapify(self)

    def clean_status(self):
        return self.cleaned_data.get("status") or self.instance.status or LeadStatus.NEW


class QuickFollowUpForm(forms.Form):
    """The follow-up form on the lead page: how, what was said, and when to follow up next."""

    channel = forms.ChoiceField(label=_("channel"))
    content = forms.CharField(label=_("what was said"), widget=forms.Textarea(attrs={"rows": 2}))
    next_follow_up_at = forms.DateTimeField(
        label=_("next follow-up"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from guanxi.activities.models import FOLLOW_UP_CHANNEL_PICKLIST

        options = PicklistOption.objects.filter(
            picklist__code=FOLLOW_UP_CHANNEL_PICKLIST, is_active=True
        ).order_by("sort_order", "id")
        self.fields["channel"].choices = [(option.value, option.label) for option in options]
        bootstrapify(self)


# --- Web-to-lead forms -----------------------------------------------------------------------
# The lead fields a web form may ask for, with their default labels (zh, en).
FORM_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("姓名", "Name"),
    "company": ("公司", "Company"),
    "title": ("职位", "Job title"),
    "phone": ("电话", "Phone"),
    "email": ("邮箱", "E-mail"),
    "wechat": ("微信", "WeChat"),
    "website": ("网站", "Website"),
    "province": ("省份", "Province"),
    "city": ("城市", "City"),
    "address": ("地址", "Address"),
    "notes": ("留言", "Message"),
}


def form_field_choices() -> list[tuple[str, str]]:
    return [(name, str(Lead._meta.get_field(name).verbose_name)) for name in FORM_FIELDS]


class WebFormDesignForm(forms.ModelForm):
    """The administrator's form designer. The fields come as rows of the `field_<n>`,
    `label_zh_<n>`, `label_en_<n>`, `required_<n>` inputs, in order; `fields_spec()` is what
    the service stores."""

    ROWS = len(FORM_FIELDS)

    class Meta:
        model = WebForm
        fields = [
            "name",
            "title_zh",
            "title_en",
            "thank_you_zh",
            "thank_you_en",
            "source",
            "owner",
            "pool",
            "is_active",
        ]
        widgets = {
            "thank_you_zh": forms.Textarea(attrs={"rows": 2}),
            "thank_you_en": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        source = self.fields["source"]
        source.queryset = PicklistOption.objects.filter(
            picklist__code=LEAD_SOURCE_PICKLIST, is_active=True
        ).order_by("sort_order", "id")
        source.label_from_instance = lambda option: option.label
        self.fields["owner"].queryset = active_users()
        use_lookup(self.fields["owner"], "core:lookup_users")
        self.fields["pool"].queryset = Pool.objects.filter(
            kind=PoolKind.LEADS, is_active=True
        ).order_by("name")
        current = list(self.instance.fields or []) if self.instance.pk else []
        if not current and not self.is_bound:
            current = [
                {"field": "name", "required": True},
                {"field": "company", "required": False},
                {"field": "phone", "required": False},
                {"field": "email", "required": False},
                {"field": "notes", "required": False},
            ]
        choices = [EMPTY_CHOICE, *form_field_choices()]
        for index in range(self.ROWS):
            row = current[index] if index < len(current) else {}
            name = row.get("field", "")
            defaults = FORM_FIELDS.get(name, ("", ""))
            self.fields[f"field_{index}"] = forms.ChoiceField(
                label=_("field"), choices=choices, required=False, initial=name
            )
            self.fields[f"label_zh_{index}"] = forms.CharField(
                label=_("label (Chinese)"),
                required=False,
                max_length=100,
                initial=row.get("label_zh") or defaults[0],
            )
            self.fields[f"label_en_{index}"] = forms.CharField(
                label=_("label (English)"),
                required=False,
                max_length=100,
                initial=row.get("label_en") or defaults[1],
            )
            self.fields[f"required_{index}"] = forms.BooleanField(
                label=_("required"), required=False, initial=bool(row.get("required"))
            )
        bootstrapify(self)

    def text_fields(self) -> list:
        return [
            self[name] for name in ("name", "title_zh", "title_en", "thank_you_zh", "thank_you_en")
        ]

    def target_fields(self) -> list:
        return [self[name] for name in ("source", "owner", "pool", "is_active")]

    def rows(self) -> list[dict]:
        return [
            {
                "field": self[f"field_{index}"],
                "label_zh": self[f"label_zh_{index}"],
                "label_en": self[f"label_en_{index}"],
                "required": self[f"required_{index}"],
            }
            for index in range(self.ROWS)
        ]

    def fields_spec(self) -> list[dict]:
        spec = []
        for index in range(self.ROWS):
            name = self.cleaned_data.get(f"field_{index}")
            if not name:
                continue
            defaults = FORM_FIELDS.get(name, ("", ""))
            spec.append(
                {
                    "field": name,
                    "label_zh": self.cleaned_data.get(f"label_zh_{index}") or defaults[0],
                    "label_en": self.cleaned_data.get(f"label_en_{index}") or defaults[1],
                    "required": bool(self.cleaned_data.get(f"required_{index}")),
                }
            )
        return spec

    def model_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


def field_label(spec: dict, language: str | None = None) -> str:
    """A web-form field's label in the visitor's language."""
    language = language or get_language() or "zh-hans"
    zh = language.startswith("zh")
    defaults = FORM_FIELDS.get(spec.get("field", ""), ("", ""))
    if zh:
        return spec.get("label_zh") or spec.get("label_en") or defaults[0]
    return spec.get("label_en") or spec.get("label_zh") or defaults[1]
