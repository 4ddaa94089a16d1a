"""The account pages beyond the generic views: the form with its groups and region selects,
the 360° page, statistics with drill-down, the list with masking and the account actions
bar, and the logged reveal of masked values. The actions themselves (share, group, tag,
extract e-mails, envelopes, labels, vCard) are in `views_account_actions.py`.

Thin: every write goes through the customers / core services; every read starts from the
user's data scope; a record the user may not see answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.forms.generic import BulkForm, enable_inline_validation
from guanxi.core.masking import (
    EMAIL,
    PHONE,
    contact_detail_reveal,
    contact_details_visible,
    mask,
)
from guanxi.core.scope import can
from guanxi.core.selectors import record_get_visible
from guanxi.core.services.configuration import tags_of
from guanxi.core.services.custom_fields import custom_fields_for
from guanxi.core.views import generic
from guanxi.core.views.registry import model_urls
from guanxi.customers import views_account_actions
from guanxi.customers.account_hooks import (
    account_bulk_actions,
    account_figures,
)
from guanxi.customers.forms import (
    AccountGroupActionForm,
    AccountShareActionForm,
    AccountTagActionForm,
    EnvelopeForm,
    LabelForm,
)
from guanxi.customers.models import Account
from guanxi.customers.regions import PROVINCES
from guanxi.customers.sections import (
    AccountSection,
    account_section,
    register_account_section,
    render_sections,
    section_item,
)
from guanxi.customers.selectors import account_groups, relationship_graph
from guanxi.customers.statistics import DIMENSIONS, account_counts, account_total
from guanxi.customers.views import account_registration

MASKED_FIELDS = {"phone": PHONE, "email": EMAIL}


# --- The form ----------------------------------------------------------------------------------
class AccountFormMixin(generic.RecordFormMixin):
    """The account form gets the user (parent accounts in scope, masking) and is laid out
    in groups, also when htmx re-renders it for inline validation."""

    def build_form(self, record=None, data=None, files=None, validate_url: str | None = None):
        custom_fields = custom_fields_for(self.model)
        kwargs: dict[str, Any] = {
            "custom_fields": custom_fields,
            "with_version": record is not None,
            "with_tags": self.reg.tags,
            "user": self.request.user,
        }
        if record is not None:
            kwargs["instance"] = record
            if self.reg.tags:
                kwargs["current_tags"] = list(tags_of(record))
        form = self.reg.form_class(data, files, **kwargs)
        if validate_url:
            enable_inline_validation(form, validate_url, target=f"#{generic.FORM_TARGET}")
        return form

    def form_response(
        self, form, record=None, status=200, only_field=None, conflict=False, warnings=None
    ):
        action = self.reg.url("edit", record.pk) if record else self.reg.url("create")
        context = {
            "form": form,
            "record": record,
            "form_action": action,
            "only_field": only_field,
            "conflict": conflict,
            "warnings": warnings or [],
            "cancel_url": self.reg.url("detail", record.pk) if record else self.reg.url("list"),
            "provinces": {name: list(cities) for name, cities in PROVINCES.items()},
        }
        htmx = getattr(self.request, "htmx", False)
        if htmx and self.request.htmx.target == generic.FORM_TARGET:
            return self.render(["customers/account_form_partial.html"], status=status, **context)
        return self.render(["customers/account_form.html"], status=status, **context)


class AccountCreateView(AccountFormMixin, generic.RecordCreateView):
    pass


class AccountUpdateView(AccountFormMixin, generic.RecordUpdateView):
    pass


class AccountValidateView(AccountFormMixin, generic.RecordValidateView):
    pass


@login_required
def account_lookup(request):
    """Up to 20 accounts the user may see whose name starts with ?account_lookup= (or ?q=),
    as <option>s for the parent account chooser."""
    term = (request.GET.get("account_lookup") or request.GET.get("q") or "").strip()
    accounts = []
    if term and can(request.user, Account, "view"):
        accounts = list(
            Account.objects.visible_to(request.user)
            .filter(name__startswith=term)
            .order_by("name", "pk")
            .only("pk", "name")[:20]
        )
    return TemplateResponse(
        request, "customers/account_lookup_options.html", {"accounts": accounts}
    )


# --- The 360° page -----------------------------------------------------------------------------
def _mask_feed(feed: list[dict]) -> None:
    """Phone and e-mail changes in the history, masked for roles that may not see them."""
    labels = {
        str(Account._meta.get_field(name).verbose_name): kind
        for name, kind in MASKED_FIELDS.items()
    }
    for item in feed:
        for line in item.get("lines", []):
            kind = labels.get(line.get("label"))
            if kind and line.get("kind") == "field":
                for key in ("old", "new"):
                    if line.get(key) and line[key] != "—":
                        line[key] = mask(kind, line[key])


def account_page_extras(request, account: Account, context: dict) -> dict[str, Any]:
    """What the account page adds to the generic detail context."""
    user = request.user
    visible_details = contact_details_visible(user)
    if not visible_details:
        _mask_feed(context.get("feed", []))
    parent = None
    if account.parent_id:
        parent = Account.objects.visible_to(user).filter(pk=account.parent_id).first()
    actions = account_bulk_actions(user)
    editable = context.get("can_edit", False)
    return {
        "account": account,
        "figures": account_figures(account),
        "account_sections": render_sections(account=account, user=user),
        "parent_account": parent,
        "contact_details_visible": visible_details,
        "reveal_url": reverse("customers:account_reveal", args=[account.pk]),
        "actions_url": reverse("customers:account_actions"),
        "can_export": can(user, Account, "export"),
        "builtin_actions": {action.key for action in actions if action.builtin},
        "extra_actions": [
            action
            for action in actions
            if not action.builtin and (editable or not action.editable_only)
        ],
        "envelope_form": EnvelopeForm(),
        "label_form": LabelForm(),
        "group_form": AccountGroupActionForm(user=user) if editable else None,
        "tag_form": AccountTagActionForm() if editable else None,
        "lifecycle_label": account.get_lifecycle_stage_display(),
    }


class AccountPageMixin:
    """Adds the 360° extras whenever the detail page is rendered (also when the share or
    attachment form re-renders it with an error)."""

    def render(self, kind, status=200, **extra):
        if kind == "detail" and "record" in extra:
            extra = {**account_page_extras(self.request, extra["record"], extra), **extra}
        return super().render(kind, status=status, **extra)


class AccountDetailView(AccountPageMixin, generic.RecordDetailView):
    pass


class AccountShareView(AccountPageMixin, generic.RecordShareView):
    pass


class AccountAttachmentUploadView(AccountPageMixin, generic.AttachmentUploadView):
    pass


# The sections customers registers itself; the contacts, membership, sales, service and
# marketing sections come from their own modules.
def _relationships_context(*, account, user) -> dict:
    graph = relationship_graph(account=account, user=user)
    roles: dict[str, str] = {}
    for node in graph["nodes"]:
        roles.setdefault(node["role"], node["role_label"] or _("No role"))
    graph["categories"] = [{"key": key, "name": name} for key, name in roles.items()]
    # The map drawn for the eye, written out for screen readers: who is what of whom.
    names = {node["id"]: node["name"] for node in graph["nodes"]}
    lines = [
        {
            "source": names.get(edge["source"]),
            "label": edge["label"],
            "target": names.get(edge["target"]),
        }
        for edge in graph["edges"]
    ]
    return {"graph": graph, "relationship_lines": lines}


def _groups_context(*, account, user) -> dict:
    return {"groups": account_groups(account=account, user=user)}


def _page_context(*, account, user) -> dict:
    # Timeline, attachments and shares reuse what the generic detail view already loaded.
    return {}


for _section in (
    AccountSection(
        key="relationships",
        title=gettext_lazy("Relationship map"),
        template="customers/sections/relationships.html",
        context=_relationships_context,
        order=20,
        lazy=True,
    ),
    AccountSection(
        key="groups",
        title=gettext_lazy("Groups"),
        template="customers/sections/groups.html",
        context=_groups_context,
        order=30,
        column="side",
        lazy=True,
    ),
    AccountSection(
        key="timeline",
        title=gettext_lazy("Timeline and history"),
        template="customers/sections/timeline.html",
        context=_page_context,
        order=900,
    ),
    AccountSection(
        key="attachments",
        title=gettext_lazy("Attachments"),
        template="customers/sections/attachments.html",
        context=_page_context,
        order=910,
    ),
    AccountSection(
        key="shares",
        title=gettext_lazy("Sharing"),
        template="customers/sections/shares.html",
        context=_page_context,
        order=920,
    ),
):
    register_account_section(_section)


@require_POST
@login_required
def account_reveal(request, pk: int):
    """Show the real phone or e-mail of a masked account (htmx); the reveal is logged."""
    account = record_get_visible(model=Account, pk=pk, user=request.user)
    field = request.POST.get("field", "")
    if field not in MASKED_FIELDS:
        raise Http404
    value = getattr(account, field)
    if not contact_details_visible(request.user) and value:
        contact_detail_reveal(instance=account, values={field: value}, actor=request.user)
    return TemplateResponse(
        request, "customers/account_revealed.html", {"value": value, "field": field}
    )


@require_GET
@login_required
def account_section_view(request, pk: int, key: str):
    """One section of the account page, for the page to load when it scrolls into view."""
    section = account_section(key)
    if section is None:
        raise Http404
    if not can(request.user, Account, "view"):
        raise PermissionDenied
    account = record_get_visible(model=Account, pk=pk, user=request.user)
    item = section_item(section, account=account, user=request.user)
    return TemplateResponse(
        request,
        section.template,
        {"account": account, "record": account, "section": item, **item["context"]},
    )


# --- The list ----------------------------------------------------------------------------------
class AccountListView(generic.RecordListView):
    """The generic list, with masked phones/e-mails for roles that may not see them and the
    account actions (statistics, print, export) next to the generic bulk bar."""

    def get(self, request):
        if request.GET.get(generic.PANEL_PARAM) == "account_actions":
            return self.account_actions_panel(request.user)
        response = super().get(request)
        context = getattr(response, "context_data", None)
        if not context or "rows" not in context:
            return response
        user = request.user
        if not contact_details_visible(user):
            for row in context["rows"]:
                row["cells"] = [
                    (column, _masked_cell(row["record"], column, value))
                    for column, value in row["cells"]
                ]
        actions = account_bulk_actions(user)
        if context.get("bulk_form") is None and actions:
            # Roles that may only export still select rows to print or extract.
            empty = BulkForm(model=Account, edit_fields=())
            empty.fields["action"].choices = []
            context["bulk_form"] = empty
        context.update(
            {
                "statistics_url": reverse("customers:account_statistics"),
                "actions_url": reverse("customers:account_actions"),
                "account_actions": actions,
                "builtin_actions": {action.key for action in actions if action.builtin},
            }
        )
        return response

    def account_actions_panel(self, user):
        """The account actions' parameter fields, loaded when the user reaches for them."""
        if not can(user, Account, "view"):
            return self.forbidden(_("Your role does not allow you to see these records."))
        actions = account_bulk_actions(user)
        if not actions:
            raise Http404
        return self.render(
            ["customers/account_actions_values.html"],
            builtin_actions={action.key for action in actions if action.builtin},
            envelope_form=EnvelopeForm(),
            label_form=LabelForm(),
            share_action_form=AccountShareActionForm(),
            group_form=AccountGroupActionForm(user=user),
            tag_form=AccountTagActionForm(),
        )


def _masked_cell(record, column, value):
    kind = MASKED_FIELDS.get(column.name)
    if kind is None:
        return value
    raw = getattr(record, column.name, "")
    return mask(kind, raw) if raw else value


# --- Statistics --------------------------------------------------------------------------------
CHART_KINDS = {"lifecycle_stage": "pie", "credit_rating": "pie", "level": "pie", "source": "pie"}


@login_required
def account_statistics(request):
    """Counts of the accounts the user may see, by each dimension; each bar or row links
    to the account list filtered the same way."""
    user = request.user
    if not can(user, Account, "view"):
        return TemplateResponse(
            request,
            "core/generic/forbidden.html",
            {"message": _("Your role does not allow you to see these records.")},
            status=403,
        )
    list_url = reverse("customers:account_list")
    dimensions = []
    for key, spec in DIMENSIONS.items():
        rows = account_counts(user=user, dimension=key)
        for row in rows:
            value = row["value"]
            param = "null" if value in (None, "") else value
            row["url"] = f"{list_url}?{urlencode({spec.filter_param: param})}"
        dimensions.append(
            {
                "key": key,
                "label": spec.label,
                "chart": CHART_KINDS.get(key, "bar"),
                "rows": rows,
                "chart_data": [
                    {"name": row["label"], "value": row["count"], "url": row["url"]} for row in rows
                ],
            }
        )
    return TemplateResponse(
        request,
        "customers/statistics.html",
        {
            "dimensions": dimensions,
            "total": account_total(user=user),
            "list_url": list_url,
        },
    )


# --- URLs --------------------------------------------------------------------------------------
ACCOUNT_VIEW_OVERRIDES = {
    "account_list": AccountListView,
    "account_create": AccountCreateView,
    "account_validate": AccountValidateView,
    "account_detail": AccountDetailView,
    "account_edit": AccountUpdateView,
    "account_validate_edit": AccountValidateView,
    "account_share": AccountShareView,
    "account_attachment_upload": AccountAttachmentUploadView,
}


def account_urls() -> list:
    """The generic account URLs (some with the account views above) and the extra pages."""
    patterns = []
    for pattern in model_urls(account_registration):
        view_class = ACCOUNT_VIEW_OVERRIDES.get(pattern.name)
        if view_class is not None:
            pattern = path(
                str(pattern.pattern),
                view_class.as_view(registration=account_registration),
                name=pattern.name,
            )
        patterns.append(pattern)
    return [
        path("accounts/lookup/", account_lookup, name="account_lookup"),
        path("accounts/actions/", views_account_actions.account_actions, name="account_actions"),
        path("accounts/<int:pk>/reveal/", account_reveal, name="account_reveal"),
        path(
            "accounts/<int:pk>/sections/<slug:key>/", account_section_view, name="account_section"
        ),
        path("statistics/", account_statistics, name="account_statistics"),
        *patterns,
    ]
