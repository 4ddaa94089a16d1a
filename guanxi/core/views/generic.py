"""Generic record views driven by a `ModelRegistration` (see `registry.py`).

Every view starts from the user's data scope: a record the user may not see answers 404,
a record they see but may not change answers a friendly 403 page. Writes go through the
registration's services; their ValidationError / VersionConflict end up on the form.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django_htmx.http import HttpResponseClientRedirect

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.filters import with_custom_field_filters
from guanxi.core.forms.generic import (
    AssignForm,
    AttachmentForm,
    BulkForm,
    DeleteForm,
    SavedViewForm,
    ShareForm,
    apply_service_errors,
    bootstrapify,
    enable_inline_validation,
)
from guanxi.core.models import (
    Attachment,
    ChangeAction,
    ChangeRecord,
    Department,
    RecordShare,
    SavedView,
    User,
)
from guanxi.core.scope import can, record_editable_by
from guanxi.core.selectors import (
    attach_related,
    record_feed,
    record_get_visible,
    related_by_id,
)
from guanxi.core.services.attachments import attachment_upload, attachments_of
from guanxi.core.services.configuration import record_tags_set, tags_of
from guanxi.core.services.custom_fields import custom_fields_for
from guanxi.core.services.records import record_share, record_unshare
from guanxi.core.services.saved_views import (
    clean_query_string,
    saved_view_delete,
    saved_view_save,
)
from guanxi.core.templatetags.generic_tags import custom_value_display
from guanxi.core.views.registry import Column, ModelRegistration, format_value

LIST_TARGET = "list-results"
# ?_panel=filters|bulk answers only that part of the list page: the filter panel and the bulk
# bar's value selects are loaded when the user opens them, not with every page.
PANEL_PARAM = "_panel"
FORM_TARGET = "record-form"


# --- Shared plumbing -------------------------------------------------------------------------


def safe_next_url(request, default: str) -> str:
    """The form's or the link's `next`, when it stays on this site; else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=False
    ):
        return candidate
    return default


class RegistrationMixin(LoginRequiredMixin):
    registration: ModelRegistration | None = None

    @property
    def reg(self) -> ModelRegistration:
        assert self.registration is not None
        return self.registration

    @property
    def model(self) -> type[models.Model]:
        return self.reg.model

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "registration": self.reg,
            "verbose_name": self.reg.verbose_name,
            "verbose_name_plural": self.reg.verbose_name_plural,
            "list_url": self.reg.url("list"),
            **extra,
        }

    def render(self, kind: str | list[str], status: int = 200, **extra: Any) -> TemplateResponse:
        names = self.reg.template_names(kind) if isinstance(kind, str) else kind
        return TemplateResponse(self.request, names, self.context(**extra), status=status)

    def forbidden(self, message: str | None = None) -> TemplateResponse:
        return TemplateResponse(
            self.request,
            "core/generic/forbidden.html",
            self.context(
                message=message or _("Your role does not allow this."),
            ),
            status=403,
        )

    def get_record(self, pk) -> models.Model:
        """The record if visible to the user, else 404."""
        return record_get_visible(model=self.model, pk=pk, user=self.request.user)

    def is_editable(self, record) -> bool:
        return record_editable_by(record, self.request.user)

    def is_deletable(self, record) -> bool:
        return (
            can(self.request.user, self.model, "delete")
            and self.model.objects.deletable_by(self.request.user).filter(pk=record.pk).exists()
        )

    def redirect_to(self, url: str):
        if getattr(self.request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)

    def next_url(self, default: str) -> str:
        return safe_next_url(self.request, default)


# --- List ------------------------------------------------------------------------------------
def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _is_filter_param(key: str, filter_names: list[str]) -> bool:
    """Whether a query parameter carries a filter's value (a range filter's widget sends
    `<name>_after` and `<name>_before`)."""
    return any(key == name or key.startswith(f"{name}_") for name in filter_names)


def _asks_filter(params, filter_names: list[str]) -> bool:
    return any(_is_filter_param(key, filter_names) for key in params)


class RecordListView(RegistrationMixin, View):
    """Filters, quick search, whitelisted sorting, column choice, saved views, and
    pagination that never counts: it fetches one row more than the page to know if there
    is a next page."""

    def bulk_form(self, user, *, with_values: bool = False) -> BulkForm | None:
        """The bulk bar's form with the actions this user may run, or None if there are none.
        The new-value fields of "edit a field" come `with_values` only: the page loads them
        when the bar is first used (`_panel=bulk`)."""
        reg = self.reg
        can_change = can(user, self.model, "change")
        can_assign = can(user, self.model, "assign")
        can_delete = can(user, self.model, "delete")
        bulk_form = None
        if can_change or can_delete:
            bulk_form = BulkForm(
                model=self.model, edit_fields=reg.bulk_edit_fields, with_values=with_values
            )
            bulk_form.fields["action"].choices = [
                (value, label)
                for value, label in BulkForm.ACTIONS
                if (value == "edit" and can_change and reg.bulk_edit_fields)
                or (value == "assign" and can_assign and can_change)
                or (value == "delete" and can_delete)
            ] + [
                (extra.value, extra.label)
                for extra in reg.extra_bulk_actions
                if can(user, self.model, extra.permission)
            ]
            if not bulk_form.fields["action"].choices:
                bulk_form = None
        return bulk_form

    def get(self, request):
        reg = self.reg
        user = request.user
        if not can(user, self.model, "view"):
            return self.forbidden(_("Your role does not allow you to see these records."))

        panel = request.GET.get(PANEL_PARAM)
        # A panel answers a part of the page: no saved views (its query carries the page's).
        saved_views = (
            [] if panel else list(SavedView.objects.filter(user=user, model_label=reg.label))
        )
        params = request.GET
        if not params:
            default_view = next((view for view in saved_views if view.is_default), None)
            if default_view is not None:
                params = QueryDict(default_view.query_string)
        active_view_id = _positive_int(params.get("view"), 0)

        custom_fields = custom_fields_for(self.model)
        all_columns = reg.all_columns(custom_fields)
        by_name = {column.name: column for column in all_columns}
        chosen = [name for name in params.getlist("col") if name in by_name]
        columns = (
            [by_name[name] for name in chosen]
            if chosen
            else [column for column in all_columns if column.default]
        )

        queryset = reg.list_queryset(user)

        filterset = None
        filter_names: list[str] = []
        if reg.filterset_class is not None:
            filterset_class = with_custom_field_filters(reg.filterset_class, custom_fields)
            filterset = filterset_class(params, queryset=queryset, request=request)
            filter_names = list(filterset.filters)
            # Without a value for any filter every filter passes the rows through, so the
            # filter form (its fields and their option querysets, a tenth of a first page)
            # is only built when a filter is asked for or its panel shown.
            if _asks_filter(params, filter_names):
                queryset = filterset.qs

        if panel == "filters" and filterset is not None:
            bootstrapify(filterset.form)
            return self.render(["core/generic/list_filters.html"], filterset=filterset)
        if panel == "bulk":
            bulk_form = self.bulk_form(user, with_values=True)
            if bulk_form is None:
                raise Http404
            return self.render(["core/generic/list_bulk_values.html"], bulk_form=bulk_form)

        q = params.get("q", "").strip()
        if q and reg.search_fields:
            condition = Q()
            for lookup in reg.search_fields:
                condition |= Q(**{lookup: q})
            queryset = queryset.filter(condition)

        sortable = {column.name: column.order_by for column in all_columns if column.sortable}
        sort = params.get("sort", "")
        sort_name = sort.lstrip("-")
        if sort_name in sortable:
            descending = sort.startswith("-")
            expression = sortable[sort_name]
            if isinstance(expression, str):
                key = f"-{expression}" if descending else expression
            else:  # an expression (e.g. a computed date): NULLs last either way
                key = (
                    expression.desc(nulls_last=True)
                    if descending
                    else expression.asc(nulls_last=True)
                )
            order = [key, "-pk" if descending else "pk"]
        else:
            sort = ""
            default = reg.default_sort
            order = [default, "-pk" if default.startswith("-") else "pk"]
        queryset = queryset.order_by(*order)

        page_size = _positive_int(params.get("per_page"), reg.page_sizes[0])
        if page_size not in reg.page_sizes:
            page_size = reg.page_sizes[0]
        page = _positive_int(params.get("page"), 1)
        offset = (page - 1) * page_size
        records = list(queryset[offset : offset + page_size + 1])
        has_next = len(records) > page_size
        records = records[:page_size]
        attach_related(records, reg.list_select_related)
        for column in columns:
            if column.prepare is not None:
                column.prepare(records)
        detail_url = reg.record_url_maker("detail")
        rows = [
            {
                "record": record,
                "url": detail_url(record.pk),
                "cells": [(column, format_value(column.value(record))) for column in columns],
            }
            for record in records
        ]

        filter_values = [
            (key, [value for value in values if value])
            for key, values in params.lists()
            if any(values) and _is_filter_param(key, filter_names)
        ]
        active_filters = len(filter_values)
        is_filtered = bool(q) or active_filters > 0

        bulk_form = self.bulk_form(user)

        context = {
            "params": params,
            "q": q,
            "sort": sort,
            "columns": columns,
            "all_columns": all_columns,
            "chosen_columns": [column.name for column in columns],
            "rows": rows,
            "page": page,
            "page_size": page_size,
            "page_sizes": reg.page_sizes,
            "has_next": has_next,
            "has_previous": page > 1,
            "filterset": filterset,
            "active_filters": active_filters,
            # Until the filter panel is loaded, its values travel as hidden inputs.
            "filter_hidden_inputs": [
                (key, value) for key, values in filter_values for value in values
            ],
            "is_filtered": is_filtered,
            "saved_views": saved_views,
            "active_view_id": active_view_id,
            "current_query": clean_query_string(params.urlencode()),
            "saved_view_form": SavedViewForm(),
            "bulk_form": bulk_form,
            "can_add": can(user, self.model, "add"),
            "can_import": can(user, self.model, "import") and _has_import_resource(self.model),
            "can_export": can(user, self.model, "export") and _has_import_resource(self.model),
            "list_path": request.path,
            "search_enabled": bool(reg.search_fields),
        }
        if getattr(request, "htmx", False) and request.htmx.target == LIST_TARGET:
            return self.render(["core/generic/list_table.html"], **context)
        return self.render("list", **context)


# --- Bulk actions ----------------------------------------------------------------------------
class RecordBulkView(RegistrationMixin, View):
    def post(self, request):
        reg = self.reg
        user = request.user
        list_url = self.next_url(reg.url("list"))
        form = BulkForm(request.POST, model=self.model, edit_fields=reg.bulk_edit_fields)
        extras = {extra.value: extra for extra in reg.extra_bulk_actions}
        if extras:
            form.fields["action"].choices = [
                *BulkForm.ACTIONS,
                *((extra.value, extra.label) for extra in extras.values()),
            ]
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(list_url)
        action = form.cleaned_data["action"]
        ids = form.cleaned_data["pk"]
        if action in extras:
            if not can(user, self.model, extras[action].permission):
                return self.forbidden()
            return extras[action].handler(request=request, registration=reg, ids=ids)
        if action == "delete":
            if not can(user, self.model, "delete"):
                return self.forbidden()
            queryset = self.model.objects.deletable_by(user)
        else:
            if not can(user, self.model, "change") or (
                action == "assign" and not can(user, self.model, "assign")
            ):
                return self.forbidden()
            queryset = self.model.objects.editable_by(user)
        records = list(queryset.filter(pk__in=ids).order_by("pk"))
        skipped = len(set(ids)) - len(records)
        record = None
        try:
            with transaction.atomic():
                for record in records:
                    if action == "edit":
                        name, value = form.edit_value()
                        reg.update(
                            instance=record,
                            data={name: value},
                            custom_data=None,
                            actor=user,
                            version=None,
                        )
                    elif action == "assign":
                        reg.assign(
                            instance=record,
                            owner=form.cleaned_data["owner"],
                            actor=user,
                            reason=form.cleaned_data.get("reason", ""),
                        )
                    else:
                        reg.delete(instance=record, actor=user, version=None)
        except (ValidationError, VersionConflict, ActionNotAllowed) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(
                request,
                _("Nothing was changed: %(record)s: %(error)s") % {"record": record, "error": text},
            )
            return redirect(list_url)
        messages.success(
            request,
            _("%(count)d record(s) changed.") % {"count": len(records)},
        )
        if skipped:
            messages.warning(
                request,
                _("%(count)d record(s) were skipped because you may not change them.")
                % {"count": skipped},
            )
        return redirect(list_url)


# --- Saved views -----------------------------------------------------------------------------
class SavedViewSaveView(RegistrationMixin, View):
    def post(self, request):
        form = SavedViewForm(request.POST)
        list_url = self.reg.url("list")
        if not form.is_valid():
            messages.error(request, _("Give the view a name."))
            return redirect(list_url)
        query_string = form.cleaned_data["query_string"] or ""
        try:
            view = saved_view_save(
                user=request.user,
                model_label=self.reg.label,
                name=form.cleaned_data["name"],
                query_string=query_string,
                columns=QueryDict(query_string).getlist("col"),
                is_default=form.cleaned_data["is_default"],
            )
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
            return redirect(list_url)
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
        suffix = f"{view.query_string}&view={view.pk}" if view.query_string else f"view={view.pk}"
        return redirect(f"{list_url}?{suffix}")


class SavedViewDeleteView(RegistrationMixin, View):
    def post(self, request, view_pk):
        view = get_object_or_404(
            SavedView, pk=view_pk, user=request.user, model_label=self.reg.label
        )
        saved_view_delete(view=view, user=request.user)
        messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
        return redirect(f"{self.reg.url('list')}?clear=1")


# --- Detail ----------------------------------------------------------------------------------
def _model_field(model: type[models.Model], name: str):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    # A reverse relation (a contact's "phones") has no verbose name: treat it as no field.
    return field if hasattr(field, "verbose_name") else None


CHANGE_LABELS = {
    "attachment_added": _("attachment added"),
    "attachment_removed": _("attachment removed"),
    "tags": _("tags"),
}


def describe_changes(
    model: type[models.Model],
    changes: list[ChangeRecord],
    custom_fields: list,
    known: Iterable[models.Model] = (),
) -> dict[int, list[dict[str, str]]]:
    """Each change record's field changes as readable lines: verbose names, choice labels,
    related objects' names (looked up once per related model, not per line; `known`: the
    related records the page has already read, such as the record's owner)."""
    custom_by_key = {field.key: field for field in custom_fields}
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for change in changes:
        if change.action in (ChangeAction.SHARE, ChangeAction.UNSHARE):
            data = change.after or change.before or {}
            if data.get("user"):
                wanted[User].add(data["user"])
            if data.get("department"):
                wanted[Department].add(data["department"])
            continue
        for key, old, new in change.changed_fields():
            field = _model_field(model, key)
            if field is not None and field.many_to_one:
                for value in (old, new):
                    if value is not None:
                        wanted[field.related_model].add(value)
    found = related_by_id(wanted, known)

    def show(field, value) -> str:
        if value is None or value == "":
            return format_value(None)
        if field is not None:
            if field.many_to_one:
                return format_value(found.get(field.related_model, {}).get(value, value))
            if field.choices:
                return format_value(dict(field.flatchoices).get(value, value))
        return format_value(value)

    described: dict[int, list[dict[str, str]]] = {}
    for change in changes:
        lines: list[dict[str, str]] = []
        if change.action in (ChangeAction.SHARE, ChangeAction.UNSHARE):
            data = change.after or change.before or {}
            target = found.get(User, {}).get(data.get("user")) or found.get(Department, {}).get(
                data.get("department")
            )
            lines.append({"kind": "share", "target": format_value(target)})
        elif change.action not in (ChangeAction.CREATE, ChangeAction.DELETE, ChangeAction.PURGE):
            for key, old, new in change.changed_fields():
                if key == "custom_data":
                    old, new = old or {}, new or {}
                    for custom_key in dict.fromkeys([*old, *new]):
                        if old.get(custom_key) == new.get(custom_key):
                            continue
                        custom_field = custom_by_key.get(custom_key)
                        label = str(custom_field.label) if custom_field else custom_key

                        def custom_show(value, custom_field=custom_field):
                            if custom_field is None:
                                return format_value(value)
                            return format_value(custom_value_display(custom_field, value))

                        lines.append(
                            {
                                "kind": "field",
                                "label": label,
                                "old": custom_show(old.get(custom_key)),
                                "new": custom_show(new.get(custom_key)),
                            }
                        )
                    continue
                if key in CHANGE_LABELS:
                    lines.append(
                        {
                            "kind": "note",
                            "label": str(CHANGE_LABELS[key]),
                            "new": format_value(new or old),
                        }
                    )
                    continue
                field = _model_field(model, key)
                label = str(field.verbose_name) if field is not None else key
                lines.append(
                    {
                        "kind": "field",
                        "label": label,
                        "old": show(field, old),
                        "new": show(field, new),
                    }
                )
        described[change.pk] = lines
    return described


# What every detail page shows of a record beside its sections (core/generic/_record_meta).
RECORD_META_RELATED = ("owner", "department", "created_by")


def detail_related(reg) -> list[str]:
    """The related records a detail page shows: its meta (owner, department, creator), the
    foreign keys among its sections' fields and the registration's extras. Read together
    (`attach_related`), they cost a query per related table instead of one each."""
    section_fields = [name for _title, names in reg.detail_sections for name in names]
    related = []
    for name in [*RECORD_META_RELATED, *section_fields, *reg.detail_select_related]:
        field = _model_field(reg.model, name)
        if field is None or not field.concrete or not field.is_relation or name in related:
            continue
        related.append(name)
    return related


def _read_related(record: models.Model, names: Iterable[str]) -> list[models.Model]:
    """The related records of `names` already read with `record` (none is read here)."""
    found = []
    for name in names:
        field = record._meta.get_field(name)
        if field.is_cached(record) and (value := field.get_cached_value(record)) is not None:
            found.append(value)
    return found


class RecordDetailView(RegistrationMixin, View):
    def get(self, request, pk):
        record = self.get_record(pk)
        return self.render("detail", **self.detail_context(record))

    def get_record(self, pk) -> models.Model:
        record = record_get_visible(model=self.model, pk=pk, user=self.request.user)
        attach_related([record], detail_related(self.reg))
        return record

    def detail_context(self, record, **extra: Any) -> dict[str, Any]:
        reg = self.reg
        user = self.request.user
        custom_fields = custom_fields_for(self.model)
        editable = self.is_editable(record)
        sections = []
        for title, names in reg.detail_sections:
            items = []
            for name in names:
                field = _model_field(self.model, name)
                label = field.verbose_name if field is not None else name
                items.append((label, format_value(Column(name=name, label=label).value(record))))
            sections.append((title, items))
        custom_items = [
            (
                custom_field.label,
                format_value(
                    custom_value_display(
                        custom_field, (record.custom_data or {}).get(custom_field.key)
                    )
                ),
            )
            for custom_field in custom_fields
        ]
        related = []
        for hook in reg.related_list_hooks():
            result = hook(record, user)
            if not result:
                continue
            title, queryset, columns = result
            items = list(queryset[:50])
            related.append(
                {
                    "title": title,
                    "columns": columns,
                    "rows": [
                        [format_value(column.value(item)) for column in columns] for item in items
                    ],
                }
            )
        feed = record_feed(record=record)
        changes = [item["entry"] for item in feed if item["type"] == "change"]
        described = describe_changes(
            self.model, changes, custom_fields, known=_read_related(record, detail_related(reg))
        )
        for item in feed:
            if item["type"] == "change":
                item["lines"] = described.get(item["entry"].pk, [])
        shares = []
        if reg.shares:
            shares = list(
                RecordShare.objects.filter(
                    content_type=ContentType.objects.get_for_model(self.model),
                    object_id=record.pk,
                ).select_related("user", "department")
            )
        return {
            "record": record,
            "sections": sections,
            "custom_items": custom_items,
            "tags": list(tags_of(record)) if reg.tags else [],
            "related": related,
            "feed": feed,
            "attachments": list(attachments_of(record)) if reg.attachments else [],
            "attachment_form": extra.pop("attachment_form", None) or AttachmentForm(),
            "shares": shares,
            "share_form": extra.pop("share_form", None) or ShareForm(),
            "can_edit": editable and can(user, self.model, "change"),
            "can_delete": self.is_deletable(record),
            "can_assign": editable and can(user, self.model, "assign"),
            "can_share": editable and reg.shares,
            "can_attach": editable and reg.attachments,
            **extra,
        }


# --- Create / edit ---------------------------------------------------------------------------
class RecordFormMixin(RegistrationMixin):
    def build_form(self, record=None, data=None, files=None, validate_url: str | None = None):
        custom_fields = custom_fields_for(self.model)
        kwargs: dict[str, Any] = {
            "custom_fields": custom_fields,
            "with_version": record is not None,
            "with_tags": self.reg.tags,
        }
        if record is not None:
            kwargs["instance"] = record
            if self.reg.tags:
                kwargs["current_tags"] = list(tags_of(record))
        form = self.reg.form_class(data, files, **kwargs)
        if validate_url:
            enable_inline_validation(form, validate_url, target=f"#{FORM_TARGET}")
        return form

    def form_response(
        self,
        form,
        record=None,
        status: int = 200,
        only_field: str | None = None,
        conflict: bool = False,
        warnings: list | None = None,
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
        }
        if getattr(self.request, "htmx", False) and self.request.htmx.target == FORM_TARGET:
            return self.render(["core/generic/form_partial.html"], status=status, **context)
        return self.render("form", status=status, **context)

    def pre_save_warnings(self, form, record=None) -> list:
        """The registration's warnings for a valid form, unless the user confirmed them."""
        hook = self.reg.pre_save_warnings
        if hook is None or self.request.POST.get("confirm_warnings") == "1":
            return []
        return list(hook(request=self.request, form=form, instance=record) or [])

    def validate_url(self, record=None) -> str:
        return self.reg.url("validate_edit", record.pk) if record else self.reg.url("validate")

    def editable_record(self, pk):
        record = self.get_record(pk)
        if not (self.is_editable(record) and can(self.request.user, self.model, "change")):
            return record, self.forbidden(_("You may see this record but not change it."))
        return record, None


class RecordCreateView(RecordFormMixin, View):
    def get(self, request):
        if not can(request.user, self.model, "add"):
            return self.forbidden()
        return self.form_response(self.build_form(validate_url=self.validate_url()))

    def post(self, request):
        if not can(request.user, self.model, "add"):
            return self.forbidden()
        form = self.build_form(
            data=request.POST, files=request.FILES, validate_url=self.validate_url()
        )
        if form.is_valid() and (warnings := self.pre_save_warnings(form)):
            return self.form_response(form, warnings=warnings)
        if form.is_valid():
            try:
                with transaction.atomic():
                    record = self.reg.create(
                        data=form.model_data(),
                        custom_data=form.custom_data_for_create(),
                        actor=request.user,
                    )
                    tags = form.selected_tags()
                    if tags:
                        record_tags_set(record=record, tags=tags, actor=request.user)
            except ValidationError as error:
                apply_service_errors(form, error)
            except ActionNotAllowed as error:
                return self.forbidden(str(error))
            else:
                messages.success(request, _("%(name)s created.") % {"name": record})
                return self.redirect_to(self.reg.url("detail", record.pk))
        return self.form_response(form)


class RecordUpdateView(RecordFormMixin, View):
    def get(self, request, pk):
        record, denied = self.editable_record(pk)
        if denied:
            return denied
        return self.form_response(
            self.build_form(record, validate_url=self.validate_url(record)), record
        )

    def post(self, request, pk):
        record, denied = self.editable_record(pk)
        if denied:
            return denied
        form = self.build_form(
            record, data=request.POST, files=request.FILES, validate_url=self.validate_url(record)
        )
        if form.is_valid() and (warnings := self.pre_save_warnings(form, record)):
            return self.form_response(form, record, warnings=warnings)
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.reg.update(
                        instance=record,
                        data=form.model_data(),
                        custom_data=form.custom_data(),
                        actor=request.user,
                        version=form.cleaned_data["version"],
                    )
                    tags = form.selected_tags()
                    if tags is not None:
                        record_tags_set(record=record, tags=tags, actor=request.user)
            except ValidationError as error:
                apply_service_errors(form, error)
            except VersionConflict as error:
                form.add_error(None, str(error))
                return self.form_response(form, record, conflict=True)
            except ActionNotAllowed as error:
                return self.forbidden(str(error))
            else:
                messages.success(request, _("%(name)s saved.") % {"name": record})
                return self.redirect_to(self.reg.url("detail", record.pk))
        return self.form_response(form, record)


class RecordValidateView(RecordFormMixin, View):
    """Inline validation: re-render the form with the changed field's errors; save nothing."""

    def post(self, request, pk=None):
        record = None
        if pk is not None:
            record, denied = self.editable_record(pk)
            if denied:
                return denied
        elif not can(request.user, self.model, "add"):
            return self.forbidden()
        validate_url = self.validate_url(record)
        form = self.build_form(
            record, data=request.POST, files=request.FILES, validate_url=validate_url
        )
        if form.is_valid():
            candidate = copy.copy(record) if record is not None else self.model()
            data = form.model_data()
            for name, value in data.items():
                setattr(candidate, name, value)
            exclude = [field.name for field in self.model._meta.fields if field.name not in data]
            try:
                candidate.full_clean(exclude=exclude, validate_unique=False)
            except ValidationError as error:
                apply_service_errors(form, error)
        trigger = request.headers.get("HX-Trigger-Name") or None
        return self.form_response(form, record, only_field=trigger)


# --- Delete / assign / share -----------------------------------------------------------------
class RecordDeleteView(RegistrationMixin, View):
    def check(self, pk):
        record = self.get_record(pk)
        if not self.is_deletable(record):
            return record, self.forbidden(_("You may see this record but not delete it."))
        return record, None

    def get(self, request, pk):
        record, denied = self.check(pk)
        if denied:
            return denied
        fragment = getattr(request, "htmx", False) and not request.htmx.boosted
        kind = ["core/generic/delete_fragment.html"] if fragment else "delete"
        return self.render(
            kind, record=record, form=DeleteForm(initial={"version": record.version})
        )

    def post(self, request, pk):
        record, denied = self.check(pk)
        if denied:
            return denied
        form = DeleteForm(request.POST)
        version = form.cleaned_data.get("version") if form.is_valid() else None
        try:
            self.reg.delete(instance=record, actor=request.user, version=version)
        except VersionConflict as error:
            messages.error(request, str(error))
            return self.redirect_to(self.reg.url("detail", record.pk))
        except (ValidationError, ActionNotAllowed) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(request, text)
            return self.redirect_to(self.reg.url("detail", record.pk))
        messages.success(request, _("%(name)s moved to the recycle bin.") % {"name": record})
        return self.redirect_to(self.reg.url("list"))


class RecordAssignView(RegistrationMixin, View):
    def check(self, pk):
        record = self.get_record(pk)
        user = self.request.user
        if not (can(user, self.model, "assign") and self.is_editable(record)):
            return record, self.forbidden(_("You may not assign this record to someone else."))
        return record, None

    def get(self, request, pk):
        record, denied = self.check(pk)
        if denied:
            return denied
        form = AssignForm(initial={"version": record.version, "owner": record.owner_id})
        return self.render("assign", record=record, form=form)

    def post(self, request, pk):
        record, denied = self.check(pk)
        if denied:
            return denied
        form = AssignForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.reg.assign(
                        instance=record,
                        owner=form.cleaned_data["owner"],
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        version=form.cleaned_data.get("version"),
                    )
            except ValidationError as error:
                apply_service_errors(form, error)
            except VersionConflict as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("%(name)s now belongs to %(owner)s.")
                    % {"name": record, "owner": form.cleaned_data["owner"]},
                )
                return self.redirect_to(self.reg.url("detail", record.pk))
        return self.render("assign", record=record, form=form)


class RecordShareView(RegistrationMixin, View):
    def check(self, pk):
        record = self.get_record(pk)
        if not (self.reg.shares and self.is_editable(record)):
            return record, self.forbidden(_("You may not share this record."))
        return record, None

    def get(self, request, pk):
        record, denied = self.check(pk)
        if denied:
            return denied
        return redirect(f"{self.reg.url('detail', record.pk)}#shares")

    def post(self, request, pk):
        record, denied = self.check(pk)
        if denied:
            return denied
        form = ShareForm(request.POST)
        if form.is_valid():
            try:
                record_share(
                    instance=record,
                    actor=request.user,
                    user=form.cleaned_data.get("user"),
                    department=form.cleaned_data.get("department"),
                    access=form.cleaned_data["access"],
                    expires_at=form.cleaned_data.get("expires_at"),
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Record shared."))
                return self.redirect_to(f"{self.reg.url('detail', record.pk)}#shares")
        detail = RecordDetailView(registration=self.reg, request=request)
        context = detail.detail_context(record, share_form=form)
        return self.render("detail", status=400, **context)


class RecordUnshareView(RegistrationMixin, View):
    def post(self, request, pk, share_pk):
        record = self.get_record(pk)
        if not self.is_editable(record):
            return self.forbidden(_("You may not change this record's shares."))
        share = get_object_or_404(
            RecordShare,
            pk=share_pk,
            content_type=ContentType.objects.get_for_model(self.model),
            object_id=record.pk,
        )
        record_unshare(share=share, actor=request.user)
        messages.success(request, _("Share removed."))
        return self.redirect_to(f"{self.reg.url('detail', record.pk)}#shares")


# --- Attachments -----------------------------------------------------------------------------
class AttachmentUploadView(RegistrationMixin, View):
    def post(self, request, pk):
        record = self.get_record(pk)
        if not (self.reg.attachments and self.is_editable(record)):
            return self.forbidden(_("You may not attach files to this record."))
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                attachment_upload(
                    record=record, uploaded_file=form.cleaned_data["file"], actor=request.user
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("File attached."))
                return self.redirect_to(f"{self.reg.url('detail', record.pk)}#attachments")
        detail = RecordDetailView(registration=self.reg, request=request)
        context = detail.detail_context(record, attachment_form=form)
        return self.render("detail", status=400, **context)


class AttachmentDownloadView(RegistrationMixin, View):
    def get(self, request, pk, attachment_pk):
        record = self.get_record(pk)  # 404 unless the user sees the record
        attachment = get_object_or_404(
            Attachment,
            pk=attachment_pk,
            content_type=ContentType.objects.get_for_model(self.model),
            object_id=record.pk,
            is_deleted=False,
        )
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=attachment.filename)
        response["Content-Type"] = attachment.mime_type or "application/octet-stream"
        return response


__all__ = [
    "AttachmentDownloadView",
    "AttachmentUploadView",
    "RecordAssignView",
    "RecordBulkView",
    "RecordCreateView",
    "RecordDeleteView",
    "RecordDetailView",
    "RecordListView",
    "RecordShareView",
    "RecordUnshareView",
    "RecordUpdateView",
    "RecordValidateView",
    "SavedViewDeleteView",
    "SavedViewSaveView",
    "describe_changes",
]


def _has_import_resource(model) -> bool:
    from guanxi.core.imports.resources import get_resource

    return get_resource(model._meta.label_lower) is not None
