"""Lead pages: the generic record views registered for Lead (list with filters and sorting,
detail with history and timeline, create / edit / delete / assign / share, tags, custom
fields), writing through the lead services; the detail page adds the lead's follow-ups and
activities with a quick follow-up form, and whatever other areas register as sections.

Other areas of the app add to the lead page without editing it:
- `register_lead_section(LeadSection(...))`: a card on the detail page;
- `register_lead_action(LeadAction(...))`: a button in the detail page's action bar;
- `lead_registration.columns.append(Column(...))`: a list column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed, NotVisible
from guanxi.core.masking import (
    EMAIL,
    PHONE,
    contact_detail_reveal,
    contact_details_visible,
    mask,
)
from guanxi.core.scope import can
from guanxi.core.selectors import record_get_visible
from guanxi.core.views import generic
from guanxi.core.views.generic import safe_next_url
from guanxi.core.views.registry import (
    BulkAction,
    Column,
    FormWarning,
    ModelRegistration,
    model_urls,
    register_model_views,
)
from guanxi.leads.filters import LeadFilterSet
from guanxi.leads.forms import LeadForm, QuickFollowUpForm
from guanxi.leads.models import Lead
from guanxi.leads.selectors.leads import lead_activities
from guanxi.leads.services import leads as services

MASKED_FIELDS = {"phone": PHONE, "email": EMAIL}


# --- Services as the generic views call them ---------------------------------------------------
def lead_create(*, data, custom_data, actor):
    return services.lead_create(actor=actor, data=data, custom_data=custom_data)


def lead_update(*, instance, data, custom_data, actor, version):
    return services.lead_update(
        lead=instance, actor=actor, data=data, version=version, custom_data=custom_data
    )


def lead_delete(*, instance, actor, version):
    return services.lead_delete(lead=instance, actor=actor, version=version)


def lead_assign(*, instance, owner, actor, reason, version=None):
    return services.lead_assign(
        lead=instance, owner=owner, actor=actor, reason=reason, version=version
    )


def lead_pre_save_warnings(*, request, form, instance=None) -> list[FormWarning]:
    """Possible duplicates among leads, contacts and accounts: the person by name, phone and
    e-mail, and the company by its name."""
    from guanxi.customers import matching
    from guanxi.customers.views_duplicates import check_duplicates, hit_warnings

    identifying = {"name", "company", "phone", "email"}
    if instance is not None and not (set(form.changed_data) & identifying):
        return []
    data = form.cleaned_data
    phones = [data["phone"]] if data.get("phone") else []
    emails = [data["email"]] if data.get("email") else []
    hits = check_duplicates(
        user=request.user,
        name=data.get("name", ""),
        phones=phones,
        emails=emails,
        kind=matching.PERSON,
        instance=instance,
    )
    if data.get("company"):
        seen = {(hit.model_label, hit.pk) for hit in hits}
        company_hits = check_duplicates(
            user=request.user,
            name=data["company"],
            phones=[],
            emails=[],
            kind=matching.COMPANY,
            instance=instance,
        )
        hits += [hit for hit in company_hits if (hit.model_label, hit.pk) not in seen]
    return hit_warnings(hits)


def _source_label(lead: Lead) -> str:
    return lead.source.label if lead.source_id else ""


lead_registration = ModelRegistration(
    model=Lead,
    columns=[
        Column("name", gettext_lazy("name"), sortable=True, link=True),
        Column("company", gettext_lazy("company"), sortable=True),
        Column("status", gettext_lazy("status"), sortable=True),
        Column("stage", gettext_lazy("qualification"), sortable=True),
        Column("score", gettext_lazy("score"), sortable=True),
        Column("source", gettext_lazy("source"), accessor=_source_label),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("next_follow_up_at", gettext_lazy("next follow-up"), sortable=True),
        Column("created_at", gettext_lazy("created at"), sortable=True),
        Column("rating", gettext_lazy("rating"), default=False),
        Column("phone", gettext_lazy("phone"), default=False),
        Column("email", gettext_lazy("e-mail"), default=False),
        Column("title", gettext_lazy("job title"), default=False),
        Column("province", gettext_lazy("province"), default=False),
        Column("city", gettext_lazy("city"), default=False),
        Column(
            "last_followed_up_at", gettext_lazy("last followed up"), sortable=True, default=False
        ),
        Column("updated_at", gettext_lazy("updated at"), sortable=True, default=False),
    ],
    form_class=LeadForm,
    filterset_class=LeadFilterSet,
    search_fields=["name__startswith", "company__startswith", "phone_digits__startswith"],
    detail_sections=[
        (
            gettext_lazy("Lead"),
            ["company", "title", "wechat", "website", "industry", "source", "rating"],
        ),
        (gettext_lazy("Region and address"), ["province", "city", "address"]),
        (
            gettext_lazy("Qualification"),
            ["stage", "score", "mql_at", "sql_at", "accepted_at", "rejected_reason"],
        ),
        (
            gettext_lazy("Follow-up"),
            ["last_followed_up_at", "next_follow_up_at", "assigned_at", "web_form"],
        ),
        (gettext_lazy("Notes"), ["notes"]),
    ],
    bulk_edit_fields=["status", "rating", "source", "industry"],
    list_select_related=["owner", "source"],
    default_sort="-created_at",
    path_prefix="leads",
    create=lead_create,
    update=lead_update,
    delete=lead_delete,
    assign=lead_assign,
    pre_save_warnings=lead_pre_save_warnings,
    list_parts=True,
)

register_model_views(Lead, lead_registration)


# --- Bulk share and tag (the generic bar has edit / assign / delete) ---------------------------


def _share_leads(*, leads, form, actor) -> None:
    services.leads_share(
        leads=leads,
        actor=actor,
        user=form.cleaned_data.get("user"),
        department=form.cleaned_data.get("department"),
        access=form.cleaned_data["access"],
        expires_at=form.cleaned_data.get("expires_at"),
    )


def _tag_leads(*, leads, form, actor) -> None:
    services.leads_tags_add(leads=leads, tags=form.cleaned_data["tags"], actor=actor)


def _bulk_lead_action(key: str, title, form_class_name: str, apply: Callable, done) -> BulkAction:
    """A two-step bulk action: the selection posts to a form page (the share target, the
    tags), which posts back with `step=apply`; only the leads the user may edit change."""

    def handler(*, request, registration, ids):
        from guanxi.customers import forms as customer_forms

        form_class = getattr(customer_forms, form_class_name)
        back = safe_next_url(request, registration.url("list"))
        leads = list(Lead.objects.editable_by(request.user).filter(pk__in=ids).order_by("pk"))
        skipped = len(set(ids)) - len(leads)
        if not leads:
            messages.error(request, _("None of the selected leads can be changed by you."))
            return redirect(back)
        context = {
            "title": title,
            "action_key": key,
            "leads": leads,
            "skipped": skipped,
            "next_url": back,
            "bulk_url": registration.url("bulk"),
        }
        if request.POST.get("step") != "apply":
            return TemplateResponse(
                request, "leads/bulk_action.html", {**context, "form": form_class()}
            )
        form = form_class(request.POST)
        if not form.is_valid():
            return TemplateResponse(request, "leads/bulk_action.html", {**context, "form": form})
        try:
            with transaction.atomic():
                apply(leads=leads, form=form, actor=request.user)
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
            return redirect(back)
        messages.success(request, done % {"count": len(leads)})
        if skipped:
            messages.warning(
                request,
                _("%(count)d record(s) were skipped because you may not change them.")
                % {"count": skipped},
            )
        return redirect(back)

    return BulkAction(value=key, label=title, handler=handler)


LEAD_BULK_ACTIONS = [
    _bulk_lead_action(
        "share",
        gettext_lazy("Share"),
        "AccountShareActionForm",
        _share_leads,
        gettext_lazy("%(count)d lead(s) shared."),
    ),
    _bulk_lead_action(
        "tag",
        gettext_lazy("Add tags"),
        "AccountTagActionForm",
        _tag_leads,
        gettext_lazy("%(count)d lead(s) tagged."),
    ),
]
for _bulk_action in LEAD_BULK_ACTIONS:
    if not any(extra.value == _bulk_action.value for extra in lead_registration.extra_bulk_actions):
        lead_registration.extra_bulk_actions.append(_bulk_action)


# --- What other areas add to the lead page -----------------------------------------------------
@dataclass(frozen=True)
class LeadSection:
    """A card on the lead page. `context(*, lead, user)` returns the template's context, or
    None to hide the card."""

    key: str
    title: Any
    template: str
    context: Callable[..., dict | None]
    order: int = 100
    column: str = "main"  # "main" (under the follow-ups) or "side" (next to the owner)


@dataclass(frozen=True)
class LeadAction:
    """A button of the lead page's action bar: `url(lead)`; shown when `visible(lead, user)`.
    With `post=True` the button submits a small form (CSRF-protected) to the URL."""

    key: str
    label: Any
    url: Callable[[Lead], str]
    visible: Callable[[Lead, Any], bool] = lambda lead, user: True
    icon: str = "bi-lightning"
    post: bool = False
    order: int = 100


_sections: dict[str, LeadSection] = {}
_actions: dict[str, LeadAction] = {}


def register_lead_section(section: LeadSection) -> None:
    _sections[section.key] = section


def register_lead_action(action: LeadAction) -> None:
    _actions[action.key] = action


def _rendered_sections(lead: Lead, user) -> list[dict]:
    rendered = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        context = section.context(lead=lead, user=user)
        if context is None:
            continue
        rendered.append(
            {
                "key": section.key,
                "title": section.title,
                "template": section.template,
                "column": section.column,
                "context": context,
            }
        )
    return rendered


def _mask_lines(feed: list[dict]) -> None:
    labels = {
        str(Lead._meta.get_field(name).verbose_name): kind for name, kind in MASKED_FIELDS.items()
    }
    for item in feed:
        for line in item.get("lines", []):
            kind = labels.get(line.get("label"))
            if kind and line.get("kind") == "field":
                for key in ("old", "new"):
                    if line.get(key) and line[key] != "—":
                        line[key] = mask(kind, line[key])


def lead_page_extras(request, lead: Lead, context: dict) -> dict[str, Any]:
    user = request.user
    visible_details = contact_details_visible(user)
    if not visible_details:
        _mask_lines(context.get("feed", []))
    from guanxi.activities.models import FollowUp
    from guanxi.activities.selectors import follow_ups as regarding_follow_ups
    from guanxi.customers.models import Account, Contact

    can_follow_up = can(user, FollowUp, "add") and lead.status != "converted"
    # Links to what the lead became, only when the reader may open them.
    converted_account = converted_contact = None
    if lead.converted_account_id:
        converted_account = (
            Account.objects.visible_to(user).filter(pk=lead.converted_account_id).first()
        )
    if lead.converted_contact_id:
        converted_contact = (
            Contact.objects.visible_to(user).filter(pk=lead.converted_contact_id).first()
        )
    actions = sorted(_actions.values(), key=lambda a: (a.order, a.key))
    return {
        "lead": lead,
        "contact_details_visible": visible_details,
        "reveal_url": reverse("leads:lead_reveal", args=[lead.pk]),
        # With the channels' labels (`gx_channel`), as on the customer pages.
        "follow_ups": regarding_follow_ups(record=lead, user=user),
        "converted_account": converted_account,
        "converted_contact": converted_contact,
        "open_activities": lead_activities(lead=lead, user=user, open_only=True),
        "past_activities": lead_activities(lead=lead, user=user, limit=10),
        "follow_up_form": QuickFollowUpForm() if can_follow_up else None,
        "follow_up_url": reverse("leads:lead_follow_up", args=[lead.pk]),
        "lead_sections": _rendered_sections(lead, user),
        "lead_actions": [
            {"action": action, "url": action.url(lead)}
            for action in actions
            if action.visible(lead, user)
        ],
    }


class LeadPageMixin:
    def render(self, kind, status=200, **extra):
        if kind == "detail" and "record" in extra:
            extra = {**lead_page_extras(self.request, extra["record"], extra), **extra}
        return super().render(kind, status=status, **extra)


class LeadDetailView(LeadPageMixin, generic.RecordDetailView):
    pass


class LeadShareView(LeadPageMixin, generic.RecordShareView):
    pass


class LeadAttachmentUploadView(LeadPageMixin, generic.AttachmentUploadView):
    pass


class LeadListView(generic.RecordListView):
    """The generic list, with phones and e-mails masked for roles that may not see them."""

    def get(self, request):
        response = super().get(request)
        context = getattr(response, "context_data", None)
        if not context or "rows" not in context or contact_details_visible(request.user):
            return response
        for row in context["rows"]:
            row["cells"] = [
                (column, _masked_cell(row["record"], column, value))
                for column, value in row["cells"]
            ]
        return response


def _masked_cell(record, column, value):
    kind = MASKED_FIELDS.get(column.name)
    if kind is None:
        return value
    raw = getattr(record, column.name, "")
    return mask(kind, raw) if raw else value


@require_POST
@login_required
def lead_follow_up(request, pk: int):
    """The quick follow-up form of the lead page (activities' follow-up service)."""
    from guanxi.activities.services import follow_up_create

    lead = record_get_visible(model=Lead, pk=pk, user=request.user)
    detail_url = reverse("leads:lead_detail", args=[lead.pk])
    form = QuickFollowUpForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(f"{detail_url}#follow-ups")
    try:
        follow_up_create(
            actor=request.user,
            regarding=lead,
            channel=form.cleaned_data["channel"],
            content=form.cleaned_data["content"],
            next_follow_up_at=form.cleaned_data.get("next_follow_up_at"),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except (ActionNotAllowed, NotVisible) as error:
        messages.error(request, str(error) or _("You are not allowed to do this."))
    else:
        messages.success(request, _("Follow-up logged."))
    return redirect(f"{detail_url}#follow-ups")


@require_POST
@login_required
def lead_reveal(request, pk: int):
    """Show the real phone or e-mail of a masked lead (htmx); the reveal is logged."""
    lead = record_get_visible(model=Lead, pk=pk, user=request.user)
    field = request.POST.get("field", "")
    if field not in MASKED_FIELDS:
        raise Http404
    value = getattr(lead, field)
    if not contact_details_visible(request.user) and value:
        contact_detail_reveal(instance=lead, values={field: value}, actor=request.user)
    return TemplateResponse(request, "leads/lead_revealed.html", {"value": value, "field": field})


# --- URLs ------------------------------------------------------------------------------------
LEAD_VIEW_OVERRIDES = {
    "lead_list": LeadListView,
    "lead_detail": LeadDetailView,
    "lead_share": LeadShareView,
    "lead_attachment_upload": LeadAttachmentUploadView,
}


def lead_urls() -> list:
    """The generic lead URLs at the root of /leads/ (the list is /leads/, a lead
    /leads/<id>/), some with the lead views above."""
    prefix = f"{lead_registration.path_prefix}/"
    patterns = []
    for pattern in model_urls(lead_registration):
        route = str(pattern.pattern).removeprefix(prefix)
        view_class = LEAD_VIEW_OVERRIDES.get(pattern.name)
        callback = (
            view_class.as_view(registration=lead_registration)
            if view_class is not None
            else pattern.callback
        )
        patterns.append(path(route, callback, name=pattern.name))
    return [
        path("<int:pk>/follow-up/", lead_follow_up, name="lead_follow_up"),
        path("<int:pk>/reveal/", lead_reveal, name="lead_reveal"),
        *patterns,
    ]


urlpatterns = lead_urls()
