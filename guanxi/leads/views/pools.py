"""Public pool pages: the pools a user may open and what is in them (claim one or many),
the administrator's pool and recycle-rule screens, the dry run with "run now", and the
release form. They also add the "returns to the pool in N days" countdown to the lead and
account pages (a side card with the release / claim button) and lists (a sortable column).

Thin: the pool services do every write; a record the user may not see answers 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import Department, PicklistOption, User
from guanxi.core.scope import can, is_administrator, record_editable_by
from guanxi.core.selectors import record_get_visible
from guanxi.core.views.registry import Column, get_registration
from guanxi.customers.models import Account
from guanxi.customers.regions import PROVINCES
from guanxi.leads.models import Lead, Pool, PoolKind, RecycleRule
from guanxi.leads.selectors.pools import (
    clock_expression,
    is_pool_member,
    pool_entry_of,
    pool_events_of,
    pool_get_for,
    pool_model,
    pool_records_page,
    pool_summaries,
    pool_summary,
    recycle_due,
)
from guanxi.leads.services import pools as services

PAGE_SIZE = 50
URGENT_DAYS = 3
DRY_RUN_LIMIT = 500
RECORD_TYPES = {"lead": Lead, "account": Account}


def _type_of(model) -> str:
    return "lead" if model is Lead else "account"


def _administrator(request) -> None:
    if not is_administrator(request.user):
        raise PermissionDenied(_("Only an administrator can configure the pools."))


def _service_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# --- Forms -------------------------------------------------------------------------------------
class PoolForm(forms.ModelForm):
    provinces = forms.MultipleChoiceField(
        label=gettext_lazy("regions"),
        required=False,
        choices=[(name, name) for name in PROVINCES],
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 8}),
        help_text=gettext_lazy(
            "Owned records belong to the pool of their owner's department; records of no "
            "such department belong to the pool of their province."
        ),
    )
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("members"),
        queryset=User.objects.filter(is_active=True).order_by("display_name", "username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 8}),
    )
    member_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("member departments"),
        queryset=Department.objects.order_by("path"),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 6}),
        help_text=gettext_lazy("Everyone in these departments and the ones below them."),
    )

    class Meta:
        model = Pool
        fields = [
            "name",
            "kind",
            "department",
            "provinces",
            "members",
            "member_departments",
            "claims_per_day",
            "max_owned",
            "cooldown_days",
            "warning_days",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class RecycleRuleForm(forms.ModelForm):
    class Meta:
        model = RecycleRule
        fields = [
            "customer_level",
            "not_followed_up_days",
            "no_deal_days",
            "after_contract_days",
            "exclude_open_opportunity",
            "is_active",
        ]

    def __init__(self, *args, pool: Pool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_level"].queryset = PicklistOption.objects.filter(
            picklist__code="customer_level"
        )
        if pool.kind == PoolKind.LEADS:
            for name in ("customer_level", "after_contract_days", "exclude_open_opportunity"):
                del self.fields[name]
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    pool = forms.ModelChoiceField(
        label=gettext_lazy("Pool"),
        queryset=Pool.objects.none(),
        required=False,
        empty_label=gettext_lazy("The record's own pool"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = Pool.objects.filter(kind=kind, is_active=True)


# --- Pools a user may open ---------------------------------------------------------------------
@login_required
def pool_list(request):
    return TemplateResponse(
        request,
        "leads/pools/pool_list.html",
        {
            "summaries": pool_summaries(user=request.user),
            "is_admin": is_administrator(request.user),
        },
    )


def _pool_page_context(request, pool: Pool) -> dict[str, Any]:
    user = request.user
    raw_page = request.GET.get("page", "1")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    records = pool_records_page(
        pool=pool, user=user, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
    )
    has_next = len(records) > PAGE_SIZE
    records = records[:PAGE_SIZE]
    model = pool_model(pool.kind)
    registration = get_registration(model)
    summary = pool_summary(user=user, pool=pool)
    return {
        "pool": pool,
        "summary": summary,
        "records": [
            {"record": record, "url": registration.url("detail", record.pk) if registration else ""}
            for record in records
        ],
        "rules": list(pool.rules.select_related("customer_level")),
        "page": page,
        "has_next": has_next,
        "can_claim": summary["is_member"] or is_administrator(user),
        "claims_left": max(0, pool.claims_per_day - summary["claimed_today"])
        if pool.claims_per_day
        else None,
        "is_admin": is_administrator(user),
        "is_leads": pool.kind == PoolKind.LEADS,
    }


@login_required
def pool_detail(request, pk: int):
    pool = pool_get_for(user=request.user, pk=pk)
    return TemplateResponse(
        request, "leads/pools/pool_detail.html", _pool_page_context(request, pool)
    )


@require_POST
@login_required
def pool_claim(request, pk: int):
    """Claim the checked records (or the one of the row's button); one message per refusal."""
    pool = pool_get_for(user=request.user, pk=pk)
    # A row's own button sends "one"; "Claim selected" sends the checked rows.
    one = request.POST.get("one", "")
    values = [one] if one else request.POST.getlist("pk")
    ids = [int(value) for value in values if value.isdigit()]
    if not ids:
        messages.warning(request, _("Select the records to claim."))
        return redirect("leads:pool_detail", pk=pool.pk)
    results = services.pool_claim_many(
        pool=pool, model=pool_model(pool.kind), ids=ids[:PAGE_SIZE], actor=request.user
    )
    won = sum(1 for result in results if result.ok)
    if won:
        messages.success(
            request,
            ngettext("You claimed %(count)s record.", "You claimed %(count)s records.", won)
            % {"count": won},
        )
    for error in dict.fromkeys(result.error for result in results if not result.ok):
        messages.error(request, error)
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//") and won:
        return redirect(next_url)
    return redirect("leads:pool_detail", pk=pool.pk)


# --- Administration ----------------------------------------------------------------------------
@login_required
def pool_create(request):
    _administrator(request)
    form = PoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.POOL_FIELDS}
        try:
            pool = services.pool_create(
                actor=request.user,
                data=data,
                members=list(form.cleaned_data["members"]),
                member_departments=list(form.cleaned_data["member_departments"]),
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("The pool was created."))
            return redirect("leads:pool_detail", pk=pool.pk)
    return TemplateResponse(
        request,
        "core/admin/form.html",
        {"form": form, "title": _("New pool"), "cancel_url": reverse("leads:pool_list")},
    )


@login_required
def pool_edit(request, pk: int):
    _administrator(request)
    pool = get_object_or_404(Pool, pk=pk)
    form = PoolForm(request.POST or None, instance=pool)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.POOL_FIELDS}
        try:
            services.pool_update(
                pool=Pool.objects.get(pk=pool.pk),
                actor=request.user,
                data=data,
                members=list(form.cleaned_data["members"]),
                member_departments=list(form.cleaned_data["member_departments"]),
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("The pool was saved."))
            return redirect("leads:pool_detail", pk=pool.pk)
    return TemplateResponse(
        request,
        "core/admin/form.html",
        {
            "form": form,
            "title": _("Edit pool %(name)s") % {"name": pool.name},
            "cancel_url": reverse("leads:pool_detail", args=[pool.pk]),
        },
    )


def _rule_form_page(request, pool: Pool, rule: RecycleRule | None):
    form = RecycleRuleForm(request.POST or None, instance=rule, pool=pool)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            if rule is None:
                services.recycle_rule_create(pool=pool, actor=request.user, data=data)
            else:
                services.recycle_rule_update(
                    rule=RecycleRule.objects.get(pk=rule.pk), actor=request.user, data=data
                )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("The recycle rule was saved."))
            return redirect("leads:pool_detail", pk=pool.pk)
    title = _("New recycle rule for %(pool)s") if rule is None else _("Recycle rule of %(pool)s")
    return TemplateResponse(
        request,
        "core/admin/form.html",
        {
            "form": form,
            "title": title % {"pool": pool.name},
            "cancel_url": reverse("leads:pool_detail", args=[pool.pk]),
        },
    )


@login_required
def rule_create(request, pk: int):
    _administrator(request)
    return _rule_form_page(request, get_object_or_404(Pool, pk=pk), None)


@login_required
def rule_edit(request, pk: int):
    _administrator(request)
    rule = get_object_or_404(RecycleRule.objects.select_related("pool"), pk=pk)
    return _rule_form_page(request, rule.pool, rule)


@login_required
def rule_delete(request, pk: int):
    _administrator(request)
    rule = get_object_or_404(RecycleRule.objects.select_related("pool"), pk=pk)
    pool_url = reverse("leads:pool_detail", args=[rule.pool_id])
    if request.method == "POST":
        services.recycle_rule_delete(rule=rule, actor=request.user)
        messages.success(request, _("The recycle rule was removed."))
        return redirect(pool_url)
    return TemplateResponse(
        request,
        "core/admin/confirm.html",
        {
            "title": _("Remove recycle rule"),
            "question": _("Remove this recycle rule of %(pool)s?") % {"pool": rule.pool.name},
            "cancel_url": pool_url,
            "danger": True,
        },
    )


@login_required
def dry_run(request):
    """What tonight's recycle job would take back, and why (administrators)."""
    _administrator(request)
    found = services.recycle_run(dry_run=True)
    rows = []
    for record, pool, reason in found[:DRY_RUN_LIMIT]:
        registration = get_registration(type(record))
        rows.append(
            {
                "record": record,
                "type": type(record)._meta.verbose_name,
                "url": registration.url("detail", record.pk) if registration else "",
                "pool": pool,
                "reason": reason,
            }
        )
    owners = User.objects.in_bulk({row["record"].owner_id for row in rows})
    for row in rows:
        row["owner"] = owners.get(row["record"].owner_id)
    return TemplateResponse(
        request,
        "leads/pools/dry_run.html",
        {"rows": rows, "total": len(found), "limit": DRY_RUN_LIMIT, "now": timezone.now()},
    )


@login_required
def run_now(request):
    """Run the recycle job now, after a confirmation (administrators)."""
    _administrator(request)
    if request.method == "POST":
        moved = services.recycle_run()
        messages.success(
            request,
            ngettext(
                "%(count)s record returned to its pool.",
                "%(count)s records returned to their pools.",
                len(moved),
            )
            % {"count": len(moved)},
        )
        return redirect("leads:pool_dry_run")
    return TemplateResponse(
        request,
        "core/admin/confirm.html",
        {
            "title": _("Run the recycle job now"),
            "question": _(
                "Every record listed by the dry run goes back to its pool now and loses its "
                "owner. Continue?"
            ),
            "cancel_url": reverse("leads:pool_dry_run"),
            "danger": True,
        },
    )


# --- Release -----------------------------------------------------------------------------------
@login_required
def record_release(request, record_type: str, pk: int):
    model = RECORD_TYPES.get(record_type)
    if model is None:
        raise Http404
    record = record_get_visible(model=model, pk=pk, user=request.user)
    registration = get_registration(model)
    detail_url = registration.url("detail", record.pk)
    kind = PoolKind.LEADS if model is Lead else PoolKind.ACCOUNTS
    form = ReleaseForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            pool = services.pool_release(
                record=record,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                pool=form.cleaned_data["pool"],
            )
        except ValidationError as error:
            _service_errors(form, error)
        except ActionNotAllowed as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(record)s was released to the pool %(pool)s.")
                % {"record": record, "pool": pool.name},
            )
            if model.objects.visible_to(request.user).filter(pk=record.pk).exists():
                return redirect(detail_url)
            return redirect(registration.url("list"))
    return TemplateResponse(
        request,
        "leads/pools/release.html",
        {"form": form, "record": record, "cancel_url": detail_url},
    )


# --- On the lead and account pages -------------------------------------------------------------
def record_pool_panel(record, user) -> dict[str, Any]:
    """The side card: in a pool (claim), or owned with its countdown (release)."""
    model = type(record)
    record_type = _type_of(model)
    if record.owner_id is None:
        entry = pool_entry_of(record)
        if entry is None:
            return {"pool_state": "none"}
        return {
            "pool_state": "in_pool",
            "entry": entry,
            "can_claim": is_pool_member(user, entry.pool) and can(user, model, "change"),
            "claim_url": reverse("leads:pool_claim", args=[entry.pool_id]),
            "events": list(pool_events_of(record, limit=5)),
        }
    due = recycle_due([record]).get(record.pk)
    editable = can(user, model, "change") and (record_editable_by(record, user))
    days = due.days_left(timezone.now()) if due else None
    return {
        "pool_state": "owned",
        "due": due,
        "days_left": days,
        "urgent": days is not None and days < URGENT_DAYS,
        "can_release": editable,
        "release_url": reverse("leads:pool_release", args=[record_type, record.pk]),
        "events": list(pool_events_of(record, limit=5)),
    }


def countdown_badge(days: int | None) -> str:
    if days is None:
        return "—"
    if days == 0:
        text = _("returns to the pool today")
    else:
        text = ngettext(
            "returns to the pool in %(days)s day", "returns to the pool in %(days)s days", days
        ) % {"days": days}
    css = "text-bg-danger" if days < URGENT_DAYS else "text-bg-light"
    return format_html('<span class="badge {} gx-pool-countdown">{}</span>', css, text)


def countdown_column(model) -> Column:
    values: dict[int, int] = {}

    def prepare(records) -> None:
        values.clear()
        owned = [record for record in records if record.owner_id]
        values.update(services.recycle_countdown(owned))

    return Column(
        name="pool_countdown",
        label=gettext_lazy("returns to the pool"),
        accessor=lambda record: countdown_badge(values.get(record.pk)),
        sortable=True,
        order_by=clock_expression(model),
        default=False,
        prepare=prepare,
    )


def _lead_panel_context(*, lead, user):
    return {"pool_panel": record_pool_panel(lead, user)}


def _account_panel_context(*, account, user):
    return {"pool_panel": record_pool_panel(account, user)}


def _attach_to_record_pages() -> None:
    from guanxi.customers.sections import AccountSection, register_account_section
    from guanxi.leads.views.leads import LeadSection, register_lead_section

    for model in (Lead, Account):
        registration = get_registration(model)
        if registration is not None and not any(
            column.name == "pool_countdown" for column in registration.columns
        ):
            registration.columns.append(countdown_column(model))
    title = gettext_lazy("Public pool")
    register_lead_section(
        LeadSection(
            key="pool",
            title=title,
            template="leads/pools/record_panel.html",
            context=_lead_panel_context,
            order=20,
            column="side",
        )
    )
    register_account_section(
        AccountSection(
            key="pool",
            title=title,
            template="leads/pools/record_panel.html",
            context=_account_panel_context,
            order=5,
            column="side",
        )
    )


_attach_to_record_pages()

urlpatterns = [
    path("pools/", pool_list, name="pool_list"),
    path("pools/new/", pool_create, name="pool_create"),
    path("pools/dry-run/", dry_run, name="pool_dry_run"),
    path("pools/run/", run_now, name="pool_run"),
    path("pools/<int:pk>/", pool_detail, name="pool_detail"),
    path("pools/<int:pk>/edit/", pool_edit, name="pool_edit"),
    path("pools/<int:pk>/claim/", pool_claim, name="pool_claim"),
    path("pools/<int:pk>/rules/new/", rule_create, name="pool_rule_create"),
    path("pools/rules/<int:pk>/", rule_edit, name="pool_rule_edit"),
    path("pools/rules/<int:pk>/delete/", rule_delete, name="pool_rule_delete"),
    path("pools/release/<str:record_type>/<int:pk>/", record_release, name="pool_release"),
]
