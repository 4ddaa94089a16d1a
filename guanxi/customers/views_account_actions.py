"""Actions on one or many accounts (the list's selection or one account's page): share,
add to a static group, tag, extract e-mail addresses, print envelopes and address labels
(PDF with Chinese text), export the contacts as vCards, and whatever later apps register
with `register_account_bulk_action` (the activities app: "batch create a follow-up task").

Changing actions act only on the accounts the user may edit, exports and prints on those
they may see and need the role action "export"; everything runs through the services, in
one transaction, and exports are written to the history.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.masking import contact_details_visible
from guanxi.core.pdf import Address, envelopes_pdf, labels_pdf
from guanxi.core.scope import can
from guanxi.core.services.configuration import records_tags_add
from guanxi.core.services.records import records_share
from guanxi.core.vcard import vcards
from guanxi.core.views.generic import safe_next_url
from guanxi.customers.account_hooks import (
    AccountBulkAction,
    account_bulk_action,
    register_account_bulk_action,
)
from guanxi.customers.forms import (
    AccountGroupActionForm,
    AccountShareActionForm,
    AccountTagActionForm,
    EnvelopeForm,
    LabelForm,
)
from guanxi.customers.models import Account, AccountContact
from guanxi.customers.selectors import account_addresses, account_email_addresses
from guanxi.customers.services import group_add_accounts


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
    back = safe_next_url(request, reverse("customers:account_list"))
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
        records_share(
            records=accounts,
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
    records_tags_add(records=accounts, tags=form.cleaned_data["tags"], actor=request.user)
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
