"""Forms of the contact, link, relation, group and membership pages (thin: the services
validate and write; these only read the request and show the services' errors)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms.generic import RecordForm, active_users, bootstrapify
from guanxi.core.forms.widgets import LookupSelect
from guanxi.core.models import PicklistOption, Tag
from guanxi.core.phones import email_normalise, phone_normalise
from guanxi.customers import groups as group_conditions
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactRelation,
    Group,
    MembershipLevel,
    PointKind,
    PointsEntry,
)


class ServiceData(dict):
    """The model field values for the service, plus what is not a model field (a contact's
    phones and e-mails) in `extra`, which the generic views never set on the instance."""

    def __init__(self, *args: Any, extra: dict | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.extra = extra or {}


# --- Several phones / e-mails of one contact -------------------------------------------------
class ContactPointsWidget(forms.Widget):
    """A list of rows (value + type + which one is primary), added and removed in the page.

    Posts `<name>-value`, `<name>-kind` (one per row, in order) and `<name>-primary` (the
    position of the primary row)."""

    template_name = "customers/contact_points_widget.html"

    def __init__(self, *, kinds, default_kind: str, input_type: str = "text", attrs=None):
        # "rows" only asks the generic form for a full-width column.
        super().__init__({"rows": 1, **(attrs or {})})
        self.kinds = list(kinds)
        self.default_kind = default_kind
        self.input_type = input_type

    def value_from_datadict(self, data, files, name):
        if not hasattr(data, "getlist"):
            return data.get(name)
        values = data.getlist(f"{name}-value")
        kinds = data.getlist(f"{name}-kind")
        try:
            primary = int(data.get(f"{name}-primary", ""))
        except ValueError:
            primary = -1
        rows = []
        for position, value in enumerate(values):
            rows.append(
                {
                    "value": value,
                    "kind": kinds[position] if position < len(kinds) else self.default_kind,
                    "is_primary": position == primary,
                }
            )
        return rows

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-value" not in data

    def render(self, name, value, attrs=None, renderer=None):
        rows = [dict(row) for row in (value or []) if isinstance(row, dict)]
        if not rows:
            rows = [{"value": "", "kind": self.default_kind, "is_primary": True}]
        primary = next((i for i, row in enumerate(rows) if row.get("is_primary")), 0)
        state = {
            "rows": [
                {"id": i, "value": row.get("value", ""), "kind": row.get("kind")}
                for i, row in enumerate(rows)
            ],
            "primary": primary,
            "next": len(rows),
            "defaultKind": self.default_kind,
        }
        return render_to_string(
            self.template_name,
            {
                "name": name,
                "state": json.dumps(state, ensure_ascii=False),
                "rows": rows,
                "kinds": [(value, str(label)) for value, label in self.kinds],
                "input_type": self.input_type,
                "widget_id": (attrs or {}).get("id") or f"id_{name}",
            },
        )


class ContactPointsField(forms.Field):
    """Rows of phones or e-mails, each checked the way the service will store it."""

    def __init__(self, *, key: str, normalise, row_label, **kwargs: Any):
        self.key = key
        self.normalise = normalise
        self.row_label = row_label
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        rows = []
        for row in value or []:
            if not isinstance(row, dict):
                continue
            text = (row.get("value") or row.get(self.key) or "").strip()
            rows.append({**row, "value": text})
        return rows

    def validate(self, value):
        errors = []
        for position, row in enumerate(value, start=1):
            if not row["value"]:
                continue
            try:
                self.normalise(row["value"])
            except ValidationError as error:
                errors.append(
                    gettext("%(what)s %(n)s: %(error)s")
                    % {"what": self.row_label, "n": position, "error": " ".join(error.messages)}
                )
        if errors:
            raise ValidationError(errors)

    def for_service(self, value) -> list[dict]:
        """Non-empty rows as the service expects them ({number|address, kind, is_primary})."""
        return [
            {self.key: row["value"], "kind": row.get("kind") or "", "is_primary": row["is_primary"]}
            for row in value or []
            if row.get("value")
        ]


class ContactForm(RecordForm):
    phones = ContactPointsField(
        key="number",
        normalise=phone_normalise,
        row_label=_("Phone"),
        label=_("Phones"),
        widget=ContactPointsWidget(kinds=PointKind.choices, default_kind=PointKind.MOBILE),
        help_text=_("Mark one as primary; it is shown in lists."),
    )
    emails = ContactPointsField(
        key="address",
        normalise=email_normalise,
        row_label=_("E-mail"),
        label=_("E-mails"),
        widget=ContactPointsWidget(
            kinds=PointKind.choices, default_kind=PointKind.WORK, input_type="email"
        ),
    )

    class Meta:
        model = Contact
        fields = ["name", "gender", "title", "birthday", "wechat", "address", "notes"]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "address": forms.TextInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        contact = self.instance
        if contact.pk is not None:
            self.initial["phones"] = [
                {"value": phone.number, "kind": phone.kind, "is_primary": phone.is_primary}
                for phone in contact.phones.all()
            ]
            self.initial["emails"] = [
                {"value": email.address, "kind": email.kind, "is_primary": email.is_primary}
                for email in contact.emails.all()
            ]

    def model_data(self) -> ServiceData:
        data = super().model_data()
        data.pop("phones", None)
        data.pop("emails", None)
        extra = {}
        for name in ("phones", "emails"):
            if name in self.cleaned_data:
                extra[name] = self.fields[name].for_service(self.cleaned_data[name])
        return ServiceData(data, extra=extra)


# --- Choosing a visible record by typing -----------------------------------------------------
class SearchSelectWidget(LookupSelect):
    """A search box that loads the matching records the user may see into a select
    (htmx), so a page never lists a whole table. `url_name` answers the select's whole
    option list for `q` (and fills it as the page loads when nothing is chosen)."""

    replace_options = True
    load_when_empty = True
    keep_htmx_attrs = False  # the search drives the select: no inline validation on it

    def _selected_options(self, values, fixed):
        # The field's queryset is not scoped to the user: never show a name from it.
        return [(value, f"#{value}") for value in values if value not in fixed]


def _picklist_options(code: str):
    return PicklistOption.objects.filter(picklist__code=code, is_active=True).order_by(
        "sort_order", "id"
    )


class AccountContactForm(RecordForm):
    """Create a link (account + contact + role) or change its role, title and primary flag."""

    account = forms.ModelChoiceField(
        label=_("account"),
        queryset=Account.objects.all(),
        widget=SearchSelectWidget(url_name="customers:account_choices"),
    )
    contact = forms.ModelChoiceField(
        label=_("contact"),
        queryset=Contact.objects.all(),
        widget=SearchSelectWidget(url_name="customers:contact_choices"),
    )

    class Meta:
        model = AccountContact
        fields = ["account", "contact", "role", "job_title", "is_primary"]

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["with_tags"] = False
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            del self.fields["account"]
            del self.fields["contact"]


class LinkForm(forms.Form):
    """Link a contact to an account from either page."""

    account = forms.IntegerField(
        label=_("account"), widget=SearchSelectWidget(url_name="customers:account_choices")
    )
    contact = forms.IntegerField(
        label=_("contact"), widget=SearchSelectWidget(url_name="customers:contact_choices")
    )
    role = forms.ModelChoiceField(
        label=_("role"), queryset=PicklistOption.objects.none(), required=False
    )
    job_title = forms.CharField(label=_("job title"), max_length=100, required=False)
    is_primary = forms.BooleanField(label=_("primary contact"), required=False)

    def __init__(self, *args: Any, fixed: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = _picklist_options("contact_role")
        self.fields["role"].label_from_instance = lambda option: option.label
        if fixed:  # the page's own record: a hidden field
            self.fields[fixed].widget = forms.HiddenInput()
        bootstrapify(self)


class RelationForm(forms.Form):
    kind = forms.ChoiceField(label=_("relation"), choices=ContactRelation.Kind.choices)
    to_contact = forms.IntegerField(
        label=_("contact"), widget=SearchSelectWidget(url_name="customers:contact_choices")
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


# --- Groups ----------------------------------------------------------------------------------
OPERATOR_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "contains": _("contains"),
    "startswith": _("starts with"),
    "gt": _("greater than"),
    "gte": _("at least"),
    "lt": _("less than"),
    "lte": _("at most"),
    "in": _("is one of"),
    "isnull": _("is empty"),
    "has": _("has tag"),
    "has_not": _("does not have tag"),
    "since": _("at least once since"),
    "not_since": _("not since"),
}
OPERATOR_ORDER = list(OPERATOR_LABELS)


def _ops(ops) -> list[str]:
    return [op for op in OPERATOR_ORDER if op in ops] + sorted(set(ops) - set(OPERATOR_ORDER))


def condition_fields() -> dict[str, dict]:
    """What the condition builder offers: each field's label, operators and choices."""
    from guanxi.core.services.custom_fields import custom_fields_for

    meta = Account._meta
    fields: dict[str, dict] = {}

    def add(name, label, ops, choices=None, kind="text"):
        fields[name] = {
            "label": str(label),
            "ops": [[op, str(OPERATOR_LABELS.get(op, op))] for op in _ops(ops)],
            "choices": choices,
            "type": kind,
        }

    for name in sorted(group_conditions.TEXT_FIELDS):
        add(name, meta.get_field(name).verbose_name, group_conditions.TEXT_OPS)
    for name in sorted(group_conditions.CHOICE_FIELDS):
        choices = [[value, str(label)] for value, label in meta.get_field(name).choices]
        add(name, meta.get_field(name).verbose_name, group_conditions.CHOICE_OPS, choices)
    picklist_codes = {
        "industry": "industry",
        "source": "source",
        "status": "account_status",
        "credit_rating": "credit_rating",
        "level": "customer_level",
    }
    options: dict[str, list] = {code: [] for code in picklist_codes.values()}
    for option in (
        PicklistOption.objects.filter(picklist__code__in=list(options), is_active=True)
        .select_related("picklist")
        .order_by("sort_order", "id")
    ):
        options[option.picklist.code].append([option.value, option.label])
    for name in sorted(group_conditions.PICKLIST_FIELDS):
        add(
            name,
            meta.get_field(name).verbose_name,
            group_conditions.CHOICE_OPS,
            options.get(picklist_codes.get(name, name), []),
        )
    for name in sorted(group_conditions.NUMBER_FIELDS):
        add(name, meta.get_field(name).verbose_name, group_conditions.NUMBER_OPS, kind="number")
    for name in sorted(group_conditions.DATE_FIELDS):
        add(name, meta.get_field(name).verbose_name, group_conditions.NUMBER_OPS, kind="date")
    users = [[user.pk, str(user)] for user in active_users()]
    for name in sorted(group_conditions.USER_FIELDS):
        add(name, meta.get_field(name).verbose_name, group_conditions.CHOICE_OPS, users)
    tags = [[tag.name, tag.name] for tag in Tag.objects.order_by("name")]
    add("tag", _("tag"), group_conditions.TAG_OPS, tags)
    for custom_field in custom_fields_for(Account):
        add(
            f"custom.{custom_field.key}",
            custom_field.label,
            group_conditions.TEXT_OPS | group_conditions.NUMBER_OPS | {"in"},
        )
    for name, (label, ops, _builder) in group_conditions.extra_conditions().items():
        add(name, label, ops)
    return fields


class ConditionsWidget(forms.Widget):
    """The dynamic group's condition builder: rows of field / operator / value and
    "match all / any", kept as JSON in one hidden input, with a live member count."""

    template_name = "customers/group_conditions_widget.html"

    def __init__(self, attrs=None):
        # "rows" only asks the generic form for a full-width column.
        super().__init__({"rows": 1, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError:
                value = {}
        return value if isinstance(value, dict) else {}

    def render(self, name, value, attrs=None, renderer=None):
        conditions = self.format_value(value)
        rows = []
        for position, item in enumerate(conditions.get("conditions") or []):
            if not isinstance(item, dict):
                continue
            raw = item.get("value")
            if isinstance(raw, list):
                raw = ", ".join(str(part) for part in raw)
            rows.append(
                {
                    "id": position,
                    "field": item.get("field", ""),
                    "op": item.get("op", ""),
                    "value": "" if raw is None else str(raw),
                }
            )
        state = {
            "match": conditions.get("match", "all"),
            "dynamic": True,
            "rows": rows,
            "next": len(rows),
            "fields": condition_fields(),
        }
        final = self.build_attrs(self.attrs, attrs)
        try:
            count_url = reverse("customers:group_member_count")
        except NoReverseMatch:
            count_url = ""
        return render_to_string(
            self.template_name,
            {
                "name": name,
                "state": json.dumps(state, ensure_ascii=False),
                "json_value": json.dumps(conditions, ensure_ascii=False),
                "widget_id": final.get("id", f"id_{name}"),
                "count_url": count_url,
            },
        )


def conditions_from_text(value: Any) -> dict:
    """The posted JSON as the dict the service stores ("in" values split at commas)."""
    if isinstance(value, dict):
        conditions = value
    else:
        text = (value or "").strip()
        if not text:
            return {}
        try:
            conditions = json.loads(text)
        except ValueError:
            raise ValidationError(gettext("The conditions could not be read.")) from None
    if not isinstance(conditions, dict):
        raise ValidationError(gettext("The conditions could not be read."))
    items = []
    for item in conditions.get("conditions") or []:
        if not isinstance(item, dict):
            continue
        item = dict(item)
        if item.get("op") == "in" and isinstance(item.get("value"), str):
            item["value"] = [part.strip() for part in item["value"].split(",") if part.strip()]
        if item.get("op") == "isnull":
            item["value"] = True
        items.append(item)
    return {"match": conditions.get("match") or "all", "conditions": items}


class ConditionsField(forms.Field):
    widget = ConditionsWidget

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return conditions_from_text(value)


class GroupForm(RecordForm):
    conditions = ConditionsField(
        label=_("conditions"),
        help_text=_("Used by dynamic groups: the accounts that match are the members."),
    )

    class Meta:
        model = Group
        fields = ["name", "kind", "description", "conditions"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Group.Kind.DYNAMIC and "conditions" in cleaned:
            try:
                group_conditions.conditions_validate(cleaned["conditions"])
            except ValidationError as error:
                for message in error.messages:
                    self.add_error("conditions", message)
        elif cleaned.get("kind") == Group.Kind.STATIC:
            cleaned["conditions"] = {}
        return cleaned


class GroupMembersForm(forms.Form):
    """Accounts (ids) to add to or remove from a static group."""

    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
    ids = forms.CharField(required=False)

    def clean_ids(self) -> list[int]:
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else [self.data["ids"]]
        raw += self.data.getlist("pk") if hasattr(self.data, "getlist") else []
        ids = []
        for chunk in raw:
            for part in str(chunk).split(","):
                part = part.strip()
                if part.isdigit():
                    ids.append(int(part))
        if not ids:
            raise ValidationError(gettext("Choose at least one account."))
        return list(dict.fromkeys(ids))


# --- Membership ------------------------------------------------------------------------------
class PointsForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=PointsEntry.Kind.choices)
    points = forms.IntegerField(label=_("points"))
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class MembershipLevelForm(forms.ModelForm):
    class Meta:
        model = MembershipLevel
        fields = ["name_zh", "name_en", "threshold", "discount_percent"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)

    def _post_clean(self) -> None:
        return None  # the service validates the model
