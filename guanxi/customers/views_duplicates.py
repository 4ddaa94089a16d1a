"""Duplicates in the UI: warnings before saving an account or contact (and a live check
while typing), the administrator's duplicate scan, and the merge screens.

Importing this module (the customers URLconf does) plugs the warnings, the live check and
the "Merge selected" bulk action into the Account and Contact registrations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from guanxi.core.exceptions import ActionNotAllowed, NotVisible
from guanxi.core.models import Attachment, RecordShare, TaggedItem
from guanxi.core.scope import can, is_administrator
from guanxi.core.views.registry import (
    BulkAction,
    FormWarning,
    format_value,
    get_registration,
    resolve_attribute,
)
from guanxi.customers import matching
from guanxi.customers.duplicates import DuplicateHit, duplicate_candidates, duplicate_sources
from guanxi.customers.forms_duplicates import MergeForm, ScanStartForm, is_empty
from guanxi.customers.merge import (
    ACCOUNT_MERGE_FIELDS,
    CONTACT_MERGE_FIELDS,
    account_merge,
    contact_merge,
)
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactRelation,
    DuplicatePair,
    DuplicateScan,
    GroupMember,
)
from guanxi.customers.tasks import duplicate_scan_start

WARNING_LIMIT = 5
PAIRS_PER_PAGE = 100
MAX_MERGE = 10
SCANS_SHOWN = 20


# ============================================================================================
# Warnings before saving
# ============================================================================================
def hit_warnings(hits: list[DuplicateHit]) -> list[FormWarning]:
    """Duplicate hits as form warnings. A record the user may not see is named by its
    owner only: no name, no link."""
    warnings = []
    for hit in hits:
        if hit.visible:
            message = _("Possible duplicate %(model)s (owner: %(owner)s):") % {
                "model": hit.verbose_name,
                "owner": hit.owner_name or "—",
            }
            warnings.append(
                FormWarning(message=message, url=hit.url, link_text=hit.name, details=hit.reasons)
            )
        else:
            message = _("A duplicate exists, owned by %(owner)s.") % {
                "owner": hit.owner_name or "—"
            }
            warnings.append(FormWarning(message=message, details=hit.reasons))
    return warnings


def _own_records(instance: models.Model | None) -> set[tuple[str, int]]:
    """Records that are the same customer as `instance` (an individual account and its
    person): never reported as its duplicates."""
    if instance is None or instance.pk is None:
        return set()
    own = {(instance._meta.label_lower, instance.pk)}
    if isinstance(instance, Account) and instance.person_id:
        own.add((Contact._meta.label_lower, instance.person_id))
    if isinstance(instance, Contact):
        for pk in Account.objects.filter(person_id=instance.pk).values_list("pk", flat=True):
            own.add((Account._meta.label_lower, pk))
    return own


def check_duplicates(
    *,
    user,
    name: str,
    phones: list[str],
    emails: list[str],
    kind: str,
    instance: models.Model | None = None,
    limit: int = WARNING_LIMIT,
) -> list[DuplicateHit]:
    name = (name or "").strip()
    phones = [phone for phone in phones if phone and phone.strip()]
    emails = [email for email in emails if email and email.strip()]
    if len(name) < 2 and not phones and not emails:
        return []
    hits = duplicate_candidates(
        user=user,
        name=name,
        phones=phones,
        emails=emails,
        kind=kind,
        exclude=instance,
        limit=limit + 2,
    )
    own = _own_records(instance)
    return [hit for hit in hits if (hit.model_label, hit.pk) not in own][:limit]


def _as_list(value: Any, *keys: str) -> list[str]:
    """A phone / e-mail value as strings: a string, a list of strings or of dicts/objects."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\n,;，；]+", value) if part.strip()]
    found = []
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, str):
            found.append(item)
            continue
        for key in keys:
            text = item.get(key) if isinstance(item, dict) else getattr(item, key, None)
            if text:
                found.append(str(text))
                break
    return found


IDENTIFYING_FIELDS = {"name", "kind", "phone", "email", "phones", "emails", "mobile"}


def _identity_unchanged(form, instance) -> bool:
    """On an edit, warn only when the name, phones or e-mails change."""
    if instance is None:
        return False
    return not (set(getattr(form, "changed_data", ())) & IDENTIFYING_FIELDS)


def account_pre_save_warnings(*, request, form, instance=None) -> list[FormWarning]:
    if _identity_unchanged(form, instance):
        return []
    data = form.cleaned_data
    kind_value = data.get("kind") or getattr(instance, "kind", Account.Kind.COMPANY)
    hits = check_duplicates(
        user=request.user,
        name=data.get("name") or getattr(instance, "name", ""),
        phones=_as_list(data.get("phone")),
        emails=_as_list(data.get("email")),
        kind=matching.PERSON if kind_value == Account.Kind.INDIVIDUAL else matching.COMPANY,
        instance=instance,
    )
    return hit_warnings(hits)


def contact_identity(form) -> dict[str, Any]:
    """Name, phones and e-mails of a contact form. A form may say it itself with a
    `duplicate_check_data()` method returning {"name", "phones", "emails"}."""
    describe = getattr(form, "duplicate_check_data", None)
    if callable(describe):
        return describe()
    data = form.cleaned_data
    phones = [
        *_as_list(data.get("phones"), "value", "number"),
        *_as_list(data.get("phone")),
        *_as_list(data.get("mobile")),
    ]
    emails = [*_as_list(data.get("emails"), "value", "address"), *_as_list(data.get("email"))]
    return {"name": data.get("name", ""), "phones": phones, "emails": emails}


def contact_pre_save_warnings(*, request, form, instance=None) -> list[FormWarning]:
    if _identity_unchanged(form, instance) and not callable(
        getattr(form, "duplicate_check_data", None)
    ):
        return []
    identity = contact_identity(form)
    hits = check_duplicates(
        user=request.user,
        name=identity.get("name") or getattr(instance, "name", ""),
        phones=list(identity.get("phones") or []),
        emails=list(identity.get("emails") or []),
        kind=matching.PERSON,
        instance=instance,
    )
    return hit_warnings(hits)


# --- The live check while typing ----------------------------------------------------------
LIVE_FIELDS = ("name", "kind", "phone", "email", "mobile")
PHONE_PARAM_RE = re.compile(r"phone|mobile|number", re.IGNORECASE)
EMAIL_PARAM_RE = re.compile(r"e-?mail", re.IGNORECASE)


@cache
def _live_widget_class(base: type) -> type:
    class LiveCheckWidget(base):
        """The widget as before, followed by the live duplicate-check area."""

        def render(self, name, value, attrs=None, renderer=None):
            html = super().render(name, value, attrs=attrs, renderer=renderer)
            extra = render_to_string("customers/duplicates/live_check.html", self.live_check)
            return mark_safe(f"{html}{extra}")

    LiveCheckWidget.__name__ = LiveCheckWidget.__qualname__ = f"LiveCheck{base.__name__}"
    return LiveCheckWidget


def attach_live_check(form, *, kind: str | None = None) -> None:
    """Mark the identifying inputs (`data-duplicate-check`) and put, under the name input,
    an area that asks `customers:duplicate_check` while the user types (debounced). The area
    survives the inline validation's re-render of the form (`hx-preserve`)."""
    fields = form.fields
    if "name" not in fields:
        return
    for name in LIVE_FIELDS:
        if name in fields:
            fields[name].widget.attrs["data-duplicate-check"] = "1"
    values: dict[str, str] = {}
    if kind:
        values["kind"] = kind
    instance = getattr(form, "instance", None)
    if instance is not None and instance.pk:
        values["exclude"] = f"{instance._meta.label_lower}:{instance.pk}"
    widget = fields["name"].widget
    widget.__class__ = _live_widget_class(type(widget))
    widget.live_check = {"url": reverse("customers:duplicate_check"), "vals": json.dumps(values)}


def with_live_check(form_class: type, *, kind: str | None = None) -> type:
    """A subclass of the registration's form with the live duplicate check attached."""
    if getattr(form_class, "duplicate_live_check", False):
        return form_class

    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        attach_live_check(self, kind=kind)

    return type(
        form_class.__name__,
        (form_class,),
        {"__init__": __init__, "duplicate_live_check": True, "__module__": form_class.__module__},
    )


def _exclude_record(value: str, user) -> models.Model | None:
    label, _sep, pk = (value or "").partition(":")
    sources = {source.model._meta.label_lower: source.model for source in duplicate_sources()}
    if label not in sources or not pk.isdigit():
        return None
    return sources[label].objects.visible_to(user).filter(pk=int(pk)).first()


class DuplicateCheckView(LoginRequiredMixin, View):
    """GET ?name=&phone=&email=&kind=: the warning list for what is being typed."""

    def get(self, request):
        params = request.GET
        phones, emails = [], []
        for key, values in params.lists():
            if PHONE_PARAM_RE.search(key):
                phones.extend(values)
            elif EMAIL_PARAM_RE.search(key):
                emails.extend(values)
        kind = params.get("kind", "")
        hits = check_duplicates(
            user=request.user,
            name=params.get("name", "")[:200],
            phones=[phone[:40] for phone in phones[:10]],
            emails=[email[:254] for email in emails[:10]],
            kind=matching.PERSON if kind in ("individual", matching.PERSON) else matching.COMPANY,
            instance=_exclude_record(params.get("exclude", ""), request.user),
        )
        return TemplateResponse(
            request, "customers/duplicates/check.html", {"warnings": hit_warnings(hits)}
        )


# ============================================================================================
# The administrator's scan
# ============================================================================================
def forbidden(request, message: str) -> TemplateResponse:
    return TemplateResponse(
        request, "core/generic/forbidden.html", {"message": message}, status=403
    )


class AdministratorMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_administrator(request.user):
            return forbidden(request, _("Only an administrator can scan for duplicates."))
        return super().dispatch(request, *args, **kwargs)


class ScanIndexView(AdministratorMixin, View):
    def get(self, request):
        return self.page(ScanStartForm())

    def post(self, request):
        form = ScanStartForm(request.POST)
        if form.is_valid():
            try:
                scan = duplicate_scan_start(model=form.chosen_model(), actor=request.user)
            except ActionNotAllowed as error:
                return forbidden(request, str(error))
            messages.success(request, _("The scan has started."))
            return redirect("customers:duplicate_scan", pk=scan.pk)
        return self.page(form, status=400)

    def page(self, form, status: int = 200):
        scans = list(DuplicateScan.objects.select_related("created_by")[:SCANS_SHOWN])
        for scan in scans:
            scan.model_name = _model_name(scan.model_label)
        return TemplateResponse(
            self.request,
            "customers/duplicates/index.html",
            {"form": form, "scans": scans},
            status=status,
        )


def _model_name(label: str) -> str:
    try:
        return capfirst(apps.get_model(label)._meta.verbose_name_plural)
    except LookupError:
        return label


@dataclass
class Cluster:
    records: list[models.Model]
    pairs: list[dict[str, Any]]
    score: float
    merge_url: str


def scan_clusters(
    *, scan: DuplicateScan, user, page: int = 1, per_page: int = PAIRS_PER_PAGE
) -> tuple[list[Cluster], bool]:
    """One page of the scan's pairs (best first), grouped into clusters of connected
    records. Pairs whose records are gone (merged, deleted) or out of sight are left out."""
    model = apps.get_model(scan.model_label)
    offset = (page - 1) * per_page
    pairs = list(
        DuplicatePair.objects.filter(scan=scan).order_by("-score", "first_id", "second_id")[
            offset : offset + per_page + 1
        ]
    )
    has_next = len(pairs) > per_page
    pairs = pairs[:per_page]
    ids = {pk for pair in pairs for pk in (pair.first_id, pair.second_id)}
    records = model.objects.visible_to(user).filter(pk__in=ids).select_related("owner")
    by_pk = {record.pk: record for record in records}
    registration = get_registration(model)
    for record in by_pk.values():
        record.detail_url = registration.url("detail", record.pk) if registration else ""

    parent: dict[int, int] = {}

    def find(pk: int) -> int:
        while parent.setdefault(pk, pk) != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    kept = [pair for pair in pairs if pair.first_id in by_pk and pair.second_id in by_pk]
    for pair in kept:
        parent[find(pair.first_id)] = find(pair.second_id)
    grouped: dict[int, list[DuplicatePair]] = {}
    for pair in kept:
        grouped.setdefault(find(pair.first_id), []).append(pair)
    merge_url = reverse(_merge_url_name(model)) if _merge_url_name(model) else ""
    clusters = []
    for cluster_pairs in grouped.values():
        member_ids = sorted({pk for p in cluster_pairs for pk in (p.first_id, p.second_id)})
        clusters.append(
            Cluster(
                records=[by_pk[pk] for pk in member_ids],
                pairs=[
                    {
                        "first": by_pk[pair.first_id],
                        "second": by_pk[pair.second_id],
                        "score": pair.score,
                        "reasons": pair.reasons,
                    }
                    for pair in cluster_pairs
                ],
                score=max(pair.score for pair in cluster_pairs),
                merge_url=f"{merge_url}?ids={','.join(map(str, member_ids))}" if merge_url else "",
            )
        )
    clusters.sort(key=lambda cluster: (-cluster.score, cluster.records[0].pk))
    return clusters, has_next


def _merge_url_name(model: type[models.Model]) -> str:
    return {Account: "customers:account_merge", Contact: "customers:contact_merge"}.get(model, "")


PROGRESS_TARGET = "scan-progress"


class ScanDetailView(AdministratorMixin, View):
    def get(self, request, pk):
        scan = get_object_or_404(DuplicateScan.objects.select_related("created_by"), pk=pk)
        scan.model_name = _model_name(scan.model_label)
        running = scan.status in (DuplicateScan.Status.QUEUED, DuplicateScan.Status.RUNNING)
        try:
            page = max(1, int(request.GET.get("page", 1)))
        except ValueError:
            page = 1
        clusters, has_next = ([], False)
        if scan.status == DuplicateScan.Status.DONE:
            clusters, has_next = scan_clusters(scan=scan, user=request.user, page=page)
        percent = (
            round(100 * scan.blocks_done / scan.blocks_total)
            if scan.blocks_total
            else (100 if scan.status == DuplicateScan.Status.DONE else 0)
        )
        context = {
            "scan": scan,
            "running": running,
            "percent": percent,
            "clusters": clusters,
            "page": page,
            "has_next": has_next,
            "has_previous": page > 1,
            "progress_target": PROGRESS_TARGET,
        }
        htmx = getattr(request, "htmx", False)
        if htmx and request.htmx.target == PROGRESS_TARGET:
            return TemplateResponse(request, "customers/duplicates/scan_results.html", context)
        return TemplateResponse(request, "customers/duplicates/scan.html", context)


# ============================================================================================
# Merge
# ============================================================================================
def _grouped_counts(queryset, key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in queryset.values(key).annotate(n=Count("pk")).order_by()}


def _generic_counts(model, ids: list[int]) -> list[tuple[str, dict[int, int]]]:
    content_type = ContentType.objects.get_for_model(model)
    same = {"content_type": content_type, "object_id__in": ids}
    return [
        (_("Tags"), _grouped_counts(TaggedItem.objects.filter(**same), "object_id")),
        (
            _("Attachments"),
            _grouped_counts(Attachment.objects.filter(**same, is_deleted=False), "object_id"),
        ),
        (_("Shares"), _grouped_counts(RecordShare.objects.filter(**same), "object_id")),
    ]


def account_summary(ids: list[int]) -> list[tuple[str, dict[int, int]]]:
    return [
        (
            _("Contacts"),
            _grouped_counts(AccountContact.objects.filter(account_id__in=ids), "account_id"),
        ),
        (
            _("Child accounts"),
            _grouped_counts(Account.objects.filter(parent_id__in=ids), "parent_id"),
        ),
        (
            _("Groups"),
            _grouped_counts(GroupMember.objects.filter(account_id__in=ids), "account_id"),
        ),
        *_generic_counts(Account, ids),
    ]


def contact_summary(ids: list[int]) -> list[tuple[str, dict[int, int]]]:
    relations_from = _grouped_counts(
        ContactRelation.objects.filter(from_contact_id__in=ids), "from_contact_id"
    )
    relations_to = _grouped_counts(
        ContactRelation.objects.filter(to_contact_id__in=ids), "to_contact_id"
    )
    relations = {
        pk: relations_from.get(pk, 0) + relations_to.get(pk, 0)
        for pk in set(relations_from) | set(relations_to)
    }
    return [
        (
            _("Accounts"),
            _grouped_counts(AccountContact.objects.filter(contact_id__in=ids), "contact_id"),
        ),
        (
            _("Phones"),
            _grouped_counts(ContactPhone.objects.filter(contact_id__in=ids), "contact_id"),
        ),
        (
            _("E-mails"),
            _grouped_counts(ContactEmail.objects.filter(contact_id__in=ids), "contact_id"),
        ),
        (_("Relations"), relations),
        *_generic_counts(Contact, ids),
    ]


@dataclass
class MergeKind:
    model: type[models.Model]
    field_names: list[str]
    merge: Callable[..., models.Model]
    summary: Callable[[list[int]], list[tuple[str, dict[int, int]]]]
    select_related: tuple[str, ...] = ()


ACCOUNT_MERGE = MergeKind(
    model=Account,
    field_names=ACCOUNT_MERGE_FIELDS,
    merge=account_merge,
    summary=account_summary,
    select_related=(
        "owner",
        "account_manager",
        "parent",
        "industry",
        "source",
        "status",
        "credit_rating",
        "level",
    ),
)
CONTACT_MERGE = MergeKind(
    model=Contact,
    field_names=CONTACT_MERGE_FIELDS,
    merge=contact_merge,
    summary=contact_summary,
    select_related=("owner",),
)


def parse_ids(raw: str) -> list[int]:
    """ "1,2,3" -> [1, 2, 3] (order kept, repeats dropped); anything else -> 404."""
    ids = []
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise Http404
        ids.append(int(part))
    return list(dict.fromkeys(ids))


class MergeView(LoginRequiredMixin, View):
    kind: MergeKind | None = None

    @property
    def model(self):
        return self.kind.model

    def list_url(self) -> str:
        registration = get_registration(self.model)
        return registration.url("list") if registration else reverse("home")

    def load(self):
        """The records of ?ids=, in that order; 404 unless the user may edit every one."""
        ids = parse_ids(self.request.GET.get("ids", ""))
        if len(ids) < 2 or len(ids) > MAX_MERGE:
            return None
        queryset = self.model.objects.editable_by(self.request.user).filter(pk__in=ids)
        by_pk = {record.pk: record for record in queryset.select_related(*self.kind.select_related)}
        if len(by_pk) != len(ids):
            raise Http404
        return [by_pk[pk] for pk in ids]

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        if not can(request.user, self.model, "change"):
            return forbidden(request, _("Your role does not allow merging these records."))
        self.records = self.load()
        if self.records is None:
            messages.error(
                request,
                _("Choose between two and %(max)d records to merge.") % {"max": MAX_MERGE},
            )
            return redirect(self.list_url())
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None) -> MergeForm:
        return MergeForm(data, records=self.records, field_names=self.kind.field_names)

    def get(self, request):
        return self.page(self.form())

    def post(self, request):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                survivor = self.kind.merge(
                    survivor_id=form.survivor_id(),
                    merged_ids=form.merged_ids(),
                    actor=request.user,
                    choices=form.choices_map(),
                )
            except NotVisible:
                raise Http404 from None
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("%(count)d record(s) merged into %(name)s.")
                    % {"count": len(form.merged_ids()), "name": survivor},
                )
                registration = get_registration(self.model)
                if registration is not None:
                    return redirect(registration.url("detail", survivor.pk))
                return redirect(self.list_url())
        return self.page(form, status=400)

    def page(self, form: MergeForm, status: int = 200) -> TemplateResponse:
        records = self.records
        registration = get_registration(self.model)
        columns = [
            {
                "record": record,
                "url": registration.url("detail", record.pk) if registration else "",
                "checked": form.selected("survivor") == record.pk,
            }
            for record in records
        ]
        rows = []
        for name in self.kind.field_names:
            field = self.model._meta.get_field(name)
            selected = form.selected(f"field_{name}")
            cells = []
            for record in records:
                value = getattr(record, name)
                cells.append(
                    {
                        "pk": record.pk,
                        "display": format_value(resolve_attribute(record, name)),
                        "empty": is_empty(value),
                        "checked": selected == record.pk,
                    }
                )
            rows.append(
                {
                    "name": name,
                    "input": f"field_{name}",
                    "label": capfirst(field.verbose_name),
                    "cells": cells,
                    "differs": len({cell["display"] for cell in cells}) > 1,
                }
            )
        ids = [record.pk for record in records]
        summary = [
            {"label": label, "counts": [counts.get(pk, 0) for pk in ids]}
            for label, counts in self.kind.summary(ids)
        ]
        return TemplateResponse(
            self.request,
            "customers/merge.html",
            {
                "form": form,
                "columns": columns,
                "rows": rows,
                "summary": summary,
                "verbose_name_plural": self.model._meta.verbose_name_plural,
                "cancel_url": self.list_url(),
                "action": f"{self.request.path}?ids={','.join(map(str, ids))}",
            },
            status=status,
        )


class AccountMergeView(MergeView):
    kind = ACCOUNT_MERGE


class ContactMergeView(MergeView):
    kind = CONTACT_MERGE


def duplicate_urlpatterns() -> list:
    """The URL patterns of these pages (the customers URLconf puts them first)."""
    from django.urls import path

    return [
        path("duplicates/check/", DuplicateCheckView.as_view(), name="duplicate_check"),
        path("duplicates/", ScanIndexView.as_view(), name="duplicate_scans"),
        path("duplicates/<int:pk>/", ScanDetailView.as_view(), name="duplicate_scan"),
        path("accounts/merge/", AccountMergeView.as_view(), name="account_merge"),
        path("contacts/merge/", ContactMergeView.as_view(), name="contact_merge"),
    ]


# ============================================================================================
# Plugging into the registrations
# ============================================================================================
def merge_bulk_action(url_name: str) -> BulkAction:
    def handler(*, request, registration, ids):
        ids = list(dict.fromkeys(ids))
        if len(ids) < 2:
            messages.error(request, _("Select at least two records to merge."))
            return redirect(registration.url("list"))
        return redirect(f"{reverse(url_name)}?ids={','.join(map(str, ids))}")

    return BulkAction(value="merge", label=gettext_lazy("Merge selected"), handler=handler)


def install() -> None:
    """Set the duplicate warnings, the live check and the merge bulk action on the Account
    and Contact registrations (Contact's when the contact pages are registered)."""
    from guanxi.customers import views  # noqa: F401  (the registrations)

    for model, hook, kind, url_name in (
        (Account, account_pre_save_warnings, None, "customers:account_merge"),
        (Contact, contact_pre_save_warnings, matching.PERSON, "customers:contact_merge"),
    ):
        registration = get_registration(model)
        if registration is None:
            continue
        registration.pre_save_warnings = hook
        registration.form_class = with_live_check(registration.form_class, kind=kind)
        if not any(action.value == "merge" for action in registration.extra_bulk_actions):
            registration.extra_bulk_actions.append(merge_bulk_action(url_name))


install()
