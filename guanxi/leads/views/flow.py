"""Pages of the lead flow: the administrator's assignment rules (ordered, with capacities)
and scoring rules (with thresholds), the convert page, accept / reject, and the lead
funnel report. Thin: forms check input, the flow services write, selectors read."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.forms.admin import UserChoiceField, apply_service_errors
from guanxi.core.models import PicklistOption, User
from guanxi.core.scope import can
from guanxi.core.selectors import record_get_visible
from guanxi.core.views.admin import administrator_required
from guanxi.customers.models import Account, Contact
from guanxi.leads.models import (
    LEAD_SOURCE_PICKLIST,
    AssignmentAction,
    AssignmentRule,
    EngagementEvent,
    Lead,
    LeadStage,
    LeadStatus,
    Pool,
    PoolKind,
    ScoreRuleKind,
    ScoringRule,
    ScoringSettings,
    WebForm,
)
from guanxi.leads.selectors import flow as selectors
from guanxi.leads.services import assignment, conversion, scoring

# --- forms ---------------------------------------------------------------------------------


def _options(code: str):
    return PicklistOption.objects.filter(picklist__code=code, is_active=True).order_by(
        "sort_order", "pk"
    )


class OptionMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    sources = OptionMultipleChoiceField(
        label=gettext_lazy("Sources"), queryset=PicklistOption.objects.none(), required=False
    )
    provinces = forms.CharField(
        label=gettext_lazy("Provinces"),
        required=False,
        help_text=gettext_lazy("Separate several with commas. Empty: any region."),
    )
    industries = OptionMultipleChoiceField(
        label=gettext_lazy("Industries"), queryset=PicklistOption.objects.none(), required=False
    )
    min_score = forms.IntegerField(label=gettext_lazy("Score at least"), required=False)
    web_forms = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Web forms"), queryset=WebForm.objects.none(), required=False
    )
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=AssignmentAction.choices)
    user = UserChoiceField(
        label=gettext_lazy("Assign to"), queryset=User.objects.none(), required=False
    )
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Round-robin group"), queryset=User.objects.none(), required=False
    )
    pool = forms.ModelChoiceField(
        label=gettext_lazy("Pool"),
        queryset=Pool.objects.none(),
        required=False,
        help_text=gettext_lazy("Also where the leads go when everybody is at capacity."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).order_by("username")
        self.fields["sources"].queryset = _options(LEAD_SOURCE_PICKLIST)
        self.fields["industries"].queryset = _options("industry")
        self.fields["web_forms"].queryset = WebForm.objects.order_by("name")
        self.fields["user"].queryset = users
        self.fields["members"].queryset = users
        self.fields["pool"].queryset = Pool.objects.filter(kind=PoolKind.LEADS, is_active=True)

    @classmethod
    def initial_for(cls, rule: AssignmentRule) -> dict:
        conditions = rule.conditions or {}
        return {
            "name": rule.name,
            "is_active": rule.is_active,
            "sources": conditions.get("sources", []),
            "provinces": ", ".join(conditions.get("provinces", [])),
            "industries": conditions.get("industries", []),
            "min_score": conditions.get("min_score"),
            "web_forms": conditions.get("web_forms", []),
            "action": rule.action,
            "user": rule.user_id,
            "members": [m.pk for m in rule.members.all()],
            "pool": rule.pool_id,
        }

    def service_data(self) -> tuple[dict, list[User]]:
        data = self.cleaned_data
        return (
            {
                "name": data["name"],
                "is_active": data["is_active"],
                "action": data["action"],
                "user": data.get("user"),
                "pool": data.get("pool"),
                "conditions": {
                    "sources": list(data.get("sources") or []),
                    "provinces": data.get("provinces") or "",
                    "industries": list(data.get("industries") or []),
                    "min_score": data.get("min_score"),
                    "web_forms": list(data.get("web_forms") or []),
                },
            },
            list(data.get("members") or []),
        )


class CapacityForm(forms.Form):
    user = UserChoiceField(label=gettext_lazy("User"), queryset=User.objects.none())
    max_open_leads = forms.IntegerField(
        label=gettext_lazy("Maximum open leads"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("Empty: no limit."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")


PROFILE_FIELD_CHOICES = [
    (name, Lead._meta.get_field(name).verbose_name) for name in scoring.PROFILE_FIELDS
]
OPERATOR_CHOICES = [
    ("eq", gettext_lazy("is")),
    ("ne", gettext_lazy("is not")),
    ("in", gettext_lazy("is one of (comma separated)")),
    ("contains", gettext_lazy("contains")),
    ("gte", gettext_lazy("at least")),
    ("lte", gettext_lazy("at most")),
    ("set", gettext_lazy("is filled in")),
]


class ScoringRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=ScoreRuleKind.choices)
    field = forms.ChoiceField(
        label=gettext_lazy("Lead field"),
        choices=[("", "—"), *PROFILE_FIELD_CHOICES],
        required=False,
    )
    op = forms.ChoiceField(
        label=gettext_lazy("Comparison"), choices=OPERATOR_CHOICES, required=False
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        required=False,
        help_text=gettext_lazy(
            "For source and industry give the option's id; several values with commas."
        ),
    )
    event = forms.ChoiceField(
        label=gettext_lazy("Event"), choices=[("", "—"), *EngagementEvent.choices], required=False
    )
    points = forms.IntegerField(label=gettext_lazy("Points"))
    half_life_days = forms.IntegerField(
        label=gettext_lazy("Half-life (days)"),
        min_value=0,
        initial=0,
        required=False,
        help_text=gettext_lazy("Engagement points lose half their value every this many days."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    sort_order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, initial=0)

    @classmethod
    def initial_for(cls, rule: ScoringRule) -> dict:
        condition = rule.condition or {}
        value = condition.get("value")
        return {
            "name": rule.name,
            "kind": rule.kind,
            "field": condition.get("field", ""),
            "op": condition.get("op", "eq"),
            "value": ", ".join(map(str, value)) if isinstance(value, list) else value,
            "event": rule.event,
            "points": rule.points,
            "half_life_days": rule.half_life_days,
            "is_active": rule.is_active,
            "sort_order": rule.sort_order,
        }

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "condition": {
                "field": data.get("field"),
                "op": data.get("op"),
                "value": data.get("value"),
            },
            "event": data.get("event") or "",
            "points": data["points"],
            "half_life_days": data.get("half_life_days") or 0,
            "is_active": data["is_active"],
            "sort_order": data["sort_order"],
        }


class ScoringSettingsForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = ["mql_threshold", "sql_threshold", "rejection_penalty"]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the lead rejected?"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FunnelForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self) -> tuple[datetime.date, datetime.date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - datetime.timedelta(days=89)
        if start > end:
            start, end = end, start
        return start, end


# --- assignment rules ------------------------------------------------------------------------


@administrator_required
def assignment_rules(request):
    return render(
        request,
        "leads/flow/assignment_rules.html",
        {
            "rules": selectors.assignment_rules(),
            "capacities": selectors.lead_capacities(),
            "capacity_form": CapacityForm(),
        },
    )


@administrator_required
def assignment_rule_edit(request, pk: int | None = None):
    rule = get_object_or_404(AssignmentRule, pk=pk) if pk else None
    list_url = reverse("leads:assignment_rules")
    if request.method == "POST":
        form = AssignmentRuleForm(request.POST)
        if form.is_valid():
            data, members = form.service_data()
            try:
                assignment.assignment_rule_save(
                    actor=request.user, data=data, members=members, rule=rule
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Assignment rule saved."))
                return redirect(list_url)
    else:
        form = AssignmentRuleForm(initial=AssignmentRuleForm.initial_for(rule) if rule else None)
    title = _("Edit assignment rule") if rule else _("New assignment rule")
    return render(
        request, "core/admin/form.html", {"form": form, "title": title, "cancel_url": list_url}
    )


@require_POST
@administrator_required
def assignment_rule_move(request, pk: int):
    rule = get_object_or_404(AssignmentRule, pk=pk)
    if request.POST.get("ids"):
        ids = [int(i) for i in request.POST["ids"].split(",") if i.strip().isdigit()]
        assignment.assignment_rules_reorder(actor=request.user, ids=ids)
    else:
        direction = "up" if request.POST.get("direction") == "up" else "down"
        assignment.assignment_rule_move(actor=request.user, rule=rule, direction=direction)
    return redirect("leads:assignment_rules")


@administrator_required
def assignment_rule_delete(request, pk: int):
    rule = get_object_or_404(AssignmentRule, pk=pk)
    list_url = reverse("leads:assignment_rules")
    if request.method == "POST":
        assignment.assignment_rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Assignment rule deleted."))
        return redirect(list_url)
    return render(
        request,
        "core/admin/confirm.html",
        {
            "title": _("Delete assignment rule"),
            "question": _("Delete the assignment rule “%(rule)s”?") % {"rule": rule},
            "cancel_url": list_url,
            "danger": True,
        },
    )


@require_POST
@administrator_required
def lead_capacity_save(request):
    form = CapacityForm(request.POST)
    if form.is_valid():
        try:
            assignment.lead_capacity_set(
                actor=request.user,
                user=form.cleaned_data["user"],
                max_open_leads=form.cleaned_data.get("max_open_leads"),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Capacity saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(f"{reverse('leads:assignment_rules')}#capacities")


# --- scoring rules -----------------------------------------------------------------------------


@administrator_required
def scoring_rules(request):
    current = ScoringSettings.current()
    if request.method == "POST":
        form = ScoringSettingsForm(request.POST, instance=ScoringSettings(pk=current.pk))
        if form.is_valid():
            try:
                scoring.scoring_settings_save(
                    actor=request.user,
                    data={name: form.cleaned_data[name] for name in form.Meta.fields},
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Thresholds saved."))
                return redirect("leads:scoring_rules")
    else:
        form = ScoringSettingsForm(instance=current)
    rules = list(selectors.scoring_rules())
    return render(
        request,
        "leads/flow/scoring_rules.html",
        {
            "settings_form": form,
            "profile_rules": [r for r in rules if r.kind == ScoreRuleKind.PROFILE],
            "engagement_rules": [r for r in rules if r.kind == ScoreRuleKind.ENGAGEMENT],
            "field_labels": dict(PROFILE_FIELD_CHOICES),
            "operator_labels": dict(OPERATOR_CHOICES),
        },
    )


@administrator_required
def scoring_rule_edit(request, pk: int | None = None):
    rule = get_object_or_404(ScoringRule, pk=pk) if pk else None
    list_url = reverse("leads:scoring_rules")
    if request.method == "POST":
        form = ScoringRuleForm(request.POST)
        if form.is_valid():
            try:
                scoring.scoring_rule_save(actor=request.user, data=form.service_data(), rule=rule)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Scoring rule saved."))
                return redirect(list_url)
    else:
        initial = ScoringRuleForm.initial_for(rule) if rule else {"kind": request.GET.get("kind")}
        form = ScoringRuleForm(initial=initial)
    title = _("Edit scoring rule") if rule else _("New scoring rule")
    return render(
        request, "core/admin/form.html", {"form": form, "title": title, "cancel_url": list_url}
    )


@administrator_required
def scoring_rule_delete(request, pk: int):
    rule = get_object_or_404(ScoringRule, pk=pk)
    list_url = reverse("leads:scoring_rules")
    if request.method == "POST":
        scoring.scoring_rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Scoring rule deleted."))
        return redirect(list_url)
    return render(
        request,
        "core/admin/confirm.html",
        {
            "title": _("Delete scoring rule"),
            "question": _(
                "Delete the scoring rule “%(rule)s”? The score history keeps its entries."
            )
            % {"rule": rule},
            "cancel_url": list_url,
            "danger": True,
        },
    )


# --- accept, reject, convert ---------------------------------------------------------------


def _editable_lead(request, pk: int) -> Lead:
    """404 unless the user sees the lead; 403 unless they may change it."""
    lead = record_get_visible(model=Lead, pk=pk, user=request.user)
    if not can(request.user, Lead, "change") or not (
        Lead.objects.editable_by(request.user).filter(pk=lead.pk).exists()
    ):
        raise PermissionDenied(_("You may see this record but not change it."))
    return lead


def _detail_url(lead: Lead) -> str:
    return reverse("leads:lead_detail", args=[lead.pk])


@require_POST
@login_required
def lead_accept_view(request, pk: int):
    lead = _editable_lead(request, pk)
    try:
        scoring.lead_accept(lead=lead, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except ActionNotAllowed as error:
        raise PermissionDenied(str(error)) from error
    else:
        messages.success(request, _("Lead accepted."))
    return redirect(_detail_url(lead))


@login_required
def lead_reject_view(request, pk: int):
    lead = _editable_lead(request, pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            scoring.lead_reject(lead=lead, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
        except ActionNotAllowed as error:
            raise PermissionDenied(str(error)) from error
        else:
            messages.success(request, _("Lead rejected and returned to nurturing."))
            return redirect(_detail_url(lead))
    return render(
        request,
        "core/admin/form.html",
        {
            "form": form,
            "title": _("Reject lead %(lead)s") % {"lead": lead},
            "cancel_url": _detail_url(lead),
        },
    )


NEW = "new"


def _chosen(request, name: str, model, hits) -> tuple[object | None, str | None]:
    """The record picked with the radio `name` ("new" or a candidate's id)."""
    value = request.POST.get(name, NEW)
    if value == NEW:
        return None, None
    allowed = {hit.pk for hit in hits}
    if not value.isdigit() or int(value) not in allowed:
        return None, _("Choose one of the records offered or create a new one.")
    return model.objects.visible_to(request.user).filter(pk=int(value)).first(), None


@login_required
def lead_convert_view(request, pk: int):
    """Convert a lead: pick a matching account / contact or create new ones."""
    lead = _editable_lead(request, pk)
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead is already converted."))
        return redirect(_detail_url(lead))
    candidates = selectors.conversion_candidates(lead=lead, user=request.user)
    account_defaults = conversion.account_data_from_lead(lead)
    errors: list[str] = []
    if request.method == "POST":
        account, error_a = _chosen(request, "account_choice", Account, candidates.accounts)
        contact, error_c = _chosen(request, "contact_choice", Contact, candidates.contacts)
        errors = [e for e in (error_a, error_c) if e]
        account_name = (request.POST.get("account_name") or "").strip()
        contact_name = (request.POST.get("contact_name") or "").strip()
        if not errors:
            try:
                result = conversion.lead_convert(
                    lead=lead,
                    actor=request.user,
                    account=account,
                    account_data={"name": account_name}
                    if account is None and account_name
                    else None,
                    contact=contact,
                    contact_data={"name": contact_name}
                    if contact is None and contact_name
                    else None,
                    create_opportunity=bool(request.POST.get("create_opportunity"))
                    and conversion.can_create_opportunity(),
                    opportunity_data={"name": request.POST.get("opportunity_name", "")},
                )
            except ValidationError as error:
                errors = error.messages
            except ActionNotAllowed as error:
                raise PermissionDenied(str(error)) from error
            else:
                messages.success(
                    request,
                    _("Lead converted to account %(account)s and contact %(contact)s.")
                    % {"account": result.account, "contact": result.contact},
                )
                return redirect(reverse("customers:account_detail", args=[result.account.pk]))
    return render(
        request,
        "leads/flow/convert.html",
        {
            "lead": lead,
            "candidates": candidates,
            "account_name": account_defaults.get("name", ""),
            "contact_name": lead.name,
            "can_create_opportunity": conversion.can_create_opportunity(),
            "errors": errors,
            "posted": request.POST,
            "detail_url": _detail_url(lead),
        },
    )


# --- the funnel ------------------------------------------------------------------------------


def _aware(day: datetime.date, *, end: bool = False) -> datetime.datetime:
    moment = datetime.datetime.combine(
        day + datetime.timedelta(days=1 if end else 0), datetime.time()
    )
    return timezone.make_aware(moment)


def _duration_text(value: datetime.timedelta | None) -> str:
    if value is None:
        return "—"
    days = value.total_seconds() / 86400
    if days >= 1:
        return _("%(days).1f days") % {"days": days}
    return _("%(hours).1f hours") % {"hours": value.total_seconds() / 3600}


@login_required
def lead_funnel_view(request):
    if not can(request.user, Lead, "view"):
        raise Http404
    form = FunnelForm(request.GET or None)
    start, end = form.period()
    report = selectors.lead_funnel(
        user=request.user, start=_aware(start), end=_aware(end, end=True)
    )
    for item in report.durations:
        item["text"] = _duration_text(item["value"])
    charts = {
        "funnel": [{"name": s.label, "value": s.count, "url": s.url} for s in report.steps],
        "sources": [
            {"name": str(r["label"]), "value": r["count"], "url": r["url"]}
            for r in report.by_source
        ],
        "statuses": [
            {"name": r["label"], "value": r["count"], "url": r["url"]} for r in report.by_status
        ],
    }
    return render(
        request,
        "leads/flow/funnel.html",
        {"form": form, "report": report, "start": start, "end": end, "charts": charts},
    )


# --- what the flow adds to the lead and account pages -------------------------------------


def _score_section(*, lead, user):
    return {"entries": list(selectors.lead_score_history(lead=lead, limit=20))}


def _converted_from_section(*, account, user):
    leads = list(
        Lead.objects.visible_to(user)
        .filter(converted_account_id=account.pk)
        .order_by("-converted_at")[:5]
    )
    return {"converted_leads": leads}


def _can_change(lead, user) -> bool:
    return lead.status != LeadStatus.CONVERTED and can(user, Lead, "change")


def register_page_parts() -> None:
    from guanxi.customers.sections import AccountSection, register_account_section
    from guanxi.leads.views.leads import (
        LeadAction,
        LeadSection,
        register_lead_action,
        register_lead_section,
    )

    register_lead_section(
        LeadSection(
            key="score-history",
            title=gettext_lazy("Score history"),
            template="leads/flow/_score_history.html",
            context=_score_section,
            order=50,
        )
    )
    register_lead_action(
        LeadAction(
            key="convert",
            label=gettext_lazy("Convert"),
            url=lambda lead: reverse("leads:lead_convert", args=[lead.pk]),
            visible=_can_change,
            icon="bi-arrow-right-circle",
            order=10,
        )
    )
    register_lead_action(
        LeadAction(
            key="accept",
            label=gettext_lazy("Accept"),
            url=lambda lead: reverse("leads:lead_accept", args=[lead.pk]),
            visible=lambda lead, user: (
                _can_change(lead, user)
                and lead.stage in (LeadStage.NURTURING, LeadStage.MQL, LeadStage.SQL)
            ),
            icon="bi-hand-thumbs-up",
            post=True,
            order=20,
        )
    )
    register_lead_action(
        LeadAction(
            key="reject",
            label=gettext_lazy("Reject"),
            url=lambda lead: reverse("leads:lead_reject", args=[lead.pk]),
            visible=lambda lead, user: (
                _can_change(lead, user) and lead.stage != LeadStage.NURTURING
            ),
            icon="bi-hand-thumbs-down",
            order=30,
        )
    )
    register_account_section(
        AccountSection(
            key="converted-from-lead",
            title=gettext_lazy("Converted from lead"),
            template="leads/flow/_account_converted.html",
            context=_converted_from_section,
            order=90,
            column="side",
            lazy=True,
        )
    )


urlpatterns = [
    path("flow/assignment/", assignment_rules, name="assignment_rules"),
    path("flow/assignment/new/", assignment_rule_edit, name="assignment_rule_create"),
    path("flow/assignment/<int:pk>/", assignment_rule_edit, name="assignment_rule_edit"),
    path("flow/assignment/<int:pk>/move/", assignment_rule_move, name="assignment_rule_move"),
    path("flow/assignment/<int:pk>/delete/", assignment_rule_delete, name="assignment_rule_delete"),
    path("flow/capacity/", lead_capacity_save, name="lead_capacity_save"),
    path("flow/scoring/", scoring_rules, name="scoring_rules"),
    path("flow/scoring/new/", scoring_rule_edit, name="scoring_rule_create"),
    path("flow/scoring/<int:pk>/", scoring_rule_edit, name="scoring_rule_edit"),
    path("flow/scoring/<int:pk>/delete/", scoring_rule_delete, name="scoring_rule_delete"),
    path("funnel/", lead_funnel_view, name="funnel"),
    path("<int:pk>/convert/", lead_convert_view, name="lead_convert"),
    path("<int:pk>/accept/", lead_accept_view, name="lead_accept"),
    path("<int:pk>/reject/", lead_reject_view, name="lead_reject"),
]
