"""Forms of the sales pages (thin: the services validate and write)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_filters.widgets import DateRangeWidget, RangeWidget

from guanxi.activities.forms import ScopedSearchSelect
from guanxi.core.forms.generic import RecordForm, active_users, bootstrapify
from guanxi.core.forms.widgets import LookupSelect
from guanxi.core.models import Department, PicklistOption, User
from guanxi.core.scope import subordinate_ids
from guanxi.customers.filters import PicklistFilter, _options
from guanxi.customers.models import Account
from guanxi.leads.models import LEAD_SOURCE_PICKLIST, Lead
from guanxi.sales.models import (
    CLOSED,
    COMPANY_CURRENCY,
    LOST_REASON_PICKLIST,
    OPEN,
    Attitude,
    Competitor,
    CompetitorStatus,
    ExchangeRate,
    Influence,
    Opportunity,
    Pipeline,
    PriceBook,
    Product,
    ProductCategory,
    Stage,
    StageKind,
    Territory,
)
from guanxi.sales.selectors import board as board_selectors
from guanxi.sales.services.opportunities import default_pipeline
from guanxi.sales.services.pipelines import EXIT_CRITERIA


def currency_choices(current: str = "") -> list[tuple[str, str]]:
    codes = {COMPANY_CURRENCY, *ExchangeRate.objects.values_list("currency", flat=True)}
    codes |= set(PriceBook.objects.values_list("currency", flat=True))
    if current:
        codes.add(current)
    return [(code, code) for code in [COMPANY_CURRENCY, *sorted(codes - {COMPANY_CURRENCY})]]


def _picklist(code: str):
    return PicklistOption.objects.filter(picklist__code=code, is_active=True).order_by(
        "sort_order", "id"
    )


class _LabelChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


# --- the opportunity -------------------------------------------------------------------------
class OpportunityForm(RecordForm):
    """Create or edit an opportunity: the account among those the user sees, the stage
    among the chosen process's open stages, the probability from the stage when left
    empty. Closing goes through win / lose, product lines through their own editor."""

    account = forms.ModelChoiceField(
        label=_("account"),
        queryset=Account.objects.none(),
        widget=ScopedSearchSelect(url_name="customers:account_choices"),
    )
    lead = forms.ModelChoiceField(
        label=_("lead"), queryset=Lead.objects.none(), required=False, widget=forms.HiddenInput
    )
    probability = forms.IntegerField(
        label=_("probability %"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Empty: the stage's probability."),
    )
    currency = forms.ChoiceField(label=_("currency"))

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "account",
            "pipeline",
            "stage",
            "amount",
            "currency",
            "expected_close_date",
            "probability",
            "next_step",
            "source",
            "forecast_commit",
            "territory",
            "lead",
        ]
        widgets = {"expected_close_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, user: User | None = None, initial_account=None, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        accounts = Account.objects.visible_to(user) if user else Account.objects.none()
        if instance.account_id:
            accounts = (accounts | Account.all_objects.filter(pk=instance.account_id)).distinct()
        self.fields["account"].queryset = accounts
        self.fields["lead"].queryset = (
            Lead.objects.visible_to(user) if user else Lead.objects.none()
        )
        if initial_account is not None and not instance.pk:
            self.initial.setdefault("account", initial_account.pk)
        pipelines = Pipeline.objects.filter(is_active=True)
        if instance.pipeline_id:
            pipelines = (pipelines | Pipeline.objects.filter(pk=instance.pipeline_id)).distinct()
        self.fields["pipeline"].queryset = pipelines
        self.fields["pipeline"].required = False
        pipeline_id = self.data.get(self.add_prefix("pipeline")) or instance.pipeline_id
        if not pipeline_id:
            default = pipelines.order_by("-is_default", "sort_order", "id").first()
            pipeline_id = default.pk if default else None
            if default is not None:
                self.initial.setdefault("pipeline", default.pk)
        stages = Stage.objects.filter(pipeline_id=pipeline_id or 0, kind=StageKind.OPEN)
        if instance.stage_id:
            stages = (stages | Stage.objects.filter(pk=instance.stage_id)).distinct()
        stage = self.fields["stage"]
        stage.queryset = stages.order_by("sort_order", "id")
        stage.required = False
        stage.help_text = _("Empty: the first stage of the process.")
        self.fields["pipeline"].widget.attrs["data-stage-options"] = "1"
        self.fields["currency"].choices = currency_choices(instance.currency)
        self.fields["currency"].initial = instance.currency or COMPANY_CURRENCY
        self.fields["source"].queryset = _picklist(LEAD_SOURCE_PICKLIST)
        self.fields["source"].label_from_instance = lambda option: option.label
        self.fields["territory"].required = False
        self.fields["territory"].queryset = Territory.objects.all()
        if instance.pk:
            self.fields["probability"].initial = instance.probability
            self.initial["probability"] = instance.probability
            if instance.amount_from_lines:
                self.fields["amount"].disabled = True
                self.fields["amount"].help_text = _("The sum of the product lines.")
            del self.fields["lead"]
        bootstrapify(self)

    def clean(self):
        cleaned = super().clean()
        pipeline, stage = cleaned.get("pipeline"), cleaned.get("stage")
        if pipeline and stage and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("The stage belongs to another sales process."))
        return cleaned

    def model_data(self) -> dict[str, Any]:
        data = super().model_data()
        for name in ("probability", "stage", "pipeline", "lead", "territory"):
            if data.get(name) in (None, ""):
                data.pop(name, None)
        if self.instance.pk:
            if self.instance.amount_from_lines:
                data.pop("amount", None)
            # Only what changed: a closed opportunity refuses edits of other fields.
            data = {
                name: value
                for name, value in data.items()
                if getattr(self.instance, name, None) != value
            }
        return data


class OpportunityFilterSet(django_filters.FilterSet):
    pipeline = django_filters.ModelChoiceFilter(
        label=_("sales process"), queryset=lambda request: Pipeline.objects.all()
    )
    stage = django_filters.ModelChoiceFilter(
        label=_("stage"),
        queryset=lambda request: Stage.objects.select_related("pipeline").order_by(
            "pipeline__sort_order", "pipeline_id", "sort_order"
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("status"),
        choices=[
            ("open", pgettext_lazy("opportunity", "Open")),
            ("won", _("Won")),
            ("lost", _("Lost")),
        ],
        method="by_status",
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("owner"),
        queryset=lambda request: User.objects.filter(is_active=True),
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    closing = django_filters.DateFromToRangeFilter(
        field_name="expected_close_date",
        label=_("expected close between"),
        widget=DateRangeWidget(attrs={"type": "date"}),
    )
    amount = django_filters.RangeFilter(
        field_name="amount_company",
        label=_("amount between (company currency)"),
        widget=RangeWidget(attrs={"type": "number", "step": "0.01"}),
    )
    source = PicklistFilter(label=_("source"), queryset=_options(LEAD_SOURCE_PICKLIST))
    territory = django_filters.ModelChoiceFilter(
        label=_("territory"), queryset=lambda request: Territory.objects.all()
    )
    account = django_filters.NumberFilter(field_name="account_id", widget=forms.HiddenInput)

    class Meta:
        model = Opportunity
        fields = ["pipeline", "stage", "status", "owner", "closing", "amount", "source"]

    def by_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(OPEN)
        if value == "won":
            return queryset.filter(CLOSED, is_won=True)
        if value == "lost":
            return queryset.filter(CLOSED, is_won=False)
        return queryset


# --- the detail page's editors ---------------------------------------------------------------
class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("product"),
        queryset=Product.objects.filter(is_active=True),
        required=False,
        widget=LookupSelect(url_name="sales:opportunity_product_lookup"),
    )
    quantity = forms.DecimalField(
        label=_("quantity"), min_value=0, max_digits=12, decimal_places=2, required=False
    )
    unit_price = forms.DecimalField(
        label=_("unit price"),
        max_digits=18,
        decimal_places=2,
        required=False,
        min_value=0,
        help_text=_("Empty: from the price book."),
    )
    discount_percent = forms.DecimalField(
        label=_("discount %"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        product = self.initial.get("product")
        if product:
            # A product taken off the catalogue stays on the lines that have it.
            self.fields["product"].queryset = Product.objects.filter(
                Q(is_active=True) | Q(pk=getattr(product, "pk", product))
            )
        bootstrapify(self)


# Posted data decides how many rows there are; the page adds and removes rows itself.
LineFormSet = forms.formset_factory(LineForm, extra=1, can_delete=True)
# Blank rows offered at first: a few while there are no lines, then one.
LINE_BLANK_ROWS = 3


def line_formset(*, initial: list[dict[str, Any]], prefix: str = "lines"):
    blank = max(1, LINE_BLANK_ROWS - len(initial))
    formset_class = forms.formset_factory(LineForm, extra=blank, can_delete=True)
    return formset_class(initial=initial, prefix=prefix)


def filled_forms(formset) -> list[tuple[int, forms.Form]]:
    """(row index, form) of the rows of a valid formset that are neither deleted nor left
    blank, in order: what the service is given (and checks, row by row)."""
    return [
        (index, form)
        for index, form in enumerate(formset.forms)
        if form.cleaned_data
        and not form.cleaned_data.get("DELETE")
        and any(
            value not in (None, "") for name, value in form.cleaned_data.items() if name != "DELETE"
        )
    ]


def lines_from(formset) -> list[dict[str, Any]]:
    """The filled, not deleted rows of a valid line formset, for `opportunity_lines_set`."""
    lines = []
    for _index, form in filled_forms(formset):
        data = form.cleaned_data
        lines.append(
            {
                "product": data.get("product"),
                "quantity": data.get("quantity") or 1,
                "unit_price": data.get("unit_price"),
                "discount_percent": data.get("discount_percent") or 0,
            }
        )
    return lines


def _row_message(index: int, label: Any, reason: str) -> str:
    from django.utils.translation import gettext

    if label:
        return gettext("Line %(line)d, %(field)s: %(reason)s") % {
            "line": index + 1,
            "field": label,
            "reason": reason,
        }
    return gettext("Line %(line)d: %(reason)s") % {"line": index + 1, "reason": reason}


def formset_errors(formset) -> list[str]:
    """The problems of an invalid formset, one message per row and field ("Line 2,
    quantity: ..."), the rows numbered as the page shows them."""
    messages = [str(error) for error in formset.non_form_errors()]
    for index, form in enumerate(formset.forms):
        if formset.can_delete and formset._should_delete_form(form):
            continue
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.extend(_row_message(index, label, str(error)) for error in errors)
    return messages


def apply_row_errors(formset, rows: list[int], error, key: str) -> list[str]:
    """Put a service's row errors (see `services.opportunities.row_error`) next to the
    fields of the rows they name (`rows`: the row index of each line given to the service)
    and answer every message, the rows numbered as the page shows them."""
    from django.core.exceptions import ValidationError

    found = []
    items = error.error_dict.get(key, []) if hasattr(error, "error_dict") else error.error_list
    others = (
        [e for name, errs in error.error_dict.items() if name != key for e in errs]
        if hasattr(error, "error_dict")
        else []
    )
    for item in items:
        line = getattr(item, "line", None)
        if line is None or not 0 < line <= len(rows):
            found.extend(ValidationError(item).messages)
            continue
        index = rows[line - 1]
        form = formset.forms[index]
        field = item.field if item.field in form.fields else None
        form.add_error(field, item.reason)
        label = form.fields[field].label if field else ""
        found.append(_row_message(index, label, item.reason))
    for item in others:
        found.extend(ValidationError(item).messages)
    return found


class ContactRoleForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("contact"), queryset=User.objects.none())
    role = _LabelChoice(label=_("role"), queryset=PicklistOption.objects.none(), required=False)
    attitude = forms.ChoiceField(label=_("attitude"), choices=Attitude.choices)
    influence = forms.ChoiceField(
        label=_("influence"), choices=Influence.choices, initial=Influence.MEDIUM
    )
    is_primary = forms.BooleanField(label=_("primary"), required=False)

    def __init__(self, *args: Any, contacts=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["role"].queryset = _picklist("contact_role")
        self.fields["attitude"].initial = Attitude.NEUTRAL
        bootstrapify(self)


class CompetitorEntryForm(forms.Form):
    competitor = forms.ModelChoiceField(
        label=_("competitor"), queryset=Competitor.objects.filter(is_active=True)
    )
    status = forms.ChoiceField(
        label=_("status"),
        choices=[c for c in CompetitorStatus.choices if c[0] != CompetitorStatus.WON],
    )
    notes = forms.CharField(label=_("notes"), max_length=255, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class SplitForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("user"),
        queryset=User.objects.none(),
        required=False,
        widget=LookupSelect(url_name="core:lookup_users"),
    )
    percent = forms.DecimalField(
        label=_("share %"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_users()
        bootstrapify(self)


SplitFormSet = forms.formset_factory(SplitForm, extra=1, can_delete=True)
SPLIT_BLANK_ROWS = 2


def split_formset(*, initial: list[dict[str, Any]], prefix: str = "splits"):
    blank = max(1, SPLIT_BLANK_ROWS - len(initial))
    formset_class = forms.formset_factory(SplitForm, extra=blank, can_delete=True)
    return formset_class(initial=initial, prefix=prefix)


def splits_from(formset) -> list[dict[str, Any]]:
    return [
        {"user": form.cleaned_data.get("user"), "percent": form.cleaned_data.get("percent") or 0}
        for _index, form in filled_forms(formset)
    ]


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MoveForm(VersionForm):
    stage = forms.ModelChoiceField(label=_("stage"), queryset=Stage.objects.none())

    def __init__(self, *args: Any, opportunity: Opportunity, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            pipeline_id=opportunity.pipeline_id
        ).exclude(kind=StageKind.LOST)
        self.fields["stage"].initial = opportunity.stage_id
        bootstrapify(self)


class WinForm(VersionForm):
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class LoseForm(VersionForm):
    reason = _LabelChoice(label=_("lost reason"), queryset=PicklistOption.objects.none())
    winner = forms.ModelChoiceField(
        label=_("won by competitor"),
        queryset=Competitor.objects.filter(is_active=True),
        required=False,
    )
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = _picklist(LOST_REASON_PICKLIST)
        bootstrapify(self)


# --- administration --------------------------------------------------------------------------
class PipelineForm(forms.ModelForm):
    departments = forms.ModelMultipleChoiceField(
        label=_("sales teams"),
        queryset=Department.objects.order_by("path"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    product_categories = forms.ModelMultipleChoiceField(
        label=_("product lines"),
        queryset=ProductCategory.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Pipeline
        fields = ["name_zh", "name_en", "is_default", "is_active", "sort_order"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["departments"] = list(self.instance.departments.all())
            self.initial["product_categories"] = list(self.instance.product_categories.all())
        bootstrapify(self)

    def _post_clean(self):  # the service validates and saves
        return None


class StageForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("required to leave the stage"),
        choices=list(EXIT_CRITERIA.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Stage
        fields = ["name_zh", "name_en", "probability", "kind", "required_fields", "max_days"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)

    def _post_clean(self):
        return None


class CompetitorForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Competitor
        fields = ["name", "website", "strengths", "weaknesses", "is_active"]
        widgets = {
            "strengths": forms.Textarea(attrs={"rows": 3}),
            "weaknesses": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


# --- the board -------------------------------------------------------------------------------
class BoardFilterForm(forms.Form):
    pipeline = forms.ModelChoiceField(
        label=_("Sales process"), queryset=Pipeline.objects.none(), required=False
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Department.objects.all(), required=False
    )
    period = forms.ChoiceField(
        label=_("Closing"),
        required=False,
        choices=[
            ("", _("Any time")),
            ("month", _("This month")),
            ("quarter", _("This quarter")),
            ("year", _("This year")),
            ("custom", _("Custom")),
        ],
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(is_active=True).order_by("code"),
        required=False,
    )

    def __init__(self, data, *, user):
        super().__init__(data)
        self.user = user
        self.fields["pipeline"].queryset = board_selectors.active_pipelines()
        choices = [("", _("Everyone I can see")), (board_selectors.OWNER_ME, _("Me"))]
        choices += [
            (str(person.pk), str(person))
            for person in board_selectors.owner_choices(user)
            if person.pk != user.pk
        ]
        self.fields["owner"].choices = choices

    def filters(self) -> board_selectors.BoardFilters:
        data = self.cleaned_data if self.is_valid() else {}
        pipeline = data.get("pipeline") or default_pipeline()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            start, end = end, start
        product = data.get("product")
        return board_selectors.BoardFilters(
            pipeline=pipeline,
            owner=data.get("owner") or "",
            department=data.get("team"),
            period=data.get("period") or "",
            start=start,
            end=end,
            product_id=product.pk if product else None,
        )


# --- the funnel ------------------------------------------------------------------------------
class FunnelForm(forms.Form):
    pipeline = forms.ModelChoiceField(
        label=_("Sales process"), queryset=Pipeline.objects.none(), required=False
    )
    scope = forms.ChoiceField(
        label=_("Whose"),
        required=False,
        choices=[
            ("me", _("Mine")),
            ("team", _("My team")),
            ("company", _("Company")),
        ],
    )
    start = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, user):
        super().__init__(data)
        self.user = user
        self.fields["pipeline"].queryset = board_selectors.active_pipelines()
        if not board_selectors.sees_company(user):
            self.fields["scope"].choices = self.fields["scope"].choices[:2]

    def values(self):
        data = self.cleaned_data if self.is_valid() else {}
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or (end.replace(day=1) - datetime.timedelta(days=335)).replace(
            day=1
        )
        if start > end:
            start, end = end, start
        if data.get("scope"):
            scope = data["scope"]
        elif board_selectors.sees_company(self.user):
            scope = "company"
        elif subordinate_ids(self.user):
            scope = "team"
        else:
            scope = "me"
        return {
            "pipeline": data.get("pipeline") or default_pipeline(),
            "scope": board_selectors.funnel_scope(self.user, scope),
            "start": start,
            "end": end,
        }
