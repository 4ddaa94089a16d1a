"""Contact, account-contact link and group pages (the generic record views, registered here),
plus the small views around them: linking, relations, group members, the points ledger and
the membership levels. Thin: every write is a customers service."""

from __future__ import annotations

import contextvars
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.forms.generic import apply_service_errors
from guanxi.core.phones import email_mask, phone_mask
from guanxi.core.scope import can, is_administrator, record_editable_by
from guanxi.core.selectors import bounded_count, record_get_visible
from guanxi.core.views.generic import RecordDetailView, RecordListView, safe_next_url
from guanxi.core.views.registry import (
    Column,
    ModelRegistration,
    model_urls,
    register_model_views,
)
from guanxi.customers import services
from guanxi.customers.filters_contacts import (
    AccountContactFilterSet,
    ContactFilterSet,
    GroupFilterSet,
)
from guanxi.customers.forms_contacts import (
    AccountContactForm,
    ContactForm,
    GroupForm,
    GroupMembersForm,
    LinkForm,
    MembershipLevelForm,
    PointsForm,
    RelationForm,
    conditions_from_text,
)
from guanxi.customers.groups import conditions_q
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactRelation,
    Group,
    MembershipLevel,
    PointsEntry,
)
from guanxi.customers.sections import (
    AccountSection,
    register_account_section,
    render_contact_sections,
)
from guanxi.customers.selectors import account_contacts, group_members

MEMBER_COUNT_CAP = 10_000
MEMBERS_PAGE_SIZE = 50
LEDGER_PAGE_SIZE = 50
CHOICES_LIMIT = 20

# The user a list page is rendered for, so its columns can hide what they may not see.
_viewer: contextvars.ContextVar = contextvars.ContextVar("customers_viewer", default=None)


def contact_details_visible(user) -> bool:
    """Whether the user may read phone numbers and e-mail addresses unmasked."""
    if user is None:
        return False
    try:
        from guanxi.core.masking import contact_details_visible as visible
    except ImportError:  # pragma: no cover  (masking not installed)
        return True
    return visible(user)


def show_phone(user, number: str) -> str:
    if not number:
        return ""
    return number if contact_details_visible(user) else phone_mask(number)


def show_email(user, address: str) -> str:
    if not address:
        return ""
    return address if contact_details_visible(user) else email_mask(address)


def _forbidden(request, message: str | None = None) -> TemplateResponse:
    return TemplateResponse(
        request,
        "core/generic/forbidden.html",
        {"message": message or _("Your role does not allow this.")},
        status=403,
    )


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _editable(model, record, user, action: str = "change") -> bool:
    if action == "change":
        return can(user, model, action) and record_editable_by(record, user)
    return (
        can(user, model, action) and model.objects.editable_by(user).filter(pk=record.pk).exists()
    )


def _rename_point_errors(error: ValidationError) -> ValidationError:
    """The service calls phone errors "numbers"; the form field is "phones"."""
    if hasattr(error, "error_dict") and "numbers" in error.error_dict:
        errors = dict(error.error_dict)
        errors["phones"] = errors.pop("numbers")
        return ValidationError(errors)
    return error


# --- Contact registration --------------------------------------------------------------------
def _prepare_phones(records: list) -> None:
    found: dict[int, str] = {}
    ids = [record.pk for record in records]
    if ids:
        for contact_id, number in (
            ContactPhone.objects.filter(contact_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "number")
        ):
            found.setdefault(contact_id, number)
    for record in records:
        record._gx_phone = found.get(record.pk, "")


def _prepare_emails(records: list) -> None:
    found: dict[int, str] = {}
    ids = [record.pk for record in records]
    if ids:
        for contact_id, address in (
            ContactEmail.objects.filter(contact_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "address")
        ):
            found.setdefault(contact_id, address)
    for record in records:
        record._gx_email = found.get(record.pk, "")


def _prepare_accounts(records: list) -> None:
    """The accounts of each contact, among the links the viewer may see."""
    user = _viewer.get()
    found: dict[int, list[str]] = {}
    ids = [record.pk for record in records]
    if ids and user is not None:
        links = (
            AccountContact.objects.visible_to(user)
            .filter(contact_id__in=ids, account__is_deleted=False)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "account__name")
        )
        for contact_id, name in links:
            found.setdefault(contact_id, []).append(name)
    for record in records:
        record._gx_accounts = found.get(record.pk, [])


def _primary_phone(contact: Contact) -> str:
    number = getattr(contact, "_gx_phone", None)
    if number is None:
        first = contact.phones.order_by("-is_primary", "id").first()
        number = first.number if first else ""
    return show_phone(_viewer.get(), number)


def _primary_email(contact: Contact) -> str:
    address = getattr(contact, "_gx_email", None)
    if address is None:
        first = contact.emails.order_by("-is_primary", "id").first()
        address = first.address if first else ""
    return show_email(_viewer.get(), address)


def _contact_create(*, data, custom_data, actor):
    extra = getattr(data, "extra", {})
    try:
        return services.contact_create(
            actor=actor,
            data=dict(data),
            phones=extra.get("phones"),
            emails=extra.get("emails"),
            custom_data=custom_data,
        )
    except ValidationError as error:
        raise _rename_point_errors(error) from None


def _contact_update(*, instance, data, custom_data, actor, version):
    extra = getattr(data, "extra", {})
    try:
        return services.contact_update(
            contact=instance,
            actor=actor,
            data=dict(data),
            version=version,
            phones=extra.get("phones"),
            emails=extra.get("emails"),
            custom_data=custom_data,
        )
    except ValidationError as error:
        raise _rename_point_errors(error) from None


def _contact_delete(*, instance, actor, version):
    services.contact_delete(contact=instance, actor=actor, version=version)


contact_registration = ModelRegistration(
    model=Contact,
    columns=[
        Column("name", gettext_lazy("name"), sortable=True, link=True),
        Column("phone", gettext_lazy("phone"), accessor=_primary_phone, prepare=_prepare_phones),
        Column("email", gettext_lazy("e-mail"), accessor=_primary_email, prepare=_prepare_emails),
        Column(
            "accounts",
            gettext_lazy("accounts"),
            accessor=lambda contact: getattr(contact, "_gx_accounts", []),
            prepare=_prepare_accounts,
        ),
        Column("title", gettext_lazy("job title"), default=False),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("created_at", gettext_lazy("created at"), sortable=True),
        Column("updated_at", gettext_lazy("updated at"), sortable=True, default=False),
    ],
    form_class=ContactForm,
    filterset_class=ContactFilterSet,
    search_fields=["name__startswith"],
    detail_sections=[
        (gettext_lazy("Contact"), ["name", "gender", "title", "birthday", "wechat"]),
        (gettext_lazy("Address"), ["address"]),
        (gettext_lazy("Notes"), ["notes"]),
    ],
    bulk_edit_fields=["gender"],
    list_select_related=["owner", "department"],
    default_sort="-created_at",
    create=_contact_create,
    update=_contact_update,
    delete=_contact_delete,
    path_prefix="contacts",
)
register_model_views(Contact, contact_registration)


class ContactListView(RecordListView):
    def get(self, request):
        token = _viewer.set(request.user)
        try:
            return super().get(request)
        finally:
            _viewer.reset(token)


class ContactDetailView(RecordDetailView):
    def detail_context(self, record, **extra: Any) -> dict[str, Any]:
        context = super().detail_context(record, **extra)
        user = self.request.user
        context.update(contact_panels(contact=record, user=user))
        context["can_link"] = context["can_edit"] and can(user, AccountContact, "add")
        context["contact_sections"] = render_contact_sections(contact=record, user=user)
        _history_points(context.get("feed") or [], user)
        return context


def _history_points(feed: list, user) -> None:
    """Name the phone / e-mail changes of the history, masked for roles that may not see
    contact details."""
    labels = {
        "phones": (gettext_lazy("phones"), show_phone),
        "emails": (gettext_lazy("e-mails"), show_email),
    }
    for item in feed:
        for line in item.get("lines") or []:
            if line.get("kind") != "field" or line.get("label") not in labels:
                continue
            label, show = labels[line["label"]]
            line["label"] = str(label)
            for key in ("old", "new"):
                value = line.get(key) or ""
                if value and value != "—":
                    line[key] = ", ".join(show(user, part.strip()) for part in value.split(","))


def contact_panels(*, contact: Contact, user) -> dict[str, Any]:
    """Phones, e-mails, the accounts the contact works at and its relations, as the user may
    see them."""
    visible_contacts = Contact.objects.visible_to(user)
    phones = [
        {
            "number": show_phone(user, phone.number),
            "kind": phone.get_kind_display(),
            "primary": phone.is_primary,
        }
        for phone in contact.phones.all()
    ]
    emails = [
        {
            "address": show_email(user, email.address),
            "kind": email.get_kind_display(),
            "primary": email.is_primary,
        }
        for email in contact.emails.all()
    ]
    links = list(
        AccountContact.objects.visible_to(user)
        .filter(contact=contact, account__is_deleted=False)
        .select_related("account", "role")
    )
    editable_links = set(
        AccountContact.objects.editable_by(user)
        .filter(pk__in=[link.pk for link in links])
        .values_list("pk", flat=True)
    )
    for link in links:
        link.gx_editable = link.pk in editable_links
    outgoing = list(
        ContactRelation.objects.filter(
            from_contact=contact, to_contact__in=visible_contacts
        ).select_related("to_contact")
    )
    incoming = list(
        ContactRelation.objects.filter(
            to_contact=contact, from_contact__in=visible_contacts
        ).select_related("from_contact")
    )
    return {
        "phones": phones,
        "emails": emails,
        "links": links,
        "relations_out": outgoing,
        "relations_in": incoming,
        "link_form": LinkForm(initial={"contact": contact.pk}, fixed="contact"),
        "relation_form": RelationForm(),
    }


# --- Account-contact links -------------------------------------------------------------------
def _link_create(*, data, custom_data, actor):
    account, contact = data.get("account"), data.get("contact")
    errors = {}
    if account is None or not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        errors["account"] = [_("Choose an account you can see.")]
    elif not Account.objects.editable_by(actor).filter(pk=account.pk).exists():
        errors["account"] = [_("You may not change this account's contacts.")]
    if contact is None or not Contact.objects.visible_to(actor).filter(pk=contact.pk).exists():
        errors["contact"] = [_("Choose a contact you can see.")]
    if errors:
        raise ValidationError(errors)
    return services.account_contact_link(
        account=account,
        contact=contact,
        actor=actor,
        role=data.get("role"),
        job_title=data.get("job_title", ""),
        is_primary=bool(data.get("is_primary")),
    )


def _link_update(*, instance, data, custom_data, actor, version):
    data = {key: value for key, value in data.items() if key in ("role", "job_title", "is_primary")}
    return services.account_contact_update(link=instance, actor=actor, data=data, version=version)


def _link_delete(*, instance, actor, version):
    services.account_contact_unlink(link=instance, actor=actor, version=version)


def _link_assign(*, instance, owner, actor, reason, version=None):
    raise ValidationError(
        _("A contact link belongs to its account's owner: transfer the account instead.")
    )


accountcontact_registration = ModelRegistration(
    model=AccountContact,
    columns=[
        Column("contact", gettext_lazy("contact"), link=True),
        Column("account", gettext_lazy("account")),
        Column("role", gettext_lazy("role"), sortable=True, order_by="role__sort_order"),
        Column("job_title", gettext_lazy("job title"), sortable=True),
        Column("is_primary", gettext_lazy("primary contact"), sortable=True),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("created_at", gettext_lazy("created at"), sortable=True, default=False),
    ],
    form_class=AccountContactForm,
    filterset_class=AccountContactFilterSet,
    detail_sections=[
        (gettext_lazy("Link"), ["contact", "account", "role", "job_title", "is_primary"]),
    ],
    list_select_related=["contact", "account", "role", "owner"],
    default_sort="-created_at",
    create=_link_create,
    update=_link_update,
    delete=_link_delete,
    assign=_link_assign,
    path_prefix="account-contacts",
    tags=False,
    attachments=False,
    shares=False,
)
register_model_views(AccountContact, accountcontact_registration)


# --- Groups ----------------------------------------------------------------------------------
def _group_create(*, data, custom_data, actor):
    return services.group_create(actor=actor, data=dict(data))


def _group_update(*, instance, data, custom_data, actor, version):
    return services.group_update(group=instance, actor=actor, data=dict(data), version=version)


group_registration = ModelRegistration(
    model=Group,
    columns=[
        Column("name", gettext_lazy("name"), sortable=True, link=True),
        Column("kind", gettext_lazy("type"), sortable=True),
        Column("description", gettext_lazy("description")),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("created_at", gettext_lazy("created at"), sortable=True),
    ],
    form_class=GroupForm,
    filterset_class=GroupFilterSet,
    search_fields=["name__startswith"],
    detail_sections=[(gettext_lazy("Group"), ["name", "kind", "description"])],
    list_select_related=["owner"],
    default_sort="name",
    create=_group_create,
    update=_group_update,
    path_prefix="groups",
    attachments=False,
)
register_model_views(Group, group_registration)


def _count_text(count: int, capped: bool) -> str:
    if capped:
        return _("%(count)s+ accounts") % {"count": count}
    return _("%(count)s accounts") % {"count": count}


class GroupDetailView(RecordDetailView):
    def detail_context(self, record, **extra: Any) -> dict[str, Any]:
        context = super().detail_context(record, **extra)
        user = self.request.user
        page = max(_positive(self.request.GET.get("page"), 1), 1)
        error = ""
        try:
            members = group_members(group=record, user=user).select_related("owner")
            count, capped = bounded_count(members, MEMBER_COUNT_CAP)
            offset = (page - 1) * MEMBERS_PAGE_SIZE
            rows = list(
                members.order_by("-created_at", "-id")[offset : offset + MEMBERS_PAGE_SIZE + 1]
            )
        except ValidationError as problem:
            error = _error_text(problem)
            rows, count, capped = [], 0, False
        context.update(
            {
                "members": rows[:MEMBERS_PAGE_SIZE],
                "members_page": page,
                "members_has_next": len(rows) > MEMBERS_PAGE_SIZE,
                "members_count": count,
                "members_count_text": _count_text(count, capped),
                "members_error": error,
                "condition_lines": condition_lines(record),
                "can_manage_members": record.kind == Group.Kind.STATIC and context["can_edit"],
                "account_list_url": _account_list_url(record),
            }
        )
        return context


def _account_list_url(group: Group) -> str:
    try:
        return f"{reverse('customers:account_list')}?group={group.pk}"
    except Exception:  # noqa: BLE001  (the account pages are not loaded)
        return ""


def condition_lines(group: Group) -> list[str]:
    """A dynamic group's conditions as readable lines."""
    from guanxi.customers.forms_contacts import OPERATOR_LABELS, condition_fields

    if group.kind != Group.Kind.DYNAMIC:
        return []
    items = (group.conditions or {}).get("conditions") or []
    if not items:
        return []
    fields = condition_fields()
    lines = []
    for item in items:
        meta = fields.get(item.get("field"), {})
        value = item.get("value")
        choices = {str(key): label for key, label in meta.get("choices") or []}
        if isinstance(value, list):
            shown = ", ".join(choices.get(str(part), str(part)) for part in value)
        elif item.get("op") == "isnull":
            shown = ""
        else:
            shown = choices.get(str(value), "" if value is None else str(value))
        lines.append(
            " ".join(
                part
                for part in (
                    str(meta.get("label", item.get("field"))),
                    str(OPERATOR_LABELS.get(item.get("op"), item.get("op"))),
                    shown,
                )
                if part
            )
        )
    return lines


def _positive(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


class GroupMemberCountView(LoginRequiredMixin, View):
    """The live member count of the condition builder (htmx fragment)."""

    def get(self, request):
        try:
            conditions = conditions_from_text(request.GET.get("conditions", ""))
            if not (conditions.get("conditions") or []):
                return HttpResponse(_("Add a condition to see how many accounts match."))
            queryset = Account.objects.visible_to(request.user).filter(conditions_q(conditions))
            count, capped = bounded_count(queryset, MEMBER_COUNT_CAP)
        except (ValidationError, ValueError, TypeError) as error:
            text = _error_text(error) if isinstance(error, ValidationError) else str(error)
            return HttpResponse(format_html('<span class="text-danger">{}</span>', text))
        return HttpResponse(
            format_html(
                '<span class="gx-member-count">{}</span>',
                _("Matches %(text)s you can see.") % {"text": _count_text(count, capped)},
            )
        )


class GroupAddAccountsView(LoginRequiredMixin, View):
    """Add accounts (`ids`, several or comma-separated) to a static group (`group`).

    Used from the group page and by the account list's bulk action."""

    def post(self, request, pk=None):
        form = GroupMembersForm(request.POST)
        group_id = pk or request.POST.get("group")
        group = record_get_visible(model=Group, pk=group_id, user=request.user)
        default = reverse("customers:group_detail", args=[group.pk])
        if not _editable(Group, group, request.user):
            return _forbidden(request, _("You may not change this group."))
        if not form.is_valid():
            for error in form.errors.get("ids", []):
                messages.error(request, error)
            return redirect(safe_next_url(request, default))
        accounts = list(
            Account.objects.visible_to(request.user).filter(pk__in=form.cleaned_data["ids"])
        )
        try:
            added = services.group_add_accounts(group=group, accounts=accounts, actor=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
            return redirect(safe_next_url(request, default))
        messages.success(
            request,
            _("%(count)d account(s) added to %(group)s.") % {"count": added, "group": group},
        )
        skipped = len(form.cleaned_data["ids"]) - len(accounts)
        if skipped:
            messages.warning(
                request,
                _("%(count)d account(s) were skipped because you cannot see them.")
                % {"count": skipped},
            )
        return redirect(safe_next_url(request, default))


class GroupRemoveAccountsView(LoginRequiredMixin, View):
    def post(self, request, pk):
        group = record_get_visible(model=Group, pk=pk, user=request.user)
        default = reverse("customers:group_detail", args=[group.pk])
        if not _editable(Group, group, request.user):
            return _forbidden(request, _("You may not change this group."))
        form = GroupMembersForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("ids", []):
                messages.error(request, error)
            return redirect(safe_next_url(request, default))
        accounts = list(Account.all_objects.filter(pk__in=form.cleaned_data["ids"]))
        removed = services.group_remove_accounts(group=group, accounts=accounts, actor=request.user)
        messages.success(request, _("%(count)d account(s) removed.") % {"count": removed})
        return redirect(safe_next_url(request, default))


# --- Choosing records by typing (htmx) -------------------------------------------------------
class _ChoicesView(LoginRequiredMixin, View):
    model: type = Account

    def label(self, record) -> str:
        return str(record)

    def get(self, request):
        q = (request.GET.get("q") or "").strip()
        records = self.model.objects.visible_to(request.user)
        if q:
            records = records.filter(name__startswith=q).order_by("name", "pk")
        else:
            records = records.order_by("-created_at", "-pk")
        records = list(records[:CHOICES_LIMIT])
        if not records:
            return HttpResponse(format_html('<option value="">{}</option>', _("Nothing found")))
        options = format_html_join(
            "", '<option value="{}">{}</option>', ((r.pk, self.label(r)) for r in records)
        )
        if not q:  # nothing typed yet: nothing chosen yet
            options = format_html('<option value="">—</option>{}', options)
        return HttpResponse(options)


class AccountChoicesView(_ChoicesView):
    model = Account


class ContactChoicesView(_ChoicesView):
    model = Contact

    def label(self, record) -> str:
        return f"{record.name} · {record.title}" if record.title else record.name


# --- Linking contacts and accounts -----------------------------------------------------------
class AccountContactLinkView(LoginRequiredMixin, View):
    def post(self, request):
        form = LinkForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                for error in errors:
                    messages.error(
                        request,
                        f"{form.fields[field].label}: {error}" if field in form.fields else error,
                    )
            return redirect(safe_next_url(request, reverse("customers:contact_list")))
        user = request.user
        account = record_get_visible(model=Account, pk=form.cleaned_data["account"], user=user)
        contact = record_get_visible(model=Contact, pk=form.cleaned_data["contact"], user=user)
        default = reverse("customers:contact_detail", args=[contact.pk])
        if not (
            can(user, AccountContact, "add")
            and Account.objects.editable_by(user).filter(pk=account.pk).exists()
        ):
            return _forbidden(request, _("You may not change this account's contacts."))
        try:
            services.account_contact_link(
                account=account,
                contact=contact,
                actor=user,
                role=form.cleaned_data.get("role"),
                job_title=form.cleaned_data.get("job_title") or "",
                is_primary=form.cleaned_data.get("is_primary") or False,
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _("%(contact)s linked to %(account)s.") % {"contact": contact, "account": account},
            )
        return redirect(safe_next_url(request, default))


class AccountContactUnlinkView(LoginRequiredMixin, View):
    def post(self, request, pk):
        user = request.user
        link = record_get_visible(model=AccountContact, pk=pk, user=user)
        default = reverse("customers:contact_detail", args=[link.contact_id])
        if not _editable(AccountContact, link, user, "delete"):
            return _forbidden(request, _("You may not unlink this contact."))
        try:
            services.account_contact_unlink(link=link, actor=user)
        except (ValidationError, VersionConflict, ActionNotAllowed) as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Contact unlinked."))
        return redirect(safe_next_url(request, default))


# --- Contact relations -----------------------------------------------------------------------
class ContactRelationAddView(LoginRequiredMixin, View):
    def post(self, request, pk):
        user = request.user
        contact = record_get_visible(model=Contact, pk=pk, user=user)
        default = reverse("customers:contact_detail", args=[contact.pk]) + "#relations"
        if not _editable(Contact, contact, user):
            return _forbidden(request, _("You may see this record but not change it."))
        form = RelationForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(default)
        other = record_get_visible(model=Contact, pk=form.cleaned_data["to_contact"], user=user)
        try:
            services.contact_relation_add(
                from_contact=contact, to_contact=other, kind=form.cleaned_data["kind"], actor=user
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Relation added."))
        return redirect(safe_next_url(request, default))


class ContactRelationRemoveView(LoginRequiredMixin, View):
    def post(self, request, pk, relation_pk):
        user = request.user
        contact = record_get_visible(model=Contact, pk=pk, user=user)
        relation = get_object_or_404(
            ContactRelation, Q(from_contact=contact) | Q(to_contact=contact), pk=relation_pk
        )
        if not _editable(Contact, contact, user):
            return _forbidden(request, _("You may see this record but not change it."))
        services.contact_relation_remove(relation=relation, actor=user)
        messages.success(request, _("Relation removed."))
        return redirect(
            safe_next_url(request, reverse("customers:contact_detail", args=[contact.pk]))
        )


# --- Membership: the points ledger and the levels --------------------------------------------
class PointsLedgerView(LoginRequiredMixin, View):
    template_name = "customers/points_ledger.html"

    def page(self, request, account, form=None, status=200):
        page = _positive(request.GET.get("page"), 1)
        offset = (page - 1) * LEDGER_PAGE_SIZE
        entries = list(
            PointsEntry.objects.filter(account=account)
            .select_related("actor")
            .order_by("-created_at", "-id")[offset : offset + LEDGER_PAGE_SIZE + 1]
        )
        can_record = _editable(Account, account, request.user)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "account": account,
                "entries": entries[:LEDGER_PAGE_SIZE],
                "page": page,
                "has_next": len(entries) > LEDGER_PAGE_SIZE,
                "form": form or (PointsForm() if can_record else None),
                "can_record": can_record,
                "account_url": _account_url(account),
            },
            status=status,
        )

    def get(self, request, pk):
        account = record_get_visible(model=Account, pk=pk, user=request.user)
        return self.page(request, account)

    def post(self, request, pk):
        account = record_get_visible(model=Account, pk=pk, user=request.user)
        if not _editable(Account, account, request.user):
            return _forbidden(request, _("You may see this record but not change it."))
        form = PointsForm(request.POST)
        if form.is_valid():
            try:
                services.points_record(
                    account=account,
                    kind=form.cleaned_data["kind"],
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data.get("reason") or "",
                    actor=request.user,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Points recorded. The balance is now %(points)s.")
                    % {"points": account.points},
                )
                return redirect(
                    safe_next_url(request, reverse("customers:points_ledger", args=[pk]))
                )
        return self.page(request, account, form=form, status=400)


def _account_url(account: Account) -> str:
    try:
        return reverse("customers:account_detail", args=[account.pk])
    except Exception:  # noqa: BLE001
        return ""


class AdministratorMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_administrator(request.user):
            return _forbidden(request, _("Only an administrator can change membership levels."))
        return super().dispatch(request, *args, **kwargs)


class MembershipLevelListView(AdministratorMixin, View):
    def get(self, request):
        return TemplateResponse(
            request,
            "customers/points_levels.html",
            {"levels": list(MembershipLevel.objects.order_by("threshold"))},
        )


class MembershipLevelEditView(AdministratorMixin, View):
    template_name = "customers/points_level_form.html"

    def render(self, request, form, level, status=200):
        return TemplateResponse(
            request, self.template_name, {"form": form, "level": level}, status=status
        )

    def get(self, request, pk=None):
        level = get_object_or_404(MembershipLevel, pk=pk) if pk else None
        return self.render(request, MembershipLevelForm(instance=level), level)

    def post(self, request, pk=None):
        level = get_object_or_404(MembershipLevel, pk=pk) if pk else None
        form = MembershipLevelForm(request.POST, instance=level)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                if level is not None:
                    level.refresh_from_db()
                services.membership_level_save(actor=request.user, data=data, level=level)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Membership level saved."))
                return redirect("customers:membership_level_list")
        return self.render(request, form, level, status=400)


# --- Sections of the account 360° page -------------------------------------------------------
def _contacts_section(*, account, user) -> dict:
    links = list(account_contacts(account=account, user=user))
    for link in links:
        phones = list(link.contact.phones.all())
        emails = list(link.contact.emails.all())
        link.gx_phone = show_phone(user, phones[0].number) if phones else ""
        link.gx_email = show_email(user, emails[0].address) if emails else ""
    editable = record_editable_by(account, user)
    can_link = editable and can(user, AccountContact, "add")
    return {
        "account": account,
        "links": links,
        "can_link": can_link,
        "can_unlink": editable and can(user, AccountContact, "delete"),
        "link_form": LinkForm(initial={"account": account.pk}, fixed="account")
        if can_link
        else None,
    }


def _membership_section(*, account, user) -> dict:
    entries = list(PointsEntry.objects.filter(account=account).order_by("-created_at", "-id")[:5])
    can_record = _editable(Account, account, user)
    return {
        "account": account,
        "entries": entries,
        "can_record": can_record,
        "form": PointsForm() if can_record else None,
    }


register_account_section(
    AccountSection(
        key="contacts",
        title=gettext_lazy("Contacts"),
        template="customers/sections/contacts.html",
        context=_contacts_section,
        order=10,
    )
)
register_account_section(
    AccountSection(
        key="membership",
        title=gettext_lazy("Membership"),
        template="customers/sections/membership.html",
        context=_membership_section,
        order=60,
        column="side",
        lazy=True,
    )
)


# --- URLs ------------------------------------------------------------------------------------
def _replace(patterns: list, name: str, view) -> list:
    """The generic patterns with one view swapped for this module's subclass."""
    replaced = []
    for pattern in patterns:
        if pattern.name == name:
            pattern = path(str(pattern.pattern), view, name=name)
        replaced.append(pattern)
    return replaced


def contact_urlpatterns() -> list:
    contact = _replace(
        model_urls(contact_registration),
        "contact_list",
        ContactListView.as_view(registration=contact_registration),
    )
    contact = _replace(
        contact,
        "contact_detail",
        ContactDetailView.as_view(registration=contact_registration),
    )
    group = _replace(
        model_urls(group_registration),
        "group_detail",
        GroupDetailView.as_view(registration=group_registration),
    )
    return [
        path("contacts/choices/", ContactChoicesView.as_view(), name="contact_choices"),
        path("account-choices/", AccountChoicesView.as_view(), name="account_choices"),
        path(
            "contacts/<int:pk>/relations/",
            ContactRelationAddView.as_view(),
            name="contact_relation_add",
        ),
        path(
            "contacts/<int:pk>/relations/<int:relation_pk>/delete/",
            ContactRelationRemoveView.as_view(),
            name="contact_relation_remove",
        ),
        path(
            "account-contacts/link/", AccountContactLinkView.as_view(), name="account_contact_link"
        ),
        path(
            "account-contacts/<int:pk>/unlink/",
            AccountContactUnlinkView.as_view(),
            name="account_contact_unlink",
        ),
        path("groups/add-accounts/", GroupAddAccountsView.as_view(), name="group_add_accounts"),
        path(
            "groups/<int:pk>/add-accounts/",
            GroupAddAccountsView.as_view(),
            name="group_add_accounts_to",
        ),
        path(
            "groups/<int:pk>/remove-accounts/",
            GroupRemoveAccountsView.as_view(),
            name="group_remove_accounts",
        ),
        path("groups/member-count/", GroupMemberCountView.as_view(), name="group_member_count"),
        path("accounts/<int:pk>/points/", PointsLedgerView.as_view(), name="points_ledger"),
        path("membership-levels/", MembershipLevelListView.as_view(), name="membership_level_list"),
        path(
            "membership-levels/new/",
            MembershipLevelEditView.as_view(),
            name="membership_level_create",
        ),
        path(
            "membership-levels/<int:pk>/edit/",
            MembershipLevelEditView.as_view(),
            name="membership_level_edit",
        ),
        *contact,
        *model_urls(accountcontact_registration),
        *group,
    ]


__all__ = [
    "Http404",
    "accountcontact_registration",
    "contact_registration",
    "contact_urlpatterns",
    "group_registration",
]
