"""The account pages beyond the generic views: the form with its groups and region selects,
the 360° page, statistics with drill-down, actions on one or many accounts (share, group,
tag, extract e-mails, envelopes, labels, vCard) and the logged reveal of masked values.

Thin: every write goes through the customers / core services; every read starts from the
user's data scope; a record the user may not see answers 404.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.forms.generic import BulkForm, enable_inline_validation
from guanxi.core.masking import (
    EMAIL,
    PHONE,
    contact_detail_reveal,
    contact_details_visible,
    mask,
)
from guanxi.core.pdf import Address, envelopes_pdf, labels_pdf
from guanxi.core.scope import can
from guanxi.core.selectors import record_get_visible
from guanxi.core.services.configuration import record_tags_set, tags_of
from guanxi.core.services.custom_fields import custom_fields_for
from guanxi.core.services.records import record_share
from guanxi.core.vcard import vcards
from guanxi.core.views import generic
from guanxi.core.views.registry import model_urls
from guanxi.customers.account_hooks import (
    AccountBulkAction,
    account_bulk_action,
    account_bulk_actions,
    account_figures,
    register_account_bulk_action,
)
from guanxi.customers.forms import (
    AccountGroupActionForm,
    AccountShareActionForm,
    AccountTagActionForm,
    EnvelopeForm,
    LabelForm,
)
from guanxi.customers.models import Account, AccountContact, ContactEmail
from guanxi.customers.regions import PROVINCES
from guanxi.customers.sections import AccountSection, register_account_section, render_sections
from guanxi.customers.selectors import account_groups, relationship_graph
from guanxi.customers.services import group_add_accounts
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
    return {"graph": graph}


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
    ),
    AccountSection(
        key="groups",
        title=gettext_lazy("Groups"),
        template="customers/sections/groups.html",
        context=_groups_context,
        order=30,
        column="side",
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


# --- The list ----------------------------------------------------------------------------------
class AccountListView(generic.RecordListView):
    """The generic list, with masked phones/e-mails for roles that may not see them and the
    account actions (statistics, print, export) next to the generic bulk bar."""

    def get(self, request):
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
                "envelope_form": EnvelopeForm(),
                "label_form": LabelForm(),
                "share_action_form": AccountShareActionForm(),
                "group_form": AccountGroupActionForm(user=user),
                "tag_form": AccountTagActionForm(),
            }
        )
        return response


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


# --- Actions on selected accounts --------------------------------------------------------------
def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=False
    ):
        return candidate
    return default


def _selected_ids(request) -> list[int]:
    ids = []
    for raw in request.POST.getlist("pk"):
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))


def _forbidden(request, message: str):
    return TemplateResponse(
        request, "core/generic/forbidden.html", {"message": message}, status=403
    )


@require_POST
@login_required
def account_actions(request):
    """Run an action on the selected accounts (``pk`` repeated, ``bulk_action``): only the
    accounts the user may act on are touched; the others are counted as skipped."""
    user = request.user
    action = account_bulk_action(request.POST.get("bulk_action", ""))
    back = _next_url(request, reverse("customers:account_list"))
    if action is None:
        messages.error(request, _("Choose an action."))
        return redirect(back)
    if not can(user, Account, action.permission):
        return _forbidden(request, _("Your role does not allow this."))
    ids = _selected_ids(request)
    if not ids:
        messages.error(request, _("Select at least one account."))
        return redirect(back)
    scope = Account.objects.editable_by(user) if action.editable_only else None
    if scope is None:
        scope = Account.objects.visible_to(user)
    accounts = list(scope.filter(pk__in=ids).order_by("pk"))
    skipped = len(ids) - len(accounts)
    if skipped:
        messages.warning(
            request,
            _("%(count)d record(s) were skipped because you may not change them.")
            % {"count": skipped}
            if action.editable_only
            else _("%(count)d record(s) were skipped because you may not see them.")
            % {"count": skipped},
        )
    if not accounts:
        messages.error(request, _("None of the selected accounts can be used for this."))
        return redirect(back)
    return action.handler(request=request, accounts=accounts, next_url=back)


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def share_handler(*, request, accounts, next_url):
    form = AccountShareActionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(next_url)
    try:
        with transaction.atomic():
            for account in accounts:
                record_share(
                    instance=account,
                    actor=request.user,
                    user=form.cleaned_data.get("user"),
                    department=form.cleaned_data.get("department"),
                    access=form.cleaned_data["access"],
                    expires_at=form.cleaned_data.get("expires_at"),
                )
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return redirect(next_url)
    messages.success(request, _("%(count)d account(s) shared.") % {"count": len(accounts)})
    return redirect(next_url)


def group_handler(*, request, accounts, next_url):
    form = AccountGroupActionForm(request.POST, user=request.user)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(next_url)
    group = form.cleaned_data["group"]
    try:
        added = group_add_accounts(group=group, accounts=accounts, actor=request.user)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return redirect(next_url)
    messages.success(
        request,
        _("%(count)d account(s) added to %(group)s.") % {"count": added, "group": group},
    )
    return redirect(next_url)


def tag_handler(*, request, accounts, next_url):
    form = AccountTagActionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(next_url)
    adding = list(form.cleaned_data["tags"])
    with transaction.atomic():
        for account in accounts:
            current = list(tags_of(account))
            known = {tag.pk for tag in current}
            wanted = current + [tag for tag in adding if tag.pk not in known]
            record_tags_set(record=account, tags=wanted, actor=request.user)
    messages.success(request, _("%(count)d account(s) tagged.") % {"count": len(accounts)})
    return redirect(next_url)


def _require_export(request, *, details: bool = False):
    """None when the user may export (and see contact details if needed), else a 403."""
    if not can(request.user, Account, "export"):
        return _forbidden(request, _("Your role does not allow exporting these records."))
    if details and not contact_details_visible(request.user):
        return _forbidden(request, _("Your role may not see phone numbers and e-mails."))
    return None


def _audit_export(request, count: int, fmt: str) -> None:
    from guanxi.core.imports.services import audit_export

    audit_export(model=Account, actor=request.user, count=count, fmt=fmt)


def _visible_links(request, accounts):
    return (
        AccountContact.objects.visible_to(request.user)
        .filter(account__in=accounts, contact__is_deleted=False)
        .select_related("contact", "account", "role")
    )


def account_email_addresses(*, user, accounts) -> list[dict]:
    """[{address, name, account}] of the accounts and their contacts the user may see,
    each address once (case-insensitive), accounts first."""
    found: dict[str, dict] = {}
    for account in accounts:
        if account.email:
            found.setdefault(
                account.email.casefold(),
                {"address": account.email, "name": account.name, "account": account.name},
            )
    links = (
        AccountContact.objects.visible_to(user)
        .filter(account__in=accounts, contact__is_deleted=False)
        .values_list("contact_id", "account__name")
    )
    account_of: dict[int, str] = {}
    for contact_id, account_name in links:
        account_of.setdefault(contact_id, account_name)
    emails = (
        ContactEmail.objects.filter(contact_id__in=list(account_of))
        .select_related("contact")
        .order_by("contact_id", "-is_primary", "id")
    )
    for email in emails:
        found.setdefault(
            email.address.casefold(),
            {
                "address": email.address,
                "name": email.contact.name,
                "account": account_of[email.contact_id],
            },
        )
    return list(found.values())


def emails_handler(*, request, accounts, next_url):
    denied = _require_export(request, details=True)
    if denied:
        return denied
    addresses = account_email_addresses(user=request.user, accounts=accounts)
    if request.POST.get("format") == "csv":
        _audit_export(request, len(addresses), "e-mail csv")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_("E-mail"), _("Name"), _("Account")])
        for item in addresses:
            writer.writerow([item["address"], item["name"], item["account"]])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="emails.csv"'
        return response
    _audit_export(request, len(addresses), "e-mail")
    return TemplateResponse(
        request,
        "customers/account_emails.html",
        {
            "addresses": addresses,
            "text": "; ".join(item["address"] for item in addresses),
            "accounts": accounts,
            "actions_url": reverse("customers:account_actions"),
            "next_url": next_url,
        },
    )


def account_addresses(*, user, accounts) -> list[Address]:
    """One postal address per account: to its primary contact (the first visible contact
    when none is primary) at the company."""
    people: dict[int, AccountContact] = {}
    for link in (
        AccountContact.objects.visible_to(user)
        .filter(account__in=accounts, contact__is_deleted=False)
        .select_related("contact")
        .order_by("account_id", "-is_primary", "id")
    ):
        people.setdefault(link.account_id, link)
    result = []
    for account in accounts:
        link = people.get(account.pk)
        individual = account.kind == Account.Kind.INDIVIDUAL
        name = link.contact.name if link else (account.name if individual else "")
        result.append(
            Address(
                name=name,
                title=(link.job_title if link and not individual else ""),
                company="" if individual else account.name,
                lines=[account.address] if account.address else [],
                postcode=account.postcode,
                province=account.province,
                city=account.city,
                district=account.district,
            )
        )
    return result


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def envelopes_handler(*, request, accounts, next_url):
    denied = _require_export(request)
    if denied:
        return denied
    form = EnvelopeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(next_url)
    content = envelopes_pdf(
        account_addresses(user=request.user, accounts=accounts),
        size=form.cleaned_data["size"],
        postcode_boxes=form.cleaned_data["postcode_boxes"],
    )
    _audit_export(request, len(accounts), "envelopes")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _pdf_response(content, f"envelopes-{stamp}.pdf")


def labels_handler(*, request, accounts, next_url):
    denied = _require_export(request)
    if denied:
        return denied
    form = LabelForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(next_url)
    content = labels_pdf(
        account_addresses(user=request.user, accounts=accounts),
        sheet=form.cleaned_data["sheet"],
        skip=form.cleaned_data.get("skip") or 0,
        outlines=form.cleaned_data["outlines"],
    )
    _audit_export(request, len(accounts), "labels")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _pdf_response(content, f"labels-{stamp}.pdf")


def vcard_handler(*, request, accounts, next_url):
    denied = _require_export(request, details=True)
    if denied:
        return denied
    links = list(
        _visible_links(request, accounts)
        .prefetch_related("contact__phones", "contact__emails")
        .order_by("account_id", "-is_primary", "id")
    )
    seen: set[int] = set()
    cards = []
    for link in links:
        if link.contact_id in seen:
            continue
        seen.add(link.contact_id)
        contact = link.contact
        account = link.account
        cards.append(
            {
                "name": contact.name,
                "company": "" if account.kind == Account.Kind.INDIVIDUAL else account.name,
                "title": link.job_title or contact.title,
                "phones": [
                    {"number": phone.number, "kind": phone.kind} for phone in contact.phones.all()
                ],
                "emails": [email.address for email in contact.emails.all()],
                "birthday": contact.birthday,
                "address": Address(
                    lines=[account.address] if account.address else [],
                    postcode=account.postcode,
                    province=account.province,
                    city=account.city,
                    district=account.district,
                )
                if (account.address or account.city)
                else None,
            }
        )
    if not cards:
        messages.warning(request, _("The selected accounts have no contacts to export."))
        return redirect(next_url)
    _audit_export(request, len(cards), "vcard")
    response = HttpResponse(vcards(cards), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.vcf"'
    return response


for _action in (
    AccountBulkAction(
        "share", gettext_lazy("Share"), share_handler, icon="bi-share", order=10, builtin=True
    ),
    AccountBulkAction(
        "group",
        gettext_lazy("Add to group"),
        group_handler,
        icon="bi-collection",
        order=20,
        builtin=True,
    ),
    AccountBulkAction(
        "tag", gettext_lazy("Add tags"), tag_handler, icon="bi-tags", order=30, builtin=True
    ),
    AccountBulkAction(
        "emails",
        gettext_lazy("Extract e-mail addresses"),
        emails_handler,
        permission="export",
        editable_only=False,
        icon="bi-envelope-at",
        order=40,
        builtin=True,
    ),
    AccountBulkAction(
        "envelopes",
        gettext_lazy("Print envelopes"),
        envelopes_handler,
        permission="export",
        editable_only=False,
        icon="bi-envelope",
        order=50,
        builtin=True,
    ),
    AccountBulkAction(
        "labels",
        gettext_lazy("Print address labels"),
        labels_handler,
        permission="export",
        editable_only=False,
        icon="bi-printer",
        order=60,
        builtin=True,
    ),
    AccountBulkAction(
        "vcard",
        gettext_lazy("Export vCard"),
        vcard_handler,
        permission="export",
        editable_only=False,
        icon="bi-person-vcard",
        order=70,
        builtin=True,
    ),
):
    register_account_bulk_action(_action)


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
        path("accounts/actions/", account_actions, name="account_actions"),
        path("accounts/<int:pk>/reveal/", account_reveal, name="account_reveal"),
        path("statistics/", account_statistics, name="account_statistics"),
        *patterns,
    ]
